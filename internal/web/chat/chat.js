// The web chat's page. The device itself (registration, end-to-end
// encryption, the profile in IndexedDB) is the Go client SDK compiled to
// WebAssembly: kontor.wasm, reached through globalThis.kontor once it ran
// (docs/web.md). This file only draws.
'use strict';

const $ = (id) => document.getElementById(id);
const ui = {
  me: null, peer: null, convs: [], drawing: false, again: false, typingTimer: 0, typingSent: 0,
  biz: {},        // peer → what kontor.business said
  shops: {},      // peer → its catalog, once fetched
  carts: {},      // peer → {retailer id: quantity}; kept in the profile (kontor.saveCart)
  notes: {},      // peer → the note of its cart
  paid: {},       // order id → the last payment outcome
  polls: {},      // order id → the poll of a pending payment
  saving: Promise.resolve(), // the carts' writes, in order
  files: {},      // media id → object URL of a file decrypted (or sent) here
  rendered: new Map(), // message key → {sig, li}: drawn once, kept while unchanged
};

function setConn(text) { $('conn').textContent = text; }

function showError(id, err) {
  $(id).textContent = err ? (err.message || String(err)) : '';
}

async function load() {
  const ready = new Promise((resolve) => { globalThis.kontorReady = resolve; });
  const go = new Go();
  let result;
  try {
    result = await WebAssembly.instantiateStreaming(fetch('kontor.wasm'), go.importObject);
  } catch (err) {
    setConn('Not started');
    $('start-error').textContent = 'The encrypted client could not load: ' + err.message;
    $('start-error').hidden = false;
    throw err;
  }
  go.run(result.instance);
  await ready;
  globalThis.kontorLoadMs = Math.round(performance.now()); // since the page was asked for
  document.body.dataset.loadMs = globalThis.kontorLoadMs;
  kontor.onEvent(onEvent);
  let st;
  try {
    st = await kontor.start();
  } catch (err) { // another tab has the profile, or the browser keeps no storage
    setConn('Not started');
    $('start-error').textContent = err.message;
    $('start-error').hidden = false;
    return;
  }
  document.body.classList.remove('loading');
  if (st.registered) {
    showChat(st);
  } else {
    showRegister();
  }
}

// Registration.

function showRegister() {
  setConn('Not registered');
  $('register').hidden = false;
  $('chat').hidden = true;
  $('phone').focus();
}

$('code-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('register-error');
  const phone = $('phone').value.trim();
  if (!phone) { showError('register-error', 'Enter your phone number, like +4915112345678.'); $('phone').focus(); return; }
  const button = $('send-code');
  button.disabled = true;
  try {
    const r = await kontor.requestCode(phone);
    ui.phone = r.phone;
    $('code-form').hidden = true;
    $('verify-form').hidden = false;
    $('code-help').textContent = `We sent a code to ${r.phone}. It is valid for ${Math.round(r.expires_in / 60)} minutes.`;
    const dev = await kontor.devCode(r.phone);
    if (dev) $('code-help').textContent += ` This is a development server: the code is ${dev}.`;
    $('code').focus();
  } catch (err) {
    showError('register-error', err);
  } finally {
    button.disabled = false;
  }
});

$('verify-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('register-error');
  const code = $('code').value.trim();
  if (!code) { showError('register-error', 'Enter the code we sent you.'); $('code').focus(); return; }
  const button = $('verify');
  button.disabled = true;
  setConn('Registering and making your keys…');
  try {
    const st = await kontor.register(ui.phone, code, $('device-name').value.trim());
    $('register').hidden = true;
    showChat(st);
  } catch (err) {
    setConn('Not registered');
    showError('register-error', err);
    $('code').focus();
  } finally {
    button.disabled = false;
  }
});

$('link-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('register-error');
  const phone = $('link-phone').value.trim();
  const code = $('link-code').value.trim();
  if (!phone) { showError('register-error', 'Enter your phone number, like +4915112345678.'); $('link-phone').focus(); return; }
  if (!code) { showError('register-error', 'Enter the link code from your primary device.'); $('link-code').focus(); return; }
  const button = $('link');
  button.disabled = true;
  setConn('Linking and making this device\'s keys…');
  try {
    showChat(await kontor.link(phone, code, $('device-name').value.trim()));
  } catch (err) {
    setConn('Not registered');
    showError('register-error', err);
  } finally {
    button.disabled = false;
  }
});

$('other-number').addEventListener('click', () => {
  $('verify-form').hidden = true;
  $('code-form').hidden = false;
  $('code').value = '';
  showError('register-error');
  $('phone').focus();
});

// The chat.

function showChat(st) {
  ui.me = st.phone;
  $('me').textContent = `${st.phone} · device ${st.device_id}`;
  $('register').hidden = true;
  $('chat').hidden = false;
  setConn('Connecting…');
  redraw();
  $('new-peer').focus();
}

$('new-form').addEventListener('submit', (e) => {
  e.preventDefault();
  showError('new-error');
  const peer = $('new-peer').value.trim().replace(/[\s()-]/g, '');
  if (!/^\+[1-9][0-9]{6,14}$/.test(peer)) {
    showError('new-error', 'Enter a number in international format, like +4915112345678.');
    return;
  }
  if (peer === ui.me) { showError('new-error', 'That is your own number.'); return; }
  $('new-peer').value = '';
  openConversation(peer);
});

function openConversation(peer) {
  ui.peer = peer;
  $('conversation').hidden = false;
  $('chat').classList.add('open');
  $('peer').textContent = peer;
  $('typing').textContent = '';
  $('presence').textContent = '';
  kontor.watch(peer).catch(() => {});
  showError('send-error');
  ui.rendered.clear();
  drawBusiness();
  checkBusiness(peer);
  loadCart(peer);
  redraw();
  $('text').focus();
}

$('back').addEventListener('click', closeConversation);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && ui.peer && !document.querySelector('dialog[open]')) closeConversation();
});

function closeConversation() {
  const peer = ui.peer;
  ui.peer = null;
  $('conversation').hidden = true;
  $('chat').classList.remove('open');
  redraw();
  const b = document.querySelector(`.conversations button[data-peer="${CSS.escape(peer || '')}"]`);
  (b || $('new-peer')).focus();
}

$('compose').addEventListener('submit', (e) => {
  e.preventDefault();
  send();
});

$('text').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { // Shift+Enter starts a new line
    e.preventDefault();
    send();
  }
});

$('text').addEventListener('input', () => {
  const peer = ui.peer;
  if (!peer) return;
  const now = Date.now();
  if (now - ui.typingSent > 3000) {
    ui.typingSent = now;
    kontor.typing(peer, true).catch(() => {});
  }
  clearTimeout(ui.typingTimer);
  ui.typingTimer = setTimeout(() => { ui.typingSent = 0; kontor.typing(peer, false).catch(() => {}); }, 4000);
});

async function send() {
  const text = $('text').value;
  showError('send-error');
  if (!text.trim() || !ui.peer) return;
  try {
    await kontor.send(ui.peer, text);
    $('text').value = '';
    clearTimeout(ui.typingTimer);
    if (ui.typingSent) { ui.typingSent = 0; kontor.typing(ui.peer, false).catch(() => {}); }
  } catch (err) {
    showError('send-error', err);
  }
  redraw();
}

$('safety').addEventListener('click', async () => {
  $('safety-number').textContent = 'Working it out…';
  $('safety-state').textContent = '';
  $('verify-number').hidden = true;
  $('safety-dialog').showModal();
  try {
    const r = await kontor.safetyNumber(ui.peer);
    $('safety-number').textContent = r.number;
    $('safety-state').textContent = r.verified ? 'You verified this number.' : 'Not verified yet.';
    $('verify-number').hidden = r.verified;
  } catch (err) {
    $('safety-number').textContent = err.message;
  }
});

$('verify-number').addEventListener('click', async () => {
  try {
    await kontor.verify(ui.peer, $('safety-number').textContent);
    $('safety-state').textContent = 'You verified this number.';
    $('verify-number').hidden = true;
  } catch (err) {
    $('safety-state').textContent = err.message;
  }
});

$('forget').addEventListener('click', async () => {
  if (!confirm('Sign this browser out and delete its keys and messages? They cannot be brought back; you would register again.')) return;
  try {
    await kontor.forget();
    await forgetMedia();
    location.reload();
  } catch (err) {
    showError('new-error', err);
  }
});

document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') redraw(); });

// Events from the client.

function onEvent(ev) {
  switch (ev.type) {
    case 'state':
      if (ev.connected) setConn('Connected · end-to-end encrypted');
      else if (ev.stopped) setConn('Stopped: ' + ev.error);
      else setConn('Offline, reconnecting…');
      break;
    case 'presence':
      if (ev.phone === ui.peer) {
        $('presence').textContent = ev.online ? 'online'
          : ev.last_seen ? 'last seen ' + new Date(ev.last_seen).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '';
      }
      return;
    case 'typing':
      if (ev.from === ui.peer) $('typing').textContent = ev.on ? 'typing…' : '';
      return;
    case 'notice':
      if (ev.notice.peer === ui.peer) showError('send-error', ev.text);
      break;
    case 'sent':
      if (ev.error && ev.peer === ui.peer) showError('send-error', 'Not sent: ' + ev.error);
      break;
    case 'message':
      if (ev.message.peer === ui.peer && !ev.message.outgoing) {
        $('typing').textContent = '';
        if (ev.message.content && ev.message.content.type === 'business_notice') checkBusiness(ev.message.peer);
      }
      break;
  }
  redraw();
}

// Drawing: from the client's profile each time, coalesced.

function redraw() {
  if (ui.drawing) { ui.again = true; return; }
  ui.drawing = true;
  draw().catch((err) => console.error(err)).finally(() => {
    ui.drawing = false;
    if (ui.again) { ui.again = false; redraw(); }
  });
}

async function draw() {
  if (!ui.me) return;
  ui.convs = await kontor.conversations();
  drawList();
  if (!ui.peer) return;
  const peer = ui.peer;
  const msgs = await kontor.history(peer);
  if (peer !== ui.peer) return;
  drawMessages(msgs);
  if (document.visibilityState === 'visible' && msgs.some((m) => !m.outgoing && m.status === 'received')) {
    await kontor.read(peer);
    ui.convs = await kontor.conversations();
    drawList();
  }
}

function drawList() {
  const ul = $('conversations');
  ul.replaceChildren(...ui.convs.map((c) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.peer = c.peer;
    if (c.peer === ui.peer) b.setAttribute('aria-current', 'true');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = c.peer;
    const biz = ui.biz[c.peer];
    if (biz && biz.business) {
      who.textContent = (biz.name || c.peer) + ' ';
      who.append(el('span', 'badge', '✔ Business'));
    }
    const last = document.createElement('span');
    last.className = 'last';
    last.textContent = (c.last.outgoing ? 'You: ' : '') + (c.last.problem && !c.last.outgoing ? 'message could not be read' : c.last.text);
    b.append(who, last);
    let label = `${biz && biz.business ? (biz.name || c.peer) + ', business' : c.peer}: ${last.textContent}`;
    if (c.unread > 0) {
      const u = document.createElement('span');
      u.className = 'unread';
      u.textContent = c.unread;
      b.append(u);
      label += `, ${c.unread} unread`;
    }
    b.setAttribute('aria-label', label);
    b.addEventListener('click', () => openConversation(c.peer));
    li.append(b);
    return li;
  }));
  $('empty').hidden = ui.convs.length > 0;
}

const tickText = { pending: '○', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };
const tickLabel = { pending: 'waiting to be sent', sent: 'sent', delivered: 'delivered', read: 'read', failed: 'not sent' };
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

// Messages are drawn once and kept while unchanged (so a card number
// being typed, or a decrypted picture, survives the next redraw); only
// the ticks of one's own messages change in place.
function drawMessages(msgs) {
  const ol = $('messages');
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  const keep = new Map();
  const reactions = collectReactions(msgs);
  const items = msgs.filter((m) => m.content && m.content.type !== 'reaction').map((m) => {
    const key = m.ref || String(m.id);
    const sig = (m.id || '') + '|' + (m.problem || '');
    let r = ui.rendered.get(key);
    if (!r || r.sig !== sig) r = { sig, li: drawMessage(m) };
    keep.set(key, r);
    r.li.dataset.status = m.status;
    if (m.id) r.li.dataset.id = m.id;
    const t = r.li.querySelector('.ticks');
    if (t && t.dataset.status !== m.status) setTicks(t, m);
    drawReactions(r.li, m, reactions.get(String(m.id || '')));
    return r.li;
  });
  ui.rendered = keep;
  // Replace only when the order or the set changed.
  const now = [...ol.children];
  if (now.length !== items.length || now.some((li, i) => li !== items[i])) ol.replaceChildren(...items);
  if (atBottom || msgs.length && msgs[msgs.length - 1].outgoing) ol.scrollTop = ol.scrollHeight;
}

function setTicks(t, m) {
  t.dataset.status = m.status;
  t.textContent = tickText[m.status] || '';
  t.setAttribute('aria-label', tickLabel[m.status] || m.status);
  t.title = m.status === 'failed' && m.problem ? m.problem : tickLabel[m.status] || m.status;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawMessage(m) {
  const c = m.content || {};
  const li = el('li', 'msg' + (m.outgoing ? ' out' : ' in') + (m.problem && !m.outgoing ? ' problem' : ''));
  li.dataset.kind = c.type === 'interactive' && c.interactive ? c.interactive.type : c.type;
  if (m.ref) li.dataset.ref = m.ref;
  if (c.type === 'business_notice' && !m.outgoing) {
    li.className = 'note';
    li.append(el('span', 'badge', 'ℹ'), ' ', c.text);
    return li;
  }
  const body = el('div', 'body');
  if (m.problem && !m.outgoing) body.textContent = 'This message could not be read: ' + m.problem;
  else drawContent(body, m);
  const meta = el('div', 'meta');
  const time = el('time');
  time.dateTime = new Date(m.ts).toISOString();
  time.textContent = timeFormat.format(new Date(m.ts));
  meta.append(time);
  if (m.outgoing) {
    const t = el('span', 'ticks');
    t.setAttribute('role', 'img');
    setTicks(t, m);
    meta.append(t);
  }
  if (m.id && !(m.problem && !m.outgoing)) meta.append(reactButton(m));
  li.append(body, meta);
  return li;
}

function drawContent(body, m) {
  const c = m.content;
  const it = c.interactive;
  if (c.media) return drawMedia(body, m);
  if (c.order) return drawOrder(body, m);
  if (it && it.payment) return drawPayment(body, m);
  if (it && it.order_status) return drawOrderStatus(body, it);
  if (it && ['product', 'product_list', 'catalog_message'].includes(it.type)) return drawProducts(body, m);
  if (it && (it.type === 'button' || it.type === 'list')) return drawChoices(body, m);
  if (c.interactive_reply) { body.textContent = '↪ ' + c.interactive_reply.title; return; }
  if (c.location) return drawLocation(body, c.location);
  if (c.contacts) return drawContacts(body, c.contacts);
  if (it && it.type === 'cta_url' && it.link) {
    body.append(el('p', 'text', it.body || ''));
    const a = el('a', 'link', it.link.text);
    a.href = it.link.url;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    body.append(a);
    return;
  }
  body.textContent = m.text;
}

// Money: integers in minor units, written with the currency's digits.
function money(minor, currency) {
  let nf;
  try { nf = new Intl.NumberFormat(undefined, { style: 'currency', currency }); } catch { return `${minor} ${currency} (minor units)`; }
  const d = nf.resolvedOptions().maximumFractionDigits;
  let v = BigInt(minor);
  const neg = v < 0n;
  if (neg) v = -v;
  let s = v.toString();
  if (d > 0) {
    s = s.padStart(d + 1, '0');
    s = s.slice(0, -d) + '.' + s.slice(-d);
  }
  return nf.format((neg ? '-' : '') + s); // a decimal string: exact, never a float
}

// Media: pictures are decrypted and shown, other files are offered as a
// download; both are fetched from the server encrypted and opened here.
function drawMedia(body, m) {
  const md = m.content.media;
  const caption = m.content.text || '';
  const who = m.outgoing ? 'you' : m.from;
  if (m.content.type === 'image' || m.content.type === 'sticker') {
    const fig = el('figure', 'media');
    const img = el('img');
    img.alt = caption ? `Picture from ${who}: ${caption}` : `Picture from ${who}`;
    const state = el('p', 'help', 'Opening the picture…');
    fig.append(img, state);
    if (caption) fig.append(el('figcaption', '', caption));
    body.append(fig);
    fileURL(md).then((url) => { img.src = url; state.remove(); })
      .catch((err) => { img.remove(); state.textContent = 'The picture could not be opened: ' + err.message; });
    return;
  }
  const b = el('button', 'secondary download', `Download ${md.file_name || 'the file'} (${size(md.size)})`);
  b.type = 'button';
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const a = el('a');
      a.href = await fileURL(md);
      a.download = md.file_name || 'file';
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      b.textContent = 'The file could not be fetched: ' + err.message;
    } finally {
      b.disabled = false;
    }
  });
  body.append(b);
  if (caption) body.append(el('p', 'text', caption));
}

async function fileURL(md) {
  if (!ui.files[md.id]) {
    ui.files[md.id] = (async () => {
      let blob = await mediaGet(md.id);
      if (!blob) {
        blob = new Blob([await kontor.media(md)], { type: md.mime_type || 'application/octet-stream' });
        await mediaPut(md.id, blob);
      }
      return URL.createObjectURL(blob);
    })();
    ui.files[md.id].catch(() => { delete ui.files[md.id]; });
  }
  return ui.files[md.id];
}

// The files of messages, once decrypted (or sent) here, are kept in the
// browser's IndexedDB database kontor-media: the server deletes a blob
// once every device it was for has fetched it. A failing cache only costs
// a download.
let mediaConn = null;
function mediaDB() {
  if (!mediaConn) {
    mediaConn = new Promise((resolve, reject) => {
      const r = indexedDB.open('kontor-media', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('files');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    mediaConn.catch(() => { mediaConn = null; });
  }
  return mediaConn;
}

async function mediaGet(id) {
  try {
    const db = await mediaDB();
    return await new Promise((resolve) => {
      const q = db.transaction('files').objectStore('files').get(id);
      q.onsuccess = () => resolve(q.result);
      q.onerror = () => resolve(undefined);
    });
  } catch {
    return undefined;
  }
}

async function mediaPut(id, blob) {
  try {
    const db = await mediaDB();
    await new Promise((resolve) => {
      const tx = db.transaction('files', 'readwrite');
      tx.objectStore('files').put(blob, id);
      tx.oncomplete = tx.onerror = tx.onabort = () => resolve();
    });
  } catch { /* not kept: fetched again while the server has it */ }
}

// forgetMedia deletes the kept files.
async function forgetMedia() {
  if (mediaConn) {
    try { (await mediaConn).close(); } catch { /* never opened */ }
    mediaConn = null;
  }
  await new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase('kontor-media');
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error('another tab of this site keeps the pictures open: close it and sign out again'));
  });
}

function size(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1 << 20) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

// Commerce.

function productByID(peer, rid) {
  const shop = ui.shops[peer];
  return shop && shop.products.find((p) => p.retailer_id === rid);
}

// ownImage returns a product picture's address when it is on this page's
// own origin (a picture the platform keeps, /catalog-images/…), else ''.
// The page never loads anything from another site: that would tell the
// site who looks at the product, and the CSP refuses it anyway.
function ownImage(u) {
  if (!u) return '';
  try {
    const url = new URL(u, location.href);
    return url.origin === location.origin && url.pathname.startsWith('/catalog-images/') ? url.href : '';
  } catch { return ''; }
}

function unitPrice(p) { return p.sale_price > 0 ? p.sale_price : p.price; }

function productCard(peer, p, rid) {
  const card = el('li', 'product');
  if (!p) {
    card.append(el('span', 'name', `Product ${rid}`), el('span', 'help', ui.shops[peer] ? 'not in the catalog any more' : 'in the business\'s catalog'));
    return card;
  }
  card.dataset.retailerId = p.retailer_id;
  const src = ownImage(p.image_url);
  if (src) {
    const img = el('img', 'picture');
    img.alt = p.name;
    img.loading = 'lazy';
    img.src = src;
    card.append(img);
  }
  const name = el('span', 'name', p.name);
  const price = el('span', 'price', money(unitPrice(p), p.currency));
  if (p.sale_price > 0 && p.sale_price < p.price) {
    const was = el('s', 'was', money(p.price, p.currency));
    was.setAttribute('aria-label', 'was ' + money(p.price, p.currency));
    price.append(' ', was);
  }
  card.append(name, price);
  if (p.description) card.append(el('span', 'desc', p.description));
  const out = p.availability && p.availability !== 'in stock';
  if (out) card.append(el('span', 'help', p.availability));
  const shop = ui.shops[peer];
  if (shop && shop.cart_enabled) {
    const b = el('button', 'add', 'Add to cart');
    b.type = 'button';
    b.setAttribute('aria-label', `Add ${p.name} to the cart`);
    b.disabled = out;
    b.addEventListener('click', () => { addToCart(peer, p.retailer_id, 1); b.textContent = 'Added'; setTimeout(() => { b.textContent = 'Add to cart'; }, 1500); });
    card.append(b);
  }
  return card;
}

function drawProducts(body, m) {
  const it = m.content.interactive;
  if (it.header && it.header.text) body.append(el('p', 'title', it.header.text));
  if (it.body) body.append(el('p', 'text', it.body));
  const ids = [];
  if (it.retailer_id && it.type !== 'catalog_message') ids.push(it.retailer_id);
  for (const sec of it.sections || []) for (const id of sec.products || []) ids.push(id);
  const list = el('ul', 'products inline');
  list.setAttribute('aria-label', 'Products in this message');
  body.append(list);
  const fill = () => list.replaceChildren(...ids.map((id) => productCard(m.peer, productByID(m.peer, id), id)));
  if (ids.length) {
    fill();
    if (!ui.shops[m.peer]) loadShop(m.peer).then(fill).catch(() => {});
  }
  if (it.type === 'catalog_message' || it.type === 'product_list') {
    const b = el('button', 'secondary', 'View the catalog');
    b.type = 'button';
    b.addEventListener('click', () => openShop(m.peer));
    body.append(b);
  }
  if (it.footer) body.append(el('p', 'help', it.footer));
}

function drawChoices(body, m) {
  const it = m.content.interactive;
  if (it.header && it.header.text) body.append(el('p', 'title', it.header.text));
  body.append(el('p', 'text', it.body || ''));
  const box = el('div', 'choices');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', it.type === 'list' ? (it.list_button || 'Choices') : 'Answers');
  const choices = it.type === 'button'
    ? (it.buttons || []).map((b) => ({ kind: 'button_reply', id: b.id, title: b.title }))
    : (it.sections || []).flatMap((s) => (s.rows || []).map((r) => ({ kind: 'list_reply', id: r.id, title: r.title, description: r.description })));
  for (const ch of choices) {
    const b = el('button', 'secondary', ch.title);
    b.type = 'button';
    if (ch.description) b.title = ch.description;
    b.addEventListener('click', async () => {
      try { await kontor.reply(m.peer, m.id ? String(m.id) : '', ch.kind, ch.id, ch.title); } catch (err) { showError('send-error', err); }
      redraw();
    });
    box.append(b);
  }
  body.append(box);
  if (it.footer) body.append(el('p', 'help', it.footer));
}

function drawOrder(body, m) {
  const o = m.content.order;
  body.append(el('p', 'title', m.outgoing ? 'Your order' : 'Order'));
  const list = el('ul', 'lines');
  const totals = {};
  for (const li of o.items) {
    const p = productByID(m.peer, li.retailer_id);
    list.append(el('li', '', `${li.quantity} × ${p ? p.name : li.retailer_id} · ${money(BigInt(li.price) * BigInt(li.quantity), li.currency)}`));
    totals[li.currency] = (totals[li.currency] || 0n) + BigInt(li.price) * BigInt(li.quantity);
  }
  body.append(list, el('p', 'total', 'Total ' + Object.entries(totals).map(([cur, v]) => money(v, cur)).join(' + ')));
  if (o.order_id) {
    const id = el('p', 'help', `Order ${o.order_id}`);
    id.dataset.orderId = o.order_id;
    body.append(id);
  }
  if (m.content.text) body.append(el('p', 'text', m.content.text));
}

function drawPayment(body, m) {
  const it = m.content.interactive;
  const p = it.payment;
  body.append(el('p', 'title', (it.header && it.header.text ? it.header.text : 'Payment request')));
  if (it.body) body.append(el('p', 'text', it.body));
  const table = el('table', 'bill');
  const row = (what, amount, cls) => {
    const tr = el('tr', cls || '');
    tr.append(el('th', '', what), el('td', '', amount));
    table.append(tr);
  };
  for (const li of p.items) row(`${li.quantity} × ${li.name}`, money(BigInt(li.price) * BigInt(li.quantity), p.currency));
  row('Subtotal', money(p.subtotal, p.currency), 'sub');
  if (p.tax) row('Tax' + (p.tax.description ? ` (${p.tax.description})` : ''), money(p.tax.amount, p.currency));
  if (p.shipping) row('Shipping' + (p.shipping.description ? ` (${p.shipping.description})` : ''), money(p.shipping.amount, p.currency));
  if (p.discount) row('Discount' + (p.discount.description ? ` (${p.discount.description})` : ''), '−' + money(p.discount.amount, p.currency));
  row('Total', money(p.total, p.currency), 'grand');
  body.append(table);
  if (p.expires_text || p.expires) body.append(el('p', 'help', 'Pay by ' + (p.expires_text || new Date(p.expires).toLocaleString())));
  const outcome = el('p', 'pay-outcome');
  outcome.setAttribute('role', 'status');
  if (!p.order_id) {
    body.append(el('p', 'help', `The business's own reference ${p.reference_id}: kontor knows no order of yours behind it, so it cannot be paid here.`));
    return;
  }
  const form = el('form', 'pay-form');
  form.noValidate = true;
  const id = 'card-' + (m.id || m.ref);
  const label = el('label', '', 'Card number');
  label.htmlFor = id;
  const input = el('input');
  Object.assign(input, { id, name: 'card', type: 'text', inputMode: 'numeric', autocomplete: 'cc-number', placeholder: '4242 4242 4242 4242' });
  input.setAttribute('aria-describedby', id + '-help');
  const help = el('p', 'help', 'The sandbox takes its test cards: 4242 4242 4242 4242 is paid, 4000 0000 0000 0002 is declined, 4000 0000 0000 1000 is pending for a few seconds.');
  help.id = id + '-help';
  const pay = el('button', '', 'Pay ' + money(p.total, p.currency));
  pay.type = 'submit';
  form.append(label, input, help, pay);
  const show = (o) => {
    outcome.dataset.status = o.status;
    const amount = money(o.amount, o.currency);
    switch (o.status) {
      case 'succeeded': outcome.textContent = `✓ Paid ${amount} with ${o.card}. The order is ${o.order_status || 'paid'}.`; form.hidden = true; break;
      case 'pending':
        outcome.textContent = `The payment of ${amount} with ${o.card} is pending: the provider is still deciding. This page asks again every few seconds.`;
        pollPayment(p.order_id, show);
        break;
      case 'declined': case 'canceled':
        outcome.textContent = `Not paid: ${o.status}${o.reason ? ' (' + o.reason.replace(/_/g, ' ') + ')' : ''} with ${o.card}. Nothing was taken; try another card.`; break;
      default: outcome.textContent = `The payment is ${o.status}.`;
    }
  };
  if (ui.paid[p.order_id]) show(ui.paid[p.order_id]);
  else {
    // Paid before (in another tab, a reload ago)? The server says.
    kontor.payment(p.order_id).then((o) => { if (!ui.paid[p.order_id]) { ui.paid[p.order_id] = o; show(o); } }).catch(() => {});
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const card = input.value.replace(/[\s-]/g, '');
    if (!/^[0-9]{12,19}$/.test(card) && !/^pm_/.test(card)) { outcome.dataset.status = 'invalid'; outcome.textContent = 'Enter the card number: 12 to 19 digits.'; input.focus(); return; }
    pay.disabled = true;
    outcome.dataset.status = 'working';
    outcome.textContent = 'Paying…';
    try {
      const o = await kontor.pay(p.order_id, card);
      ui.paid[p.order_id] = o;
      show(o);
    } catch (err) {
      outcome.dataset.status = 'error';
      outcome.textContent = 'Not paid: ' + err.message;
    } finally {
      pay.disabled = false;
    }
  });
  body.append(form, outcome);
}

const orderWords = { pending: 'pending', processing: 'being prepared', partially_shipped: 'partly shipped', shipped: 'shipped',
  completed: 'completed', canceled: 'canceled', captured: 'paid', failed: 'failed' };

function drawOrderStatus(body, it) {
  const s = it.order_status;
  const ref = s.order_id ? `Your order ${s.order_id}` : `Order ${s.reference_id}`;
  body.append(el('p', 'title order-status', `${ref} is ${orderWords[s.status] || s.status}`));
  if (s.description) body.append(el('p', 'text', s.description));
  if (it.body) body.append(el('p', 'text', it.body));
}

// The business: badge, hosted notice, catalog and cart.

async function checkBusiness(peer) {
  try {
    ui.biz[peer] = await kontor.business(peer);
  } catch {
    return; // offline: the next open asks again
  }
  if (ui.biz[peer].catalog && !ui.shops[peer]) loadShop(peer).then(() => { ui.rendered.clear(); redraw(); }).catch(() => {});
  drawBusiness();
  drawList();
}

function drawBusiness() {
  const peer = ui.peer;
  const b = peer && ui.biz[peer];
  $('badge').hidden = !(b && b.business);
  if (b && b.business) {
    $('badge').textContent = '✔ Business' + (b.name ? ' · ' + b.name : '');
    $('badge').title = 'kontor knows this number as a business' + (b.name ? ' named ' + b.name : '');
  }
  $('peer').textContent = b && b.business && b.name ? `${b.name} (${peer})` : peer || '';
  $('open-catalog').hidden = !(b && b.catalog);
  drawCartButton();
  $('hosted').hidden = !(b && b.hosted);
  // The notice in full is in the conversation (once) and in Info; the
  // header keeps saying it in short.
  $('hosted').textContent = b && b.hosted ? `ℹ ${b.operator || 'The operator of this platform'} can read this chat: its service manages it for the business (Info).` : '';
}

function drawCartButton() {
  const peer = ui.peer;
  const b = peer && ui.biz[peer];
  const n = Object.values(ui.carts[peer] || {}).reduce((a, q) => a + q, 0);
  $('open-cart').hidden = !(b && b.cart_enabled);
  $('open-cart').textContent = n ? `Cart (${n})` : 'Cart';
  $('open-cart').setAttribute('aria-label', n ? `Cart, ${n} item${n === 1 ? '' : 's'}` : 'Cart, empty');
}

async function loadShop(peer) {
  ui.shops[peer] = await kontor.catalog(peer);
  return ui.shops[peer];
}

function addToCart(peer, rid, n) {
  const cart = ui.carts[peer] || (ui.carts[peer] = {});
  cart[rid] = (cart[rid] || 0) + n;
  if (cart[rid] <= 0) delete cart[rid];
  saveCart(peer);
  drawCartButton();
  if ($('shop-dialog').open) drawCart(peer);
}

async function openShop(peer, focusCart) {
  $('shop-title').textContent = 'Catalog of ' + ((ui.biz[peer] && ui.biz[peer].name) || peer);
  $('products').replaceChildren();
  showError('order-error');
  $('shop-state').textContent = 'Loading the catalog…';
  if (!$('shop-dialog').open) $('shop-dialog').showModal();
  try {
    const shop = await loadShop(peer);
    $('shop-state').textContent = `${shop.products.length} product${shop.products.length === 1 ? '' : 's'}` +
      (shop.cart_enabled ? '' : ' · this business takes no orders in the chat');
    $('products').replaceChildren(...shop.products.map((p) => productCard(peer, p)));
    $('cart').hidden = !shop.cart_enabled;
    $('order-note').value = ui.notes[peer] || '';
    drawCart(peer);
    const first = focusCart ? $('cart-items').querySelector('input') || $('send-order') : $('products').querySelector('button');
    if (first) first.focus();
  } catch (err) {
    $('shop-state').textContent = err.message;
  }
}

function drawCart(peer) {
  const cart = ui.carts[peer] || {};
  const ids = Object.keys(cart).sort();
  const totals = {};
  $('cart-items').replaceChildren(...ids.map((rid) => {
    const p = productByID(peer, rid);
    const li = el('li', 'cart-item');
    li.dataset.retailerId = rid;
    const name = p ? p.name : rid;
    const id = 'qty-' + rid.replace(/[^A-Za-z0-9_-]/g, '_');
    const label = el('label', '', name);
    label.htmlFor = id;
    const q = el('input');
    Object.assign(q, { id, type: 'number', min: '1', max: '999', step: '1', value: String(cart[rid]), inputMode: 'numeric' });
    q.setAttribute('value', String(cart[rid]));
    q.setAttribute('aria-label', `Quantity of ${name}`);
    q.addEventListener('change', () => {
      const v = Math.floor(Number(q.value));
      if (v >= 1) cart[rid] = Math.min(v, 999); else delete cart[rid];
      saveCart(peer);
      drawCartButton();
      drawCart(peer);
    });
    const line = el('span', 'price');
    if (p) {
      const v = BigInt(unitPrice(p)) * BigInt(cart[rid]);
      totals[p.currency] = (totals[p.currency] || 0n) + v;
      line.textContent = money(v, p.currency);
    }
    const rm = el('button', 'secondary', 'Remove');
    rm.type = 'button';
    rm.setAttribute('aria-label', `Remove ${name} from the cart`);
    rm.addEventListener('click', () => { delete cart[rid]; saveCart(peer); drawCartButton(); drawCart(peer); $('send-order').focus(); });
    li.append(label, q, line, rm);
    return li;
  }));
  $('cart-empty').hidden = ids.length > 0;
  $('order-form').hidden = ids.length === 0;
  const t = Object.entries(totals).map(([cur, v]) => money(v, cur)).join(' + ');
  $('cart-total').textContent = ids.length ? 'Total ' + t : '';
}

$('order-note').addEventListener('change', () => {
  if (!ui.peer) return;
  ui.notes[ui.peer] = $('order-note').value;
  saveCart(ui.peer);
});

$('open-catalog').addEventListener('click', () => openShop(ui.peer));
$('open-cart').addEventListener('click', () => openShop(ui.peer, true));

$('order-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const peer = ui.peer;
  showError('order-error');
  const button = $('send-order');
  button.disabled = true;
  try {
    const r = await kontor.order(peer, ui.carts[peer] || {}, $('order-note').value);
    if (r.placed.status !== 'placed') {
      showError('order-error', 'Not ordered: ' + (r.placed.short || []).map((s) => {
        const p = productByID(peer, s.retailer_id);
        return `${p ? p.name : s.retailer_id}: ${s.available} left, you wanted ${s.wanted}`;
      }).join('; '));
      return;
    }
    ui.carts[peer] = {};
    ui.notes[peer] = '';
    $('order-note').value = '';
    saveCart(peer);
    drawCartButton();
    $('shop-dialog').close();
    $('text').focus();
  } catch (err) {
    showError('order-error', err);
  } finally {
    button.disabled = false;
  }
  redraw();
});

$('info').addEventListener('click', () => {
  const peer = ui.peer;
  const b = ui.biz[peer] || {};
  $('info-who').textContent = b.business ? `${b.name || peer} · ${peer}` : peer;
  $('info-business').textContent = b.business
    ? '✔ Business: kontor knows this number as a business' + (b.name ? ` named ${b.name}` : '') + (b.catalog ? ', with a catalog you can order from.' : '.')
    : 'A person: kontor knows no business with this number.';
  $('info-hosted').hidden = !b.hosted;
  $('info-hosted').textContent = b.hosted ? 'ℹ ' + b.notice : '';
  $('info-e2e').textContent = b.hosted
    ? 'Messages are encrypted between this browser and the business\'s service; that service, run by the platform\'s operator, can read them.'
    : 'Messages are end-to-end encrypted: compare the safety number to be sure.';
  $('info-dialog').showModal();
});

// Sending pictures and files.

$('attach').addEventListener('click', () => $('file').click());

$('file').addEventListener('change', async () => {
  const f = $('file').files[0];
  $('file').value = '';
  if (!f || !ui.peer) return;
  showError('send-error');
  const caption = $('text').value.trim();
  $('attach').disabled = true;
  $('send-error').textContent = `Encrypting and sending ${f.name}…`;
  try {
    const bytes = new Uint8Array(await f.arrayBuffer());
    const m = await kontor.attach(ui.peer, f.name, f.type, caption, bytes);
    showError('send-error');
    ui.files[m.content.media.id] = Promise.resolve(URL.createObjectURL(f)); // shown from here, not fetched back
    mediaPut(m.content.media.id, f);
    if (caption) $('text').value = '';
  } catch (err) {
    showError('send-error', 'Not sent: ' + err.message);
  } finally {
    $('attach').disabled = false;
  }
  redraw();
});

// The cart of each business is kept in the profile (IndexedDB), so a
// reload keeps it; signing out deletes it with the rest.
async function loadCart(peer) {
  if (ui.carts[peer]) return;
  try {
    const c = await kontor.cart(peer);
    if (ui.carts[peer]) return; // changed meanwhile: this page's is newer
    ui.carts[peer] = c.items || {};
    ui.notes[peer] = c.note || '';
  } catch {
    return; // not kept: the cart lives in this page until the next change
  }
  if (peer === ui.peer) {
    drawCartButton();
    if ($('shop-dialog').open) { $('order-note').value = ui.notes[peer]; drawCart(peer); }
  }
}

// Saves go one after the other (each writes the whole cart), so the last
// change is the one kept; ui.saving is the promise of the last.
function saveCart(peer) {
  ui.saving = ui.saving.then(() => kontor.saveCart(peer, ui.carts[peer] || {}, ui.notes[peer] || ''))
    .catch((err) => showError('order-error', 'The cart could not be kept in this browser: ' + err.message));
}

// A pending payment is asked after (GET /v1/orders/{id}/payment) every
// few seconds until the provider decided, for up to 10 minutes.
function pollPayment(order, show) {
  const poll = ui.polls[order] || (ui.polls[order] = { shows: new Set(), timer: 0, until: Date.now() + 10 * 60 * 1000 });
  poll.shows.add(show);
  if (poll.timer) return;
  const tick = async () => {
    let o;
    try {
      o = await kontor.payment(order);
    } catch { /* offline for a moment: ask again */ }
    if (o) ui.paid[order] = o;
    if (o && o.status !== 'pending') {
      delete ui.polls[order];
      for (const f of poll.shows) f(o);
      return;
    }
    if (Date.now() > poll.until) {
      delete ui.polls[order];
      return;
    }
    poll.timer = setTimeout(tick, 2000);
  };
  poll.timer = setTimeout(tick, 1500);
}

// Reactions: the last one of each side on a message, drawn under it.
const reactionChoices = [['👍', 'thumbs up'], ['❤️', 'heart'], ['😂', 'laughing'], ['😮', 'surprised'], ['😢', 'sad'], ['🙏', 'thank you']];

function collectReactions(msgs) {
  const by = new Map(); // message id → Map(who → emoji)
  for (const m of msgs) {
    const r = m.content && m.content.type === 'reaction' && m.content.reaction;
    if (!r || !r.message_id || (m.problem && !m.outgoing)) continue;
    const who = m.outgoing ? 'you' : m.from;
    const on = by.get(r.message_id) || new Map();
    if (r.emoji) on.set(who, r.emoji); else on.delete(who);
    by.set(r.message_id, on);
  }
  return by;
}

function drawReactions(li, m, on) {
  const list = [...(on || new Map()).entries()];
  const sig = list.map(([w, e]) => w + ':' + e).join(',');
  let box = li.querySelector('.reactions');
  if ((box ? box.dataset.sig : '') === sig) return;
  if (!list.length) { if (box) box.remove(); return; }
  if (!box) {
    box = el('p', 'reactions');
    li.querySelector('.meta').before(box);
  }
  box.dataset.sig = sig;
  box.replaceChildren(...list.map(([who, emoji]) => {
    const s = el('span', 'reaction', emoji);
    s.setAttribute('role', 'img');
    s.setAttribute('aria-label', `${who === 'you' ? 'You' : who} reacted ${emoji}`);
    s.title = `${who === 'you' ? 'You' : who}: ${emoji}`;
    s.dataset.who = who;
    return s;
  }));
}

// The picker: a small group of labelled buttons under the message; Escape
// closes it and gives the focus back to its React button.
function reactButton(m) {
  const b = el('button', 'react', '☺');
  b.type = 'button';
  b.setAttribute('aria-label', 'React to this message');
  b.setAttribute('aria-haspopup', 'true');
  b.setAttribute('aria-expanded', 'false');
  b.title = 'React';
  b.addEventListener('click', () => togglePicker(b, m));
  return b;
}

function togglePicker(button, m) {
  const li = button.closest('li');
  const open = li.querySelector('.picker');
  document.querySelectorAll('.picker').forEach((p) => p.remove());
  document.querySelectorAll('button.react[aria-expanded="true"]').forEach((x) => x.setAttribute('aria-expanded', 'false'));
  if (open) { button.focus(); return; }
  const box = el('div', 'picker');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', 'Choose a reaction');
  const close = () => { box.remove(); button.setAttribute('aria-expanded', 'false'); button.focus(); };
  const choose = async (emoji) => {
    close();
    try { await kontor.react(m.peer, String(m.id), emoji); } catch (err) { showError('send-error', 'Not sent: ' + err.message); }
    redraw();
  };
  for (const [emoji, name] of reactionChoices) {
    const x = el('button', 'secondary', emoji);
    x.type = 'button';
    x.setAttribute('aria-label', `React with ${name}`);
    x.title = name;
    x.addEventListener('click', () => choose(emoji));
    box.append(x);
  }
  const mine = li.querySelector('.reaction[data-who="you"]');
  if (mine) {
    const x = el('button', 'secondary', 'Remove mine');
    x.type = 'button';
    x.setAttribute('aria-label', 'Remove my reaction');
    x.addEventListener('click', () => choose(''));
    box.append(x);
  }
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const bs = [...box.querySelectorAll('button')];
      const i = bs.indexOf(document.activeElement);
      bs[(i + (e.key === 'ArrowRight' ? 1 : bs.length - 1)) % bs.length].focus();
      e.preventDefault();
    }
  });
  li.querySelector('.meta').after(box);
  button.setAttribute('aria-expanded', 'true');
  box.querySelector('button').focus();
}

// Places and contacts, written out.
function drawLocation(body, loc) {
  body.append(el('p', 'title', loc.name || 'Location'));
  if (loc.address) body.append(el('p', 'text', loc.address));
  const lat = Number(loc.latitude).toFixed(5), lon = Number(loc.longitude).toFixed(5);
  const coords = el('p', 'help coords', `${lat}, ${lon}`);
  coords.setAttribute('aria-label', `latitude ${lat}, longitude ${lon}`);
  body.append(coords);
  // A geo: link opens the device's own map app; the page names no map site.
  const a = el('a', 'link', 'Open in a map app');
  a.href = `geo:${lat},${lon}` + (loc.name ? '?q=' + encodeURIComponent(`${lat},${lon}(${loc.name})`) : '');
  a.setAttribute('aria-label', `Open ${loc.name || 'the place'} in a map app`);
  body.append(a);
}

function drawContacts(body, contacts) {
  const list = el('ul', 'contacts');
  list.setAttribute('aria-label', contacts.length === 1 ? 'Shared contact' : `${contacts.length} shared contacts`);
  for (const c of contacts) {
    const card = el('li', 'contact');
    card.append(el('p', 'title', c.name));
    if (c.org && (c.org.company || c.org.title)) card.append(el('p', 'help', [c.org.title, c.org.department, c.org.company].filter(Boolean).join(', ')));
    const dl = el('dl');
    const row = (k, v) => { dl.append(el('dt', '', k), el('dd', '', v)); };
    for (const ph of c.phones || []) row(ph.type ? `Phone (${ph.type.toLowerCase()})` : 'Phone', ph.phone);
    for (const e of c.emails || []) row('Email', e);
    for (const u of c.urls || []) row('Web', u);
    for (const ad of c.addresses || []) row(ad.type ? `Address (${ad.type.toLowerCase()})` : 'Address', [ad.street, [ad.zip, ad.city].filter(Boolean).join(' '), ad.state, ad.country].filter(Boolean).join(', '));
    if (c.birthday) row('Birthday', c.birthday);
    if (dl.children.length) card.append(dl);
    for (const ph of c.phones || []) {
      if (!ph.wa_id) continue;
      const peer = '+' + ph.wa_id.replace(/^\+/, '');
      if (peer === ui.me) continue;
      const b = el('button', 'secondary', `Chat with ${c.name}`);
      b.type = 'button';
      b.setAttribute('aria-label', `Chat with ${c.name} at ${peer}`);
      b.addEventListener('click', () => openConversation(peer));
      card.append(b);
      break;
    }
    list.append(card);
  }
  body.append(list);
}

// Linking another device: the primary device gives a link code.
$('devices').addEventListener('click', () => {
  $('link-code-shown').textContent = '';
  $('link-code-help').textContent = 'A link code lets another browser or a kontor client become one more device of your account, for 10 minutes.';
  showError('link-code-error');
  $('devices-dialog').showModal();
  $('get-link-code').focus();
});

$('get-link-code').addEventListener('click', async () => {
  showError('link-code-error');
  $('get-link-code').disabled = true;
  try {
    const r = await kontor.linkCode();
    $('link-code-shown').textContent = r.code;
    const until = new Date(Date.now() + r.expires_in * 1000);
    $('link-code-help').textContent = `On the new device choose "Link this browser" (or run kontor client link --server ${location.origin} --phone ${r.phone} --code ${r.code} --profile DIR) with ${r.phone} and this code before ${timeFormat.format(until)}.`;
  } catch (err) {
    showError('link-code-error', err);
  } finally {
    $('get-link-code').disabled = false;
  }
});

load().catch((err) => console.error(err));
