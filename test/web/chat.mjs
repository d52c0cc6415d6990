// Drives the web chat at $KONTOR_URL/chat in Debian's chromium (through
// playwright-core, which brings no browser of its own): registers
// $WEB_PHONE with the one-time code of a --dev server, writes $WEB_TEXT to
// $PEER_PHONE, waits for $PEER_TEXT and for the read ticks, keeps
// screenshots in $SCREENSHOTS, reloads to see that the profile stayed in
// IndexedDB; then links a second browser to $PEER_PHONE's account with
// $LINK_CODE and sees $WEB_TEXT2 arrive there. Each step is one JSON line
// on stdout; the Go test
// (internal/e2etest/webchat_test.go) plays the peer and reads them.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('KONTOR_URL');
const phone = env('WEB_PHONE');
const peer = env('PEER_PHONE');
const webText = env('WEB_TEXT');
const peerText = env('PEER_TEXT');
const webText2 = env('WEB_TEXT2');
const linkCode = env('LINK_CODE');
const shots = process.env.SCREENSHOTS || '';
const wait = 60_000;

const say = (step, more = {}) => console.log(JSON.stringify({ step, ...more }));

// Each browser has a fresh profile of its own (user-data-dir).
const profiles = [];
const offsite = [];
async function browser() {
  const profile = mkdtempSync(join(tmpdir(), 'kontor-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    viewport: { width: 1100, height: 720 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(wait);
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error('browser:', m.text()); });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // Nothing may come from another site.
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) offsite.push(r.url()); });
  return { context, page };
}

const contexts = [];
try {
  const { context, page } = await browser();
  contexts.push(context);

  await page.goto(base + '/chat');
  await page.locator('#register').waitFor({ state: 'visible' });
  const loadMs = Number(await page.evaluate(() => document.body.dataset.loadMs));
  const wasm = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.endsWith('/kontor.wasm'))
    .map((e) => ({ transfer: e.transferSize, decoded: e.decodedBodySize, ms: Math.round(e.duration) }))[0]);
  say('loaded', { load_ms: loadMs, wasm });

  // Registration, with the keyboard only: the phone field has the focus.
  // A number without its country code first, then a wrong code: each is
  // refused with a sentence.
  await page.keyboard.type('0151 2345');
  await page.keyboard.press('Enter');
  const badPhone = await page.locator('#register-error', { hasText: 'E.164' }).textContent();
  await page.locator('#phone').fill('');
  await page.keyboard.type(phone);
  await page.keyboard.press('Enter');
  await page.locator('#verify-form').waitFor({ state: 'visible' });
  await page.locator('#code-help', { hasText: 'development server' }).waitFor();
  if (shots) await page.screenshot({ path: join(shots, 'chat-register.png') });
  const otp = await (await fetch(`${base}/dev/otp?phone=${encodeURIComponent(phone)}`)).json();
  await page.keyboard.type(otp.code === '000000' ? '111111' : '000000');
  await page.keyboard.press('Enter');
  const badCode = await page.locator('#register-error', { hasText: 'wrong code' }).textContent();
  say('refused', { phone: badPhone, code: badCode });
  await page.locator('#code').fill('');
  await page.keyboard.type(otp.code);
  await page.keyboard.press('Enter');
  await page.locator('#chat').waitFor({ state: 'visible' });
  await page.locator('#conn', { hasText: 'Connected' }).waitFor();
  say('registered');

  // A new chat, by keyboard: the number field has the focus.
  await page.keyboard.type(peer);
  await page.keyboard.press('Enter');
  await page.locator('#conversation').waitFor({ state: 'visible' });
  await page.locator('#presence', { hasText: 'online' }).waitFor();
  await page.keyboard.type(webText);
  await page.keyboard.press('Enter');
  const mine = page.locator('li.msg.out', { hasText: webText });
  await mine.locator('.ticks[data-status=sent], .ticks[data-status=delivered], .ticks[data-status=read]').waitFor();
  say('sent');
  await page.locator('li.msg.in', { hasText: peerText }).waitFor();
  say('received');
  await mine.locator('.ticks[data-status=delivered], .ticks[data-status=read]').waitFor();
  say('delivered');
  await mine.locator('.ticks[data-status=read]').waitFor();
  say('read', { label: await mine.locator('.ticks').getAttribute('aria-label') });
  if (shots) {
    await page.screenshot({ path: join(shots, 'chat-conversation.png') });
    await page.setViewportSize({ width: 390, height: 760 });
    await page.screenshot({ path: join(shots, 'chat-phone.png') });
    await page.setViewportSize({ width: 1100, height: 720 });
  }

  // Every control has a label a screen reader reads.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, textarea, select, button')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
  say('labels', { unlabelled });

  // The safety number, as the peer sees it, and marking it verified.
  await page.locator('#safety').click();
  await page.locator('#safety-number', { hasText: /^[0-9]{5}( [0-9]{5}){11}$/ }).waitFor();
  const number = await page.locator('#safety-number').textContent();
  await page.locator('#verify-number').click();
  await page.locator('#safety-state', { hasText: 'You verified' }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#safety-dialog').waitFor({ state: 'hidden' });
  say('safety', { number });

  // The profile is in IndexedDB: after a reload the device and the
  // conversation are still there, and the keys are in the browser.
  await page.reload();
  await page.locator('#chat').waitFor({ state: 'visible' });
  await page.locator(`.conversations button[data-peer="${peer}"]`).click();
  await page.locator('li.msg.in', { hasText: peerText }).waitFor();
  await page.locator('li.msg.out', { hasText: webText }).locator('.ticks[data-status=read]').waitFor();
  await page.locator('#conn', { hasText: 'Connected' }).waitFor();
  const files = await page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('kontor-chat');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const keys = req.result.transaction('files').objectStore('files').getAllKeys();
      keys.onsuccess = () => resolve([...new Set(keys.result.map((k) => k[0]))].sort());
      keys.onerror = () => reject(keys.error);
    };
  }));
  say('reloaded', { files });

  // A second tab of the same browser is kept out (Web Locks) and says why.
  const tab = await context.newPage();
  await tab.goto(base + '/chat');
  const refused = await tab.locator('#start-error', { hasText: 'another tab' }).textContent();
  await tab.close();
  say('second-tab', { refused });

  // A second browser becomes a linked device of the peer's account, and
  // gets what the first writes to the peer from now on.
  const second = await browser();
  contexts.push(second.context);
  const p2 = second.page;
  await p2.goto(base + '/chat');
  await p2.locator('#register').waitFor({ state: 'visible' });
  await p2.locator('#link-box summary').click();
  await p2.locator('#link-phone').fill(peer);
  await p2.locator('#link-code').fill(linkCode);
  await p2.locator('#link-code').press('Enter');
  await p2.locator('#chat').waitFor({ state: 'visible' });
  await p2.locator('#conn', { hasText: 'Connected' }).waitFor();
  const me = await p2.locator('#me').textContent();
  say('linked', { me });
  await page.locator('#text').fill(webText2);
  await page.locator('#text').press('Enter');
  await p2.locator(`.conversations button[data-peer="${phone}"]`).click();
  await p2.locator('li.msg.in', { hasText: webText2 }).waitFor();
  await page.locator('li.msg.out', { hasText: webText2 }).locator('.ticks[data-status=read]').waitFor();
  say('linked-received');

  // Signing out deletes the browser's profile; the page starts afresh.
  page.once('dialog', (d) => d.accept());
  await page.locator('#back').evaluate((b) => b.click()); // back to the list, where the button is
  await page.locator('#forget').click();
  await page.locator('#register').waitFor({ state: 'visible' });
  // (The new page opened a new, empty database.)
  const left = await page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('kontor-chat');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const keys = req.result.transaction('files').objectStore('files').getAllKeys();
      keys.onsuccess = () => resolve(keys.result.map((k) => k[0]));
      keys.onerror = () => reject(keys.error);
    };
  }));
  say('signed-out', { files: left });
  say('done', { offsite });
} catch (err) {
  say('error', { message: String(err && err.stack || err) });
  process.exitCode = 1;
} finally {
  for (const c of contexts) await c.close();
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
}
