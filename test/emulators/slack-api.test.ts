import assert from 'node:assert/strict';
import { Server } from 'node:http';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { App, LogLevel, webApi } from '@slack/bolt';
import type { BlockButtonAction, Logger, types } from '@slack/bolt';
import { sendBlockAction, sendSlashCommand, sendViewSubmission, signRequest, valuesFor } from '../../src/playground/slack-requests.ts';
import { WebSocket } from 'ws';
import { waitFor } from '../support/wait.ts';
import { DEFAULT_BOT_SCOPES, SlackApiEmulator } from '../../src/playground/slack-api.ts';
import type { EmulatedView, JsonObject, SlackApiEmulatorOptions } from '../../src/playground/slack-api.ts';

const { WebClient, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIHTTPError } = webApi;
type Client = webApi.WebClient;

const CHANNELS = [
  { id: 'C0PLATFORM', name: 'platform', members: ['U0BOT', 'U0ALICE', 'U0BOB'] },
  { id: 'C0RANDOM', name: 'random', members: ['U0ALICE'] },
  { id: 'G0SECRET', name: 'secret', members: ['U0ALICE'], isPrivate: true },
];
const USERS = [
  { id: 'U0ALICE', name: 'alice', realName: 'Alice Doe', tz: 'Europe/Paris' },
  { id: 'U0BOB', name: 'bob' },
];
const USER_GROUPS = [{ id: 'S0ADMINS', handle: 'platform-admins', users: ['U0ALICE'] }];

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

async function startEmulator(t: TestContext, options: SlackApiEmulatorOptions = {}): Promise<SlackApiEmulator> {
  const emulator = await SlackApiEmulator.start({ channels: CHANNELS, users: USERS, userGroups: USER_GROUPS, ...options });
  t.after(() => emulator.close());
  return emulator;
}

function clientFor(emulator: SlackApiEmulator, options: webApi.WebClientOptions = {}, token: string | null = emulator.token): Client {
  return new WebClient(token ?? undefined, { slackApiUrl: emulator.url, retryConfig: { retries: 0 }, logger: silentLogger, ...options });
}

/** Awaits a call that must fail with a Slack platform error, and returns the error body. */
async function platformError(call: Promise<unknown>): Promise<JsonObject> {
  try {
    await call;
  } catch (error) {
    if (error instanceof WebAPIPlatformError) return { ...error.data };
    throw error;
  }
  return assert.fail('expected a Slack platform error');
}

function messagesOf(body: JsonObject): unknown {
  const metadata = body.response_metadata;
  return typeof metadata === 'object' && metadata !== null && 'messages' in metadata ? metadata.messages : undefined;
}

const section = (text: string): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text });

/** Calls a method with arguments the typed client would not accept (deliberately invalid ones). */
function rawCall(client: Client, method: string, args: JsonObject): Promise<unknown> {
  return client.apiCall(method, args);
}

function modal(overrides: Partial<types.ModalView> = {}): types.ModalView {
  return {
    type: 'modal',
    callback_id: 'new_namespace',
    title: plain('New namespace'),
    submit: plain('Request'),
    private_metadata: 'C0PLATFORM',
    blocks: [
      { type: 'input', block_id: 'name', label: plain('Name'), element: { type: 'plain_text_input', action_id: 'value', min_length: 3, max_length: 30 } },
      {
        type: 'input',
        block_id: 'env',
        label: plain('Environment'),
        element: {
          type: 'static_select',
          action_id: 'value',
          options: [
            { text: plain('Staging'), value: 'staging' },
            { text: plain('Production'), value: 'production' },
          ],
        },
      },
      { type: 'input', block_id: 'expiry', optional: true, label: plain('Expires on'), element: { type: 'datepicker', action_id: 'value' } },
      section('Quotas follow the tier you pick.'),
    ],
    ...overrides,
  };
}

// ---------------------------------------------------------------- auth

test('a call without a token is not_authed and a wrong token is invalid_auth, both with HTTP 200', async (t) => {
  const emulator = await startEmulator(t);
  assert.equal((await platformError(clientFor(emulator, {}, null).auth.test())).error, 'not_authed');
  assert.equal((await platformError(clientFor(emulator, {}, 'xoxb-wrong').auth.test())).error, 'invalid_auth');

  const response = await fetch(`${emulator.url}auth.test`, { method: 'POST' });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: false, error: 'not_authed' });
});

test('auth.test identifies the bot and the x-oauth-scopes header lists the token scopes', async (t) => {
  const emulator = await startEmulator(t);
  const result = await clientFor(emulator).auth.test();
  assert.equal(result.user_id, 'U0BOT');
  assert.equal(result.bot_id, 'B0BOT');
  assert.equal(result.team_id, 'T0TEAM');
  assert.deepEqual(result.response_metadata?.scopes, [...DEFAULT_BOT_SCOPES]);
});

test('the token is read from a form field, but not from a JSON body', async (t) => {
  const emulator = await startEmulator(t);
  const form = await fetch(`${emulator.url}auth.test`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${emulator.token}`,
  });
  assert.equal(((await form.json()) as JsonObject).ok, true);

  const json = await fetch(`${emulator.url}auth.test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: emulator.token }),
  });
  assert.deepEqual(await json.json(), { ok: false, error: 'not_authed' });
});

test('an unknown method answers unknown_method and is flagged', async (t) => {
  const emulator = await startEmulator(t);
  assert.equal((await platformError(clientFor(emulator).apiCall('chat.nonsense'))).error, 'unknown_method');
  assert.match(emulator.warnings.join('\n'), /chat\.nonsense/);
  assert.equal(emulator.callsTo('chat.nonsense').length, 1);
});

test('a method needing a scope the token lacks answers missing_scope', async (t) => {
  const emulator = await startEmulator(t, { scopes: ['chat:write'] });
  const body = await platformError(clientFor(emulator).users.info({ user: 'U0ALICE' }));
  assert.equal(body.error, 'missing_scope');
  assert.equal(body.needed, 'users:read');
  assert.equal(body.provided, 'chat:write');
});

// ---------------------------------------------------------------- messages

test('a posted message shows its current text and blocks after chat.update', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const posted = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'Request pending', blocks: [section('*Pending*')] });
  assert.equal(posted.channel, 'C0PLATFORM');
  assert.equal(posted.message?.bot_id, 'B0BOT');
  assert.ok(posted.ts);

  await client.chat.update({ channel: 'C0PLATFORM', ts: posted.ts, text: 'Request approved', blocks: [section('*Approved*')] });

  const [message, ...others] = emulator.messages('C0PLATFORM');
  assert.equal(others.length, 0);
  assert.equal(message?.text, 'Request approved');
  assert.deepEqual(
    message?.blocks.map((block) => block.text),
    [{ type: 'mrkdwn', text: '*Approved*' }],
  );
  assert.equal(typeof message?.blocks[0]?.block_id, 'string', 'Slack fills in a block_id');
  assert.equal(message?.edited?.user, 'U0BOT');
});

test('chat.update keeps blocks it is not given and needs the ts of a message the bot posted', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const posted = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'v1', blocks: [section('card')] });
  await client.chat.update({ channel: 'C0PLATFORM', ts: posted.ts ?? '', text: 'v2' });
  assert.equal(emulator.messages('C0PLATFORM')[0]?.blocks.length, 1);

  assert.equal((await platformError(client.chat.update({ channel: 'C0PLATFORM', ts: '1.000001', text: 'x' }))).error, 'message_not_found');
  const userTs = emulator.seedMessage('C0PLATFORM', { user: 'U0ALICE', text: 'hello' });
  assert.equal((await platformError(client.chat.update({ channel: 'C0PLATFORM', ts: userTs, text: 'x' }))).error, 'cant_update_message');
});

test('a thread reply lands under its parent and conversations.replies returns the thread', async (t) => {
  const emulator = await startEmulator(t, { scopes: [...DEFAULT_BOT_SCOPES, 'channels:history'] });
  const client = clientFor(emulator);
  const parent = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'Provisioning team-a' });
  const parentTs = parent.ts ?? '';
  await client.chat.postMessage({ channel: 'C0PLATFORM', thread_ts: parentTs, text: 'Namespace created' });
  emulator.seedMessage('C0PLATFORM', { user: 'U0ALICE', text: 'thanks!', threadTs: parentTs });

  assert.deepEqual(
    emulator.thread('C0PLATFORM', parentTs).map((m) => m.text),
    ['Namespace created', 'thanks!'],
  );
  assert.equal(emulator.messages('C0PLATFORM').length, 1, 'replies are not top-level messages');
  assert.equal(emulator.messages('C0PLATFORM')[0]?.replies.length, 2);

  const replies = await client.conversations.replies({ channel: 'C0PLATFORM', ts: parentTs });
  assert.deepEqual(
    replies.messages?.map((m) => m.text),
    ['Provisioning team-a', 'Namespace created', 'thanks!'],
  );
  assert.equal(replies.messages?.[0]?.reply_count, 2);
  assert.equal((await platformError(client.conversations.replies({ channel: 'C0PLATFORM', ts: '9.000009' }))).error, 'thread_not_found');
  assert.deepEqual(emulator.warnings, []);
});

test('conversations.history returns top-level messages newest first, in the ts range asked, with metadata only when asked', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const metadata = { event_type: 'slipway_digest_posted', event_payload: { job_run: 7 } };
  const first = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'one', metadata });
  await client.chat.postMessage({ channel: 'C0PLATFORM', thread_ts: first.ts ?? '', text: 'a reply' });
  const second = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'two' });
  await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'three' });

  const all = await client.conversations.history({ channel: 'C0PLATFORM' });
  assert.deepEqual(
    all.messages?.map((m) => m.text),
    ['three', 'two', 'one'],
  );
  assert.equal(all.messages?.[2]?.metadata, undefined, 'no metadata unless include_all_metadata');
  const withMetadata = await client.conversations.history({ channel: 'C0PLATFORM', include_all_metadata: true });
  assert.deepEqual(withMetadata.messages?.[2]?.metadata, metadata);
  // `oldest` and `latest` are excluded unless `inclusive`.
  const after = await client.conversations.history({ channel: 'C0PLATFORM', oldest: first.ts ?? '', latest: second.ts ?? '' });
  assert.deepEqual(after.messages, []);
  const between = await client.conversations.history({ channel: 'C0PLATFORM', oldest: first.ts ?? '', latest: second.ts ?? '', inclusive: true });
  assert.deepEqual(
    between.messages?.map((m) => m.text),
    ['two', 'one'],
  );
  const page = await client.conversations.history({ channel: 'C0PLATFORM', limit: 2 });
  assert.equal(page.has_more, true);
  assert.equal((await platformError(client.conversations.history({ channel: 'C0NOPE' }))).error, 'channel_not_found');
});

test('a reply to a thread_ts that matches no message succeeds, as on Slack, but is invisible and flagged', async (t) => {
  const emulator = await startEmulator(t);
  const result = await clientFor(emulator).chat.postMessage({ channel: 'C0PLATFORM', thread_ts: '1700000000.000001', text: 'lost' });
  assert.equal(result.ok, true);
  assert.deepEqual(emulator.messages('C0PLATFORM'), []);
  assert.deepEqual(
    emulator.thread('C0PLATFORM', '1700000000.000001').map((m) => m.text),
    ['lost'],
  );
  assert.match(emulator.warnings.join('\n'), /matches no message/);
});

test('posting to a user id goes to the bot DM with that user', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const posted = await client.chat.postMessage({ channel: 'U0ALICE', text: 'Your namespace is ready' });
  assert.match(posted.channel ?? '', /^D/);
  assert.equal(emulator.dmChannelId('U0ALICE'), posted.channel);
  await client.chat.postMessage({ channel: posted.channel ?? '', thread_ts: posted.ts ?? '', text: 'details' });

  const dm = emulator.dmWith('U0ALICE');
  assert.deepEqual(
    dm.map((m) => m.text),
    ['Your namespace is ready'],
  );
  assert.deepEqual(
    dm[0]?.replies.map((m) => m.text),
    ['details'],
  );

  const opened = await client.conversations.open({ users: 'U0ALICE' });
  assert.equal(opened.channel?.id, posted.channel);
  assert.equal(opened.already_open, true);
  // chat.update wants the D id, not the user id.
  assert.equal((await platformError(client.chat.update({ channel: 'U0ALICE', ts: posted.ts ?? '', text: 'x' }))).error, 'channel_not_found');
  assert.equal((await platformError(client.chat.postMessage({ channel: 'U0NOBODY', text: 'x' }))).error, 'channel_not_found');
});

test('a deactivated person is still in users.info, marked deleted, and a DM to them still posts', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  assert.equal((await client.users.info({ user: 'U0BOB' })).user?.deleted, false);
  emulator.deactivateUser('U0BOB');
  assert.equal((await client.users.info({ user: 'U0BOB' })).user?.deleted, true);
  assert.equal((await client.chat.postMessage({ channel: 'U0BOB', text: 'Anyone there?' })).ok, true);
  assert.equal((await platformError(client.users.info({ user: 'U0NOBODY' }))).error, 'user_not_found');
});

test('the bot cannot post where it is not a member', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  assert.equal((await platformError(client.chat.postMessage({ channel: 'C0RANDOM', text: 'hi' }))).error, 'not_in_channel');
  // Private channels the bot is not in are invisible to it.
  assert.equal((await platformError(client.chat.postMessage({ channel: 'G0SECRET', text: 'hi' }))).error, 'channel_not_found');
  assert.equal((await platformError(client.chat.postMessage({ channel: 'C0NOPE', text: 'hi' }))).error, 'channel_not_found');

  const publicPoster = await startEmulator(t, { scopes: [...DEFAULT_BOT_SCOPES, 'chat:write.public'] });
  assert.equal((await clientFor(publicPoster).chat.postMessage({ channel: 'C0RANDOM', text: 'hi' })).ok, true);
});

test('an ephemeral message needs its user in the channel', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  await client.chat.postEphemeral({ channel: 'C0PLATFORM', user: 'U0BOB', text: 'Only you can see this' });
  assert.deepEqual(
    emulator.ephemerals('U0BOB').map((m) => m.text),
    ['Only you can see this'],
  );
  assert.equal(emulator.messages('C0PLATFORM').length, 0);
  const other = await platformError(client.chat.postEphemeral({ channel: 'C0PLATFORM', user: 'U0NOBODY', text: 'x' }));
  assert.equal(other.error, 'user_not_in_channel');
});

test('chat.getPermalink links messages and thread replies', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const parent = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'p' });
  const reply = await client.chat.postMessage({ channel: 'C0PLATFORM', thread_ts: parent.ts ?? '', text: 'r' });
  const link = await client.chat.getPermalink({ channel: 'C0PLATFORM', message_ts: reply.ts ?? '' });
  assert.equal(
    link.permalink,
    `https://slipway-test.slack.com/archives/C0PLATFORM/p${(reply.ts ?? '').replace('.', '')}?thread_ts=${parent.ts}&cid=C0PLATFORM`,
  );
  assert.equal((await platformError(client.chat.getPermalink({ channel: 'C0PLATFORM', message_ts: '1.1' }))).error, 'message_not_found');
});

// ---------------------------------------------------------------- limits

test('message limits answer Slack error codes with json-pointer messages', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const post = (blocks: readonly unknown[]) => platformError(rawCall(client, 'chat.postMessage', { channel: 'C0PLATFORM', text: 'fallback', blocks }));

  const tooMany = await post(Array.from({ length: 51 }, () => ({ type: 'divider' })));
  assert.equal(tooMany.error, 'invalid_blocks');
  assert.deepEqual(messagesOf(tooMany), ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]']);

  const longSection = await post([section('x'.repeat(3001))]);
  assert.deepEqual(messagesOf(longSection), ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);

  const mrkdwnHeader = await post([{ type: 'header', text: { type: 'mrkdwn', text: '*Title*' } }]);
  assert.equal(mrkdwnHeader.error, 'invalid_blocks');
  assert.match(String(messagesOf(mrkdwnHeader)), /json-pointer:\/blocks\/0\/text\/type/);

  const button = (actionId: string): JsonObject => ({ type: 'button', action_id: actionId, text: plain('Approve') });
  const duplicate = await post([{ type: 'actions', elements: [button('approve'), button('approve')] }]);
  assert.match(String(messagesOf(duplicate)), /duplicate action_id approve\b.*json-pointer:\/blocks\/0\/elements\/1\/action_id/);

  const sameBlockId = await post([
    { ...section('a'), block_id: 'card' },
    { ...section('b'), block_id: 'card' },
  ]);
  assert.match(String(messagesOf(sameBlockId)), /duplicate block_id card/);

  const longButton = await post([{ type: 'actions', elements: [{ ...button('a'), text: plain('x'.repeat(76)) }] }]);
  assert.deepEqual(messagesOf(longButton), ['[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]']);

  const options = Array.from({ length: 101 }, (_, i) => ({ text: plain(`o${i}`), value: `v${i}` }));
  const bigSelect = await post([{ type: 'actions', elements: [{ type: 'static_select', action_id: 's', options }] }]);
  assert.deepEqual(messagesOf(bigSelect), ['[ERROR] no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]']);

  const extraProperty = await post([{ type: 'actions', elements: [{ ...button('a'), disabled: true }] }]);
  assert.deepEqual(messagesOf(extraProperty), ['[ERROR] invalid additional property: disabled [json-pointer:/blocks/0/elements/0]']);

  assert.equal((await platformError(rawCall(client, 'chat.postMessage', { channel: 'C0PLATFORM' }))).error, 'no_text');
  assert.equal(emulator.messages('C0PLATFORM').length, 0, 'rejected messages are not stored');
});

test('chat.postMessage truncates text over 40,000 characters while chat.update rejects text over 4,000', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const posted = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'y'.repeat(40_001) });
  assert.equal(emulator.messages('C0PLATFORM')[0]?.text.length, 40_000);
  const update = await platformError(client.chat.update({ channel: 'C0PLATFORM', ts: posted.ts ?? '', text: 'z'.repeat(4001) }));
  assert.equal(update.error, 'msg_too_long');
});

test('modal limits answer invalid_arguments with json-pointer messages, without using up the trigger', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const trigger = emulator.issueTriggerId('U0ALICE');
  const open = (view: JsonObject) => platformError(rawCall(client, 'views.open', { trigger_id: trigger, view }));

  const longTitle = await open({ ...modal({ title: plain('x'.repeat(25)) }) });
  assert.equal(longTitle.error, 'invalid_arguments');
  assert.deepEqual(messagesOf(longTitle), ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]']);

  assert.match(String(messagesOf(await open({ ...modal(), submit: undefined }))), /missing required field: submit/);
  assert.match(String(messagesOf(await open({ ...modal(), title: { type: 'mrkdwn', text: 'x' } }))), /json-pointer:\/view\/title\/type/);
  assert.match(
    String(messagesOf(await open({ ...modal({ private_metadata: 'm'.repeat(3001) }) }))),
    /less than 3001 characters \[json-pointer:\/view\/private_metadata\]/,
  );
  const dividers = Array.from({ length: 101 }, (): types.DividerBlock => ({ type: 'divider' }));
  assert.match(String(messagesOf(await open({ ...modal({ blocks: dividers }) }))), /no more than 100 items allowed \[json-pointer:\/view\/blocks\]/);
  assert.match(String(messagesOf(await open({ ...modal(), type: undefined }))), /missing required field: type/);
  const input: types.InputBlock = {
    type: 'input',
    block_id: 'a',
    label: plain('L'),
    element: { type: 'plain_text_input', action_id: 'v', min_length: 10, max_length: 5 },
  };
  assert.match(String(messagesOf(await open({ ...modal({ blocks: [input] }) }))), /must not be greater than max_length/);
  const twins = [section('a'), { ...section('c'), block_id: 'x' }, { ...section('d'), block_id: 'x' }];
  assert.match(String(messagesOf(await open({ ...modal({ blocks: twins }) }))), /duplicate block_id x/);

  const huge = await open({ ...modal({ blocks: Array.from({ length: 90 }, () => section('z'.repeat(2900))) }) });
  assert.equal(huge.error, 'view_too_large');

  const opened = await client.views.open({ trigger_id: trigger, view: modal() });
  assert.equal(opened.ok, true, 'failed calls did not exchange the trigger');
});

// ---------------------------------------------------------------- views and triggers

test('a trigger_id can be exchanged once, within 3 seconds', async (t) => {
  let now = 1_700_000_000_000;
  const emulator = await startEmulator(t, { now: () => now });
  const client = clientFor(emulator);
  const open = (trigger: string) => client.views.open({ trigger_id: trigger, view: modal() });

  const first = emulator.issueTriggerId('U0ALICE');
  assert.equal((await open(first)).ok, true);
  assert.equal((await platformError(open(first))).error, 'exchanged_trigger_id');

  const late = emulator.issueTriggerId('U0ALICE');
  now += 3001;
  assert.equal((await platformError(open(late))).error, 'expired_trigger_id');

  assert.equal((await platformError(open('12345.98765.abcd2358fdea'))).error, 'invalid_trigger_id');
  const malformed = await platformError(open('not-a-trigger'));
  assert.equal(malformed.error, 'invalid_arguments');
  assert.deepEqual(messagesOf(malformed), ['invalid `trigger_id`']);
});

test('views.open returns the view as Slack does, and keeps it for building a submission', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const result = await client.views.open({ trigger_id: emulator.issueTriggerId('U0ALICE'), view: modal() });
  const view = result.view;
  assert.match(view?.id ?? '', /^V/);
  assert.equal(view?.team_id, 'T0TEAM');
  assert.equal(view?.callback_id, 'new_namespace');
  assert.equal(view?.private_metadata, 'C0PLATFORM');
  assert.deepEqual(view?.state, { values: {} });
  assert.ok(view?.hash);
  const last: EmulatedView = emulator.lastViewOpened();
  assert.equal(last.id, view?.id);
  assert.equal(typeof last.blocks[3]?.block_id, 'string', 'Slack generates block ids that tests then read from the view');
  assert.deepEqual(
    emulator.views.map((record) => [record.userId, record.openedWith, record.isOpen]),
    [['U0ALICE', 'views.open', true]],
  );
});

test('forgetHistory drops the call log, closed views and old trigger ids, and keeps open views working', async (t) => {
  let now = 1_700_000_000_000;
  const emulator = await startEmulator(t, { now: () => now });
  const client = clientFor(emulator);
  const first = await client.views.open({ trigger_id: emulator.issueTriggerId('U0ALICE'), view: modal() });
  const used = emulator.issueTriggerId('U0ALICE');
  const second = await client.views.open({ trigger_id: used, view: modal() });
  const fresh = emulator.issueTriggerId('U0BOB');
  now += 3001;
  const recent = emulator.issueTriggerId('U0BOB');

  emulator.forgetHistory();
  assert.equal(emulator.calls.length, 0);
  assert.deepEqual(
    emulator.views.map((record) => record.isOpen),
    [true],
    'the first modal was closed when the second opened for the same person',
  );
  assert.equal((await platformError(client.views.update({ view_id: first.view?.id ?? '', view: modal() }))).error, 'not_found');
  assert.equal((await client.views.update({ view_id: second.view?.id ?? '', view: modal() })).ok, true);
  assert.equal((await platformError(client.views.open({ trigger_id: fresh, view: modal() }))).error, 'invalid_trigger_id');
  assert.equal((await client.views.open({ trigger_id: recent, view: modal() })).ok, true);
  assert.deepEqual(
    emulator.calls.map((call) => call.method),
    ['views.update', 'views.update', 'views.open', 'views.open'],
  );
});

test('views.update takes the latest hash, and rejects a stale one with hash_conflict', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const view = (title: string) => modal({ title: plain(title), external_id: 'ns-request-1' });
  const opened = await client.views.open({ trigger_id: emulator.issueTriggerId('U0ALICE'), view: view('Step 1') });
  const id = opened.view?.id ?? '';
  const staleHash = opened.view?.hash ?? '';

  const updated = await client.views.update({ view_id: id, hash: staleHash, view: view('Step 2') });
  assert.notEqual(updated.view?.hash, staleHash);
  assert.equal((await platformError(client.views.update({ view_id: id, hash: staleHash, view: view('Step 3') }))).error, 'hash_conflict');

  await client.views.update({ external_id: 'ns-request-1', view: view('Step 3') });
  assert.deepEqual(emulator.view(id).title, { type: 'plain_text', text: 'Step 3', emoji: true });
  assert.equal((await platformError(client.views.update({ view_id: 'V0NOPE', view: view('x') }))).error, 'not_found');

  emulator.closeView(id);
  assert.equal((await platformError(client.views.update({ view_id: id, view: view('x') }))).error, 'not_found');
});

test('views.push stacks at most three views', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const view = modal();
  assert.equal((await platformError(client.views.push({ trigger_id: emulator.issueTriggerId('U0ALICE'), view }))).error, 'not_found');
  const root = await client.views.open({ trigger_id: emulator.issueTriggerId('U0ALICE'), view });
  const pushed = await client.views.push({ trigger_id: emulator.issueTriggerId('U0ALICE'), view });
  assert.equal(pushed.view?.root_view_id, root.view?.id);
  assert.equal(pushed.view?.previous_view_id, root.view?.id);
  await client.views.push({ trigger_id: emulator.issueTriggerId('U0ALICE'), view });
  assert.equal((await platformError(client.views.push({ trigger_id: emulator.issueTriggerId('U0ALICE'), view }))).error, 'push_limit_reached');
});

test('views.publish sets a user Home tab and checks its hash', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const home: types.HomeView = { type: 'home', blocks: [section('Your namespaces')] };
  const first = await client.views.publish({ user_id: 'U0ALICE', view: home });
  await client.views.publish({ user_id: 'U0ALICE', view: home, hash: first.view?.hash ?? '' });
  assert.equal((await platformError(client.views.publish({ user_id: 'U0ALICE', view: home, hash: first.view?.hash ?? '' }))).error, 'hash_conflict');
  assert.equal(emulator.homeView('U0ALICE')?.id, first.view?.id);
  assert.equal((await platformError(rawCall(client, 'views.publish', { user_id: 'U0ALICE', view: { ...modal() } }))).error, 'invalid_arguments');
});

test('views.publish follows Slack: user_id required, 100 blocks at most, not_enabled without a Home tab', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const blocks = (n: number) => Array.from({ length: n }, (_, i) => section(`line ${i}`));
  await client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(100) } });
  const tooMany = await platformError(client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(101) } }));
  assert.equal(tooMany.error, 'invalid_arguments');
  assert.match(JSON.stringify(tooMany.response_metadata), /no more than 100 items/);
  assert.equal((await platformError(rawCall(client, 'views.publish', { view: { type: 'home', blocks: blocks(1) } }))).error, 'invalid_arguments');

  const disabled = await SlackApiEmulator.start({ homeTabEnabled: false, users: [{ id: 'U0ALICE', name: 'alice' }] });
  t.after(() => disabled.close());
  const error = await platformError(clientFor(disabled).views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: blocks(1) } }));
  assert.equal(error.error, 'not_enabled');
});

// ---------------------------------------------------------------- faults

test('WebClient waits out Retry-After on a 429 and then succeeds', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
  emulator.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });

  const started = Date.now();
  const result = await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'after the wait' });
  const waited = Date.now() - started;

  assert.equal(result.ok, true);
  assert.ok(waited >= 950, `WebClient retried after ${waited} ms; Retry-After said 1 s`);
  assert.deepEqual(
    emulator.callsTo('chat.postMessage').map((call) => [call.status, call.error ?? 'ok']),
    [
      [429, 'ratelimited'],
      [200, 'ok'],
    ],
  );
  assert.equal(emulator.messages('C0PLATFORM').length, 1);
});

test('a 429 carries Retry-After and the ratelimited error', async (t) => {
  const emulator = await startEmulator(t);
  emulator.rateLimit('views.open', { times: 1, retryAfterSeconds: 7 });
  const response = await fetch(`${emulator.url}views.open`, { method: 'POST', headers: { authorization: `Bearer ${emulator.token}` } });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), '7');
  assert.deepEqual(await response.json(), { ok: false, error: 'ratelimited' });

  emulator.rateLimit('users.info', { times: 1, retryAfterSeconds: 7 });
  await assert.rejects(clientFor(emulator, { rejectRateLimitedCalls: true }).users.info({ user: 'U0ALICE' }), (error: unknown) => {
    assert.ok(error instanceof WebAPIRateLimitedError);
    assert.equal(error.retryAfter, 7);
    return true;
  });
});

test('failNext and failNextWithStatus each fail one call', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  emulator.failNext('chat.postMessage', 'fatal_error');
  assert.equal((await platformError(client.chat.postMessage({ channel: 'C0PLATFORM', text: 'a' }))).error, 'fatal_error');
  assert.equal((await client.chat.postMessage({ channel: 'C0PLATFORM', text: 'b' })).ok, true);

  emulator.failNextWithStatus('chat.postMessage', 503);
  await assert.rejects(client.chat.postMessage({ channel: 'C0PLATFORM', text: 'c' }), (error: unknown) => {
    assert.ok(error instanceof WebAPIHTTPError);
    assert.equal(error.statusCode, 503);
    return true;
  });
  assert.deepEqual(
    emulator.messages('C0PLATFORM').map((m) => m.text),
    ['b'],
  );
});

// ---------------------------------------------------------------- lookups and files

test('users, user groups and conversations are looked up as configured', async (t) => {
  const emulator = await startEmulator(t);
  const client = clientFor(emulator);
  const alice = await client.users.info({ user: 'U0ALICE' });
  assert.equal(alice.user?.real_name, 'Alice Doe');
  assert.equal(alice.user?.tz, 'Europe/Paris');
  assert.equal(typeof alice.user?.tz_offset, 'number');
  assert.equal((await platformError(client.users.info({ user: 'U0NOBODY' }))).error, 'user_not_found');

  assert.deepEqual((await client.usergroups.users.list({ usergroup: 'S0ADMINS' })).users, ['U0ALICE']);
  assert.equal((await platformError(client.usergroups.users.list({ usergroup: 'S0NOPE' }))).error, 'no_such_subteam');
  // An admin edits the group: the next list has its new members.
  emulator.setUserGroupMembers('S0ADMINS', ['U0BOB']);
  assert.deepEqual((await client.usergroups.users.list({ usergroup: 'S0ADMINS' })).users, ['U0BOB']);

  const info = await client.conversations.info({ channel: 'C0PLATFORM', include_num_members: true });
  assert.equal(info.channel?.name, 'platform');
  assert.equal(info.channel?.is_member, true);
  assert.equal(info.channel?.num_members, 3);
  assert.equal((await platformError(client.conversations.info({ channel: 'G0SECRET' }))).error, 'channel_not_found');

  const firstPage = await client.conversations.members({ channel: 'C0PLATFORM', limit: 2 });
  assert.deepEqual(firstPage.members, ['U0BOT', 'U0ALICE']);
  const secondPage = await client.conversations.members({ channel: 'C0PLATFORM', limit: 2, cursor: firstPage.response_metadata?.next_cursor ?? '' });
  assert.deepEqual(secondPage.members, ['U0BOB']);
  assert.equal(secondPage.response_metadata?.next_cursor, '');
});

test('files.uploadV2 goes through the upload URL and the bytes are kept', async (t) => {
  const emulator = await startEmulator(t);
  const bytes = Buffer.from('apiVersion: v1\nkind: Namespace\n');
  await clientFor(emulator).files.uploadV2({ channel_id: 'C0PLATFORM', file: bytes, filename: 'namespace.yaml', initial_comment: 'Manifest' });

  const [file] = emulator.uploadedFiles;
  assert.equal(file?.filename, 'namespace.yaml');
  assert.equal(file?.completed, true);
  assert.deepEqual(file?.bytes, bytes);
  assert.deepEqual(
    emulator.messages('C0PLATFORM').map((m) => [m.text, m.files]),
    [['Manifest', [file?.id]]],
  );
  assert.deepEqual(
    emulator.callsTo('files.completeUploadExternal').map((call) => call.ok),
    [true],
  );
});

// ---------------------------------------------------------------- requests into a Bolt app

const SECRET = 'test-signing-secret';

async function startBoltApp(t: TestContext, emulator: SlackApiEmulator): Promise<string> {
  const app = new App({
    token: emulator.token,
    signingSecret: SECRET,
    logger: silentLogger,
    clientOptions: { slackApiUrl: emulator.url, retryConfig: { retries: 0 } },
  });
  app.command('/platform', async ({ ack, body, client }) => {
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: modal() });
  });
  app.view('new_namespace', async ({ ack, view, client }) => {
    const name = view.state.values.name?.value?.value ?? '';
    if (name === 'taken') return ack({ response_action: 'errors', errors: { name: 'That name is taken' } });
    await ack();
    const env = view.state.values.env?.value?.selected_option?.value ?? '';
    await client.chat.postMessage({
      channel: view.private_metadata,
      text: `${name} (${env}) requested`,
      blocks: [section(`${name} (${env})`), { type: 'actions', elements: [{ type: 'button', action_id: 'approve', text: plain('Approve'), value: name }] }],
    });
  });
  app.action<BlockButtonAction>('approve', async ({ ack, body, client }) => {
    await ack();
    if (body.channel === undefined || body.message === undefined) return;
    await client.chat.update({
      channel: body.channel.id,
      ts: body.message.ts,
      text: `${body.actions[0]?.value ?? '?'} approved by <@${body.user.id}>`,
      blocks: [],
    });
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  t.after(() => app.stop());
  const address = server instanceof Server ? server.address() : null;
  if (address === null || typeof address === 'string') throw new Error('Bolt did not listen on a TCP port');
  return `http://127.0.0.1:${address.port}`;
}

test('a Bolt app driven by the request helpers opens a modal, validates it and acts on a button', async (t) => {
  const emulator = await startEmulator(t);
  const bot = await startBoltApp(t, emulator);

  const command = await sendSlashCommand(bot, SECRET, {
    text: 'new',
    userId: 'U0ALICE',
    channelId: 'C0PLATFORM',
    triggerId: emulator.issueTriggerId('U0ALICE'),
  });
  assert.equal(command.status, 200);
  const view = await waitFor('views.open', () => (emulator.callsTo('views.open').length > 0 ? emulator.lastViewOpened() : undefined));

  const taken = await sendViewSubmission(bot, SECRET, { view, userId: 'U0ALICE', values: valuesFor(view, { name: 'taken', env: 'staging' }) });
  assert.deepEqual(taken.body, { response_action: 'errors', errors: { name: 'That name is taken' } });
  emulator.applySubmissionAck(view.id, taken.body);
  assert.equal(emulator.views[0]?.isOpen, true);

  const accepted = await sendViewSubmission(bot, SECRET, {
    view,
    userId: 'U0ALICE',
    values: valuesFor(view, { name: 'team-a', env: 'production', expiry: '2026-12-31' }),
  });
  assert.equal(accepted.status, 200);
  emulator.applySubmissionAck(view.id, accepted.body);
  assert.equal(emulator.views[0]?.isOpen, false);
  const card = await waitFor('the request card', () => emulator.messages('C0PLATFORM')[0]);
  assert.equal(card.text, 'team-a (production) requested');

  await sendBlockAction(bot, SECRET, { userId: 'U0BOB', actionId: 'approve', message: card });
  await waitFor('the approval update', () => emulator.messages('C0PLATFORM')[0]?.text.includes('approved') === true);
  assert.equal(emulator.messages('C0PLATFORM')[0]?.text, 'team-a approved by <@U0BOB>');
  assert.deepEqual(emulator.warnings, []);
});

test('the Bolt app refuses a tampered signature and a stale timestamp', async (t) => {
  const emulator = await startEmulator(t);
  const bot = await startBoltApp(t, emulator);
  const base = { userId: 'U0ALICE', channelId: 'C0PLATFORM' };
  assert.equal((await sendSlashCommand(bot, SECRET, { ...base, tamperSignature: true })).status, 401);
  const sixMinutesAgo = Math.floor(Date.now() / 1000) - 360;
  assert.equal((await sendSlashCommand(bot, SECRET, { ...base, timestampSeconds: sixMinutesAgo })).status, 401);
  assert.equal((await sendSlashCommand(bot, SECRET, { ...base, retry: { num: 1, reason: 'http_timeout' } })).status, 200);
  assert.deepEqual(Object.keys(signRequest(SECRET, 'a=b', 1)), ['x-slack-signature', 'x-slack-request-timestamp']);
});

test('valuesFor fails loudly on answers Slack would not produce', async (t) => {
  const emulator = await startEmulator(t);
  await clientFor(emulator).views.open({ trigger_id: emulator.issueTriggerId('U0ALICE'), view: modal() });
  const view = emulator.lastViewOpened();

  assert.throws(() => valuesFor(view, { nmae: 'team-a', env: 'staging' }), /block_id "nmae" is not in view/);
  assert.throws(() => valuesFor(view, { name: 'team-a', env: 'qa' }), /"qa" is not an option of value; options are staging, production/);
  assert.throws(() => valuesFor(view, { env: 'staging' }), /input block "name" is required/);
  assert.throws(() => valuesFor(view, { name: 'ab', env: 'staging' }), /below min_length 3/);
  assert.throws(() => valuesFor(view, { name: 'team-a', env: 'staging', expiry: '31/12/2026' }), /YYYY-MM-DD/);

  const values = valuesFor(view, { name: 'team-a', env: 'staging' });
  assert.deepEqual(values.name, { value: { type: 'plain_text_input', value: 'team-a' } });
  assert.deepEqual(values.env, { value: { type: 'static_select', selected_option: { text: plain('Staging'), value: 'staging' } } });
  assert.deepEqual(values.expiry, { value: { type: 'datepicker', selected_date: null } });
});

// ---------------------------------------------------------------- Socket Mode

/** A Socket Mode client as an app writes one: apps.connections.open with the app token, then the WebSocket. */
async function openSocket(t: TestContext, emulator: SlackApiEmulator, onEnvelope: (envelope: JsonObject, ws: WebSocket) => void): Promise<WebSocket> {
  const opened = (await new WebClient(undefined, { slackApiUrl: emulator.url }).apps.connections.open({ token: 'xapp-test' })) as { url?: string };
  assert.ok(opened.url);
  const ws = new WebSocket(opened.url);
  t.after(() => ws.terminate());
  const hello = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as JsonObject;
      if (message.type === 'hello') resolve();
      else onEnvelope(message, ws);
    }),
  );
  await hello;
  return ws;
}

const ack = (envelope: JsonObject, ws: WebSocket, payload?: JsonObject) =>
  ws.send(JSON.stringify({ envelope_id: envelope.envelope_id, ...(payload ? { payload } : {}) }));

test('Socket Mode: each envelope goes to one of the open connections, and is acknowledged there', async (t) => {
  const emulator = await startEmulator(t);
  const seen: number[] = [];
  for (const n of [1, 2]) {
    await openSocket(t, emulator, (envelope, ws) => {
      seen.push(n);
      ack(envelope, ws, { text: `from ${n}` });
    });
  }
  assert.equal(emulator.socketConnections, 2);
  const acks = [];
  for (let i = 0; i < 6; i++) acks.push(await emulator.sendEnvelope('slash_commands', { command: '/platform', text: 'help' }));
  assert.equal(seen.length, 6, 'one delivery per envelope, never to both');
  assert.deepEqual([...new Set(seen)].sort(), [1, 2], 'both connections get envelopes');
  assert.deepEqual(
    acks.map((a) => (a.payload as JsonObject).text),
    seen.map((n) => `from ${n}`),
  );
  assert.deepEqual(
    emulator.envelopes.map((d) => [d.connection, d.outcome]),
    seen.map((n) => [n, 'acked']),
  );
});

test('Socket Mode: an acknowledgement on another connection does not count, and a command is not retried', async (t) => {
  const emulator = await startEmulator(t);
  // The app answers on its other connection.
  const app: { other?: WebSocket } = {};
  await openSocket(t, emulator, (envelope) => app.other && ack(envelope, app.other));
  app.other = await openSocket(t, emulator, () => undefined);
  await assert.rejects(
    emulator.sendEnvelope('slash_commands', { command: '/platform' }, 200),
    /no acknowledgement of env-1 \(slash_commands\) on connection 1 within 200 ms/,
  );
  assert.match(emulator.warnings.join('\n'), /env-1 acknowledged on connection 2, but it was sent on connection 1/);
  assert.deepEqual(
    emulator.envelopes.map((d) => [d.envelopeId, d.outcome]),
    [['env-1', 'timeout']],
    'slash commands and interactions are not delivered again',
  );
});

test('Socket Mode: an Events API envelope not acknowledged is delivered again, with retry_attempt, to any open connection', async (t) => {
  const emulator = await startEmulator(t, { eventRetryDelaysMs: [0, 10, 10] });
  const received: JsonObject[] = [];
  await openSocket(t, emulator, (envelope) => received.push(envelope));
  await openSocket(t, emulator, (envelope, ws) => {
    received.push(envelope);
    ack(envelope, ws);
  });
  await assert.rejects(emulator.sendEnvelope('events_api', { type: 'event_callback', event: { type: 'app_home_opened' } }, 100));
  await waitFor('the retry to be acknowledged', () => emulator.envelopes.some((d) => d.outcome === 'acked'));
  assert.deepEqual(
    received.map((e) => [e.envelope_id, e.retry_attempt, e.retry_reason, e.accepts_response_payload]),
    [
      ['env-1', 0, '', false],
      ['env-1', 1, 'timeout', false],
    ],
  );
  assert.deepEqual(
    emulator.envelopes.map((d) => [d.connection, d.outcome]),
    [
      [1, 'timeout'],
      [2, 'acked'],
    ],
  );
});

test('Socket Mode: a closed connection gets nothing more, and what it had not acknowledged fails at once', async (t) => {
  const emulator = await startEmulator(t);
  const first = await openSocket(t, emulator, () => undefined);
  await openSocket(t, emulator, (envelope, ws) => ack(envelope, ws));
  const unanswered = emulator.sendEnvelope('interactive', { type: 'view_submission' }, 60_000);
  first.terminate();
  await assert.rejects(unanswered, /before its connection closed/);
  await waitFor('the closed connection to be gone', () => emulator.socketConnections === 1);
  for (let i = 0; i < 3; i++) await emulator.sendEnvelope('interactive', { type: 'block_actions' });
  assert.deepEqual(
    emulator.envelopes.map((d) => [d.connection, d.outcome]),
    [
      [1, 'connection_closed'],
      [2, 'acked'],
      [2, 'acked'],
      [2, 'acked'],
    ],
  );
});

test('Socket Mode: an app keeps at most 10 connections open', async (t) => {
  const emulator = await startEmulator(t);
  for (let i = 0; i < 10; i++) await openSocket(t, emulator, () => undefined);
  const opened = (await new WebClient(undefined, { slackApiUrl: emulator.url }).apps.connections.open({ token: 'xapp-test' })) as { url: string };
  const eleventh = new WebSocket(opened.url);
  await new Promise((resolve) => eleventh.once('close', resolve));
  assert.equal(emulator.socketConnections, 10);
  assert.match(emulator.warnings.join('\n'), /at most 10 connections open/);
});
