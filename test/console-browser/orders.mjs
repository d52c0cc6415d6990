// Drives the console's orders and billing pages in a real browser (Debian's
// Chromium, through playwright-core) on a desktop and on a phone-sized
// screen. internal/web/console/orders_browser_test.go starts the server,
// makes the shop, its owner, a person's order and a charged message, and
// runs this with:
//
//   BASE=http://127.0.0.1:PORT EMAIL=… PASSWORD=… ORDER=id CHROMIUM=/usr/bin/chromium [SHOTS=dir]
//
// Each check prints one JSON line {"step", "ok", "detail"?}; the last line
// is {"step": "done", "ok": true}. Any failure ends the run with exit code 1.
import { chromium } from "playwright-core";

const { BASE, EMAIL, PASSWORD, ORDER, CHROMIUM, SHOTS } = process.env;
const out = (step, ok, detail) => console.log(JSON.stringify({ step, ok, ...(detail === undefined ? {} : { detail }) }));
const fail = (step, detail) => { out(step, false, detail); throw new Error(step + ": " + detail); };
const check = (step, cond, detail) => (cond ? out(step, true) : fail(step, detail));

const unlabelled = (page) => page.evaluate(() =>
  [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.type !== "hidden")
    .filter((el) => {
      if (el.tagName === "BUTTON") return !(el.textContent.trim() || el.getAttribute("aria-label"));
      return !(el.labels && el.labels.length) && !el.getAttribute("aria-label");
    })
    .map((el) => el.outerHTML.slice(0, 120)));

const overflows = (page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

async function visit(page, path, name) {
  const resp = await page.goto(BASE + path);
  check(`${name}: HTTP 200`, resp.status() === 200, `HTTP ${resp.status()} at ${page.url()}`);
  const missing = await unlabelled(page);
  check(`${name}: every control is labelled`, missing.length === 0, missing.join(" | "));
  check(`${name}: no sideways scrolling`, !(await overflows(page)), "the page is wider than the window");
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function run(browser, size, label, first) {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("requestfailed", (r) => errors.push(`${r.url()}: ${r.failure().errorText}`));
  page.on("response", (r) => r.request().resourceType() !== "document" && r.status() >= 400 && errors.push(`${r.url()}: HTTP ${r.status()}`));

  await page.goto(BASE + "/console/orders");
  check(`${label} sign-in: redirected`, page.url().includes("/console/sign-in?next="), page.url());
  await page.getByLabel("Email address").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL("**/console/orders");
  check(`${label} sign-in: back at the orders`, page.url().endsWith("/console/orders"), page.url());

  await visit(page, "/console/orders", `${label}-orders`);
  check(`${label} orders: the order is listed`, (await page.locator("table").textContent()).includes(ORDER), "no row");
  // Keyboard only: the state filter.
  await page.getByLabel("Show orders that are").focus();
  await page.keyboard.press("ArrowDown"); // pending
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.waitForURL(/state=pending/);
  check(`${label} orders: filtered with the keyboard`, page.url().includes("state=pending"), page.url());

  await visit(page, `/console/orders/${ORDER}`, `${label}-order`);
  if (first) {
    // A payment request with a problem: named at its field, the rest kept.
    await page.getByLabel("Shipping").fill("4,50");
    await page.getByLabel("Tax").fill("0.80");
    await page.getByRole("button", { name: "Send the payment request" }).click();
    await page.waitForURL("**/payment-request");
    const alert = await page.getByRole("alert").textContent();
    check(`${label} order: the problem is named`, alert.includes("Shipping: write the amount with a dot"), alert);
    check(`${label} order: the field is marked`, (await page.getByLabel("Shipping").getAttribute("aria-invalid")) === "true", "no aria-invalid");
    check(`${label} order: what was typed is kept`, (await page.getByLabel("Tax").inputValue()) === "0.80", "tax lost");
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/${label}-order-errors.png`, fullPage: true });
    // Confirm with the keyboard.
    await page.getByRole("button", { name: "Confirm" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/done=order-confirmed/);
    check(`${label} order: confirmed`, (await page.getByRole("status").textContent()).includes("The order is confirmed."), "no message");
  }

  await visit(page, "/console/billing", `${label}-billing`);
  const svgs = await page.locator('svg[role="img"]').count();
  check(`${label} billing: three charts`, svgs === 3, `${svgs} charts`);
  const titled = await page.evaluate(() => [...document.querySelectorAll('svg[role="img"]')].every((s) => {
    const ids = (s.getAttribute("aria-labelledby") || "").split(" ");
    return ids.length === 2 && ids.every((id) => document.getElementById(id) && document.getElementById(id).textContent.trim());
  }));
  check(`${label} billing: every chart has a title and a description`, titled, "a chart without its labels");
  await page.locator("summary").first().focus();
  await page.keyboard.press("Enter");
  check(`${label} billing: the table opens with the keyboard`, await page.locator("details table").first().isVisible(), "the table stays hidden");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL("**/console/sign-in**");
  check(`${label} no script, CSP or resource errors`, errors.length === 0, errors.join(" | "));
  await context.close();
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  await run(browser, { width: 1280, height: 900 }, "desktop", true);
  await run(browser, { width: 390, height: 844 }, "phone", false);
  out("done", true);
} catch (e) {
  out("error", false, String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
