// Drives kontor's business console in a real browser (Debian's Chromium,
// through playwright-core), as a person with a keyboard would, on a desktop
// and on a phone-sized screen. internal/web/console/browser_test.go starts
// the server, makes the business and its owner, and runs this with:
//
//   BASE=http://127.0.0.1:PORT EMAIL=… PASSWORD=… CHROMIUM=/usr/bin/chromium [SHOTS=dir]
//
// Each check prints one JSON line {"step", "ok", "detail"?}; the last line
// is {"step": "done", "ok": true}. Any failure ends the run with exit code 1.
import { chromium } from "playwright-core";

const { BASE, EMAIL, PASSWORD, CHROMIUM, SHOTS } = process.env;
const out = (step, ok, detail) => console.log(JSON.stringify({ step, ok, ...(detail === undefined ? {} : { detail }) }));
const fail = (step, detail) => { out(step, false, detail); throw new Error(step + ": " + detail); };
const check = (step, cond, detail) => (cond ? out(step, true) : fail(step, detail));

// unlabelled lists the form controls without a label a screen reader reads.
const unlabelled = (page) => page.evaluate(() =>
  [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.type !== "hidden")
    .filter((el) => {
      if (el.tagName === "BUTTON") return !(el.textContent.trim() || el.getAttribute("aria-label"));
      return !(el.labels && el.labels.length) && !el.getAttribute("aria-label");
    })
    .map((el) => el.outerHTML.slice(0, 120)));

// overflows says whether the page is wider than the screen.
const overflows = (page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

async function visit(page, path, name) {
  const resp = await page.goto(BASE + path);
  check(`${name}: HTTP 200`, resp.status() === 200, `HTTP ${resp.status()} at ${page.url()}`);
  const missing = await unlabelled(page);
  check(`${name}: every control is labelled`, missing.length === 0, missing.join(" | "));
  check(`${name}: no sideways scrolling`, !(await overflows(page)), "the page is wider than the window");
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function run(browser, size, label) {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  const errors = [];
  // JavaScript and CSP errors, and any resource of a page (not the page
  // itself, whose status the checks look at) that failed to load.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("requestfailed", (r) => errors.push(`${r.url()}: ${r.failure().errorText}`));
  page.on("response", (r) => r.request().resourceType() !== "document" && r.status() >= 400 && errors.push(`${r.url()}: HTTP ${r.status()}`));

  // Signed out, the console sends the browser to the sign-in form.
  await page.goto(BASE + "/console/tokens");
  check(`${label} sign-in: redirected`, page.url().includes("/console/sign-in?next="), page.url());

  // Keyboard only: the email field has the focus, Tab goes on to the password.
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check(`${label} keyboard: the email field has the focus`, focused === "email", focused);
  await page.keyboard.type(EMAIL);
  await page.keyboard.press("Tab");
  await page.keyboard.type("not the password");
  await page.keyboard.press("Enter");
  await page.waitForLoadState();
  const alert = await page.getByRole("alert").textContent();
  check(`${label} sign-in: a wrong password is refused in words`, alert.includes("The email address or the password is not right."), alert);

  await page.getByLabel("Email address").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL("**/console/tokens");
  check(`${label} sign-in: back at the page asked for`, page.url().endsWith("/console/tokens"), page.url());

  // The profile: the first Tab reaches the skip link, which moves the focus
  // to the content.
  await visit(page, "/console/profile", `${label}-profile`);
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement.textContent.trim());
  check(`${label} keyboard: the first Tab reaches the skip link`, first === "Skip to the content", first);
  await page.keyboard.press("Enter");
  const skipped = await page.evaluate(() => document.activeElement.id);
  check(`${label} keyboard: the skip link moves the focus to the content`, skipped === "main", skipped);
  // A problem is named next to its field, the rest is kept.
  await page.getByLabel("About").fill("x".repeat(150));
  await page.getByLabel("Address").fill("Hauptstraße 1, Berlin");
  await page.getByRole("button", { name: "Save the profile" }).click();
  await page.waitForLoadState();
  const fieldErr = await page.locator("#about-error").textContent();
  check(`${label} profile: the error is at its field`, fieldErr.includes("at most 139 characters; it has 150"), fieldErr);
  check(`${label} profile: the field is marked invalid`, (await page.getByLabel("About").getAttribute("aria-invalid")) === "true", "no aria-invalid");
  check(`${label} profile: what was typed is kept`, (await page.getByLabel("Address").inputValue()) === "Hauptstraße 1, Berlin", "address lost");
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${label}-profile-errors.png`, fullPage: true });
  await page.getByLabel("About").fill(`Fresh flowers (${label})`);
  await page.getByRole("button", { name: "Save the profile" }).click();
  await page.waitForLoadState();
  check(`${label} profile: saved`, (await page.getByRole("status").textContent()).includes("The profile is saved."), "no success message");

  // Tokens: made with the form's labelled controls, shown once.
  await visit(page, "/console/tokens", `${label}-tokens`);
  await page.getByLabel("Label").fill(`browser ${label}`);
  await page.getByLabel(/manage templates/).check();
  await page.getByLabel("It lasts").selectOption({ label: "30 days" });
  await page.getByRole("button", { name: "Make the token" }).click();
  await page.waitForLoadState();
  const secret = await page.locator("#token-value").inputValue();
  check(`${label} tokens: the secret is shown`, /^ktk_/.test(secret), secret);
  await page.reload();
  check(`${label} tokens: shown once`, !(await page.content()).includes(secret), "the secret is on the page again");

  // Webhooks: the test event is queued and its delivery listed.
  await visit(page, "/console/webhooks", `${label}-webhooks`);
  await page.getByRole("button", { name: "Send a test event" }).click();
  await page.waitForLoadState();
  check(`${label} webhooks: queued`, (await page.getByRole("status").textContent()).includes("test event is queued"), "no message");
  let delivered = false;
  for (let i = 0; i < 50 && !delivered; i++) {
    await page.reload();
    delivered = (await page.locator("table").textContent()).includes("delivered");
    if (!delivered) await page.waitForTimeout(200);
  }
  check(`${label} webhooks: the delivery is listed`, delivered, "no delivered row");

  for (const [path, name] of [["/console/numbers", "numbers"], ["/console/app", "app"], ["/console/users", "users"], ["/console/account", "account"],
    ["/console/inbox", "inbox"], ["/console/inbox/quick-replies", "quick-replies"]]) {
    await visit(page, path, `${label}-${name}`);
  }
  // The inbox's own script runs (CSP script-src 'self') and says so.
  await page.goto(BASE + "/console/inbox");
  const live = await page.waitForFunction(() => document.getElementById("live-status").textContent.includes("by themselves"), null, { timeout: 5000 })
    .then(() => true, () => false);
  check(`${label} inbox: the live-update script runs`, live, "the status line did not change");

  // With the session's cookie but without the form's CSRF token, or from
  // another site, a form changes nothing (the page's CSP would not even let
  // a script send one: default-src 'none').
  const noToken = await context.request.post(BASE + "/console/profile", { form: { about: "forged" }, headers: { Origin: BASE } });
  check(`${label} csrf: a form without the token is refused`, noToken.status() === 403, `HTTP ${noToken.status()}`);
  await page.goto(BASE + "/console/profile");
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const crossSite = await context.request.post(BASE + "/console/profile", { form: { csrf, about: "forged" },
    headers: { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" } });
  check(`${label} csrf: a form from another site is refused`, crossSite.status() === 403, `HTTP ${crossSite.status()}`);
  await page.reload();
  check(`${label} csrf: nothing changed`, !(await page.content()).includes("forged"), "the forged text was saved");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForLoadState();
  check(`${label} sign-out`, page.url().includes("/console/sign-in"), page.url());
  check(`${label} no script, CSP or resource errors`, errors.length === 0, errors.join(" | "));
  await context.close();
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  await run(browser, { width: 1280, height: 900 }, "desktop");
  await run(browser, { width: 390, height: 844 }, "phone");
  out("done", true);
} catch (e) {
  out("error", false, String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
