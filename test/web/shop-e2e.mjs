// The whole sale, in two browsers at once: a person in the web chat
// ($KONTOR_URL/chat) and an agent of the business in the console
// ($KONTOR_URL/console). The agent signs in ($AGENT_EMAIL, $AGENT_PASSWORD)
// and reads the stock; the person registers $WEB_PHONE, writes to the
// hosted business $BIZ_PHONE and orders $PRODUCT_A twice and $PRODUCT_B
// three times from the catalog; the agent finds the order in the list,
// confirms it and sends the payment request with shipping and tax; the
// person pays it with the sandbox's card 4242 4242 4242 4242; the agent
// sees the order paid and the stock lowered; the agent answers in the
// inbox, the person's page shows the answer and reads it, and the
// agent's inbox shows the read tick. With $SCREENSHOTS the console's main
// pages (billing as the owner, $OWNER_EMAIL, $OWNER_PASSWORD) and the web
// chat are kept there, each also 390 px wide. Each step is one JSON line
// on stdout; internal/e2etest/shop_browser_test.go starts the server,
// makes the shop and its users, and checks them.
import { Browsers, env, say, loadChat, register, openChat, write, businessShown, openCatalog, addToCart, setQuantity,
  cartTotal, sendOrder, payRequest, unlabelled } from './lib.mjs';
import { consoleErrors, signIn, stock, orderRow, order, confirm, requestPayment, orderIn, conversation, reply, readTick,
  messages, shoot } from '../console-browser/steps.mjs';
import { join } from 'node:path';

const base = env('KONTOR_URL');
const phone = env('WEB_PHONE');
const biz = env('BIZ_PHONE');
const productA = env('PRODUCT_A');
const productB = env('PRODUCT_B');
const email = env('AGENT_EMAIL');
const password = env('AGENT_PASSWORD');
const answer = env('REPLY');
const shots = process.env.SCREENSHOTS || '';

const browsers = new Browsers(base);
try {
  const { page: person } = await browsers.open();
  const { page: agent } = await browsers.open({ width: 1280, height: 900 });
  const agentErrors = consoleErrors(agent);

  // The agent signs in and reads the stock before anything is sold.
  const heading = await signIn(agent, base, email, password, '/console/inventory');
  say('agent-signed-in', { heading, stock: await stock(agent, base) });

  // 1. The person registers, opens the business and orders two products.
  say('loaded', await loadChat(person, base));
  await register(person, base, phone);
  await openChat(person, biz);
  await write(person, 'Hallo, ich möchte Blumen bestellen.');
  const shown = await businessShown(person);
  const { names } = await openCatalog(person);
  await addToCart(person, productA);
  await addToCart(person, productA);
  await person.locator(`#cart-items input[value="2"][aria-label="Quantity of ${productA}"]`).waitFor();
  await addToCart(person, productB);
  await setQuantity(person, productB, 3);
  await person.locator('#open-cart', { hasText: 'Cart (5)' }).waitFor();
  const total = await cartTotal(person);
  const placed = await sendOrder(person, 'Bitte klingeln');
  say('ordered', { badge: shown.badge, catalog: names, total, order_id: placed.id, bubble: await placed.bubble.textContent() });

  // 2. The agent finds it, confirms it and asks for the money.
  const row = await orderRow(agent, base, placed.id);
  if (shots) await shoot(agent, shots, 'orders');
  const held = await stock(agent, base);
  const before = await order(agent, base, placed.id);
  const confirmed = await confirm(agent);
  const requested = await requestPayment(agent, { shipping: '4.90', tax: '0.80', text: 'Danke für Ihre Bestellung!' });
  say('requested', { row, held, before, confirmed, ...requested });

  // 3. The person gets the payment request and pays it.
  const request = person.locator('li.msg.in[data-kind=order_details]').last();
  await request.waitFor();
  const bill = (await request.locator('.bill .grand td').textContent()).trim();
  const requestText = (await request.textContent()).replace(/\s+/g, ' ');
  const paid = await payRequest(person, '4242 4242 4242 4242');
  say('paid', { bill, request: requestText, paid });

  // 4. The agent sees it paid, and the stock lowered.
  const after = await orderIn(agent, base, placed.id, 'paid');
  if (shots) await shoot(agent, shots, 'order');
  const left = await stock(agent, base);
  if (shots) await shoot(agent, shots, 'inventory');
  say('agent-paid', { order: after, stock: left });

  // 5. The agent answers in the inbox; the person reads it; the agent
  // sees it read.
  const conv = await conversation(agent, base, phone);
  const sent = await reply(agent, answer);
  const inChat = person.locator('li.msg.in', { hasText: answer });
  await inChat.waitFor();
  // Read: the open conversation counts nothing unread in the list.
  const inList = person.locator(`.conversations button[data-peer="${biz}"]`);
  // (The list is drawn again on changes: ask for its button each time.)
  await person.waitForFunction((peer) => {
    const b = document.querySelector(`.conversations button[data-peer="${peer}"]`);
    return b && !b.querySelector('.unread');
  }, biz);
  say('received', { text: (await inChat.textContent()).replace(/\s+/g, ' '), list: await inList.getAttribute('aria-label'),
    unlabelled: await unlabelled(person) });
  const tick = await readTick(agent, answer);
  say('read', { tick, inbox: conv, sent, messages: await messages(agent) });

  if (shots) {
    await shoot(agent, shots, 'conversation');
    await agent.goto(base + '/console/inbox');
    await shoot(agent, shots, 'inbox');
    await agent.goto(base + '/console/catalog');
    await shoot(agent, shots, 'catalog');
    await agent.locator('table tbody tr a[href^="/console/catalog/products/"]').first().click();
    await agent.locator('form').first().waitFor();
    await shoot(agent, shots, 'product');
    await person.screenshot({ path: join(shots, 'chat-shop.png') });
    await person.setViewportSize({ width: 390, height: 760 });
    await inChat.scrollIntoViewIfNeeded();
    await person.screenshot({ path: join(shots, 'chat-shop-phone.png') });
    // Billing is for owners and admins.
    const { page: owner } = await browsers.open({ width: 1280, height: 900 });
    await signIn(owner, base, env('OWNER_EMAIL'), env('OWNER_PASSWORD'), '/console/billing');
    await shoot(owner, shots, 'billing');
  }
  say('done', { offsite: browsers.offsite, errors: browsers.errors, console: agentErrors });
} catch (err) {
  say('error', { message: String(err && err.stack || err) });
  process.exitCode = 1;
} finally {
  await browsers.close();
}
