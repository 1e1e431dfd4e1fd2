// The demo page: polls what the current person sees (/api/state) and draws it with blockkit.js;
// clicks, selects, the message box and modal submissions go to the page's server, which sends
// them to the bot as Slack would. Nothing here invents a message: all of it comes from the state.
import { escapeHtml, mrkdwn, renderBlocks } from './blockkit.js';

const ui = {
  as: new URLSearchParams(location.search).get('as') || '',
  channel: '',
  tab: 'messages',
  thread: null,
  errors: {},
  modalKey: '',
  last: {},
};
let state = null;
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const res = await fetch(path, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : undefined);
  const json = await res.json();
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

function notice(text) {
  const el = $('notice');
  el.textContent = text;
  el.hidden = !text;
}

function ctx(extra = {}) {
  return { users: state?.users ?? {}, channels: state?.channelNames ?? {}, ...extra };
}

function time(ts) {
  return new Date(Number(ts) * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone: state.timeZone });
}

function day(ts) {
  return new Date(Number(ts) * 1000).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', timeZone: state.timeZone });
}

function who(message) {
  if (message.isBot) return '<span class="name">Slipway</span><span class="app-badge">APP</span>';
  return `<span class="name">${escapeHtml(state.users[message.user] ?? message.user)}</span>`;
}

const replyCount = (n) => `${n} ${n === 1 ? 'reply' : 'replies'}`;

function messageHtml(m, where, options = {}) {
  const body = m.blocks?.length ? renderBlocks(m.blocks, ctx()) : `<div class="mrkdwn">${mrkdwn(m.text, ctx())}</div>`;
  const files = (m.files ?? [])
    .map((f) => `<figure class="file"><img src="${escapeHtml(f.url)}" alt="${escapeHtml(f.title)}"><figcaption>${escapeHtml(f.title)}</figcaption></figure>`)
    .join('');
  // A message in a channel without replies yet gets Slack's "Reply in thread" (shown on hover):
  // the bot asks people to reply in threads (feedback, request cards).
  const replies =
    options.inThread || options.ephemeral
      ? ''
      : m.replies?.length
        ? `<button class="replies" data-open-thread="${escapeHtml(m.ts)}">${replyCount(m.replies.length)}</button>`
        : options.canReply
          ? `<button class="replies reply-start" data-open-thread="${escapeHtml(m.ts)}">Reply in thread</button>`
          : '';
  const ephemeral = options.ephemeral ? '<div class="ephemeral-note">Only visible to you</div>' : '';
  const initial = m.isBot ? 'S' : (state.users[m.user] ?? '?').slice(0, 1).toUpperCase();
  return (
    `<div class="message${options.ephemeral ? ' ephemeral' : ''}" data-channel="${escapeHtml(where)}" data-ts="${escapeHtml(m.ts)}"${options.ephemeral ? ' data-ephemeral="true"' : ''}>` +
    `<div class="avatar${m.isBot ? ' bot' : ''}">${escapeHtml(initial)}</div><div class="message-main">${ephemeral}` +
    `<div class="meta">${who(m)}<span class="time" title="${escapeHtml(day(m.ts))}">${escapeHtml(time(m.ts))}</span>${m.edited ? '<span class="edited">(edited)</span>' : ''}</div>` +
    `<div class="content">${body}${files}</div>${replies}</div></div>`
  );
}

function ephemeralAsMessage(e) {
  return { ts: e.ts, isBot: true, text: e.text, blocks: e.blocks, files: [], replies: [] };
}

// The DM is the person's own DM with Slipway, whoever is playing (each person's has its own id).
const DM = '@dm';

function conversation() {
  return state.conversations.find((c) => (ui.channel === DM ? c.kind === 'dm' : c.id === ui.channel)) ?? state.conversations[0];
}

function setHtml(id, html, keepBottom) {
  if (ui.last[id] === html) return;
  const el = $(id);
  const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  el.innerHTML = html;
  ui.last[id] = html;
  if (keepBottom && atBottom) el.scrollTop = el.scrollHeight;
}

function drawSidebar() {
  const item = (c) =>
    `<li><button class="${c.id === conversation().id ? 'current' : ''}" data-channel-id="${escapeHtml(c.kind === 'dm' ? DM : c.id)}">${c.kind === 'dm' ? '<span class="dot"></span>' : '# '}${escapeHtml(c.name)}</button></li>`;
  const channels = state.conversations.filter((c) => c.kind === 'channel');
  const dms = state.conversations.filter((c) => c.kind === 'dm');
  setHtml('sidebar', `<h3>Channels</h3><ul>${channels.map(item).join('')}</ul><h3>Direct messages</h3><ul>${dms.map(item).join('')}</ul>`);
}

function drawMain() {
  const c = conversation();
  const tabs =
    c.kind === 'dm'
      ? `<nav class="tabs"><button data-tab="messages" class="${ui.tab === 'messages' ? 'current' : ''}">Messages</button><button data-tab="home" class="${ui.tab === 'home' ? 'current' : ''}">Home</button></nav>`
      : '';
  setHtml('channel-header', `<h2>${c.kind === 'dm' ? 'Slipway' : `# ${escapeHtml(c.name)}`}</h2>${tabs}`);
  const showHome = c.kind === 'dm' && ui.tab === 'home';
  $('composer').hidden = showHome;
  if (showHome) {
    const home = state.home;
    setHtml(
      'messages',
      home
        ? `<div class="home" data-view-id="${escapeHtml(home.id)}">${renderBlocks(home.blocks, ctx())}</div>`
        : '<p class="empty">Slipway has not published a Home tab for you yet.</p>',
    );
    return;
  }
  const items = [
    ...c.messages.map((m) => ({ ts: m.ts, html: messageHtml(m, c.id, { canReply: c.kind === 'channel' }) })),
    ...state.ephemerals
      .filter((e) => e.channel === c.id && !e.threadTs)
      .map((e) => ({ ts: e.ts, html: messageHtml(ephemeralAsMessage(e), c.id, { ephemeral: true }) })),
  ].sort((a, b) => Number(a.ts) - Number(b.ts));
  setHtml('messages', items.map((i) => i.html).join('') || '<p class="empty">No messages yet.</p>', true);
  $('message-box').placeholder = c.kind === 'dm' ? 'Message Slipway' : `Message #${c.name}`;
}

function drawThread() {
  const pane = $('thread');
  const parent = ui.thread && conversation().messages.find((m) => m.ts === ui.thread);
  pane.hidden = !parent;
  if (!parent) return;
  const c = conversation();
  const ephemerals = state.ephemerals
    .filter((e) => e.channel === c.id && e.threadTs === parent.ts)
    .map((e) => messageHtml(ephemeralAsMessage(e), c.id, { ephemeral: true, inThread: true }));
  setHtml(
    'thread-messages',
    [
      messageHtml(parent, c.id, { inThread: true }),
      `<div class="thread-count">${replyCount(parent.replies.length)}</div>`,
      ...parent.replies.map((r) => messageHtml(r, c.id, { inThread: true })),
      ...ephemerals,
    ].join(''),
    true,
  );
}

function drawModal() {
  const top = state.modals.at(-1);
  const overlay = $('modal');
  if (!top) {
    overlay.hidden = true;
    ui.modalKey = '';
    return;
  }
  const key = `${top.id}:${top.hash}:${JSON.stringify(ui.errors)}`;
  overlay.hidden = false;
  if (key === ui.modalKey) return;
  // views.update keeps what the person entered in blocks that are still there, as Slack's client does.
  const previous = document.querySelector('.modal');
  const kept = previous?.dataset.viewId === top.id ? answers(previous) : {};
  ui.modalKey = key;
  const title = top.title ? escapeHtml(top.title.text) : '';
  const submit = top.submit ? `<button class="btn primary" id="modal-submit">${escapeHtml(top.submit.text)}</button>` : '';
  const close = `<button class="btn" id="modal-cancel">${escapeHtml(top.close?.text ?? 'Cancel')}</button>`;
  overlay.innerHTML =
    `<div class="modal" role="dialog" aria-label="${title}" data-view-id="${escapeHtml(top.id)}">` +
    `<header><h2>${title}</h2><button class="close" id="modal-x" aria-label="Close">×</button></header>` +
    `<div class="modal-body">${renderBlocks(top.blocks, ctx({ errors: ui.errors }))}</div>` +
    `<footer>${close}${submit}</footer></div>`;
  for (const [blockId, value] of Object.entries(kept)) restore(overlay.querySelector(`[data-input-block="${CSS.escape(blockId)}"] [data-action-id]`), value);
}

function restore(el, value) {
  if (!el || value === null) return;
  if (el.classList.contains('choices')) {
    const chosen = [value].flat();
    for (const input of el.querySelectorAll('input')) input.checked = chosen.includes(input.value);
  } else if (el.tagName === 'SELECT' && el.multiple) {
    for (const option of el.options) option.selected = value.includes(option.value);
  } else {
    el.value = value;
  }
}

async function drawCluster() {
  // Each look at the cluster lists its objects through the Kubernetes API: every 2 s is enough.
  if (Date.now() - (ui.clusterAt ?? 0) < 2000) return;
  ui.clusterAt = Date.now();
  const { source, clusters } = await api('/api/cluster');
  const html = clusters
    .map((c) => {
      const namespaces = c.namespaces
        .map(
          (ns) =>
            `<details class="namespace"><summary>${escapeHtml(ns.name)} <span class="phase">${escapeHtml(ns.phase)}</span></summary>` +
            ns.objects
              .map((o) => `<details class="object"><summary>${escapeHtml(o.kind)} ${escapeHtml(o.name)}</summary><pre>${escapeHtml(o.yaml)}</pre></details>`)
              .join('') +
            '</details>',
        )
        .join('');
      const error = c.error ? `<p class="error">${escapeHtml(c.error)}</p>` : '';
      return `<section class="cluster" data-cluster="${escapeHtml(c.cluster)}"><h4>${escapeHtml(c.cluster)}</h4>${error}${namespaces || '<p class="empty">No namespaces from Slipway yet.</p>'}</section>`;
    })
    .join('');
  // Keep open <details> open across redraws: only redraw when the content changed.
  setHtml('cluster-body', `<p class="source">${source === 'embedded' ? 'Embedded cluster (Kubernetes API emulator)' : 'Your cluster (kubeconfig)'}</p>${html}`);
}

function drawClock() {
  $('clock-now').textContent =
    `${new Date(state.now).toLocaleString([], { timeZone: state.timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })}${state.offsetDays ? ` (+${state.offsetDays} d)` : ''}`;
  if (!$('jobs').childElementCount) {
    for (const name of state.jobs) {
      const b = document.createElement('button');
      b.className = 'btn small';
      b.dataset.job = name;
      b.textContent = `Run ${name}`;
      $('jobs').append(b);
    }
  }
}

function drawPeople() {
  const select = $('person');
  if (!select.childElementCount) {
    for (const p of state.people) {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = `${p.name} (${p.role})`;
      select.append(option);
    }
  }
  select.value = ui.as;
}

async function refresh() {
  if (!ui.as) {
    const first = await api('/api/state');
    ui.as = first.people[0].id;
    ui.channel = first.startChannel;
  }
  state = await api(`/api/state?as=${encodeURIComponent(ui.as)}`);
  if (!ui.channel) ui.channel = state.startChannel;
  // Who the page shows now, for tests and screenshots to wait on after switching person.
  document.body.dataset.as = state.me;
  drawPeople();
  drawSidebar();
  drawMain();
  drawThread();
  drawModal();
  drawClock();
  await drawCluster();
}

let refreshing = false;
let again = false;
async function tick() {
  // A refresh asked for during another one runs right after it, with the newest choices.
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    do {
      again = false;
      await refresh();
    } while (again);
  } catch (err) {
    notice(`Could not reach the demo: ${err.message}`);
  } finally {
    refreshing = false;
  }
}

async function run(action) {
  try {
    notice('');
    await action();
  } catch (err) {
    notice(err.message);
  }
  await tick();
}

/** Where an element sits: its message (channel, ts, ephemeral) or its view. */
function whereOf(el) {
  const view = el.closest('[data-view-id]');
  if (view) return { viewId: view.dataset.viewId };
  const message = el.closest('.message');
  return { channel: message.dataset.channel, ts: message.dataset.ts, ephemeral: message.dataset.ephemeral === 'true' };
}

function valueOf(el) {
  if (el.tagName === 'SELECT' && el.multiple) return [...el.selectedOptions].map((o) => o.value);
  if (el.tagName === 'SELECT') return el.value || null;
  if (el.classList.contains('choices')) {
    const checked = [...el.querySelectorAll('input:checked')].map((i) => i.value);
    return el.dataset.type === 'checkboxes' ? checked : (checked[0] ?? null);
  }
  return el.value === '' ? null : el.value;
}

function answers(modal) {
  const out = {};
  for (const block of modal.querySelectorAll('[data-input-block]')) {
    const field = block.querySelector('[data-action-id]');
    if (field) out[block.dataset.inputBlock] = valueOf(field);
  }
  return out;
}

async function submitModal() {
  const modal = document.querySelector('.modal');
  const collected = answers(modal);
  // Slack's client refuses to send a form with an empty required field.
  const missing = {};
  for (const block of modal.querySelectorAll('[data-input-block]')) {
    const value = collected[block.dataset.inputBlock];
    const minLength = Number(block.querySelector('[data-min-length]')?.dataset.minLength ?? 0);
    if (block.dataset.optional !== 'true' && (value === null || (Array.isArray(value) && value.length === 0)))
      missing[block.dataset.inputBlock] = 'Please complete this required field.';
    else if (typeof value === 'string' && [...value].length < minLength) missing[block.dataset.inputBlock] = `Please enter at least ${minLength} characters.`;
  }
  if (Object.keys(missing).length) {
    ui.errors = missing;
    ui.modalKey = '';
    drawModal();
    return;
  }
  const { errors } = await api('/api/submit', { as: ui.as, viewId: modal.dataset.viewId, answers: collected });
  ui.errors = errors ?? {};
  ui.modalKey = '';
}

document.addEventListener('click', (event) => {
  const t = event.target.closest('button, [data-channel-id]');
  if (!t) return;
  if (t.dataset.channelId) {
    ui.channel = t.dataset.channelId;
    ui.thread = null;
    notice('');
    ui.tab = 'messages';
    return void tick();
  }
  if (t.dataset.tab) {
    ui.tab = t.dataset.tab;
    return void run(() => api('/api/tab', { as: ui.as, tab: ui.tab }));
  }
  if (t.dataset.openThread) {
    ui.thread = t.dataset.openThread;
    return void tick();
  }
  if (t.id === 'thread-close') {
    ui.thread = null;
    return void tick();
  }
  if (t.id === 'modal-submit') return void run(submitModal);
  if (t.id === 'modal-cancel' || t.id === 'modal-x') {
    const viewId = document.querySelector('.modal').dataset.viewId;
    ui.errors = {};
    return void run(() => api('/api/close', { as: ui.as, viewId }));
  }
  if (t.dataset.job) return void run(async () => notice(`${t.dataset.job}: ${(await api('/api/job', { name: t.dataset.job })).summary}`));
  if (t.dataset.days) return void run(() => api('/api/clock', { days: Number(t.dataset.days) }));
  if (t.dataset.type === 'button' && t.dataset.actionId) {
    if (t.dataset.url) window.open(t.dataset.url, '_blank', 'noopener');
    return void run(() => api('/api/act', { as: ui.as, ...whereOf(t), actionId: t.dataset.actionId, blockId: t.dataset.blockId }));
  }
});

document.addEventListener('change', (event) => {
  const t = event.target.closest('[data-action-id]');
  if (t && t.id === 'person') return;
  // Inputs of an input block are read at submission; other elements (a select in a message, in
  // an actions block of a modal) send their choice at once, as block_actions.
  if (!t || t.closest('[data-input-block]')) return;
  const value = valueOf(t);
  run(() => api('/api/act', { as: ui.as, ...whereOf(t), actionId: t.dataset.actionId, blockId: t.dataset.blockId, value }));
});

$('person').addEventListener('change', (event) => {
  ui.as = event.target.value;
  ui.errors = {};
  ui.modalKey = '';
  history.replaceState(null, '', `?as=${encodeURIComponent(ui.as)}`);
  tick();
});

function composer(form, box, threadOf) {
  const send = () => {
    const text = box.value;
    box.value = '';
    run(() => api('/api/type', { as: ui.as, channel: conversation().id, text, threadTs: threadOf() }));
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  });
}
composer($('composer'), $('message-box'), () => undefined);
composer($('thread-composer'), $('thread-box'), () => ui.thread);

tick();
setInterval(tick, 800);
