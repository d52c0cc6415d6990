// Drives the web chat at $KONTOR_URL/chat in Debian's chromium (through
// playwright-core, which brings no browser of its own): registers
// $WEB_PHONE with the one-time code of a --dev server, writes $WEB_TEXT to
// $PEER_PHONE, waits for $PEER_TEXT and for the read ticks, keeps
// screenshots in $SCREENSHOTS, reloads to see that the profile stayed in
// IndexedDB; then links a second browser to $PEER_PHONE's account with
// $LINK_CODE and sees $WEB_TEXT2 arrive there. On the way it shows the
// peer's reaction on its message, the peer's place ($PEER_PLACE) and
// contact ($PEER_CONTACT) written out, reacts to the peer's message with
// the keyboard, and gives a link code for its own account. Each step is one JSON line
// on stdout; the Go test
// (internal/e2etest/webchat_test.go) plays the peer and reads them.
// The steps are lib.mjs's, shared with shop.mjs.
import { Browsers, env, say, loadChat, pictureShown, sendFile, unlabelled, idbFiles, reactions, react, giveLinkCode } from './lib.mjs';
import { join } from 'node:path';

const base = env('KONTOR_URL');
const phone = env('WEB_PHONE');
const peer = env('PEER_PHONE');
const webText = env('WEB_TEXT');
const peerText = env('PEER_TEXT');
const webText2 = env('WEB_TEXT2');
const linkCode = env('LINK_CODE');
const webFile = Buffer.from(env('WEB_FILE'), 'base64');
const webFileName = env('WEB_FILE_NAME');
const webCaption = env('WEB_CAPTION');
const peerPlace = env('PEER_PLACE');
const peerContact = env('PEER_CONTACT');
const shots = process.env.SCREENSHOTS || '';

const browsers = new Browsers(base);
try {
  const { context, page } = await browsers.open();
  const loaded = await loadChat(page, base);
  await page.locator('#register').waitFor({ state: 'visible' });
  say('loaded', loaded);

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

  // The peer reacts to the message and sends a place and a contact; the
  // page shows them written out. A person's chat has no business badge.
  await mine.locator('.reactions .reaction').waitFor();
  const place = page.locator('li.msg.in[data-kind=location]', { hasText: peerPlace });
  await place.waitFor();
  const contact = page.locator('li.msg.in[data-kind=contacts]', { hasText: peerContact });
  await contact.waitFor();
  say('shown', { reactions: await reactions(mine), place: await place.locator('.body').innerText(), contact: await contact.locator('.body').innerText(),
    badge: await page.locator('#badge').isVisible(), last: await page.locator(`.conversations button[data-peer="${peer}"] .last`).textContent() });
  // The person reacts to the peer's message, with the keyboard.
  const theirs = page.locator('li.msg.in', { hasText: peerText });
  const chose = await react(theirs, 1);
  if (shots) {
    await place.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'chat-reactions.png') });
  }
  say('reacted', { chose, reactions: await reactions(theirs) });

  // A picture from the file picker, with a caption; the peer sends one back.
  const sent = await sendFile(page, webFileName, 'image/png', webFile, webCaption);
  await sent.locator('.ticks[data-status=sent], .ticks[data-status=delivered], .ticks[data-status=read]').waitFor();
  await pictureShown(sent);
  say('picture-sent');
  const alt = await pictureShown(page.locator('li.msg.in[data-kind=image]').last());
  say('picture-received', { alt });
  if (shots) {
    await page.screenshot({ path: join(shots, 'chat-conversation.png') });
    await page.setViewportSize({ width: 390, height: 760 });
    await page.screenshot({ path: join(shots, 'chat-phone.png') });
    await page.setViewportSize({ width: 1100, height: 720 });
  }

  // Every control has a label a screen reader reads.
  say('labels', { unlabelled: await unlabelled(page) });

  // The safety number, as the peer sees it, and marking it verified.
  await page.locator('#safety').click();
  await page.locator('#safety-number', { hasText: /^[0-9]{5}( [0-9]{5}){11}$/ }).waitFor();
  const number = await page.locator('#safety-number').textContent();
  await page.locator('#verify-number').click();
  await page.locator('#safety-state', { hasText: 'You verified' }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#safety-dialog').waitFor({ state: 'hidden' });
  say('safety', { number });

  // This browser is its account's primary device: it gives a link code.
  say('link-code', await giveLinkCode(page));

  // The profile is in IndexedDB: after a reload the device and the
  // conversation are still there, and the keys are in the browser.
  await page.reload();
  await page.locator('#chat').waitFor({ state: 'visible' });
  await page.locator(`.conversations button[data-peer="${peer}"]`).click();
  await page.locator('li.msg.in', { hasText: peerText }).waitFor();
  await page.locator('li.msg.out', { hasText: webText }).locator('.ticks[data-status=read]').waitFor();
  await page.locator('#conn', { hasText: 'Connected' }).waitFor();
  // The pictures are kept in the browser: the server deleted both blobs
  // once they were fetched.
  await pictureShown(page.locator('li.msg.in[data-kind=image]').last());
  await pictureShown(page.locator('li.msg.out[data-kind=image]').last());
  say('reloaded', { files: await idbFiles(page) });

  // A second tab of the same browser is kept out (Web Locks) and says why.
  const tab = await context.newPage();
  await tab.goto(base + '/chat');
  const refused = await tab.locator('#start-error', { hasText: 'another tab' }).textContent();
  await tab.close();
  say('second-tab', { refused });

  // A second browser becomes a linked device of the peer's account, and
  // gets what the first writes to the peer from now on.
  const second = await browsers.open();
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
  // A linked device gives no link codes, and says so.
  say('linked', { me, linkCode: await giveLinkCode(p2) });
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
  say('signed-out', { files: await idbFiles(page), databases: (await page.evaluate(() => indexedDB.databases())).map((d) => d.name) });
  say('done', { offsite: browsers.offsite, errors: browsers.errors });
} catch (err) {
  say('error', { message: String(err && err.stack || err) });
  process.exitCode = 1;
} finally {
  await browsers.close();
}
