// Drives kontor's Business API with whatsapp-api-js, an unmodified Cloud
// API SDK from npm: the SDK sends every message type kontor supports,
// uploads, retrieves, downloads and deletes media, marks a message read,
// and receives the webhooks through its own handler, which checks
// X-Hub-Signature-256 itself.
//
// internal/e2etest/sdk_test.go runs it against a real kontor server and
// plays the person on the other side. The script prints one JSON line per
// result ({"step": …, "ok": …}) and exits non-zero on any failure.
//
// Environment:
//   KONTOR_BASE_URL         the kontor server, e.g. http://127.0.0.1:8080
//   KONTOR_PHONE_NUMBER_ID  the business number's phone-number id
//   KONTOR_TOKEN            an access token of the business
//   KONTOR_APP_SECRET       the app secret that signs the webhooks
//   KONTOR_VERIFY_TOKEN     the verify token of the webhook handshake
//   SDK_WEBHOOK_PORT        the port of this script's webhook server (127.0.0.1)
//   KONTOR_API_VERSION      optional, the version segment (default v24.0)
//   SDK_TIMEOUT_MS          optional, how long to wait for it all (default 90000)

import { createServer } from "node:http";
import { createHash, createHmac, webcrypto } from "node:crypto";
import { WhatsAppAPI } from "whatsapp-api-js/middleware/node-http";
import {
    Text,
    Image,
    Document,
    Audio,
    Video,
    Sticker,
    Location,
    Reaction,
    Contacts,
    Name,
    Phone,
    Email,
    Url,
    Organization,
    Birthday,
    Address,
    Interactive,
    ActionButtons,
    Button,
    ActionList,
    ListSection,
    Row,
    ActionCTA,
    ActionNavigateFlow,
    ActionLocation,
    Body,
    Header,
    Footer
} from "whatsapp-api-js/messages";

// Node 18 (Debian 12's) has no global crypto; the SDK checks signatures
// with globalThis.crypto.subtle.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const env = (name, fallback) => {
    const v = process.env[name] ?? fallback;
    if (v === undefined || v === "") {
        console.error(`run.mjs: ${name} is not set`);
        process.exit(2);
    }
    return v;
};
const BASE = env("KONTOR_BASE_URL").replace(/\/+$/, "");
const PHONE_ID = env("KONTOR_PHONE_NUMBER_ID");
const TOKEN = env("KONTOR_TOKEN");
const APP_SECRET = env("KONTOR_APP_SECRET");
const VERIFY_TOKEN = env("KONTOR_VERIFY_TOKEN");
const PORT = Number(env("SDK_WEBHOOK_PORT"));
const VERSION = env("KONTOR_API_VERSION", "v24.0");
const TIMEOUT = Number(env("SDK_TIMEOUT_MS", "90000"));

const started = Date.now();
let failed = 0;
function report(step, ok, fields = {}) {
    if (!ok) failed++;
    process.stdout.write(JSON.stringify({ step, ok, ...fields }) + "\n");
}

// The one change an integration makes: the SDK has the public host built
// in (https://graph.facebook.com) and no base-URL option, so its fetch,
// which it lets callers replace (ponyfill.fetch), sends those requests to
// kontor instead. URLs kontor hands out (media downloads) go as they are.
const GRAPH = "https://graph.facebook.com";
function kontorFetch(input, init) {
    let url = input instanceof URL ? input.href : String(input);
    if (url.startsWith(GRAPH + "/")) url = BASE + url.slice(GRAPH.length);
    return fetch(url, init);
}

const Whatsapp = new WhatsAppAPI({
    token: TOKEN,
    appSecret: APP_SECRET, // secure is on: every webhook's signature is checked
    webhookVerifyToken: VERIFY_TOKEN,
    v: VERSION,
    ponyfill: { fetch: kontorFetch }
});

// What the webhooks brought.
const inbound = []; // messages, in order
const statuses = new Map(); // wamid → Set of statuses
const waiters = [];
function changed() {
    for (const w of waiters.splice(0)) w();
}
async function until(what, cond) {
    const deadline = started + TIMEOUT;
    while (!cond()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => {
            const t = setTimeout(resolve, Math.min(left, 1000));
            waiters.push(() => {
                clearTimeout(t);
                resolve();
            });
        });
    }
}

Whatsapp.on.message = ({ phoneID, from, message, name }) => {
    inbound.push({ phoneID, from, message, name });
    report("inbound", phoneID === PHONE_ID, {
        type: message.type,
        id: message.id,
        from,
        name,
        message
    });
    changed();
};
Whatsapp.on.status = ({ phoneID, id, status, phone, pricing, conversation, error }) => {
    if (!statuses.has(id)) statuses.set(id, new Set());
    statuses.get(id).add(status);
    report("status", phoneID === PHONE_ID && status !== "failed", {
        id,
        status,
        recipient: phone,
        pricing,
        conversation,
        error
    });
    changed();
};

// The webhook server: the SDK's node:http middleware answers both the GET
// handshake and the signed POSTs.
let rejected = 0;
const hooks = createServer(async (req, res) => {
    const path = new URL(req.url, "http://localhost").pathname;
    if (path !== "/webhook") {
        res.statusCode = 404;
        res.end();
        return;
    }
    if (req.method === "GET") {
        try {
            const challenge = Whatsapp.handle_get(req);
            report("verify", true, { challenge });
            res.statusCode = 200;
            res.end(challenge);
        } catch (code) {
            report("verify", false, { http_status: code });
            res.statusCode = typeof code === "number" ? code : 500;
            res.end();
        }
        return;
    }
    if (req.method === "POST") {
        const code = await Whatsapp.handle_post(req);
        if (req.headers["x-sdk-selftest"]) {
            res.statusCode = code;
            res.end();
            return;
        }
        if (code !== 200) {
            rejected++;
            report("webhook", false, {
                http_status: code,
                error: "the SDK refused a webhook (bad signature or payload)"
            });
        }
        res.statusCode = code;
        res.end();
        return;
    }
    res.statusCode = 405;
    res.end();
});

// Files the endpoint fetches by link, from a server of our own.
const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
    "base64"
);
const files = {
    "/strauss.png": { type: "image/png", body: Buffer.concat([png, Buffer.from(" bouquet")]) },
    "/katalog.pdf": {
        type: "application/pdf",
        body: Buffer.from("%PDF-1.4\n% Katalog Frühling 2026\n")
    },
    "/laden.mp4": {
        type: "video/mp4",
        body: Buffer.from("\0\0\0\x18ftypmp42 a walk through the shop")
    }
};
const fileServer = createServer((req, res) => {
    const f = files[new URL(req.url, "http://localhost").pathname];
    if (!f) {
        res.statusCode = 404;
        res.end();
        return;
    }
    res.setHeader("Content-Type", f.type);
    res.end(f.body);
});

function listen(server, port) {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve(server.address().port));
    });
}

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

// A kontor error is the public error object; the SDK hands it back as the
// answer rather than throwing.
function apiError(out) {
    return out && typeof out === "object" && "error" in out ? out.error : undefined;
}

const sent = []; // {kind, id}
let lastRequest;
Whatsapp.on.sent = ({ request }) => {
    lastRequest = request;
};

async function send(kind, to, message, context, extra = {}) {
    lastRequest = undefined;
    let out;
    try {
        out = await Whatsapp.sendMessage(PHONE_ID, { phone: to }, message, context);
    } catch (e) {
        report("send", false, { kind, error: String(e) });
        return undefined;
    }
    const err = apiError(out);
    const id = out?.messages?.[0]?.id;
    const ok =
        !err &&
        typeof id === "string" &&
        id.startsWith("wamid.") &&
        out.messaging_product === "whatsapp" &&
        out.contacts?.[0]?.wa_id === to.replace(/\D/g, "");
    if (ok) sent.push({ kind, id });
    report("send", ok, { kind, id, request: lastRequest, response: out, ...extra });
    return id;
}

async function upload(name, type, body) {
    const form = new FormData();
    // As the SDK documents it: the file only; messaging_product rides in
    // the query string the SDK builds.
    form.set("file", new Blob([body], { type }), name);
    const out = await Whatsapp.uploadMedia(PHONE_ID, form);
    const ok = !apiError(out) && typeof out?.id === "string" && out.id !== "";
    report("upload", ok, { name, type, size: body.length, sha256: sha256(body), response: out });
    if (!ok) throw new Error(`upload of ${name} failed`);
    return out.id;
}

// download retrieves a media object and fetches it through the URL kontor
// hands out, as an integration does with what a person sent.
async function download(id) {
    const info = await Whatsapp.retrieveMedia(id, PHONE_ID);
    if (apiError(info) || typeof info?.url !== "string") {
        throw new Error(`retrieveMedia(${id}): ${JSON.stringify(info)}`);
    }
    const res = await Whatsapp.fetchMedia(info.url);
    if (!res.ok) throw new Error(`fetchMedia(${info.url}): HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { info, body };
}

async function main() {
    await listen(hooks, PORT);
    const filePort = await listen(fileServer, 0);
    const fileBase = `http://127.0.0.1:${filePort}`;
    report("ready", true, {
        webhook: `http://127.0.0.1:${PORT}/webhook`,
        files: fileBase,
        node: process.version
    });

    // The person writes first: that opens the customer service window.
    await until("the person's first message", () => inbound.length > 0);
    const first = inbound[0];
    const to = first.from;
    const ask = first.message.id;

    // Text with a link preview, a reply, a reaction.
    await send("text", to, new Text("Ja! Alle Sorten: https://example.com/tulpen 🌷", true));
    await send("reply", to, new Text("Rote und gelbe, je 10 Stück."), ask);
    await send("reaction", to, new Reaction(ask, "👍"));

    // Media uploaded with the SDK: check what GET /{media-id} and the
    // download URL give back, then send by id.
    const photo = Buffer.concat([png, Buffer.from(" tulips")]);
    const photoID = await upload("tulpen.png", "image/png", photo);
    {
        const { info, body } = await download(photoID);
        const ok =
            body.equals(photo) &&
            info.sha256 === sha256(photo) &&
            info.mime_type === "image/png" &&
            Number(info.file_size) === photo.length &&
            info.id === photoID &&
            info.messaging_product === "whatsapp";
        report("media", ok, { id: photoID, info, size: body.length, sha256: sha256(body) });
    }
    await send("image_id", to, new Image(photoID, true, "Frisch vom Markt"), undefined, {
        sha256: sha256(photo)
    });

    const prices = Buffer.from("%PDF-1.4\n% Preisliste: Tulpen 1,50 €\n");
    const pricesID = await upload("preise.pdf", "application/pdf", prices);
    await send(
        "document_id",
        to,
        new Document(pricesID, true, "Preisliste", "preise.pdf"),
        undefined,
        { sha256: sha256(prices) }
    );

    const voice = Buffer.from("OggS\0\x02 a voice note about tulips");
    const voiceID = await upload("sprachnachricht.ogg", "audio/ogg", voice);
    await send("audio_id", to, new Audio(voiceID, true, true), undefined, {
        sha256: sha256(voice)
    });

    const sticker = Buffer.from("RIFF\x20\0\0\0WEBPVP8 a tulip sticker");
    const stickerID = await upload("tulpe.webp", "image/webp", sticker);
    await send("sticker_id", to, new Sticker(stickerID, true), undefined, {
        sha256: sha256(sticker)
    });

    // Media by link: the endpoint fetches them from our file server.
    for (const [kind, msg, path] of [
        ["image_link", new Image(`${fileBase}/strauss.png`, false, "Ein Strauß"), "/strauss.png"],
        [
            "document_link",
            new Document(`${fileBase}/katalog.pdf`, false, "Katalog", "katalog.pdf"),
            "/katalog.pdf"
        ],
        ["video_link", new Video(`${fileBase}/laden.mp4`, false, "Unser Laden"), "/laden.mp4"]
    ]) {
        await send(kind, to, msg, undefined, { sha256: sha256(files[path].body) });
    }

    // Location (the SDK takes longitude first) and a contact card.
    await send(
        "location",
        to,
        new Location(13.3889, 52.517, "Blumen Anna", "Unter den Linden 1, 10117 Berlin")
    );
    await send(
        "contacts",
        to,
        new Contacts([
            new Name("Anna Blume", "Anna", "Blume"),
            new Phone("+49 30 111111", "WORK", "4930111111"),
            new Email("anna@blumen.example", "WORK"),
            new Url("https://blumen.example", "WORK"),
            new Organization("Blumen Anna", "Verkauf", "Inhaberin"),
            new Birthday("1980", "05", "17"),
            new Address(
                "Deutschland",
                "DE",
                "Berlin",
                "Berlin",
                "Unter den Linden 1",
                "10117",
                "WORK"
            )
        ])
    );

    // Interactive: reply buttons under an uploaded picture, a list, a link button.
    await send(
        "button",
        to,
        new Interactive(
            new ActionButtons(
                new Button("rot", "Rot"),
                new Button("gelb", "Gelb"),
                new Button("beide", "Beide")
            ),
            new Body("Welche Farbe hätten Sie gern?"),
            new Header(new Image(photoID, true)),
            new Footer("Blumen Anna")
        ),
        undefined,
        { header_sha256: sha256(photo) }
    );
    await send(
        "list",
        to,
        new Interactive(
            new ActionList(
                "Sorten",
                new ListSection(
                    "Tulpen",
                    new Row("t-rot", "Rote Tulpe", "10 Stück, 15 €"),
                    new Row("t-gelb", "Gelbe Tulpe")
                ),
                new ListSection("Rosen", new Row("r-weiss", "Weiße Rose", "einzeln"))
            ),
            new Body("Unser Angebot heute"),
            new Header("Angebot"),
            new Footer("Solange der Vorrat reicht")
        )
    );
    await send(
        "cta_url",
        to,
        new Interactive(
            new ActionCTA("Zum Shop", "https://blumen.example/shop?ref=whatsapp"),
            new Body("Alles auch online bestellbar."),
            new Header("Online-Shop"),
            new Footer("Lieferung in Berlin")
        )
    );

    // Mark the person's message read (with the typing indicator).
    {
        const out = await Whatsapp.markAsRead(PHONE_ID, ask, "text");
        report("mark_read", out?.success === true, { id: ask, response: out });
    }

    // The error shape: a free-form message outside the service window.
    {
        const out = await Whatsapp.sendMessage(
            PHONE_ID,
            { phone: "+4915199999999" },
            new Text("Angebot!")
        );
        const err = apiError(out);
        const ok =
            !!err &&
            typeof err.code === "number" &&
            typeof err.message === "string" &&
            err.type === "OAuthException" &&
            typeof err.fbtrace_id === "string" &&
            typeof err.error_data?.details === "string";
        report("error_shape", ok, { code: err?.code, response: out });
    }

    // What kontor does not send yet answers 131051 in the public shape.
    for (const [kind, msg] of [
        [
            "flow",
            new Interactive(
                new ActionNavigateFlow("flow-token", "1234567890", "Bestellen", "START"),
                new Body("Jetzt bestellen")
            )
        ],
        ["location_request", new Interactive(new ActionLocation(), new Body("Wohin liefern wir?"))]
    ]) {
        const out = await Whatsapp.sendMessage(PHONE_ID, { phone: to }, msg);
        report("unsupported", apiError(out)?.code === 131051, { kind, response: out });
    }

    report("sent_all", failed === 0, { count: sent.length, sends: sent });

    // The person answers with a photo and taps a button: download the
    // photo through the SDK.
    await until("the person's photo", () => inbound.some((m) => m.message.type === "image"));
    {
        const m = inbound.find((m) => m.message.type === "image").message;
        const { info, body } = await download(m.image.id);
        const ok =
            sha256(body) === m.image.sha256 &&
            info.sha256 === m.image.sha256 &&
            info.mime_type === m.image.mime_type &&
            Number(info.file_size) === body.length;
        report("inbound_media", ok, {
            id: m.image.id,
            sha256: sha256(body),
            size: body.length,
            caption: m.image.caption,
            mime_type: info.mime_type
        });
    }
    await until("the person's button reply", () =>
        inbound.some((m) => m.message.type === "interactive")
    );

    // Delete an uploaded file: it is gone afterwards.
    {
        const out = await Whatsapp.deleteMedia(pricesID, PHONE_ID);
        const after = await Whatsapp.retrieveMedia(pricesID, PHONE_ID);
        report("delete_media", out?.success === true && !!apiError(after), {
            id: pricesID,
            response: out,
            after
        });
    }

    // Every message sent is delivered and read.
    const missing = () =>
        sent.filter(
            ({ id }) => !(statuses.get(id)?.has("delivered") && statuses.get(id)?.has("read"))
        );
    try {
        await until("delivered and read statuses", () => missing().length === 0);
    } catch (e) {
        report("statuses", false, { error: String(e), missing: missing() });
        throw e;
    }
    report("statuses", true, { count: sent.length });

    // The signature check is live: a body signed with another secret is
    // refused by the SDK.
    {
        const body = JSON.stringify({
            object: "whatsapp_business_account",
            entry: [
                {
                    id: "1",
                    changes: [
                        {
                            field: "messages",
                            value: {
                                messaging_product: "whatsapp",
                                metadata: { phone_number_id: PHONE_ID },
                                statuses: [
                                    {
                                        id: "wamid.x",
                                        status: "read",
                                        timestamp: "1",
                                        recipient_id: "1"
                                    }
                                ]
                            }
                        }
                    ]
                }
            ]
        });
        const sig =
            "sha256=" +
            createHmac("sha256", APP_SECRET + "-not")
                .update(body)
                .digest("hex");
        const res = await fetch(`http://127.0.0.1:${PORT}/webhook`, {
            method: "POST",
            headers: {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sig,
                "X-SDK-Selftest": "1"
            },
            body
        });
        report("signature_check", res.status === 401, { http_status: res.status });
    }
}

const timer = setTimeout(() => {
    report("timeout", false, { error: `not done after ${TIMEOUT} ms` });
    process.exit(1);
}, TIMEOUT + 5000);
try {
    await main();
} catch (e) {
    report("error", false, { error: String(e?.stack ?? e) });
}
clearTimeout(timer);
report("done", failed === 0 && rejected === 0, { failures: failed, rejected_webhooks: rejected });
hooks.close();
fileServer.close();
hooks.closeAllConnections?.();
fileServer.closeAllConnections?.();
process.exit(failed === 0 && rejected === 0 ? 0 : 1);
