// The demo page's Block Kit renderer, against the examples on Slack's Block Kit reference pages
// (docs.slack.dev/reference/block-kit/blocks/*, .../block-elements/*) and its mrkdwn formatting
// page (docs.slack.dev/messaging/formatting-message-text): what each one shows, and that text
// from a message never becomes markup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { block, element, escapeHtml, mrkdwn, renderBlocks } from '../../src/playground/web/blockkit.js';

const ctx = { users: { U0123ABC456: 'dana' }, channels: { C0123ABC456: 'general' } };

test('section (documented example): mrkdwn bold and italics', () => {
  const html = block({ type: 'section', text: { type: 'mrkdwn', text: 'A message *with some bold text* and _some italicized text_.' } });
  assert.match(html, /A message <b>with some bold text<\/b> and <i>some italicized text<\/i>\./);
});

test('section with fields (documented example): each field is shown, plain_text as typed', () => {
  const html = block({
    type: 'section',
    text: { text: 'A message *with some bold text* and _some italicized text_.', type: 'mrkdwn' },
    fields: [
      { type: 'mrkdwn', text: 'High' },
      { type: 'plain_text', emoji: true, text: '*String*' },
    ],
  });
  assert.match(html, /<div class="field">High<\/div>/);
  assert.match(html, /<div class="field">\*String\*<\/div>/, 'plain_text is not formatted');
});

test('section with a button accessory (documented example)', () => {
  const html = block({
    type: 'section',
    block_id: 'section567',
    text: { type: 'mrkdwn', text: 'This is a section block with a button.' },
    accessory: { type: 'button', text: { type: 'plain_text', text: 'Click Me' }, value: 'click_me_123', action_id: 'button-action' },
  });
  assert.match(
    html,
    /<button class="btn" data-action-id="button-action" data-block-id="section567" data-type="button" data-value="click_me_123">Click Me<\/button>/,
  );
});

test('header and divider (documented examples)', () => {
  assert.equal(block({ type: 'header', text: { type: 'plain_text', text: 'Budget Performance' } }), '<div class="block header">Budget Performance</div>');
  assert.equal(block({ type: 'divider' }), '<hr class="block divider">');
});

test('context with an image and mrkdwn (documented example)', () => {
  const html = block({
    type: 'context',
    elements: [
      { type: 'image', image_url: 'https://image.freepik.com/free-photo/red-drawing-pin_1156-445.jpg', alt_text: 'images' },
      { type: 'mrkdwn', text: 'Location: *Dogpatch*' },
    ],
  });
  assert.match(html, /<img class="inline-image" src="https:\/\/image\.freepik\.com\/free-photo\/red-drawing-pin_1156-445\.jpg" alt="images">/);
  assert.match(html, /Location: <b>Dogpatch<\/b>/);
});

test('actions with a static select and buttons with styles (documented examples)', () => {
  const html = block({
    type: 'actions',
    block_id: 'actions1',
    elements: [
      {
        type: 'static_select',
        placeholder: { type: 'plain_text', text: 'Which witch is the witchiest witch?' },
        action_id: 'select_2',
        options: [
          { text: { type: 'plain_text', text: 'Matilda' }, value: 'matilda' },
          { text: { type: 'plain_text', text: 'Glinda' }, value: 'glinda' },
        ],
      },
      { type: 'button', text: { type: 'plain_text', text: 'Save' }, style: 'primary', value: 'click_me_123', action_id: 'button' },
      { type: 'button', text: { type: 'plain_text', text: 'Delete' }, style: 'danger', value: 'delete', action_id: 'delete' },
    ],
  });
  assert.match(
    html,
    /<option value="">Which witch is the witchiest witch\?<\/option><option value="matilda">Matilda<\/option><option value="glinda">Glinda<\/option>/,
  );
  assert.match(html, /<button class="btn primary"[^>]*>Save<\/button>/);
  assert.match(html, /<button class="btn danger"[^>]*>Delete<\/button>/);
});

test('image block (documented example) with its title', () => {
  const html = block({
    type: 'image',
    title: { type: 'plain_text', text: 'Please enjoy this photo of a kitten' },
    block_id: 'image4',
    image_url: 'http://placekitten.com/500/500',
    alt_text: 'An incredibly cute kitten.',
  });
  assert.match(
    html,
    /<div class="image-title">Please enjoy this photo of a kitten<\/div><img src="http:\/\/placekitten\.com\/500\/500" alt="An incredibly cute kitten\.">/,
  );
});

test('image from an uploaded file (slack_file) is served by the demo', () => {
  assert.match(block({ type: 'image', slack_file: { id: 'F0123' }, alt_text: 'chart' }), /src="\/files\/F0123"/);
});

test('input blocks: plain_text_input single and multiline, static_select, datepicker, checkboxes (documented examples)', () => {
  const single = block({
    type: 'input',
    block_id: 'b1',
    element: { type: 'plain_text_input', action_id: 'a' },
    label: { type: 'plain_text', text: 'Label', emoji: true },
  });
  assert.match(
    single,
    /<label class="label">Label<\/label><input type="text" class="text-input" data-action-id="a" data-block-id="b1" data-type="plain_text_input">/,
  );
  const multi = block({
    type: 'input',
    block_id: 'b2',
    optional: true,
    element: { type: 'plain_text_input', multiline: true, action_id: 'a', initial_value: 'x < y' },
    label: { type: 'plain_text', text: 'Why' },
  });
  assert.match(multi, /<textarea rows="4"[^>]*>x &lt; y<\/textarea>/);
  assert.match(multi, /\(optional\)/);
  const date = element({
    type: 'datepicker',
    action_id: 'datepicker123',
    initial_date: '1990-04-28',
    placeholder: { type: 'plain_text', text: 'Select a date' },
  });
  assert.match(date, /<input type="date" class="text-input" data-action-id="datepicker123" data-block-id="" data-type="datepicker" value="1990-04-28">/);
  const boxes = element(
    {
      type: 'checkboxes',
      action_id: 'this_is_an_action_id',
      initial_options: [{ text: { type: 'mrkdwn', text: '*this is mrkdwn text*' }, value: 'value-0' }],
      options: [
        { text: { type: 'mrkdwn', text: '*this is mrkdwn text*' }, description: { type: 'mrkdwn', text: '*this is mrkdwn text*' }, value: 'value-0' },
        { text: { type: 'plain_text', text: 'plain' }, value: 'value-1' },
      ],
    },
    {},
    'b3',
  );
  assert.match(
    boxes,
    /<input type="checkbox" name="b3:this_is_an_action_id" value="value-0" checked> <span><b>this is mrkdwn text<\/b><div class="hint"><b>this is mrkdwn text<\/b><\/div><\/span>/,
  );
  assert.match(boxes, /value="value-1"> <span>plain<\/span>/);
});

test('a field error from response_action errors shows under its input', () => {
  const html = block(
    { type: 'input', block_id: 'ns_name', element: { type: 'plain_text_input', action_id: 'v' }, label: { type: 'plain_text', text: 'Name' } },
    { errors: { ns_name: 'Use <lowercase> & digits' } },
  );
  assert.match(html, /class="block input has-error"/);
  assert.match(html, /<div class="field-error" role="alert">Use &lt;lowercase&gt; &amp; digits<\/div>/);
});

test('mrkdwn (formatting page): code, preformatted, strike, quotes, links and mentions', () => {
  assert.equal(mrkdwn('`code` and ```pre *not bold*```'), '<code>code</code> and <pre>pre *not bold*</pre>');
  assert.equal(mrkdwn('~strike~'), '<s>strike</s>');
  assert.equal(mrkdwn('> quoted'), '<span class="quote">quoted</span>');
  assert.equal(
    mrkdwn('<http://www.example.com|This message *is* a link>'),
    '<a href="http://www.example.com" target="_blank" rel="noopener noreferrer">This message *is* a link</a>',
  );
  assert.equal(
    mrkdwn('Hey <@U0123ABC456>, see <#C0123ABC456>', ctx),
    'Hey <span class="mention">@dana</span>, see <span class="mention channel">#general</span>',
  );
  assert.equal(mrkdwn('<!here> <!subteam^S0123|@platform>'), '<span class="mention">@here</span> <span class="mention">@platform</span>');
  assert.equal(mrkdwn('a\nb'), 'a<br>b');
  assert.equal(mrkdwn('*`payments-dev`* · Dev'), '<b><code>payments-dev</code></b> · Dev', 'bold around code');
  assert.equal(mrkdwn('```\nline 1\nline 2\n```'), '<pre>line 1\nline 2</pre>', 'the newlines after and before the fence are not shown');
});

test('Slack escapes (&amp; &lt; &gt;) read as the characters, and are escaped again for HTML', () => {
  assert.equal(mrkdwn('1 &lt; 2 &amp;&amp; 3 &gt; 2'), '1 &lt; 2 &amp;&amp; 3 &gt; 2');
  assert.equal(mrkdwn('a &lt;b&gt;bold?&lt;/b&gt;'), 'a &lt;b&gt;bold?&lt;/b&gt;');
});

test('text from a message never becomes HTML', () => {
  const hostile = '<img src=x onerror=alert(1)>"\'&<script>alert(1)</script>';
  const html = renderBlocks(
    [
      { type: 'section', text: { type: 'plain_text', text: hostile }, fields: [{ type: 'mrkdwn', text: hostile }] },
      { type: 'header', text: { type: 'plain_text', text: hostile } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `*${hostile}*` }] },
      {
        type: 'actions',
        block_id: hostile,
        elements: [{ type: 'button', action_id: hostile, value: hostile, text: { type: 'plain_text', text: hostile } }],
      },
      { type: 'image', image_url: 'javascript:alert(1)', alt_text: hostile },
      { type: hostile },
    ],
    ctx,
  );
  assert.doesNotMatch(html, /<script|<img src=x|javascript:/i);
  assert.doesNotMatch(html, /[^&]"[^ >=]*onerror/);
  // Links keep only http(s) and mailto: another scheme shows as text.
  assert.equal(mrkdwn('<javascript:alert(1)|click>'), '<span class="link">click</span>');
  assert.equal(
    mrkdwn('<https://x.test/"onmouseover="alert(1)|x>'),
    '<a href="https://x.test/&quot;onmouseover=&quot;alert(1)" target="_blank" rel="noopener noreferrer">x</a>',
  );
  assert.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
  // The renderer's own marks for code and links, typed into a message, are dropped, not resolved.
  assert.equal(mrkdwn('`a` \uE0000\uE001'), '<code>a</code> 0');
});

test('unsupported blocks and elements show a placeholder naming them', () => {
  const html = renderBlocks([
    { type: 'rich_text', elements: [] },
    { type: 'actions', elements: [{ type: 'workflow_button', action_id: 'w' }] },
  ]);
  assert.match(html, /Unsupported block: <code>rich_text<\/code>/);
  assert.match(html, /Unsupported element: <code>workflow_button<\/code>/);
});
