// Block Kit to HTML for the demo page: messages, modals and the Home tab, drawn from the blocks the
// bot really sent. Every piece of text goes through escapeHtml (text from a message never becomes
// markup); links keep only http(s) and mailto URLs. Blocks and elements not drawn here show as a
// visible placeholder naming them. Pure functions of their input, so they run in node for tests.
// References: https://docs.slack.dev/reference/block-kit/blocks and .../block-elements,
// https://docs.slack.dev/messaging/formatting-message-text (mrkdwn).

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

// Slack escapes &, < and > in message text; the reader sees the characters themselves.
function unescapeSlack(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function safeUrl(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : undefined;
}

// Bold, italics and strikethrough on text already escaped: the markers are plain characters,
// and what they wrap is escaped text, so no markup can come from the message.
function emphasis(escaped) {
  const edge = '(^|[\\s(>\\[{"\'])';
  const end = '(?=$|[\\s.,!?;:)\\]}"\'<])';
  return escaped
    .replace(new RegExp(`${edge}\\*([^*\\n]+?)\\*${end}`, 'g'), '$1<b>$2</b>')
    .replace(new RegExp(`${edge}_([^_\\n]+?)_${end}`, 'g'), '$1<i>$2</i>')
    .replace(new RegExp(`${edge}~([^~\\n]+?)~${end}`, 'g'), '$1<s>$2</s>');
}

function plainRun(text) {
  return emphasis(escapeHtml(unescapeSlack(text)));
}

function angle(inner, ctx) {
  const [target, label] = splitOnce(inner, '|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(ctx.users?.[id] ?? label ?? id)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return `<span class="mention channel">#${escapeHtml(label ?? ctx.channels?.[id] ?? id)}</span>`;
  }
  if (target.startsWith('!subteam^')) return `<span class="mention">${escapeHtml(label ?? `@${target.slice(9)}`)}</span>`;
  if (target.startsWith('!')) return `<span class="mention">@${escapeHtml(target.slice(1).split('^')[0])}</span>`;
  const url = safeUrl(unescapeSlack(target));
  const shown = escapeHtml(unescapeSlack(label ?? target));
  if (!url) return `<span class="link">${shown}</span>`;
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${shown}</a>`;
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** Slack's mrkdwn as HTML: *bold*, _italics_, ~strike~, `code`, ```blocks```, > quotes, links and mentions. */
export function mrkdwn(text, ctx = {}) {
  // Code, links and mentions are drawn first and stand in the text as numbered marks, so that
  // *bold* around them still works; marks typed in the text itself are dropped.
  const source = String(text ?? '').replace(/[\uE000\uE001]/g, '');
  const token = /```([\s\S]*?)```|`([^`\n]+)`|<([^<>\n]+)>/g;
  const parts = [];
  const marked = source.replace(token, (_, pre, code, inner) => {
    if (pre !== undefined) parts.push(`<pre>${escapeHtml(unescapeSlack(pre.replace(/^\n/, '').replace(/\n$/, '')))}</pre>`);
    else if (code !== undefined) parts.push(`<code>${escapeHtml(unescapeSlack(code))}</code>`);
    else parts.push(angle(inner, ctx));
    return `\uE000${parts.length - 1}\uE001`;
  });
  // Quotes: lines starting with ">" (escaped by then as &gt;).
  return plainRun(marked)
    .split('\n')
    .map((line) => (line.startsWith('&gt;') ? `<span class="quote">${line.slice(4).replace(/^ /, '')}</span>` : line))
    .join('<br>')
    .replace(/\uE000(\d+)\uE001/g, (_, i) => parts[Number(i)]);
}

/** A text object: mrkdwn or plain_text (plain text is only escaped; emoji codes stay as typed). */
export function textObject(object, ctx = {}) {
  if (!object || typeof object !== 'object') return '';
  return object.type === 'mrkdwn' ? mrkdwn(object.text, ctx) : escapeHtml(object.text);
}

export function unsupported(kind, name) {
  return `<div class="unsupported" data-unsupported="${escapeHtml(name)}">Unsupported ${kind}: <code>${escapeHtml(name)}</code></div>`;
}

function attrs(map) {
  return Object.entries(map)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join('');
}

function imageSrc(element) {
  if (element.slack_file?.id) return `/files/${encodeURIComponent(element.slack_file.id)}`;
  return safeUrl(String(element.image_url ?? element.slack_file?.url ?? ''));
}

function optionsOf(element) {
  const groups = (element.option_groups ?? []).map((g) => ({ label: g.label, options: g.options ?? [] }));
  return { flat: [...(element.options ?? []), ...groups.flatMap((g) => g.options)], groups };
}

function optionTags(options, selected) {
  return options
    .map((o) => `<option${attrs({ value: o.value })}${selected.includes(o.value) ? ' selected' : ''}>${escapeHtml(o.text?.text)}</option>`)
    .join('');
}

/** An interactive or display element (button, select, input, image…). */
export function element(el, ctx = {}, blockId = '') {
  const data = { 'data-action-id': el.action_id, 'data-block-id': blockId, 'data-type': el.type };
  switch (el.type) {
    case 'button': {
      const url = el.url ? safeUrl(el.url) : undefined;
      const cls = `btn${el.style === 'primary' ? ' primary' : el.style === 'danger' ? ' danger' : ''}`;
      return `<button${attrs({ class: cls, ...data, 'data-url': url, 'data-value': el.value })}>${textObject(el.text, ctx)}</button>`;
    }
    case 'image': {
      const src = imageSrc(el);
      return src ? `<img${attrs({ class: 'inline-image', src, alt: el.alt_text ?? '' })}>` : unsupported('image source', 'image');
    }
    case 'static_select':
    case 'overflow': {
      const { flat, groups } = optionsOf(el);
      const selected = el.initial_option ? [el.initial_option.value] : [];
      const placeholder = el.type === 'overflow' ? '⋯' : (el.placeholder?.text ?? 'Select an option');
      const body =
        groups.length > 0
          ? groups.map((g) => `<optgroup${attrs({ label: g.label?.text })}>${optionTags(g.options, selected)}</optgroup>`).join('')
          : optionTags(flat, selected);
      return `<select${attrs({ class: 'select', ...data })}><option value="">${escapeHtml(placeholder)}</option>${body}</select>`;
    }
    case 'multi_static_select': {
      const selected = (el.initial_options ?? []).map((o) => o.value);
      return `<select multiple${attrs({ class: 'select', ...data })}>${optionTags(optionsOf(el).flat, selected)}</select>`;
    }
    case 'datepicker':
      return `<input type="date"${attrs({ class: 'text-input', ...data, value: el.initial_date })}>`;
    case 'timepicker':
      return `<input type="time"${attrs({ class: 'text-input', ...data, value: el.initial_time })}>`;
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input': {
      const common = attrs({ class: 'text-input', ...data, placeholder: el.placeholder?.text, maxlength: el.max_length, 'data-min-length': el.min_length });
      if (el.multiline) return `<textarea rows="4"${common}>${escapeHtml(el.initial_value ?? '')}</textarea>`;
      const type = { email_text_input: 'email', url_text_input: 'url', number_input: 'number' }[el.type] ?? 'text';
      return `<input type="${type}"${common}${attrs({ value: el.initial_value })}>`;
    }
    case 'checkboxes':
    case 'radio_buttons': {
      const kind = el.type === 'checkboxes' ? 'checkbox' : 'radio';
      const chosen = (el.type === 'checkboxes' ? (el.initial_options ?? []) : el.initial_option ? [el.initial_option] : []).map((o) => o.value);
      const name = `${blockId}:${el.action_id}`;
      const items = (el.options ?? []).map((o) => {
        const description = o.description ? `<div class="hint">${textObject(o.description, ctx)}</div>` : '';
        return `<label class="choice"><input type="${kind}"${attrs({ name, value: o.value })}${chosen.includes(o.value) ? ' checked' : ''}> <span>${textObject(o.text, ctx)}${description}</span></label>`;
      });
      return `<div${attrs({ class: 'choices', ...data })}>${items.join('')}</div>`;
    }
    default:
      return unsupported('element', String(el.type));
  }
}

function section(block, ctx) {
  const text = block.text ? `<div class="mrkdwn">${textObject(block.text, ctx)}</div>` : '';
  const fields = block.fields?.length ? `<div class="fields">${block.fields.map((f) => `<div class="field">${textObject(f, ctx)}</div>`).join('')}</div>` : '';
  const accessory = block.accessory ? `<div class="accessory">${element(block.accessory, ctx, block.block_id)}</div>` : '';
  return `<div class="block section"><div class="section-body">${text}${fields}</div>${accessory}</div>`;
}

function input(block, ctx) {
  const id = block.block_id ?? '';
  const optional = block.optional ? ' <span class="optional">(optional)</span>' : '';
  const hint = block.hint ? `<div class="hint">${textObject(block.hint, ctx)}</div>` : '';
  const error = ctx.errors?.[id];
  return (
    `<div${attrs({ class: `block input${error ? ' has-error' : ''}`, 'data-input-block': id, 'data-optional': block.optional ? 'true' : 'false' })}>` +
    `<label class="label">${textObject(block.label, ctx)}${optional}</label>${element(block.element ?? {}, ctx, id)}${hint}` +
    `<div class="field-error" role="alert">${error ? escapeHtml(error) : ''}</div></div>`
  );
}

/** One block as HTML. `ctx`: users and channels by id (for mentions) and field errors by block id. */
export function block(b, ctx = {}) {
  switch (b?.type) {
    case 'section':
      return section(b, ctx);
    case 'header':
      return `<div class="block header">${textObject(b.text, ctx)}</div>`;
    case 'divider':
      return '<hr class="block divider">';
    case 'context':
      return `<div class="block context">${(b.elements ?? []).map((e) => (e.type === 'image' ? element(e, ctx) : `<span>${textObject(e, ctx)}</span>`)).join('')}</div>`;
    case 'actions':
      return `<div class="block actions">${(b.elements ?? []).map((e) => element(e, ctx, b.block_id)).join('')}</div>`;
    case 'image': {
      const src = imageSrc(b);
      const title = b.title ? `<div class="image-title">${textObject(b.title, ctx)}</div>` : '';
      return `<div class="block image">${title}${src ? `<img${attrs({ src, alt: b.alt_text ?? '' })}>` : unsupported('image source', 'image')}</div>`;
    }
    case 'input':
      return input(b, ctx);
    default:
      return unsupported('block', String(b?.type));
  }
}

export function renderBlocks(blocks, ctx = {}) {
  return (blocks ?? []).map((b) => block(b, ctx)).join('');
}
