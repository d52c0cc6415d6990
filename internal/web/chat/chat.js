// The web chat's page. The device itself (registration, end-to-end
// encryption, the profile in IndexedDB) is the Go client SDK compiled to
// WebAssembly: kontor.wasm, reached through globalThis.kontor once it ran
// (docs/web.md). This file only draws.
'use strict';

const $ = (id) => document.getElementById(id);
const ui = { me: null, peer: null, convs: [], drawing: false, again: false, typingTimer: 0, typingSent: 0 };

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
  redraw();
  $('text').focus();
}

$('back').addEventListener('click', closeConversation);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && ui.peer && !$('safety-dialog').open) closeConversation();
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
      if (ev.message.peer === ui.peer && !ev.message.outgoing) $('typing').textContent = '';
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
    const last = document.createElement('span');
    last.className = 'last';
    last.textContent = (c.last.outgoing ? 'You: ' : '') + (c.last.problem && !c.last.outgoing ? 'message could not be read' : c.last.text);
    b.append(who, last);
    let label = `${c.peer}: ${last.textContent}`;
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

function drawMessages(msgs) {
  const ol = $('messages');
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  ol.replaceChildren(...msgs.map((m) => {
    const li = document.createElement('li');
    li.className = 'msg' + (m.outgoing ? ' out' : ' in') + (m.problem && !m.outgoing ? ' problem' : '');
    if (m.id) li.dataset.id = m.id;
    if (m.ref) li.dataset.ref = m.ref;
    li.dataset.status = m.status;
    const body = document.createElement('div');
    body.className = 'body';
    body.textContent = m.problem && !m.outgoing ? 'This message could not be read: ' + m.problem : m.text;
    const meta = document.createElement('div');
    meta.className = 'meta';
    const time = document.createElement('time');
    time.dateTime = new Date(m.ts).toISOString();
    time.textContent = timeFormat.format(new Date(m.ts));
    meta.append(time);
    if (m.outgoing) {
      const t = document.createElement('span');
      t.className = 'ticks';
      t.dataset.status = m.status;
      t.textContent = tickText[m.status] || '';
      t.setAttribute('role', 'img');
      t.setAttribute('aria-label', tickLabel[m.status] || m.status);
      t.title = m.status === 'failed' && m.problem ? m.problem : tickLabel[m.status] || m.status;
      meta.append(t);
    }
    li.append(body, meta);
    return li;
  }));
  if (atBottom || msgs.length && msgs[msgs.length - 1].outgoing) ol.scrollTop = ol.scrollHeight;
}

load().catch((err) => console.error(err));
