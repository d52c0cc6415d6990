// Reusable steps for driving the business console in a browser page
// (playwright-core): signing in, the inventory, an order's page (confirm,
// payment request), the inbox (a conversation, a reply and its ticks) and
// screenshots. They take the page they work on and import nothing, so a
// script in test/web (test/web/shop-e2e.mjs, which drives the web chat
// and the console together) can use them as well as the scripts here.

export const wait = 60_000;

// consoleErrors collects what goes wrong on a console page: script and
// CSP errors, and resources that fail (the pages themselves are checked
// by their steps).
export function consoleErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure().errorText}`));
  page.on('response', (r) => r.request().resourceType() !== 'document' && r.status() >= 400 && errors.push(`${r.url()}: HTTP ${r.status()}`));
  return errors;
}

// signIn opens path signed out, is sent to the sign-in form, signs in and
// returns the heading of the page it lands on (path again).
export async function signIn(page, base, email, password, path = '/console/') {
  await page.goto(base + path);
  if (!page.url().includes('/console/sign-in')) throw new Error(`signed out, ${path} did not ask to sign in: ${page.url()}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL((u) => !u.pathname.startsWith('/console/sign-in'));
  return (await page.locator('h1').first().textContent()).trim();
}

// stock reads /console/inventory: for each product's name its available
// and reserved units as shown.
export async function stock(page, base) {
  await page.goto(base + '/console/inventory');
  const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => {
    const cell = (label) => { const td = tr.querySelector(`td[data-label="${label}"]`); return td ? td.textContent.trim() : ''; };
    return { name: (tr.querySelector('td[data-label="Product"] a') || {}).textContent, available: cell('Available'), reserved: cell('Reserved by orders') };
  }));
  const out = {};
  for (const r of rows) if (r.name) out[r.name.trim()] = { available: Number(r.available), reserved: Number(r.reserved) };
  return out;
}

// orderRow waits (reloading /console/orders) until the list shows the
// order id and returns its row's text.
export async function orderRow(page, base, id) {
  const deadline = Date.now() + wait;
  for (;;) {
    await page.goto(base + '/console/orders');
    const row = page.locator('table tbody tr', { hasText: id });
    if (await row.count()) return (await row.first().textContent()).replace(/\s+/g, ' ').trim();
    if (Date.now() > deadline) throw new Error(`the orders list does not show ${id}`);
    await page.waitForTimeout(500);
  }
}

// order opens an order's page and reads it: its state, the items
// (product, quantity, sum), the total and the payments as shown.
export async function order(page, base, id) {
  await page.goto(`${base}/console/orders/${id}`);
  return readOrder(page);
}

async function readOrder(page) {
  const items = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    name: tr.querySelector('td[data-label="Product"]').textContent.trim(),
    quantity: Number(tr.querySelector('td[data-label="Quantity"]').textContent),
    sum: tr.querySelector('td[data-label="Sum"]').textContent.trim(),
  })));
  const fact = (dt) => page.locator('dl.facts').evaluate((dl, dt) => {
    const t = [...dl.querySelectorAll('dt')].find((e) => e.textContent.trim() === dt);
    return t ? t.nextElementSibling.textContent.replace(/\s+/g, ' ').trim() : '';
  }, dt);
  return {
    state: (await page.locator('dl.facts .badge').first().textContent()).trim(),
    customer: await fact('Customer'),
    payment: await fact('Payment'),
    items,
    total: (await page.locator('td[data-label="Total"]').textContent()).trim(),
  };
}

// orderIn reloads an order's page until its state is state (the
// payment's news arrives through the provider and the endpoint).
export async function orderIn(page, base, id, state) {
  const deadline = Date.now() + wait;
  for (;;) {
    const o = await order(page, base, id);
    if (o.state === state) return o;
    if (Date.now() > deadline) throw new Error(`order ${id} is ${o.state}, not ${state}`);
    await page.waitForTimeout(500);
  }
}

// confirm presses Confirm on the open order's page and returns the
// message the page shows then.
export async function confirm(page) {
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.waitForURL(/done=order-confirmed/);
  return (await page.getByRole('status').textContent()).trim();
}

// requestPayment sends the open order's payment request with the
// charges given ({tax, shipping, discount, text}, as typed) and returns
// the page's message and the order as the page shows it then.
export async function requestPayment(page, charges) {
  const fields = { tax: 'Tax', shipping: 'Shipping', discount: 'Discount', text: 'Message' };
  const form = page.locator('form[action$="/payment-request"]');
  for (const [k, label] of Object.entries(fields)) {
    if (charges[k] !== undefined) await form.getByLabel(label, { exact: true }).fill(charges[k]);
  }
  await page.getByRole('button', { name: 'Send the payment request' }).click();
  await page.waitForURL(/done=order-requested/);
  return { flash: (await page.getByRole('status').textContent()).trim(), order: await readOrder(page) };
}

// conversation opens the inbox, finds the conversation with who (the
// person's number) and opens it: the inbox row's text and the messages
// of the conversation as shown.
export async function conversation(page, base, who) {
  await page.goto(base + '/console/inbox');
  const row = page.locator('table.inbox tbody tr', { hasText: who });
  await row.waitFor();
  const text = (await row.textContent()).replace(/\s+/g, ' ').trim();
  await row.getByRole('link').first().click();
  await page.locator('ol.messages').waitFor();
  return { row: text, messages: await messages(page) };
}

// messages lists the open conversation's messages: direction, text and
// (for the business's own) the tick's label.
export async function messages(page) {
  return page.locator('ol.messages li.msg').evaluateAll((lis) => lis.map((li) => ({
    out: li.classList.contains('out'),
    text: li.querySelector('.body').textContent.trim(),
    tick: li.querySelector('.tick') ? li.querySelector('.tick').getAttribute('aria-label') : '',
  })));
}

// reply sends text from the open conversation and returns the page's
// message once the reply is listed.
export async function reply(page, text) {
  await page.getByLabel('Your reply').fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.waitForURL(/done=sent/);
  await page.locator('ol.messages li.msg.out', { hasText: text }).waitFor();
  return (await page.getByRole('status').first().textContent()).trim();
}

// readTick waits until the open conversation's reply text has its read
// tick (the page's live updates bring it without a reload) and returns
// the tick as shown and its label.
export async function readTick(page, text) {
  const tick = page.locator('ol.messages li.msg.out', { hasText: text }).locator('.tick.st-read');
  await tick.waitFor({ timeout: wait });
  return { shown: (await tick.textContent()).trim(), label: await tick.getAttribute('aria-label') };
}

// shoot keeps a full-page screenshot of the page as dir/name.png, and
// one as dir/name-phone.png 390 px wide, then restores the size.
export async function shoot(page, dir, name) {
  if (!dir) return;
  const size = page.viewportSize();
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${dir}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize(size);
}
