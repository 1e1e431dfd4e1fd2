/**
 * Requests into the bot exactly as Slack sends them: signed (`v0:{timestamp}:{body}`,
 * HMAC-SHA256), `Content-Type: application/x-www-form-urlencoded` (exactly: Bolt answers 400 to
 * `…; charset=UTF-8`), the body sent as a string. Slash commands are plain form bodies;
 * interactions are `payload=<json>`. See https://api.slack.com/authentication/verifying-requests-from-slack.
 *
 * Modal answers are built from the view the bot really opened (`valuesFor`), so tests never
 * hand-write block ids, and an answer Slack's client would not allow fails loudly.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { interactiveElements, isObject, type JsonObject } from './blocks.ts';

export type RetryReason = 'http_timeout' | 'too_many_redirects' | 'connection_failed' | 'ssl_error' | 'http_error' | 'unknown_error';

/** How the request is delivered; every `send…` helper accepts these. */
export interface DeliveryOptions {
  /** `X-Slack-Request-Timestamp` in seconds (default now); an old one tests replay protection. */
  readonly timestampSeconds?: number;
  /** Sign, then corrupt the signature, as a forged request would be. */
  readonly tamperSignature?: boolean;
  /** Adds `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`, as on a redelivery. */
  readonly retry?: { readonly num: number; readonly reason: RetryReason };
  /** Extra or overriding headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bolt's endpoint path, default `/slack/events`. */
  readonly path?: string;
}

/** Workspace identity carried in every payload (defaults match the Slack API emulator's). */
export interface WorkspaceOptions {
  readonly teamId?: string;
  readonly teamDomain?: string;
  readonly apiAppId?: string;
}

export interface SlackReply {
  readonly status: number;
  /** Parsed JSON when the response is JSON, else the text (empty for a bare ack). */
  readonly body: unknown;
  readonly headers: Headers;
}

export interface SlashCommandInput extends DeliveryOptions, WorkspaceOptions {
  /** Default `/platform`. */
  readonly command?: string;
  readonly text?: string;
  readonly userId: string;
  readonly userName?: string;
  readonly channelId: string;
  readonly channelName?: string;
  /** Use `emulator.issueTriggerId(userId)` when the bot will open a modal; default a fake id. */
  readonly triggerId?: string;
  /** Use `emulator.issueResponseUrl(…)` when the bot will `respond()`; default a fake URL. */
  readonly responseUrl?: string;
}

/** A message as the emulator returns it (`emulator.messages(…)`), or any object of that shape. */
export interface MessageLike {
  readonly channel: string;
  readonly ts: string;
  readonly text?: string;
  readonly blocks?: readonly unknown[];
  readonly threadTs?: string;
  readonly user?: string;
  readonly botId?: string;
}

/** A view as Slack returns it (`emulator.lastViewOpened()`, a `views.open` response). */
export interface ViewLike {
  readonly id: string;
  readonly blocks: readonly unknown[];
  readonly callback_id?: string;
  readonly hash?: string;
  readonly private_metadata?: string;
}

export type Answer = string | readonly string[] | null;

export interface SelectedOption {
  readonly text: unknown;
  readonly value: string;
  readonly description?: unknown;
}

export type StateValue =
  | { readonly type: 'plain_text_input' | 'email_text_input' | 'url_text_input' | 'number_input'; readonly value: string | null }
  | { readonly type: 'static_select' | 'external_select' | 'radio_buttons'; readonly selected_option: SelectedOption | null }
  | { readonly type: 'multi_static_select' | 'multi_external_select' | 'checkboxes'; readonly selected_options: readonly SelectedOption[] }
  | { readonly type: 'datepicker'; readonly selected_date: string | null }
  | { readonly type: 'timepicker'; readonly selected_time: string | null }
  | { readonly type: 'users_select'; readonly selected_user: string | null }
  | { readonly type: 'multi_users_select'; readonly selected_users: readonly string[] }
  | { readonly type: 'conversations_select'; readonly selected_conversation: string | null }
  | { readonly type: 'multi_conversations_select'; readonly selected_conversations: readonly string[] }
  | { readonly type: 'channels_select'; readonly selected_channel: string | null }
  | { readonly type: 'multi_channels_select'; readonly selected_channels: readonly string[] };

/** `view.state.values`: `[block_id][action_id]` → the element's state. */
export type ViewStateValues = Record<string, Record<string, StateValue>>;

export interface BlockActionInput extends DeliveryOptions, WorkspaceOptions {
  readonly userId: string;
  readonly userName?: string;
  /** The element clicked; it is looked up in the message's or view's blocks. */
  readonly actionId: string;
  /** Only needed when the same action_id appears in several blocks. */
  readonly blockId?: string;
  /** The message the element is in (for message interactions). */
  readonly message?: MessageLike;
  readonly channelName?: string;
  /** The view the element is in (for interactions inside a modal or the Home tab). */
  readonly view?: ViewLike;
  /** `view.state.values` to send with a view interaction (see `valuesFor`). */
  readonly values?: ViewStateValues;
  /** The choice for selects, date pickers…; must be one of the element's options. */
  readonly value?: Answer;
  readonly triggerId?: string;
  readonly responseUrl?: string;
  readonly actionTs?: string;
}

export interface ViewSubmissionInput extends DeliveryOptions, WorkspaceOptions {
  readonly view: ViewLike;
  /** `state.values`, normally `valuesFor(view, answers)`. */
  readonly values: ViewStateValues;
  readonly userId: string;
  readonly userName?: string;
  readonly triggerId?: string;
}

export interface ViewClosedInput extends DeliveryOptions, WorkspaceOptions {
  readonly view: ViewLike;
  readonly userId: string;
  readonly userName?: string;
  readonly isCleared?: boolean;
}

export interface EventInput extends DeliveryOptions, WorkspaceOptions {
  /** The inner event, e.g. a `message` (its `event_ts` defaults to its `ts`). */
  readonly event: Readonly<Record<string, unknown>>;
  /** Default a fresh `Ev…` id; pass the same id to redeliver an event. */
  readonly eventId?: string;
  /** The bot user the event was delivered for (the `authorizations` entry). */
  readonly botUserId?: string;
}

const DEFAULT_PATH = '/slack/events';
const DEFAULT_TEAM = { teamId: 'T0TEAM', teamDomain: 'slipway-test', apiAppId: 'A0APP' } as const;
// The deprecated verification token Slack still puts in payloads; Bolt ignores it.
const VERIFICATION_TOKEN = 'legacy-verification-token';

/** Slack's request signature headers for `body` (https://docs.slack.dev/authentication/verifying-requests-from-slack). */
export function signRequest(secret: string, body: string, timestampSeconds: number = nowSeconds()): Record<string, string> {
  const digest = createHmac('sha256', secret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSeconds) };
}

/** Posts a signed, form-encoded body to the bot. */
export async function postToBot(baseUrl: string, secret: string, body: string, options: DeliveryOptions = {}): Promise<SlackReply> {
  const signature = signRequest(secret, body, options.timestampSeconds ?? nowSeconds());
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    ...signature,
    ...(options.tamperSignature === true ? { 'x-slack-signature': tamper(signature['x-slack-signature'] ?? '') } : {}),
    ...(options.retry === undefined ? {} : { 'x-slack-retry-num': String(options.retry.num), 'x-slack-retry-reason': options.retry.reason }),
    ...options.headers,
  };
  const response = await fetch(new URL(options.path ?? DEFAULT_PATH, baseUrl), { method: 'POST', headers, body });
  return readReply(response);
}

/** A slash command's fields, in the order Slack sends them (a form body over HTTP, the envelope's payload in Socket Mode). */
export function slashCommandFields(input: SlashCommandInput): Record<string, string> {
  const team = workspace(input);
  return {
    token: VERIFICATION_TOKEN,
    team_id: team.teamId,
    team_domain: team.teamDomain,
    channel_id: input.channelId,
    channel_name: input.channelName ?? input.channelId,
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? '/platform',
    text: input.text ?? '',
    api_app_id: team.apiAppId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl ?? `https://hooks.slack.com/commands/${team.teamId}/1/${randomBytes(12).toString('hex')}`,
    trigger_id: input.triggerId ?? fakeTriggerId(),
  };
}

/** A slash command, form-encoded in the field order Slack uses. */
export async function sendSlashCommand(baseUrl: string, secret: string, input: SlashCommandInput): Promise<SlackReply> {
  return postToBot(baseUrl, secret, new URLSearchParams(slashCommandFields(input)).toString(), input);
}

/** A `block_actions` interaction on an element of a message or a view. */
export async function sendBlockAction(baseUrl: string, secret: string, input: BlockActionInput): Promise<SlackReply> {
  const payload = blockActionPayload(input);
  return postToBot(baseUrl, secret, payloadBody(payload), input);
}

/** Builds the `view_submission` payload of `view` with `values` as its state. */
export function viewSubmissionPayload(input: ViewSubmissionInput): JsonObject {
  return {
    ...interaction('view_submission', input),
    trigger_id: input.triggerId ?? fakeTriggerId(),
    view: { ...input.view, state: { values: input.values } },
    response_urls: [],
  };
}

/** A `view_submission` of `view` with `values` as its state. */
export async function sendViewSubmission(baseUrl: string, secret: string, input: ViewSubmissionInput): Promise<SlackReply> {
  return postToBot(baseUrl, secret, payloadBody(viewSubmissionPayload(input)), input);
}

/** A `view_closed` event (sent only for views opened with `notify_on_close: true`). */
export async function sendViewClosed(baseUrl: string, secret: string, input: ViewClosedInput): Promise<SlackReply> {
  const payload = { ...interaction('view_closed', input), view: input.view, is_cleared: input.isCleared === true };
  return postToBot(baseUrl, secret, payloadBody(payload), input);
}

/**
 * An Events API delivery: a signed JSON `event_callback` POST, as Slack sends it
 * (https://docs.slack.dev/apis/events-api/#callback-field). Bolt acknowledges it with an empty 200
 * before its listeners run.
 */
export async function sendEvent(baseUrl: string, secret: string, input: EventInput): Promise<SlackReply> {
  const team = workspace(input);
  const eventTs = typeof input.event.ts === 'string' ? input.event.ts : actionTs();
  const body = JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: team.teamId,
    context_team_id: team.teamId,
    api_app_id: team.apiAppId,
    event: { event_ts: eventTs, ...input.event },
    type: 'event_callback',
    event_id: input.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: nowSeconds(),
    authorizations: [{ enterprise_id: null, team_id: team.teamId, user_id: input.botUserId ?? 'U0BOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(16).toString('base64url')}`,
  });
  return postToBot(baseUrl, secret, body, { ...input, headers: { 'content-type': 'application/json', ...input.headers } });
}

/** A person's reply in a thread, as the `message` event (message.channels) carries it. */
export function threadReplyEvent(input: {
  channel: string;
  user: string;
  text: string;
  ts: string;
  threadTs: string;
  channelType?: 'channel' | 'group';
}): Record<string, unknown> {
  return {
    type: 'message',
    channel: input.channel,
    user: input.user,
    text: input.text,
    ts: input.ts,
    thread_ts: input.threadTs,
    parent_user_id: 'U0BOT',
    channel_type: input.channelType ?? 'channel',
    blocks: [{ type: 'rich_text', block_id: 'r1', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: input.text }] }] }],
  };
}

/** Builds the `block_actions` payload (exported for tests that post it themselves). */
export function blockActionPayload(input: BlockActionInput): JsonObject {
  const team = workspace(input);
  const source = input.message ?? input.view;
  if (source === undefined) throw new Error('sendBlockAction: pass the message or the view the element is in');
  const { block, element } = findElement(source.blocks ?? [], input.actionId, input.blockId);
  const action = {
    ...actionFields(element, input.value, `action ${input.actionId}`),
    action_id: input.actionId,
    block_id: String(block.block_id),
    action_ts: input.actionTs ?? actionTs(),
  };
  const common = { ...interaction('block_actions', input), trigger_id: input.triggerId ?? fakeTriggerId() };
  if (input.message !== undefined) {
    const message = input.message;
    return {
      ...common,
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: message.channel,
        is_ephemeral: false,
        ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
      },
      channel: { id: message.channel, name: input.channelName ?? message.channel },
      message: messageJson(message, team.teamId),
      state: { values: input.values ?? {} },
      response_url: input.responseUrl ?? `https://hooks.slack.com/actions/${team.teamId}/1/${randomBytes(12).toString('hex')}`,
      actions: [action],
    };
  }
  const view = input.view;
  if (view === undefined) throw new Error('unreachable');
  return {
    ...common,
    container: { type: 'view', view_id: view.id },
    view: { ...view, state: { values: input.values ?? {} } },
    actions: [action],
  };
}

/**
 * Builds `view.state.values` for a submission of `view` from answers keyed by block_id. Input
 * blocks left unanswered carry their initial value (or an empty one), as Slack sends them.
 * Throws when a block id is not in the view, a value is not among a select's options, or the
 * answers break what Slack's client enforces (a required input left empty, min/max length).
 */
export function valuesFor(view: ViewLike, answers: Readonly<Record<string, Answer>>): ViewStateValues {
  const blocks = view.blocks.filter(isObject);
  const ids = blocks.map((block) => String(block.block_id));
  for (const blockId of Object.keys(answers)) {
    if (!ids.includes(blockId)) {
      throw new Error(`valuesFor: block_id "${blockId}" is not in view ${view.id} (callback_id ${view.callback_id ?? '?'}); its blocks are ${ids.join(', ')}`);
    }
  }
  const values: ViewStateValues = {};
  for (const block of blocks) {
    const blockId = String(block.block_id);
    const answered = Object.hasOwn(answers, blockId);
    if (block.type !== 'input' && !answered) continue;
    const element = stateElement(block, blockId);
    const answer = answered ? answers[blockId] : undefined;
    const state = elementState(element, answer, `block ${blockId}`);
    if (block.type === 'input') assertSubmittable(block, element, state, blockId);
    values[blockId] = { [String(element.action_id)]: state };
  }
  return values;
}

// ------------------------------------------------------------------ element state

function stateElement(block: JsonObject, blockId: string): JsonObject {
  if (block.type === 'input' && isObject(block.element)) return block.element;
  const candidates =
    block.type === 'actions' && Array.isArray(block.elements) ? block.elements.filter(isObject) : isObject(block.accessory) ? [block.accessory] : [];
  const stateful = candidates.filter((element) => element.type !== 'button' && element.type !== 'image' && element.type !== 'overflow');
  const [only, ...others] = stateful;
  if (only === undefined) throw new Error(`valuesFor: block "${blockId}" (${String(block.type)}) has no element that holds a value`);
  if (others.length > 0) throw new Error(`valuesFor: block "${blockId}" has several stateful elements; build its state by hand`);
  return only;
}

// What an action carries: a click for buttons, the chosen option for overflow menus, else the
// element's new state.
function actionFields(element: JsonObject, answer: Answer | undefined, where: string): JsonObject {
  if (element.type === 'button') {
    if (answer !== undefined) throw new Error(`${where}: a button takes no value; its value comes from the message`);
    return {
      type: 'button',
      text: element.text,
      ...(element.value === undefined ? {} : { value: element.value }),
      ...(element.style === undefined ? {} : { style: element.style }),
    };
  }
  if (element.type === 'overflow') return { type: 'overflow', selected_option: findOption(element, single(answer, where) ?? '', where) };
  return elementState(element, answer, where);
}

/** The element's state for an answer (undefined: its initial value), in Slack's shape. */
function elementState(element: JsonObject, answer: Answer | undefined, where: string): StateValue {
  const type = String(element.type);
  switch (type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
      return { type, value: single(answer, where) ?? stringOrNull(element.initial_value) };
    case 'static_select':
    case 'radio_buttons':
      return { type, ...selectedOption(element, answer, where) };
    case 'external_select':
      return { type, selected_option: externalOption(single(answer, where)) ?? optionOrNull(element.initial_option) };
    case 'multi_static_select':
    case 'checkboxes':
      return {
        type,
        selected_options: answer === undefined ? optionList(element.initial_options) : many(answer).map((value) => findOption(element, value, where)),
      };
    case 'multi_external_select':
      return {
        type,
        selected_options:
          answer === undefined ? optionList(element.initial_options) : many(answer).map((value) => externalOption(value) ?? { text: value, value }),
      };
    case 'datepicker':
      return { type, selected_date: checkedFormat(single(answer, where), /^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD', where) ?? stringOrNull(element.initial_date) };
    case 'timepicker':
      return { type, selected_time: checkedFormat(single(answer, where), /^\d{2}:\d{2}$/, 'HH:mm', where) ?? stringOrNull(element.initial_time) };
    case 'users_select':
      return { type, selected_user: single(answer, where) ?? stringOrNull(element.initial_user) };
    case 'multi_users_select':
      return { type, selected_users: answer === undefined ? stringList(element.initial_users) : many(answer) };
    case 'conversations_select':
      return { type, selected_conversation: single(answer, where) ?? stringOrNull(element.initial_conversation) };
    case 'multi_conversations_select':
      return { type, selected_conversations: answer === undefined ? stringList(element.initial_conversations) : many(answer) };
    case 'channels_select':
      return { type, selected_channel: single(answer, where) ?? stringOrNull(element.initial_channel) };
    case 'multi_channels_select':
      return { type, selected_channels: answer === undefined ? stringList(element.initial_channels) : many(answer) };
    default:
      throw new Error(`${where}: elements of type ${type} are not supported by these helpers`);
  }
}

function selectedOption(element: JsonObject, answer: Answer | undefined, where: string): { selected_option: SelectedOption | null } {
  if (answer === undefined) return { selected_option: optionOrNull(element.initial_option) };
  const value = single(answer, where);
  return { selected_option: value === null ? null : findOption(element, value, where) };
}

function findOption(element: JsonObject, value: string, where: string): SelectedOption {
  const options = optionsOf(element);
  const found = options.find((option) => option.value === value);
  if (found === undefined) {
    throw new Error(`${where}: "${value}" is not an option of ${String(element.action_id)}; options are ${options.map((o) => o.value).join(', ')}`);
  }
  return found;
}

function optionsOf(element: JsonObject): SelectedOption[] {
  const groups = Array.isArray(element.option_groups) ? element.option_groups.filter(isObject) : [];
  const lists = [element.options, ...groups.map((group) => group.options)];
  return lists.flatMap((list) => optionList(list));
}

function optionList(value: unknown): SelectedOption[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).flatMap((option) => {
    const found = optionOrNull(option);
    return found === null ? [] : [found];
  });
}

function optionOrNull(value: unknown): SelectedOption | null {
  if (!isObject(value) || typeof value.value !== 'string') return null;
  return { ...structuredClone(value), text: value.text, value: value.value };
}

function externalOption(value: string | null): SelectedOption | null {
  return value === null ? null : { text: { type: 'plain_text', text: value }, value };
}

// What Slack's client will not submit: an empty required input, text outside min/max length.
function assertSubmittable(block: JsonObject, element: JsonObject, state: StateValue, blockId: string): void {
  if (block.optional !== true && isEmpty(state)) {
    throw new Error(
      `valuesFor: input block "${blockId}" is required (optional is not true) and has no answer or initial value; Slack would not let the user submit`,
    );
  }
  if (state.type !== 'plain_text_input' || state.value === null) return;
  const length = [...state.value].length;
  if (typeof element.min_length === 'number' && length < element.min_length) {
    throw new Error(`valuesFor: "${blockId}" is ${length} characters, below min_length ${element.min_length}; Slack would not let the user submit`);
  }
  if (typeof element.max_length === 'number' && length > element.max_length) {
    throw new Error(`valuesFor: "${blockId}" is ${length} characters, above max_length ${element.max_length}; Slack would not let the user submit`);
  }
}

function isEmpty(state: StateValue): boolean {
  const value = Object.entries(state).find(([key]) => key !== 'type')?.[1];
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

// ------------------------------------------------------------------ payload pieces

function findElement(blocks: readonly unknown[], actionId: string, blockId: string | undefined): { block: JsonObject; element: JsonObject } {
  const matches = blocks.filter(isObject).flatMap((block) =>
    interactiveElements(block)
      .filter((element) => element.action_id === actionId && (blockId === undefined || block.block_id === blockId))
      .map((element) => ({ block, element })),
  );
  const [match, ...others] = matches;
  if (match === undefined) {
    const known = blocks.filter(isObject).flatMap((block) => interactiveElements(block).map((element) => String(element.action_id)));
    throw new Error(
      `sendBlockAction: no element with action_id "${actionId}"${blockId === undefined ? '' : ` in block "${blockId}"`}; action_ids present: ${known.join(', ') || 'none'}`,
    );
  }
  if (others.length > 0) throw new Error(`sendBlockAction: action_id "${actionId}" is in several blocks; pass blockId`);
  return match;
}

function messageJson(message: MessageLike, teamId: string): JsonObject {
  return {
    type: 'message',
    ...(message.user === undefined ? {} : { user: message.user }),
    ...(message.botId === undefined ? {} : { bot_id: message.botId }),
    text: message.text ?? '',
    ts: message.ts,
    team: teamId,
    blocks: message.blocks ?? [],
    ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
  };
}

/** What every interaction payload carries (block_actions, view_submission, view_closed). */
function interaction(type: string, input: WorkspaceOptions & { userId: string; userName?: string | undefined }): JsonObject {
  const team = workspace(input);
  return {
    type,
    team: { id: team.teamId, domain: team.teamDomain },
    user: userJson(input.userId, input.userName, team.teamId),
    api_app_id: team.apiAppId,
    token: VERIFICATION_TOKEN,
    is_enterprise_install: false,
    enterprise: null,
  };
}

function userJson(userId: string, userName: string | undefined, teamId: string): JsonObject {
  const name = userName ?? userId.toLowerCase();
  return { id: userId, username: name, name, team_id: teamId };
}

function payloadBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function readReply(response: Response): Promise<SlackReply> {
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
  const body: unknown = isJson && text !== '' ? JSON.parse(text) : text;
  return { status: response.status, body, headers: response.headers };
}

function workspace(options: WorkspaceOptions): Required<WorkspaceOptions> {
  return {
    teamId: options.teamId ?? DEFAULT_TEAM.teamId,
    teamDomain: options.teamDomain ?? DEFAULT_TEAM.teamDomain,
    apiAppId: options.apiAppId ?? DEFAULT_TEAM.apiAppId,
  };
}

function single(answer: Answer | undefined, where: string): string | null {
  if (answer === undefined || answer === null) return null;
  if (typeof answer !== 'string') throw new Error(`${where}: expects one value, got ${JSON.stringify(answer)}`);
  return answer;
}

function many(answer: Answer): string[] {
  if (answer === null) return [];
  return typeof answer === 'string' ? [answer] : [...answer];
}

function checkedFormat(value: string | null, format: RegExp, label: string, where: string): string | null {
  if (value !== null && !format.test(value)) throw new Error(`${where}: "${value}" is not in ${label} format`);
  return value;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function tamper(signature: string): string {
  const last = signature.at(-1);
  return `${signature.slice(0, -1)}${last === '0' ? '1' : '0'}`;
}

function fakeTriggerId(): string {
  return `${nowSeconds()}.${Math.floor(Math.random() * 1e9)}.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.${String(now % 1000).padStart(3, '0')}000`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
