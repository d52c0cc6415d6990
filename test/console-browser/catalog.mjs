// Drives the console's catalog and inventory pages in a real browser
// (Debian's Chromium, through playwright-core) on a desktop and on a
// phone-sized screen. internal/web/console/catalog_browser_test.go starts
// the server, makes the business, its catalog and its owner, and runs this
// with:
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

const unlabelled = (page) => page.evaluate(() =>
  [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.type !== "hidden")
    .filter((el) => {
      if (el.tagName === "BUTTON") return !(el.textContent.trim() || el.getAttribute("aria-label"));
      return !(el.labels && el.labels.length) && !el.getAttribute("aria-label");
    })
    .map((el) => el.outerHTML.slice(0, 120)));
const overflows = (page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

// look checks the page the browser is on: labelled controls, no sideways
// scrolling; it keeps a screenshot when SHOTS is set.
async function look(page, name) {
  const missing = await unlabelled(page);
  check(`${name}: every control is labelled`, missing.length === 0, missing.join(" | "));
  check(`${name}: no sideways scrolling`, !(await overflows(page)), "the page is wider than the window");
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function visit(page, path, name) {
  const resp = await page.goto(BASE + path);
  check(`${name}: HTTP 200`, resp.status() === 200, `HTTP ${resp.status()} at ${page.url()}`);
  await look(page, name);
}

async function run(browser, size, label) {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("requestfailed", (r) => errors.push(`${r.url()}: ${r.failure().errorText}`));
  page.on("response", (r) => r.request().resourceType() !== "document" && r.status() >= 400 && errors.push(`${r.url()}: HTTP ${r.status()}`));

  await page.goto(BASE + "/console/catalog");
  await page.getByLabel("Email address").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL("**/console/catalog");
  await look(page, `${label}-catalog`);
  check(`${label} catalog: the nav marks the page`, (await page.locator('nav a[aria-current="page"]').textContent()) === "Catalog", "no current link");

  // A new product with problems: named at their fields, the rest kept.
  await page.getByRole("link", { name: "Add a product" }).click();
  await page.waitForLoadState();
  await look(page, `${label}-product-new`);
  const rid = `rose-${label}`;
  await page.getByLabel("Name", { exact: true }).fill(`Rose ${label}`);
  await page.getByLabel("Retailer id").fill(rid);
  await page.getByLabel("Currency").fill("EUR");
  await page.getByLabel("Price", { exact: true }).fill("4,90");
  await page.getByLabel("Product page").fill("shop.example/rose");
  await page.getByRole("button", { name: "Add the product" }).click();
  await page.waitForLoadState();
  const priceErr = await page.locator("#price-error").textContent();
  check(`${label} product: the price error is at its field`, priceErr.includes("with a dot for decimals"), priceErr);
  check(`${label} product: the field is marked invalid`, (await page.getByLabel("Price", { exact: true }).getAttribute("aria-invalid")) === "true", "no aria-invalid");
  check(`${label} product: what was typed is kept`, (await page.getByLabel("Retailer id").inputValue()) === rid, "retailer id lost");
  await look(page, `${label}-product-errors`);
  // Keyboard only: the first problem's link at the top moves to its field.
  await page.getByLabel("Price", { exact: true }).fill("4.90");
  await page.getByLabel("Product page").fill("https://shop.example/rose");
  await page.getByLabel("Availability").selectOption("preorder");
  await page.getByLabel("Product page").press("Enter");
  await page.waitForLoadState();
  check(`${label} product: added`, (await page.getByRole("status").textContent()).includes("The product is added"), "no success message");
  await look(page, `${label}-product`);

  // Stock: adjusted with the labelled controls, shown in the history.
  await page.getByRole("link", { name: /in stock/ }).first().click();
  await page.waitForLoadState();
  await look(page, `${label}-stock`);
  await page.getByLabel("Change in units").fill("7");
  await page.getByRole("radio", { name: /received: goods came in/ }).check();
  await page.getByLabel("Note").fill("first delivery");
  await page.getByRole("button", { name: "Adjust" }).click();
  await page.waitForLoadState();
  check(`${label} stock: adjusted`, (await page.getByRole("status").textContent()).includes("The stock is adjusted."), "no success message");
  check(`${label} stock: in the history`, (await page.locator("table").textContent()).includes("first delivery"), "no history row");
  await page.getByLabel("Alert when the stock is at or below").fill("10");
  await page.getByRole("button", { name: "Save the threshold" }).click();
  await page.waitForLoadState();
  await visit(page, "/console/inventory", `${label}-inventory`);
  check(`${label} inventory: the low-stock alert is shown`, (await page.locator(".card.alert").textContent()).includes(`Rose ${label}`), "no alert");

  // Import: a file through the form, the progress page, the report.
  await visit(page, "/console/catalog/import", `${label}-import`);
  await page.getByLabel("Feed file").setInputFiles({ name: "feed.csv", mimeType: "text/csv",
    buffer: Buffer.from(`id,title,price\ntulip-${label},Tulip,2.50 EUR\nbad-${label},Bad,two euros\n`) });
  await page.getByRole("button", { name: "Import the feed" }).click();
  await page.waitForLoadState();
  check(`${label} import: a progress bar`, (await page.locator("progress").count()) === 1, "no <progress>");
  // The progress page reloads itself (meta refresh) until the report is
  // there: wait with a locator, which survives the reloads (page.content()
  // throws while the page is navigating).
  await page.getByText("Rows read").first().waitFor({ timeout: 20000 });
  await page.waitForLoadState();
  check(`${label} import: the report`, (await page.locator("table").textContent()).includes("two euros"), "no row error");
  await look(page, `${label}-import-report`);

  await visit(page, "/console/catalog?q=tulip", `${label}-catalog-search`);
  check(`${label} search: the imported product`, (await page.locator("table").textContent()).includes("Tulip"), "not found");

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
