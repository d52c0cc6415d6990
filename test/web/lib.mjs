// Reusable steps for driving the web chat in Debian's chromium through
// playwright-core: chat.mjs (people) and shop.mjs (a business chat) use
// them, and so can a test that drives the console and the chat together.
// Every function takes the page (or the browser handle) it works on.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const wait = 60_000;

// env returns a required environment variable.
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

// say writes one step of a script as a JSON line on stdout, for the Go test.
export const say = (step, more = {}) => console.log(JSON.stringify({ step, ...more }));

// Browsers opens fresh browser profiles (user-data-dirs) and notes every
// request that leaves base; close() removes them.
export class Browsers {
  constructor(base) {
    this.base = base;
    this.contexts = [];
    this.profiles = [];
    this.offsite = [];
    this.errors = []; // uncaught errors of the pages' scripts
  }

  async open(viewport = { width: 1100, height: 720 }) {
    const profile = mkdtempSync(join(tmpdir(), 'kontor-chromium-'));
    this.profiles.push(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'],
      viewport,
    });
    this.contexts.push(context);
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(wait);
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error('browser:', m.text()); });
    page.on('pageerror', (e) => { console.error('page error:', e.message); this.errors.push(e.message); });
    // Nothing may come from another site (blob: URLs are the page's own
    // decrypted pictures).
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(this.base) && !u.startsWith('data:') && !u.startsWith('blob:' + this.base)) this.offsite.push(u);
    });
    return { context, page };
  }

  async close() {
    for (const c of this.contexts) await c.close();
    for (const p of this.profiles) rmSync(p, { recursive: true, force: true });
  }
}

// loadChat opens /chat and waits for the client to be ready: the load
// time (navigation to the WebAssembly client answering) and kontor.wasm's
// transfer.
export async function loadChat(page, base) {
  await page.goto(base + '/chat');
  await page.waitForFunction(() => document.body.dataset.loadMs, null, { timeout: wait });
  const loadMs = Number(await page.evaluate(() => document.body.dataset.loadMs));
  const wasm = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith('/kontor.wasm'))
    .map((e) => ({ transfer: e.transferSize, decoded: e.decodedBodySize, ms: Math.round(e.duration) }))[0]);
  return { load_ms: loadMs, wasm };
}

// devCode is the one-time code a --dev server sent to phone.
export async function devCode(base, phone) {
  return (await (await fetch(`${base}/dev/otp?phone=${encodeURIComponent(phone)}`)).json()).code;
}

// register registers phone in a page that shows the registration form,
// with the keyboard, and waits until it is connected.
export async function register(page, base, phone) {
  await page.locator('#register').waitFor({ state: 'visible' });
  await page.locator('#phone').fill(phone);
  await page.locator('#phone').press('Enter');
  await page.locator('#verify-form').waitFor({ state: 'visible' });
  await page.locator('#code').fill(await devCode(base, phone));
  await page.locator('#code').press('Enter');
  await connected(page);
}

export async function connected(page) {
  await page.locator('#chat').waitFor({ state: 'visible' });
  await page.locator('#conn', { hasText: 'Connected' }).waitFor();
}

// openChat opens the conversation with peer from the number field.
export async function openChat(page, peer) {
  const b = page.locator(`.conversations button[data-peer="${peer}"]`);
  if (await b.count()) {
    await b.click();
  } else {
    await page.locator('#new-peer').fill(peer);
    await page.locator('#new-peer').press('Enter');
  }
  await page.locator('#conversation').waitFor({ state: 'visible' });
}

// write sends text in the open conversation and returns its bubble.
export async function write(page, text) {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
  return page.locator('li.msg.out', { hasText: text });
}

// sendFile sends a file (name, MIME type, bytes) from the file picker,
// with caption as its caption, and returns its bubble.
export async function sendFile(page, name, mimeType, buffer, caption = '') {
  await page.locator('#text').fill(caption);
  const chooser = page.waitForEvent('filechooser');
  await page.locator('#attach').click();
  await (await chooser).setFiles({ name, mimeType, buffer });
  return page.locator('li.msg.out[data-kind=image], li.msg.out[data-kind=document]').last();
}

// pictureShown waits until a bubble's picture is decrypted and drawn.
export async function pictureShown(bubble) {
  const img = bubble.locator('img');
  await img.waitFor();
  await bubble.page().waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  return img.getAttribute('alt');
}

// choose presses the button titled title of the last interactive message
// offering it, and returns the answer's bubble.
export async function choose(page, title) {
  await page.locator('li.msg.in .choices').getByRole('button', { name: title, exact: true }).last().click();
  const answer = page.locator('li.msg.out[data-kind=interactive_reply]', { hasText: title }).last();
  await answer.locator('.ticks[data-status=sent], .ticks[data-status=delivered], .ticks[data-status=read]').waitFor();
  return answer;
}

// unlabelled lists the controls without a label a screen reader reads.
export async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, textarea, select, button')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
}

// idbFiles lists the profile's files in the browser's IndexedDB.
export async function idbFiles(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('kontor-chat');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const keys = db.transaction('files').objectStore('files').getAllKeys();
      keys.onsuccess = () => { db.close(); resolve([...new Set(keys.result.map((k) => k[0]))].sort()); };
      keys.onerror = () => { db.close(); reject(keys.error); };
    };
  }));
}

// The business side.

// businessShown waits for the open conversation's business badge and the
// hosted-service notice (in the chat and under its header).
export async function businessShown(page) {
  await page.locator('#badge').waitFor({ state: 'visible' });
  const note = page.locator('li.note', { hasText: 'can read' });
  await note.waitFor();
  await page.locator('#hosted').waitFor({ state: 'visible' });
  return { badge: await page.locator('#badge').textContent(), notice: await note.textContent(), notes: await page.locator('li.note').count() };
}

// openCatalog opens the business's catalog with the keyboard and returns
// the products' names and the control that has the focus then.
export async function openCatalog(page) {
  await page.locator('#open-catalog').focus();
  await page.keyboard.press('Enter');
  await page.locator('#shop-dialog').waitFor({ state: 'visible' });
  await page.locator('#products .product').first().waitFor();
  await page.waitForFunction(() => document.activeElement && document.activeElement.closest('#shop-dialog'));
  return {
    names: await page.locator('#products .product .name').allTextContents(),
    focused: await page.evaluate(() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent),
  };
}

// addToCart adds a product (by name) from the open catalog.
export async function addToCart(page, name) {
  await page.locator('#products').getByRole('button', { name: `Add ${name} to the cart` }).click();
  await page.locator('#cart-items .cart-item', { hasText: name }).waitFor();
}

// setQuantity sets a product's quantity in the cart.
export async function setQuantity(page, name, n) {
  const q = page.getByLabel(`Quantity of ${name}`);
  await q.fill(String(n));
  await q.dispatchEvent('change');
}

// cartTotal is the cart's total as shown.
export async function cartTotal(page) {
  return (await page.locator('#cart-total').textContent()).trim();
}

// sendOrder sends the cart and returns the order's id from its bubble.
export async function sendOrder(page, note = '') {
  await page.locator('#order-note').fill(note);
  await page.locator('#send-order').click();
  await page.locator('#shop-dialog').waitFor({ state: 'hidden' });
  const bubble = page.locator('li.msg.out[data-kind=order]').last();
  await bubble.locator('[data-order-id]').waitFor();
  return { id: await bubble.locator('[data-order-id]').getAttribute('data-order-id'), bubble };
}

// payRequest types card into the last payment request of the open
// conversation, pays (with Enter in the card field when keyboard is
// true, else with the Pay button), and returns the outcome as shown once
// it is final (data-status succeeded, declined, canceled or error).
export async function payRequest(page, card, keyboard = false) {
  const req = page.locator('li.msg.in[data-kind=order_details]').last();
  const input = req.locator('input[name=card]');
  await input.fill(card);
  if (keyboard) await input.press('Enter');
  else await req.getByRole('button', { name: /^Pay / }).click();
  const out = req.locator('.pay-outcome:is([data-status=succeeded], [data-status=declined], [data-status=canceled], [data-status=error], [data-status=invalid])');
  await out.waitFor();
  return { status: await out.getAttribute('data-status'), text: await out.textContent() };
}

// payPending pays the last payment request with a card the provider
// keeps pending for a while (the sandbox's 4000 0000 0000 1000), with
// Enter in the card field when keyboard is true: the pending outcome as
// shown, and the final one once the page's polling saw it settle.
export async function payPending(page, card, keyboard = false) {
  const req = page.locator('li.msg.in[data-kind=order_details]').last();
  const input = req.locator('input[name=card]');
  await input.fill(card);
  if (keyboard) await input.press('Enter');
  else await req.getByRole('button', { name: /^Pay / }).click();
  const pending = req.locator('.pay-outcome[data-status=pending]');
  await pending.waitFor();
  const text = await pending.textContent();
  const out = req.locator('.pay-outcome:is([data-status=succeeded], [data-status=declined], [data-status=canceled], [data-status=error])');
  await out.waitFor();
  return { pending: text, status: await out.getAttribute('data-status'), text: await out.textContent() };
}

// cartKept waits until the page wrote its cart to the profile.
export async function cartKept(page) {
  await page.evaluate(() => ui.saving);
}

// reactions lists the reactions shown under a bubble, as read aloud.
export async function reactions(bubble) {
  return bubble.locator('.reactions .reaction').evaluateAll((rs) => rs.map((r) => r.getAttribute('aria-label')));
}

// react puts a reaction on a bubble with the keyboard: its React button,
// then the picker's buttons (arrow keys move, Enter chooses); choice is
// the position in the picker (0: 👍, 1: ❤️, …). It waits until the
// reaction is shown as the person's own.
export async function react(bubble, choice = 0) {
  const page = bubble.page();
  await bubble.getByRole('button', { name: 'React to this message' }).focus();
  await page.keyboard.press('Enter');
  await bubble.locator('.picker').waitFor();
  for (let i = 0; i < choice; i++) await page.keyboard.press('ArrowRight');
  const label = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  await page.keyboard.press('Enter');
  await bubble.locator('.reactions .reaction[data-who=you]').waitFor();
  return label;
}

// giveLinkCode opens "Link another device" (from the list of chats) and
// asks for a link code: the code shown, or the error the page shows.
export async function giveLinkCode(page) {
  if (!(await page.locator('#devices').isVisible())) await page.locator('#back').evaluate((b) => b.click()); // a phone-sized screen
  await page.locator('#devices').click();
  await page.locator('#devices-dialog').waitFor({ state: 'visible' });
  await page.locator('#get-link-code').click();
  await page.locator('#link-code-shown:not(:empty), #link-code-error:not(:empty)').first().waitFor();
  const out = { code: (await page.locator('#link-code-shown').textContent()).trim(), error: (await page.locator('#link-code-error').textContent()).trim(),
    help: (await page.locator('#link-code-help').textContent()).trim() };
  await page.keyboard.press('Escape');
  await page.locator('#devices-dialog').waitFor({ state: 'hidden' });
  return out;
}
