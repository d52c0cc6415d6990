// A person in the web chat at $KONTOR_URL/chat shops at the hosted
// business $BIZ_PHONE: registers $WEB_PHONE, opens the business's chat
// and writes to it, sees the business badge and the hosted-service notice,
// the products the business sends, browses the catalog, puts two products
// in the cart ($PRODUCT_A once then twice, $PRODUCT_B three times), sends
// the order, gets the payment request the business sends through the
// Business API, pays it with a declined card and then with one the
// sandbox keeps pending for a while (the page asks after it until it is
// paid), and sees the order news; the cart survives a reload; it also answers the business's reply buttons. Each step is one JSON line on stdout; the Go test
// (internal/e2etest/webchat_test.go) plays the business and reads them.
import { Browsers, env, say, loadChat, register, openChat, write, businessShown, openCatalog, addToCart, setQuantity,
  cartTotal, sendOrder, payRequest, unlabelled, choose, cartKept, idbFiles, connected, payPending } from './lib.mjs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const base = env('KONTOR_URL');
const phone = env('WEB_PHONE');
const biz = env('BIZ_PHONE');
const productA = env('PRODUCT_A');
const productB = env('PRODUCT_B');
const shots = process.env.SCREENSHOTS || '';

// The Go test says "go" on stdin when the business has done its part.
const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
const next = async (what) => {
  const l = await lines.next();
  if (l.done || l.value !== 'go') throw new Error(`the test did not say go for ${what}: ${l.value}`);
};

const browsers = new Browsers(base);
try {
  const { page } = await browsers.open();
  say('loaded', await loadChat(page, base));
  await register(page, base, phone);
  say('registered');

  await openChat(page, biz);
  await write(page, 'Hallo, was haben Sie heute?');
  say('business', await businessShown(page));

  // The business asks with reply buttons; the person answers with one.
  await next('the question');
  await page.locator('li.msg.in[data-kind=button]').waitFor();
  await choose(page, 'Abholung');
  say('answered');

  await next('the products');
  const products = page.locator('li.msg.in[data-kind=product_list]').last();
  await products.locator('.product .add').first().waitFor();
  const inChat = await products.locator('.product .name').allTextContents();
  // Pictures only from the page's own origin: their address and width once loaded.
  await page.waitForFunction(() => [...document.querySelectorAll('li.msg.in[data-kind=product_list] img.picture')].every((i) => i.complete));
  const pictures = await products.locator('.product img.picture').evaluateAll((xs) => xs.map((x) => ({ src: x.getAttribute('src'), alt: x.alt, width: x.naturalWidth })));
  // Add one from the message, the rest from the catalog.
  await products.getByRole('button', { name: `Add ${productA} to the cart` }).click();
  await page.locator('#open-cart', { hasText: 'Cart (1)' }).waitFor();
  say('products', { names: inChat, pictures });

  const { names, focused } = await openCatalog(page);
  await page.locator('#cart-items .cart-item', { hasText: productA }).waitFor();
  await addToCart(page, productA);
  await page.locator(`#cart-items input[value="2"][aria-label="Quantity of ${productA}"]`).waitFor();
  await addToCart(page, productB);
  await setQuantity(page, productB, 3);
  await page.locator('#open-cart', { hasText: 'Cart (5)' }).waitFor();
  // The cart is kept in the profile: a reload brings it back.
  await page.locator('#order-note').fill('Bitte bis 18 Uhr');
  await page.locator('#order-note').dispatchEvent('change');
  await cartKept(page);
  const kept = await idbFiles(page);
  await page.reload();
  await connected(page);
  await openChat(page, biz);
  await page.locator('#open-cart', { hasText: 'Cart (5)' }).waitFor();
  await page.locator('#open-cart').click();
  await page.locator(`#cart-items input[value="3"][aria-label="Quantity of ${productB}"]`).waitFor();
  const reloaded = { total: await cartTotal(page), note: await page.locator('#order-note').inputValue(), kept };
  const total = await cartTotal(page);
  if (shots) await page.screenshot({ path: join(shots, 'chat-catalog.png') });
  const order = await sendOrder(page, 'Bitte bis 18 Uhr');
  await cartKept(page);
  say('ordered', { catalog: names, focused, total, reloaded, order_id: order.id, bubble: await order.bubble.textContent(), files: await idbFiles(page) });

  await next('the payment request');
  const request = page.locator('li.msg.in[data-kind=order_details]').last();
  await request.waitFor();
  const bill = await request.locator('.bill .grand td').textContent();
  const declined = await payRequest(page, '4000 0000 0000 0002');
  const paid = await payPending(page, '4000 0000 0000 1000', true);
  say('paid', { bill, declined, paid });

  await next('the order news');
  const news = page.locator('li.msg.in[data-kind=order_status]').last();
  await news.waitFor();
  await request.locator('.pay-outcome[data-status=succeeded]').waitFor(); // still shown after the redraws
  if (shots) {
    await page.screenshot({ path: join(shots, 'chat-order.png') });
    await page.setViewportSize({ width: 390, height: 760 });
    await news.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'chat-order-phone.png') });
    await page.locator('#open-catalog').click();
    await page.locator('#products .product').first().waitFor();
    await page.screenshot({ path: join(shots, 'chat-catalog-phone.png') });
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1100, height: 720 });
  }
  say('news', { text: await news.textContent(), unlabelled: await unlabelled(page), notes: await page.locator('li.note').count() });

  // Amounts are minor units written with the currency's digits.
  const amounts = await page.evaluate(() => [money(1234, 'JPY'), money(1234, 'BHD'), money(5, 'EUR'), money(-250, 'USD'), money('900719925474099312', 'EUR')]);

  // The chat's info says who it is and who can read it.
  await page.locator('#info').click();
  const info = await page.locator('#info-dialog').textContent();
  await page.keyboard.press('Escape');
  say('done', { info, amounts, offsite: browsers.offsite, errors: browsers.errors });
} catch (err) {
  say('error', { message: String(err && err.stack || err) });
  process.exitCode = 1;
} finally {
  stdin.close();
  await browsers.close();
}
