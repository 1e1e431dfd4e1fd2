/**
 * Slack Web API emulator: real HTTP on 127.0.0.1, so the bot's real `WebClient` can point at it
 * (`clientOptions: { slackApiUrl: emulator.url }`).
 *
 * It follows Slack's documented behaviour. Method arguments, error codes and scopes come from the
 * method pages on docs.slack.dev (mirrored in slack-ruby/slack-api-ref), and Block Kit limits from
 * the Block Kit reference and the python-slack-sdk validators. Where Slack accepts a call that is
 * almost certainly a bug (a reply to a `thread_ts` that matches no message, blocks with no `text`
 * fallback), the call succeeds as on Slack and a line is added to `warnings`, so tests can assert
 * that there are none.
 *
 * Not modelled: channel names in `#name` form for anything but posting, multi-person DMs,
 * archived channels, `chat.delete`, scheduled messages, Events API deliveries over HTTP (over
 * Socket Mode they are, retries included), and the undocumented aggregate block-text limit
 * (`msg_blocks_too_long`, bolt-js#2509).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { interactiveElements, isObject, type JsonObject } from './blocks.ts';

export type { JsonObject };

export interface ChannelSpec {
  readonly id: string;
  readonly name: string;
  /** User ids in the channel. The bot is a member only if its user id is listed. */
  readonly members: readonly string[];
  readonly isPrivate?: boolean;
}

export interface UserSpec {
  readonly id: string;
  readonly name: string;
  readonly realName?: string;
  readonly isBot?: boolean;
  /** IANA zone, default `UTC`. */
  readonly tz?: string;
  /** A deactivated account: `users.info` says `deleted: true`; messages to it still post, as on Slack. */
  readonly deleted?: boolean;
}

export interface UserGroupSpec {
  readonly id: string;
  readonly handle: string;
  readonly users: readonly string[];
}

export interface SlackApiEmulatorOptions {
  readonly token?: string;
  readonly botUserId?: string;
  readonly botId?: string;
  readonly botName?: string;
  readonly teamId?: string;
  readonly teamDomain?: string;
  readonly appId?: string;
  /** The app-level token (`xapp-…`) that opens Socket Mode connections. Default `xapp-test`. */
  readonly appToken?: string;
  readonly scopes?: readonly string[];
  readonly channels?: readonly ChannelSpec[];
  readonly users?: readonly UserSpec[];
  readonly userGroups?: readonly UserGroupSpec[];
  /** Clock in epoch milliseconds, for trigger expiry and message timestamps. Default `Date.now`. */
  readonly now?: () => number;
  /** The app's Home tab is enabled (App Home settings); without it views.publish answers `not_enabled`. Default true. */
  readonly homeTabEnabled?: boolean;
  /**
   * How long after a failed delivery each retry of an Events API envelope goes out (Socket Mode).
   * Default Slack's: at once, after 1 minute, after 5 minutes; tests shorten them.
   */
  readonly eventRetryDelaysMs?: readonly number[];
}

/** A realistic scope list for Slipway's bot token. */
export const DEFAULT_BOT_SCOPES: readonly string[] = [
  'commands',
  'chat:write',
  'im:write',
  'im:history',
  'users:read',
  'usergroups:read',
  'channels:read',
  'groups:read',
  'files:write',
  'channels:history',
  'groups:history',
];

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** One Socket Mode delivery of an envelope: a retry of an Events API envelope is another delivery with the same id. */
export interface EnvelopeDelivery {
  readonly envelopeId: string;
  readonly type: EnvelopeType;
  /** Which connection it went to: connections are numbered from 1 in the order they opened. */
  readonly connection: number;
  /** 0 for the first delivery, then 1, 2, 3 (`retry_attempt`, Events API only). */
  readonly retryAttempt: number;
  outcome: 'pending' | 'acked' | 'timeout' | 'connection_closed';
}

interface SocketConnection {
  readonly id: number;
  readonly ws: WebSocket;
  /** Envelopes sent on this connection and not acknowledged yet, by id. */
  readonly pending: Map<string, { settle(result: { acked: JsonObject } | { failed: 'timeout' | 'connection_closed' }): void }>;
}

export interface RecordedCall {
  readonly method: string;
  /** Arguments as the method saw them, JSON fields (`blocks`, `view`, …) decoded, `token` removed. */
  readonly args: Readonly<JsonObject>;
  readonly status: number;
  readonly ok: boolean;
  readonly error?: string;
}

export interface EmulatedMessage {
  readonly channel: string;
  readonly ts: string;
  /** Set on replies, and on a parent once it has replies (as Slack does). */
  readonly threadTs?: string;
  readonly user: string;
  readonly botId?: string;
  readonly text: string;
  readonly blocks: readonly JsonObject[];
  readonly attachments: readonly JsonObject[];
  readonly metadata?: JsonObject;
  readonly files: readonly string[];
  readonly edited?: { readonly user: string; readonly ts: string };
  readonly replyBroadcast: boolean;
  /** Thread replies, oldest first (empty for replies themselves). */
  readonly replies: readonly EmulatedMessage[];
}

export interface EphemeralMessage {
  readonly channel: string;
  readonly user: string;
  readonly messageTs: string;
  readonly threadTs?: string;
  readonly text: string;
  readonly blocks: readonly JsonObject[];
  readonly via: 'chat.postEphemeral' | 'response_url';
}

/** A view as Slack returns it from `views.open` / `views.update` / `views.push` / `views.publish`. */
export interface EmulatedView {
  readonly id: string;
  readonly team_id: string;
  readonly type: 'modal' | 'home';
  readonly title: JsonObject | null;
  readonly close: JsonObject | null;
  readonly submit: JsonObject | null;
  readonly blocks: readonly JsonObject[];
  readonly private_metadata: string;
  readonly callback_id: string;
  readonly external_id: string;
  readonly state: { readonly values: Readonly<Record<string, Readonly<Record<string, JsonObject>>>> };
  readonly hash: string;
  readonly clear_on_close: boolean;
  readonly notify_on_close: boolean;
  readonly root_view_id: string | null;
  readonly previous_view_id: string | null;
  readonly app_id: string;
  readonly app_installed_team_id: string;
  readonly bot_id: string;
}

export type ViewSource = 'views.open' | 'views.push' | 'views.publish';

export interface ViewRecord {
  readonly view: EmulatedView;
  readonly userId: string | undefined;
  readonly openedWith: ViewSource;
  readonly isOpen: boolean;
}

export interface UploadedFile {
  readonly id: string;
  readonly filename: string;
  /** The `length` declared to `files.getUploadURLExternal`. */
  readonly declaredLength: number;
  /** Bytes received on the upload URL, or undefined if nothing was uploaded. */
  readonly bytes: Buffer | undefined;
  readonly title?: string;
  readonly completed: boolean;
  readonly channelId?: string;
  readonly threadTs?: string;
  readonly initialComment?: string;
}

export interface ResponseUrlPost {
  readonly url: string;
  readonly channelId?: string;
  readonly userId?: string;
  readonly body: JsonObject;
  readonly status: number;
}

export interface RateLimitOptions {
  readonly times: number;
  readonly retryAfterSeconds: number;
}

// Limits. Sources: docs.slack.dev/reference/block-kit/*, method pages, python-slack-sdk
// slack_sdk/models/{blocks,views}.
const TRIGGER_TTL_MS = 3_000;
// "The expected format for the trigger_id argument is "132456.7890123.abcdef"" (views.open errors).
const TRIGGER_FORMAT = /^\d+\.\d+\.[0-9a-f]+$/i;
const MAX_MESSAGE_BLOCKS = 50;
const MAX_VIEW_BLOCKS = 100;
// chat.postMessage has no msg_too_long error: Slack truncates text above 40,000 characters
// (changelog 2018-04-truncating-really-long-messages).
const MESSAGE_TEXT_TRUNCATE_AT = 40_000;
// chat.update: "msg_too_long: The `text` field cannot exceed 4,000 characters."
const UPDATE_TEXT_MAX = 4_000;
// chat.postEphemeral lists msg_too_long without a figure; the 40,000 message limit is assumed.
const EPHEMERAL_TEXT_MAX = 40_000;
const MARKDOWN_TEXT_MAX = 12_000;
const MAX_ATTACHMENTS = 100;
// "view_too_large: Error returned if the provided view is greater than 250kb."
const MAX_VIEW_BYTES = 250 * 1024;
// views.push: "push_limit_reached … Currently the limit is 3."
const MAX_VIEW_STACK = 3;
// response_url: at most 5 responses within 30 minutes (https://api.slack.com/interactivity/handling#message_responses).
const RESPONSE_URL_USES = 5;
const UPLOAD_PATH = '/upload/v1/';
const SOCKET_PATH = '/socket-mode';
// "Socket Mode allows your app to maintain up to 10 open WebSocket connections at the same time."
const MAX_SOCKET_CONNECTIONS = 10;
// Events API redeliveries: nearly at once, after 1 minute, after 5 minutes.
const EVENT_RETRY_DELAYS_MS: readonly number[] = [0, 60_000, 300_000];
const RESPONSE_URL_PATH = '/commands/';

// Methods that accept application/json bodies ("json_input_supported" in the method specs).
// The others only read form fields and the query string.
const JSON_INPUT_METHODS: ReadonlySet<string> = new Set([
  'auth.test',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'views.open',
  'views.update',
  'views.push',
  'views.publish',
  'conversations.open',
  'files.completeUploadExternal',
]);

// Scopes each method documents, sent back in `x-accepted-oauth-scopes` as Slack does.
const ACCEPTED_SCOPES: Readonly<Record<string, string>> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'conversations.open': 'channels:manage,groups:write,im:write,mpim:write',
  'conversations.info': 'channels:read,groups:read,im:read,mpim:read',
  'conversations.members': 'channels:read,groups:read,im:read,mpim:read',
  'conversations.replies': 'channels:history,groups:history,im:history,mpim:history',
  'conversations.history': 'channels:history,groups:history,im:history,mpim:history',
  'users.info': 'users:read',
  'usergroups.users.list': 'usergroups:read',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
};

// Object arguments arrive JSON-encoded inside form fields (WebClient `serializeBody`).
const JSON_FIELDS: readonly string[] = ['blocks', 'attachments', 'view', 'files', 'metadata'];

type Args = Readonly<JsonObject>;
type Handler = (args: Args) => JsonObject;
type ConversationKind = 'public' | 'private' | 'im';
type Failure = { readonly kind: 'platform'; readonly error: string } | { readonly kind: 'http'; readonly status: number };

interface Conversation {
  readonly id: string;
  readonly name: string;
  readonly kind: ConversationKind;
  readonly members: Set<string>;
  readonly imUser?: string;
  readonly created: number;
  readonly messages: StoredMessage[];
  readonly byTs: Map<string, StoredMessage>;
}

interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  threadTs?: string;
  readonly user: string;
  readonly botId?: string;
  text: string;
  blocks: JsonObject[];
  attachments: JsonObject[];
  metadata?: JsonObject;
  readonly files: string[];
  edited?: { user: string; ts: string };
  readonly replyBroadcast: boolean;
  readonly replies: StoredMessage[];
}

interface MessageDraft {
  readonly user: string;
  readonly botId?: string;
  readonly text: string;
  readonly blocks?: JsonObject[];
  readonly attachments?: JsonObject[];
  readonly metadata?: JsonObject;
  readonly files?: string[];
  readonly threadTs?: string;
  readonly replyBroadcast?: boolean;
}

interface MessageContent {
  readonly text?: string;
  readonly blocks?: JsonObject[];
  readonly attachments?: JsonObject[];
  readonly metadata?: JsonObject;
}

interface StoredView {
  view: EmulatedView;
  readonly userId: string | undefined;
  readonly openedWith: ViewSource;
  isOpen: boolean;
}

interface TriggerRecord {
  readonly issuedAt: number;
  readonly userId: string | undefined;
  exchanged: boolean;
}

interface StoredFile {
  readonly id: string;
  readonly filename: string;
  readonly declaredLength: number;
  bytes: Buffer | undefined;
  title?: string;
  completed: boolean;
  channelId?: string;
  threadTs?: string;
  initialComment?: string;
}

interface ResponseUrlRecord {
  readonly channelId?: string;
  readonly userId?: string;
  readonly messageTs?: string;
  uses: number;
}

interface Reply {
  readonly status: number;
  readonly body: JsonObject;
  readonly headers: Readonly<Record<string, string>>;
}

/** A Slack platform error: answered as HTTP 200 `{ ok: false, error, ...extra }`. */
class ApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: JsonObject = {},
  ) {
    super(error);
  }
}

export class SlackApiEmulator {
  readonly token: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly botName: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly scopes: readonly string[];
  readonly homeTabEnabled: boolean;

  private readonly now: () => number;
  private readonly server: Server;
  private port: number | undefined;
  private readonly handlers: ReadonlyMap<string, Handler>;
  private readonly conversations = new Map<string, Conversation>();
  private readonly dmByUser = new Map<string, Conversation>();
  private readonly users = new Map<string, UserSpec>();
  private readonly userGroups = new Map<string, UserGroupSpec>();
  private readonly callLog: RecordedCall[] = [];
  private readonly ephemeralLog: EphemeralMessage[] = [];
  private readonly viewStore = new Map<string, StoredView>();
  private readonly modalStacks = new Map<string, string[]>();
  private readonly homeViewByUser = new Map<string, string>();
  private readonly triggers = new Map<string, TriggerRecord>();
  private readonly fileStore = new Map<string, StoredFile>();
  private readonly responseUrls = new Map<string, ResponseUrlRecord>();
  private readonly responseLog: ResponseUrlPost[] = [];
  private readonly rateLimits = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  private readonly stalls = new Map<string, { remaining: number; ms: number; when: ((args: Args) => boolean) | undefined }>();
  private readonly lostAnswers = new Map<string, number>();
  private readonly failures = new Map<string, Failure[]>();
  private readonly warningLog: string[] = [];
  private lastOpenedViewId: string | undefined;
  private lastTsSeconds = 0;
  private tsCounter = 0;
  private triggerCounter = 0;

  constructor(options: SlackApiEmulatorOptions = {}) {
    this.token = options.token ?? 'xoxb-test';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.botId = options.botId ?? 'B0BOT';
    this.botName = options.botName ?? 'slipway';
    this.teamId = options.teamId ?? 'T0TEAM';
    this.teamDomain = options.teamDomain ?? 'slipway-test';
    this.appId = options.appId ?? 'A0APP';
    this.scopes = [...(options.scopes ?? DEFAULT_BOT_SCOPES)];
    this.homeTabEnabled = options.homeTabEnabled ?? true;
    this.now = options.now ?? Date.now;
    this.users.set(this.botUserId, { id: this.botUserId, name: this.botName, isBot: true });
    for (const user of options.users ?? []) this.addUser(user);
    for (const channel of options.channels ?? []) this.addChannel(channel);
    for (const group of options.userGroups ?? []) this.userGroups.set(group.id, group);
    this.handlers = this.buildHandlers();
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.appToken = options.appToken ?? 'xapp-test';
    this.eventRetryDelaysMs = options.eventRetryDelaysMs ?? EVENT_RETRY_DELAYS_MS;
    this.server.on('upgrade', (req, socket, head) => {
      if (!(req.url ?? '').startsWith(SOCKET_PATH)) return socket.destroy();
      this.socketServer.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  /** Starts an emulator listening on an ephemeral port of 127.0.0.1. */
  static async start(options: SlackApiEmulatorOptions = {}): Promise<SlackApiEmulator> {
    const emulator = new SlackApiEmulator(options);
    await emulator.listen();
    return emulator;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('slack-api emulator: no TCP address');
    this.port = address.port;
  }

  async close(): Promise<void> {
    if (this.port === undefined) return;
    this.port = undefined;
    for (const timer of this.retryTimers) clearTimeout(timer);
    for (const connection of this.sockets) connection.ws.terminate();
    this.socketServer.close();
    // WebClient keeps connections alive; close them or server.close() waits for them.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Origin of the emulator, e.g. `http://127.0.0.1:41234`. */
  get origin(): string {
    if (this.port === undefined) throw new Error('slack-api emulator is not listening: call listen() or start()');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Base URL for `WebClient`'s `slackApiUrl`; ends in `/api/`. */
  get url(): string {
    return `${this.origin}/api/`;
  }

  // ---------------------------------------------------------------- test controls

  /** Issues a `trigger_id`: valid for 3 s and usable once, as Slack's are. */
  issueTriggerId(userId?: string): string {
    this.triggerCounter += 1;
    const id = `${Math.floor(this.now() / 1000)}.${this.triggerCounter}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { issuedAt: this.now(), userId, exchanged: false });
    return id;
  }

  /** Issues a `response_url` served by the emulator, for slash commands and interactions. */
  issueResponseUrl(target: { channelId?: string; userId?: string; messageTs?: string } = {}): string {
    const id = randomBytes(12).toString('hex');
    this.responseUrls.set(id, { ...target, uses: 0 });
    return `${this.origin}${RESPONSE_URL_PATH}${this.teamId}/${id}`;
  }

  /**
   * Deactivates a person, as a workspace admin does when someone leaves: they stay in `users.info`
   * with `deleted: true`, and chat.postMessage to them still succeeds (python-slack-sdk#1156).
   */
  deactivateUser(userId: string): void {
    const user = this.users.get(userId);
    if (user === undefined) throw new Error(`no user ${userId}`);
    this.users.set(userId, { ...user, deleted: true });
  }

  /**
   * Replaces a user group's members, as a workspace admin editing the group does (what
   * `usergroups.users.update` sets); the next `usergroups.users.list` answers with them.
   */
  setUserGroupMembers(groupId: string, users: readonly string[]): void {
    const group = this.userGroups.get(groupId);
    if (group === undefined) throw new Error(`no user group ${groupId}`);
    this.userGroups.set(groupId, { ...group, users: [...users] });
  }

  /** The next `times` calls to `method` answer HTTP 429 with `Retry-After`. */
  rateLimit(method: string, options: RateLimitOptions): void {
    this.rateLimits.set(method, { remaining: options.times, retryAfterSeconds: options.retryAfterSeconds });
  }

  /**
   * The next `times` calls to `method` are carried out at once but answered only after `ms`, as
   * when the network or Slack is slow: the caller cannot tell whether the call took effect.
   * With `when`, only the calls whose arguments it accepts are stalled (and counted).
   */
  stall(method: string, ms: number, times = 1, when?: (args: Args) => boolean): void {
    this.stalls.set(method, { remaining: times, ms, when });
  }

  /**
   * The next `times` calls to `method` are carried out, then the connection is reset before the
   * answer is sent, as when a connection drops on the way back.
   */
  loseAnswer(method: string, times = 1): void {
    this.lostAnswers.set(method, times);
  }

  /** The next call to `method` answers `{ ok: false, error }` (queued; one per call). */
  failNext(method: string, error: string): void {
    this.queueFailure(method, { kind: 'platform', error });
  }

  /** The next call to `method` answers with a bare HTTP `status` (e.g. 500, 503). */
  failNextWithStatus(method: string, status: number): void {
    this.queueFailure(method, { kind: 'http', status });
  }

  /** Adds a message from someone other than the bot (e.g. a user's thread reply). Returns its ts. */
  seedMessage(channelOrUserId: string, message: { user: string; text: string; threadTs?: string; blocks?: JsonObject[] }): string {
    const conversation = this.users.has(channelOrUserId) ? this.openDm(channelOrUserId) : this.conversationForTest(channelOrUserId);
    const { user, text, threadTs, blocks } = message;
    return this.storeMessage(conversation, { user, text, threadTs, blocks: blocks ? normalizeBlocks(blocks) : [] }).ts;
  }

  /** The user dismissed the view (or it closed after a plain submission ack): it and views above it close. */
  closeView(viewId: string): void {
    const stored = this.storedView(viewId);
    stored.isOpen = false;
    const stack = this.modalStacks.get(stackKey(stored.userId));
    const index = stack?.indexOf(viewId) ?? -1;
    if (stack === undefined || index === -1) return;
    for (const id of stack.splice(index)) this.storedView(id).isOpen = false;
  }

  /**
   * Applies what the bot acked to a `view_submission` the way Slack's client does: no
   * `response_action` closes the submitted view, `clear` closes the stack, `update` replaces it,
   * `push` pushes, `errors` leaves it open. Throws if the ack carries an invalid view.
   */
  applySubmissionAck(viewId: string, ack: unknown): void {
    const stored = this.storedView(viewId);
    const action = isObject(ack) ? ack.response_action : undefined;
    if (action === undefined || action === null) return this.closeView(viewId);
    if (action === 'errors') return;
    if (action === 'clear') return this.closeView(stored.view.root_view_id ?? viewId);
    if (!isObject(ack) || (action !== 'update' && action !== 'push')) {
      throw new Error(`slack-api emulator: unknown response_action ${JSON.stringify(action)}`);
    }
    const problems = validateView(ack.view, 'modal');
    if (problems.length > 0) throw new Error(`response_action ${action} carries an invalid view:\n${problems.map(formatProblem).join('\n')}`);
    const input = ack.view;
    if (!isObject(input)) return;
    if (action === 'update') {
      stored.view = this.buildView(input, stored.view.id, stored.view.root_view_id, stored.view.previous_view_id, stored.view.state);
      return;
    }
    const stack = this.modalStacks.get(stackKey(stored.userId)) ?? [];
    if (stack.length >= MAX_VIEW_STACK) throw new Error('response_action push: push_limit_reached');
    this.createModal(input, stored.userId, 'views.push', stack);
  }

  /**
   * Drops what piles up over a long run and no later call can use: the call log, closed views and
   * trigger ids past their 3 s. A soak of many commands (bench:ack) calls it between blocks so the
   * emulator's own memory stays bounded; inspection afterwards sees only later calls.
   */
  forgetHistory(): void {
    this.callLog.length = 0;
    const home = new Set(this.homeViewByUser.values());
    for (const [id, stored] of this.viewStore) {
      if (!stored.isOpen && !home.has(id) && id !== this.lastOpenedViewId) this.viewStore.delete(id);
    }
    const now = this.now();
    for (const [id, trigger] of this.triggers) if (now - trigger.issuedAt > TRIGGER_TTL_MS) this.triggers.delete(id);
  }

  // ---------------------------------------------------------------- inspection

  get calls(): readonly RecordedCall[] {
    return [...this.callLog];
  }

  callsTo(method: string): readonly RecordedCall[] {
    return this.callLog.filter((call) => call.method === method);
  }

  /**
   * Top-level messages of a channel (id or name; a user id means the bot's DM with that user),
   * oldest first, as they are now (after updates). Throws for a channel that is not configured.
   */
  messages(channelId: string): EmulatedMessage[] {
    const conversation = this.users.has(channelId) ? this.dmByUser.get(channelId) : this.conversationForTest(channelId);
    return conversation === undefined ? [] : conversation.messages.map(snapshotMessage);
  }

  /**
   * Replies whose `thread_ts` is `ts` in that channel, oldest first. This includes replies to a
   * `thread_ts` that matches no message, which Slack accepts but nobody can see (see `warnings`).
   */
  thread(channelId: string, ts: string): EmulatedMessage[] {
    const conversation = this.conversationForTest(channelId);
    const parent = conversation.byTs.get(ts);
    if (parent !== undefined && parent.threadTs === parent.ts) return parent.replies.map(snapshotMessage);
    return [...conversation.byTs.values()].filter((m) => m.threadTs === ts && m.ts !== ts).map(snapshotMessage);
  }

  /**
   * Top-level messages in the bot's DM with `userId`, oldest first. Thread replies are not in
   * the list; each message carries its own `replies`.
   */
  dmWith(userId: string): EmulatedMessage[] {
    return this.dmByUser.get(userId)?.messages.map(snapshotMessage) ?? [];
  }

  /** Id of the bot's DM with `userId` (`D…`), if one has been opened. */
  dmChannelId(userId: string): string | undefined {
    return this.dmByUser.get(userId)?.id;
  }

  ephemerals(userId?: string): EphemeralMessage[] {
    return this.ephemeralLog.filter((m) => userId === undefined || m.user === userId).map((m) => structuredClone(m));
  }

  /**
   * The views opened with `callbackId` (modals and pushed views) for `userId`, oldest first, each
   * copied: what `views` gives filtered, without copying every other view (Home tabs among them).
   */
  viewsFor(userId: string, callbackId: string): EmulatedView[] {
    return [...this.viewStore.values()]
      .filter((stored) => stored.userId === userId && stored.view.callback_id === callbackId)
      .map((stored) => structuredClone(stored.view));
  }

  /**
   * The top-level messages of a channel whose text matches, oldest first, each copied: what
   * `messages` gives filtered, without copying every other message.
   */
  messagesMatching(channelId: string, text: RegExp): EmulatedMessage[] {
    const conversation = this.users.has(channelId) ? this.dmByUser.get(channelId) : this.conversationForTest(channelId);
    return conversation?.messages.filter((m) => text.test(m.text)).map(snapshotMessage) ?? [];
  }

  get views(): readonly ViewRecord[] {
    return [...this.viewStore.values()].map((stored) => ({
      view: structuredClone(stored.view),
      userId: stored.userId,
      openedWith: stored.openedWith,
      isOpen: stored.isOpen,
    }));
  }

  /** The modal opened by the latest successful `views.open`, as it is now. Throws if none. */
  lastViewOpened(): EmulatedView {
    if (this.lastOpenedViewId === undefined) throw new Error('slack-api emulator: no views.open call has succeeded');
    return this.view(this.lastOpenedViewId);
  }

  /** The current state of a view by id. Throws if unknown. */
  view(viewId: string): EmulatedView {
    return structuredClone(this.storedView(viewId).view);
  }

  /** The Home tab published for `userId`, if any. */
  homeView(userId: string): EmulatedView | undefined {
    const id = this.homeViewByUser.get(userId);
    return id === undefined ? undefined : this.view(id);
  }

  get uploadedFiles(): readonly UploadedFile[] {
    return [...this.fileStore.values()].map((file) => ({ ...file }));
  }

  get responseUrlPosts(): readonly ResponseUrlPost[] {
    return this.responseLog.map((post) => structuredClone(post));
  }

  /** Calls Slack accepts that are almost certainly bugs (orphan thread replies, …). */
  get warnings(): readonly string[] {
    return [...this.warningLog];
  }

  // ---------------------------------------------------------------- HTTP

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    readBody(req)
      .then((raw) => this.route(req, raw, res))
      .catch((error: unknown) => {
        // An emulator bug must not look like a Slack answer: fail loudly.
        sendText(res, 500, `slack-api emulator error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      });
  }

  private route(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/api/')) {
      this.serveApi(decodeURIComponent(url.pathname.slice('/api/'.length)), req, url, raw, res);
    } else if (url.pathname.startsWith(UPLOAD_PATH) && req.method === 'POST') {
      this.serveUpload(url.pathname.slice(UPLOAD_PATH.length), req.headers, raw, res);
    } else if (url.pathname.startsWith(RESPONSE_URL_PATH) && req.method === 'POST') {
      this.serveResponseUrl(url, req.headers, raw, res);
    } else {
      sendText(res, 404, 'not found');
    }
  }

  private serveApi(method: string, req: IncomingMessage, url: URL, raw: Buffer, res: ServerResponse): void {
    const request = parseApiRequest(req.headers, raw, url.searchParams);
    // "To make use of sending JSON on write operations, you must provide your token value using
    // an Authorization HTTP header." https://docs.slack.dev/changelog/2017-10-keeping-up-with-the-jsons
    const args = request.isJson && !JSON_INPUT_METHODS.has(method) ? request.queryArgs : request.args;
    const reply = this.answer(method, request.error, args, bearerToken(req.headers.authorization) ?? request.formToken);
    const error = typeof reply.body.error === 'string' ? reply.body.error : undefined;
    this.callLog.push({ method, args, status: reply.status, ok: reply.body.ok === true, ...(error === undefined ? {} : { error }) });
    const answer = () => {
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    };
    const lost = this.lostAnswers.get(method) ?? 0;
    if (lost > 0) {
      this.lostAnswers.set(method, lost - 1);
      req.socket.destroy();
      return;
    }
    const stall = this.stalls.get(method);
    if (stall === undefined || stall.remaining <= 0 || stall.when?.(args) === false) return answer();
    stall.remaining -= 1;
    setTimeout(answer, stall.ms).unref();
  }

  private answer(method: string, requestError: string | undefined, args: Args, token: string | undefined): Reply {
    if (requestError !== undefined) return platformReply(requestError);
    if (method === 'apps.connections.open') return this.appsConnectionsOpen(token);
    const handler = this.handlers.get(method);
    if (handler === undefined) {
      this.warn(`${method} was called, but the emulator does not implement it (answered unknown_method)`);
      return platformReply('unknown_method');
    }
    if (token === undefined) return platformReply('not_authed');
    if (token !== this.token) return platformReply('invalid_auth');
    const accepted = ACCEPTED_SCOPES[method];
    const headers = { 'x-oauth-scopes': this.scopes.join(','), ...(accepted === undefined ? {} : { 'x-accepted-oauth-scopes': accepted }) };
    const limited = this.takeRateLimit(method);
    if (limited !== undefined) {
      return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { ...headers, 'retry-after': String(limited) } };
    }
    const failure = this.failures.get(method)?.shift();
    if (failure?.kind === 'http') return { status: failure.status, body: { ok: false, error: `http_${failure.status}` }, headers };
    if (failure?.kind === 'platform') return { status: 200, body: { ok: false, error: failure.error }, headers };
    try {
      return { status: 200, body: { ok: true, ...handler(args) }, headers };
    } catch (error) {
      if (error instanceof ApiError) return { status: 200, body: { ok: false, error: error.error, ...error.extra }, headers };
      throw error;
    }
  }

  private serveUpload(fileId: string, headers: IncomingHttpHeaders, raw: Buffer, res: ServerResponse): void {
    const file = this.fileStore.get(fileId);
    if (file === undefined) return sendText(res, 404, 'file_not_found');
    file.bytes = uploadedBytes(headers['content-type'], raw);
    sendText(res, 200, `OK - ${file.bytes.length}`);
  }

  private serveResponseUrl(url: URL, headers: IncomingHttpHeaders, raw: Buffer, res: ServerResponse): void {
    const id = url.pathname.split('/').at(-1) ?? '';
    const record = this.responseUrls.get(id);
    if (record === undefined) return sendText(res, 404, 'invalid_url');
    const body = parseJsonObject(raw) ?? parseFormPayload(headers['content-type'], raw);
    const status = body === undefined ? 400 : this.applyResponse(record, body);
    this.responseLog.push({ url: url.href, channelId: record.channelId, userId: record.userId, body: body ?? {}, status });
    sendText(res, status, status === 200 ? 'ok' : 'invalid_payload');
  }

  // A response_url post: ephemeral by default, `in_channel` posts, `replace_original` /
  // `delete_original` act on the message the interaction came from.
  private applyResponse(record: ResponseUrlRecord, body: JsonObject): number {
    record.uses += 1;
    if (record.uses > RESPONSE_URL_USES) this.warn(`response_url used ${record.uses} times; Slack allows ${RESPONSE_URL_USES} in 30 minutes`);
    if (body.blocks !== undefined && (!Array.isArray(body.blocks) || validateMessageBlocks(body.blocks).length > 0)) return 400;
    const conversation = record.channelId === undefined ? undefined : this.conversations.get(record.channelId);
    const original = record.messageTs === undefined ? undefined : conversation?.byTs.get(record.messageTs);
    if (body.delete_original === true || body.delete_original === 'true') {
      if (conversation !== undefined && original !== undefined) removeMessage(conversation, original);
      return 200;
    }
    const text = typeof body.text === 'string' ? body.text : '';
    const blocks = Array.isArray(body.blocks) ? normalizeBlocks(body.blocks) : undefined;
    if (text === '' && blocks === undefined) return 400;
    if ((body.replace_original === true || body.replace_original === 'true') && original !== undefined) {
      original.text = text;
      original.blocks = blocks ?? [];
      return 200;
    }
    if (body.response_type === 'in_channel' && conversation !== undefined) {
      this.storeMessage(conversation, { user: this.botUserId, botId: this.botId, text, blocks });
    } else if (record.userId !== undefined) {
      const messageTs = this.nextTs();
      this.ephemeralLog.push({ channel: record.channelId ?? '', user: record.userId, messageTs, text, blocks: blocks ?? [], via: 'response_url' });
    }
    return 200;
  }

  // ---------------------------------------------------------------- methods

  private buildHandlers(): ReadonlyMap<string, Handler> {
    return new Map<string, Handler>([
      ['auth.test', () => this.authTest()],
      ['chat.postMessage', (args) => this.chatPostMessage(args)],
      ['chat.update', (args) => this.chatUpdate(args)],
      ['chat.postEphemeral', (args) => this.chatPostEphemeral(args)],
      ['chat.getPermalink', (args) => this.chatGetPermalink(args)],
      ['views.open', (args) => this.viewsOpen(args)],
      ['views.push', (args) => this.viewsPush(args)],
      ['views.update', (args) => this.viewsUpdate(args)],
      ['views.publish', (args) => this.viewsPublish(args)],
      ['conversations.open', (args) => this.conversationsOpen(args)],
      ['conversations.info', (args) => this.conversationsInfo(args)],
      ['conversations.members', (args) => this.conversationsMembers(args)],
      ['conversations.replies', (args) => this.conversationsReplies(args)],
      ['conversations.history', (args) => this.conversationsHistory(args)],
      ['users.info', (args) => this.usersInfo(args)],
      ['usergroups.users.list', (args) => this.usergroupsUsersList(args)],
      ['files.getUploadURLExternal', (args) => this.filesGetUploadUrlExternal(args)],
      ['files.completeUploadExternal', (args) => this.filesCompleteUploadExternal(args)],
    ]);
  }

  // ---------------------------------------------------------------- Socket Mode
  // https://docs.slack.dev/apis/events-api/using-socket-mode: apps.connections.open takes the
  // app-level token (xapp-) and returns a WebSocket URL; the server says `hello`, then sends
  // envelopes, and the app acknowledges each with `{ envelope_id, payload? }`. "Socket Mode allows
  // your app to maintain up to 10 open WebSocket connections at the same time. When multiple
  // connections are active, each payload may be sent to any of the connections" (#connections):
  // each envelope goes to one connection only, here the open ones in turn. An app acknowledges
  // "each event so that Slack knows whether to retry" (#events): an Events API envelope that is
  // not acknowledged within 3 s, or whose connection closes first, is delivered again, to any open
  // connection, with `retry_attempt` and `retry_reason` (up to 3 retries: at once, after 1 min,
  // after 5 min, as Events API retries are described; the reason's wording is not documented for
  // Socket Mode). Slash commands and interactions are not retried: the person sees an error.

  private readonly appToken: string;
  private readonly socketServer = new WebSocketServer({ noServer: true });
  private readonly sockets: SocketConnection[] = [];
  private readonly deliveryLog: EnvelopeDelivery[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly eventRetryDelaysMs: readonly number[];
  private connectionCount = 0;
  private envelopeCount = 0;
  private nextSocket = 0;

  private appsConnectionsOpen(token: string | undefined): Reply {
    if (token === undefined) return platformReply('not_authed');
    // A bot token is the wrong kind of token for this method.
    if (token !== this.appToken) return platformReply(token.startsWith('xapp-') ? 'invalid_auth' : 'not_allowed_token_type');
    return { status: 200, headers: {}, body: { ok: true, url: `ws://127.0.0.1:${this.port ?? 0}${SOCKET_PATH}?ticket=${randomUUID()}` } };
  }

  private onSocket(ws: WebSocket): void {
    if (this.sockets.length >= MAX_SOCKET_CONNECTIONS) {
      // What Slack does with an 11th connection is not documented; the emulator refuses it.
      this.warn(`Socket Mode: an app may keep at most ${MAX_SOCKET_CONNECTIONS} connections open; connection refused`);
      ws.terminate();
      return;
    }
    const connection: SocketConnection = { id: ++this.connectionCount, ws, pending: new Map() };
    this.sockets.push(connection);
    ws.on('close', () => this.onSocketClosed(connection));
    ws.on('message', (data) => {
      let ack: unknown;
      try {
        ack = JSON.parse(String(data));
      } catch {
        return this.warn('Socket Mode: the app sent a message that is not JSON');
      }
      if (!isObject(ack) || typeof ack.envelope_id !== 'string') return this.warn('Socket Mode: a message without envelope_id');
      const pending = connection.pending.get(ack.envelope_id);
      if (pending === undefined) {
        const elsewhere = this.sockets.find((c) => c.pending.has(String(ack.envelope_id)));
        return this.warn(
          elsewhere === undefined
            ? `Socket Mode: ${ack.envelope_id} acknowledged, but it is not waiting for an acknowledgement`
            : `Socket Mode: ${ack.envelope_id} acknowledged on connection ${connection.id}, but it was sent on connection ${elsewhere.id}`,
        );
      }
      connection.pending.delete(ack.envelope_id);
      pending.settle({ acked: ack });
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.length, connection_info: { app_id: this.appId } }));
  }

  private onSocketClosed(connection: SocketConnection): void {
    const index = this.sockets.indexOf(connection);
    if (index !== -1) this.sockets.splice(index, 1);
    for (const pending of connection.pending.values()) pending.settle({ failed: 'connection_closed' });
    connection.pending.clear();
  }

  /** Open Socket Mode connections. */
  get socketConnections(): number {
    return this.sockets.length;
  }

  /** Every envelope sent over Socket Mode (retries included), in order, with the connection it went to and its outcome. */
  get envelopes(): readonly EnvelopeDelivery[] {
    return this.deliveryLog.map((d) => ({ ...d }));
  }

  /**
   * Delivers an envelope over one open Socket Mode connection (`slash_commands`, `interactive` or
   * `events_api`) and resolves with the app's acknowledgement. Rejects when none comes on that
   * connection within `timeoutMs`, or the connection closes first; an Events API envelope is then
   * retried in the background (see `envelopes`).
   */
  sendEnvelope(type: EnvelopeType, payload: JsonObject, timeoutMs = 3000): Promise<JsonObject> {
    const envelopeId = `env-${++this.envelopeCount}`;
    return new Promise((resolve, reject) => {
      const attempt = (retryAttempt: number): void => {
        const connection = this.pickSocket();
        if (connection === undefined) return reject(new Error('no Socket Mode connection is open'));
        const delivery: EnvelopeDelivery = { envelopeId, type, connection: connection.id, retryAttempt, outcome: 'pending' };
        this.deliveryLog.push(delivery);
        const timer = setTimeout(() => {
          connection.pending.delete(envelopeId);
          settle({ failed: 'timeout' });
        }, timeoutMs);
        const settle = (result: { acked: JsonObject } | { failed: 'timeout' | 'connection_closed' }): void => {
          clearTimeout(timer);
          if ('acked' in result) {
            delivery.outcome = 'acked';
            return retryAttempt === 0 ? resolve(result.acked) : undefined;
          }
          delivery.outcome = result.failed;
          if (retryAttempt === 0) {
            const why = result.failed === 'timeout' ? `within ${timeoutMs} ms` : 'before its connection closed';
            reject(new Error(`no acknowledgement of ${envelopeId} (${type}) on connection ${connection.id} ${why}`));
          }
          const delay = this.eventRetryDelaysMs[retryAttempt];
          if (type !== 'events_api' || delay === undefined || this.port === undefined) return;
          const retry = setTimeout(() => {
            this.retryTimers.delete(retry);
            attempt(retryAttempt + 1);
          }, delay);
          retry.unref();
          this.retryTimers.add(retry);
        };
        connection.pending.set(envelopeId, { settle });
        const retry = type === 'events_api' ? { retry_attempt: retryAttempt, retry_reason: retryAttempt === 0 ? '' : 'timeout' } : {};
        connection.ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api', ...retry }));
      };
      attempt(0);
    });
  }

  /** The open connections in turn: Slack promises no pattern, only that each envelope goes to one of them. */
  private pickSocket(): SocketConnection | undefined {
    if (this.sockets.length === 0) return undefined;
    const connection = this.sockets[this.nextSocket % this.sockets.length];
    this.nextSocket += 1;
    return connection;
  }

  private authTest(): JsonObject {
    return {
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.teamDomain,
      user: this.botName,
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    };
  }

  private chatPostMessage(args: Args): JsonObject {
    this.requireScope('chat:write');
    const conversation = this.resolveConversation(stringArg(args, 'channel'), { allowUserId: true });
    this.assertCanPost(conversation);
    const content = readMessageContent(args);
    if (!hasContent(content)) throw new ApiError('no_text');
    if (content.text === undefined && content.blocks !== undefined) {
      this.warn(`chat.postMessage to ${conversation.id} has blocks but no text: Slack uses text for notifications and screen readers`);
    }
    const message = this.storeMessage(conversation, {
      user: this.botUserId,
      botId: this.botId,
      text: truncate(content.text ?? '', MESSAGE_TEXT_TRUNCATE_AT),
      blocks: content.blocks,
      attachments: content.attachments,
      metadata: content.metadata,
      threadTs: stringArg(args, 'thread_ts'),
      replyBroadcast: boolArg(args, 'reply_broadcast'),
    });
    return { channel: conversation.id, ts: message.ts, message: this.messageJson(message) };
  }

  private chatUpdate(args: Args): JsonObject {
    this.requireScope('chat:write');
    // "For direct messages, ensure that this value is a DM ID (starts with D) instead of a User ID."
    const conversation = this.resolveConversation(stringArg(args, 'channel'));
    const ts = stringArg(args, 'ts');
    const message = ts === undefined ? undefined : conversation.byTs.get(ts);
    if (message === undefined) throw new ApiError('message_not_found');
    if (message.user !== this.botUserId) throw new ApiError('cant_update_message');
    const content = readMessageContent(args);
    if (!hasContent(content)) throw new ApiError('no_text');
    if (content.text !== undefined && charLength(content.text) > UPDATE_TEXT_MAX) throw new ApiError('msg_too_long');
    // Omitted blocks/attachments/metadata are kept, per the chat.update argument docs.
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks !== undefined) message.blocks = content.blocks;
    if (content.attachments !== undefined) message.attachments = content.attachments;
    if (content.metadata !== undefined) message.metadata = content.metadata;
    message.edited = { user: this.botUserId, ts: this.nextTs() };
    return { channel: conversation.id, ts: message.ts, text: message.text, message: this.messageJson(message) };
  }

  private chatPostEphemeral(args: Args): JsonObject {
    this.requireScope('chat:write');
    const conversation = this.resolveConversation(stringArg(args, 'channel'));
    const user = stringArg(args, 'user');
    const isMember = user !== undefined && (conversation.kind === 'im' ? conversation.imUser === user : conversation.members.has(user));
    if (user === undefined || !isMember) throw new ApiError('user_not_in_channel');
    this.assertCanPost(conversation);
    const content = readMessageContent(args);
    if (!hasContent(content)) throw new ApiError('no_text');
    if (content.text !== undefined && charLength(content.text) > EPHEMERAL_TEXT_MAX) throw new ApiError('msg_too_long');
    const messageTs = this.nextTs();
    this.ephemeralLog.push({
      channel: conversation.id,
      user,
      messageTs,
      threadTs: stringArg(args, 'thread_ts'),
      text: content.text ?? '',
      blocks: content.blocks ?? [],
      via: 'chat.postEphemeral',
    });
    return { message_ts: messageTs };
  }

  private chatGetPermalink(args: Args): JsonObject {
    const conversation = this.resolveConversation(stringArg(args, 'channel'));
    const ts = stringArg(args, 'message_ts');
    const message = ts === undefined ? undefined : conversation.byTs.get(ts);
    if (message === undefined) throw new ApiError('message_not_found');
    const base = `https://${this.teamDomain}.slack.com/archives/${conversation.id}/p${message.ts.replace('.', '')}`;
    const isReply = message.threadTs !== undefined && message.threadTs !== message.ts;
    return { channel: conversation.id, permalink: isReply ? `${base}?thread_ts=${message.threadTs}&cid=${conversation.id}` : base };
  }

  private viewsOpen(args: Args): JsonObject {
    const input = readView(args, 'modal');
    const trigger = this.exchangeTrigger(args);
    this.assertExternalIdFree(input.external_id);
    const previous = this.modalStacks.get(stackKey(trigger.userId));
    const root = previous?.[0];
    if (root !== undefined) this.closeView(root);
    const view = this.createModal(input, trigger.userId, 'views.open', []);
    this.lastOpenedViewId = view.id;
    return { view: structuredClone(view) };
  }

  private viewsPush(args: Args): JsonObject {
    const input = readView(args, 'modal');
    const trigger = this.exchangeTrigger(args);
    const stack = this.modalStacks.get(stackKey(trigger.userId)) ?? [];
    if (stack.length === 0) throw new ApiError('not_found');
    if (stack.length >= MAX_VIEW_STACK) throw new ApiError('push_limit_reached');
    this.assertExternalIdFree(input.external_id);
    return { view: structuredClone(this.createModal(input, trigger.userId, 'views.push', stack)) };
  }

  private viewsUpdate(args: Args): JsonObject {
    const viewId = stringArg(args, 'view_id');
    const externalId = stringArg(args, 'external_id');
    if (viewId === undefined && externalId === undefined) throw invalidArguments(['missing required field: view_id or external_id']);
    const stored = viewId !== undefined ? this.viewStore.get(viewId) : this.findViewByExternalId(externalId);
    if (stored === undefined || !stored.isOpen) throw new ApiError('not_found');
    const input = readView(args, stored.view.type);
    // "hash_conflict: Error returned when the provided `hash` doesn't match the current stored value."
    const hash = stringArg(args, 'hash');
    if (hash !== undefined && hash !== stored.view.hash) throw new ApiError('hash_conflict');
    this.assertExternalIdFree(input.external_id, stored.view.id);
    const { id, root_view_id: root, previous_view_id: previous, state } = stored.view;
    // Keeping block_id/action_id keeps the user's input (docs.slack.dev views.update).
    stored.view = this.buildView(input, id, root, previous, state);
    return { view: structuredClone(stored.view) };
  }

  private viewsPublish(args: Args): JsonObject {
    const userId = stringArg(args, 'user_id');
    if (userId === undefined || !this.users.has(userId)) throw invalidArguments(['invalid `user_id`'], false);
    const input = readView(args, 'home');
    // "not_enabled: Error returned if a `home` view is published but the Home tab isn't enabled for the app."
    if (!this.homeTabEnabled) throw new ApiError('not_enabled');
    const existingId = this.homeViewByUser.get(userId);
    const existing = existingId === undefined ? undefined : this.viewStore.get(existingId);
    const hash = stringArg(args, 'hash');
    if (hash !== undefined && existing !== undefined && hash !== existing.view.hash) throw new ApiError('hash_conflict');
    this.assertExternalIdFree(input.external_id, existingId);
    const id = existingId ?? newId('V');
    const view = this.buildView(input, id, id, null, existing?.view.state ?? { values: {} });
    if (existing !== undefined) existing.view = view;
    else this.viewStore.set(id, { view, userId, openedWith: 'views.publish', isOpen: true });
    this.homeViewByUser.set(userId, id);
    return { view: structuredClone(view) };
  }

  private conversationsOpen(args: Args): JsonObject {
    this.requireScope('im:write');
    const channelId = stringArg(args, 'channel');
    const users = stringArg(args, 'users')
      ?.split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
    let conversation: Conversation;
    let alreadyOpen = true;
    if (channelId !== undefined) {
      const found = this.conversations.get(channelId);
      if (found === undefined || found.kind !== 'im') throw new ApiError('channel_not_found');
      conversation = found;
    } else {
      if (users === undefined || users.length === 0) throw new ApiError('users_list_not_supplied');
      const [userId, ...others] = users;
      if (userId === undefined || others.length > 0) {
        this.warn('conversations.open with several users (a multi-person DM) is not emulated');
        throw new ApiError('method_not_supported_for_channel_type', { response_metadata: { messages: ['[ERROR] multi-person DMs are not emulated'] } });
      }
      if (!this.users.has(userId) || userId === this.botUserId) throw new ApiError('user_not_found');
      alreadyOpen = this.dmByUser.has(userId);
      conversation = this.openDm(userId);
    }
    const channel = boolArg(args, 'return_im') ? this.conversationJson(conversation, false) : { id: conversation.id };
    return { ...(alreadyOpen ? { no_op: true, already_open: true } : {}), channel };
  }

  private conversationsInfo(args: Args): JsonObject {
    const conversation = this.conversationById(stringArg(args, 'channel'));
    this.requireScope(conversationScope(conversation.kind, 'read'));
    return { channel: this.conversationJson(conversation, boolArg(args, 'include_num_members')) };
  }

  private conversationsMembers(args: Args): JsonObject {
    const conversation = this.conversationById(stringArg(args, 'channel'));
    this.requireScope(conversationScope(conversation.kind, 'read'));
    const page = paginate([...conversation.members], args, 100);
    return { members: page.items, response_metadata: { next_cursor: page.nextCursor } };
  }

  private conversationsReplies(args: Args): JsonObject {
    const conversation = this.conversationById(stringArg(args, 'channel'));
    this.requireScope(conversationScope(conversation.kind, 'history'));
    const ts = stringArg(args, 'ts');
    // "`ts`: Unique identifier of either a thread's parent message or a message in the thread."
    const message = ts === undefined ? undefined : conversation.byTs.get(ts);
    if (message === undefined) throw new ApiError('thread_not_found');
    const isReply = message.threadTs !== undefined && message.threadTs !== message.ts;
    const root = isReply && message.threadTs !== undefined ? (conversation.byTs.get(message.threadTs) ?? message) : message;
    const page = paginate([root, ...root.replies], args, 1000);
    return {
      messages: page.items.map((m) => this.messageJson(m)),
      has_more: page.nextCursor !== '',
      response_metadata: { next_cursor: page.nextCursor },
    };
  }

  /**
   * https://docs.slack.dev/reference/methods/conversations.history: the conversation's top-level
   * messages, newest first, between `oldest` and `latest` (both excluded unless `inclusive`), at
   * most `limit` (default 100) a page. Message metadata only with `include_all_metadata`.
   */
  private conversationsHistory(args: Args): JsonObject {
    const conversation = this.conversationById(stringArg(args, 'channel'));
    this.requireScope(conversationScope(conversation.kind, 'history'));
    const inclusive = boolArg(args, 'inclusive');
    const oldest = Number(stringArg(args, 'oldest') ?? '0');
    const latest = Number(stringArg(args, 'latest') ?? String(this.now() / 1000 + 1));
    const inRange = (ts: number) => (inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest);
    const newestFirst = [...conversation.messages].reverse().filter((m) => inRange(Number(m.ts)));
    const page = paginate(newestFirst, args, 100);
    const withMetadata = boolArg(args, 'include_all_metadata');
    return {
      messages: page.items.map((m) => {
        const json = this.messageJson(m);
        if (!withMetadata) delete json.metadata;
        return json;
      }),
      has_more: page.nextCursor !== '',
      response_metadata: { next_cursor: page.nextCursor },
    };
  }

  private usersInfo(args: Args): JsonObject {
    this.requireScope('users:read');
    const user = this.users.get(stringArg(args, 'user') ?? '');
    if (user === undefined) throw new ApiError('user_not_found');
    return { user: this.userJson(user) };
  }

  private usergroupsUsersList(args: Args): JsonObject {
    this.requireScope('usergroups:read');
    const group = this.userGroups.get(stringArg(args, 'usergroup') ?? '');
    if (group === undefined) throw new ApiError('no_such_subteam');
    return { users: [...group.users] };
  }

  private filesGetUploadUrlExternal(args: Args): JsonObject {
    this.requireScope('files:write');
    const filename = stringArg(args, 'filename');
    const lengthArg = stringArg(args, 'length');
    if (filename === undefined) throw invalidArguments(['missing required field: filename']);
    if (lengthArg === undefined) throw invalidArguments(['missing required field: length']);
    const length = Number(lengthArg);
    if (!Number.isInteger(length) || length < 0) throw invalidArguments(['length must be a positive integer']);
    // "missing_argument: … Typically only occurs when the `length` provided is 0."
    if (length === 0) throw new ApiError('missing_argument');
    const id = newId('F');
    this.fileStore.set(id, { id, filename, declaredLength: length, bytes: undefined, completed: false });
    return { upload_url: `${this.origin}${UPLOAD_PATH}${id}`, file_id: id };
  }

  private filesCompleteUploadExternal(args: Args): JsonObject {
    this.requireScope('files:write');
    const entries = Array.isArray(args.files) ? args.files.filter(isObject) : [];
    if (entries.length === 0) throw invalidArguments(['missing required field: files']);
    const files = entries.map((entry) => {
      const file = typeof entry.id === 'string' ? this.fileStore.get(entry.id) : undefined;
      // "file_not_found: Could not find the file from the upload ticket."
      if (file === undefined || file.bytes === undefined) throw new ApiError('file_not_found');
      if (typeof entry.title === 'string') file.title = entry.title;
      return file;
    });
    const channelRef = stringArg(args, 'channel_id') ?? stringArg(args, 'channels');
    const conversation = channelRef === undefined ? undefined : this.resolveConversation(channelRef, { allowUserId: true });
    if (conversation !== undefined) this.assertCanPost(conversation);
    const threadTs = stringArg(args, 'thread_ts');
    const initialComment = stringArg(args, 'initial_comment');
    for (const file of files) Object.assign(file, { completed: true, channelId: conversation?.id, threadTs, initialComment });
    if (conversation !== undefined) {
      this.storeMessage(conversation, { user: this.botUserId, botId: this.botId, text: initialComment ?? '', files: files.map((f) => f.id), threadTs });
    }
    return { files: files.map((f) => ({ id: f.id, title: f.title ?? f.filename, name: f.filename, size: f.bytes?.length ?? 0 })) };
  }

  // ---------------------------------------------------------------- conversations

  private addUser(user: UserSpec): void {
    // Fail at construction rather than on users.info if the zone is not a real one.
    if (user.tz !== undefined) zoneLabel(user.tz, new Date(this.now()));
    this.users.set(user.id, user);
  }

  private addChannel(spec: ChannelSpec): void {
    this.conversations.set(spec.id, {
      id: spec.id,
      name: spec.name,
      kind: spec.isPrivate === true ? 'private' : 'public',
      members: new Set(spec.members),
      created: Math.floor(this.now() / 1000),
      messages: [],
      byTs: new Map(),
    });
  }

  private openDm(userId: string): Conversation {
    const existing = this.dmByUser.get(userId);
    if (existing !== undefined) return existing;
    if (!this.users.has(userId) || userId === this.botUserId) throw new ApiError('channel_not_found');
    const preferred = `D${userId.replace(/^[UW]/, '')}`;
    const id = this.conversations.has(preferred) ? newId('D') : preferred;
    const conversation: Conversation = {
      id,
      name: userId,
      kind: 'im',
      members: new Set([userId, this.botUserId]),
      imUser: userId,
      created: Math.floor(this.now() / 1000),
      messages: [],
      byTs: new Map(),
    };
    this.conversations.set(id, conversation);
    this.dmByUser.set(userId, conversation);
    return conversation;
  }

  /**
   * A conversation by id or name, as the bot can see it. A user id means the app's DM with that
   * user when `allowUserId` (chat.postMessage: "post to the app's DM by passing the user ID").
   */
  private resolveConversation(ref: string | undefined, options: { allowUserId?: boolean } = {}): Conversation {
    if (ref === undefined) throw new ApiError('channel_not_found');
    if (this.users.has(ref)) {
      if (options.allowUserId !== true) throw new ApiError('channel_not_found');
      return this.openDm(ref);
    }
    const name = ref.replace(/^#/, '');
    const conversation = this.conversations.get(ref) ?? [...this.conversations.values()].find((c) => c.kind !== 'im' && c.name === name);
    if (conversation === undefined || !this.canSee(conversation)) throw new ApiError('channel_not_found');
    return conversation;
  }

  private conversationById(id: string | undefined): Conversation {
    const conversation = id === undefined ? undefined : this.conversations.get(id);
    if (conversation === undefined || !this.canSee(conversation)) throw new ApiError('channel_not_found');
    return conversation;
  }

  // Slack answers channel_not_found for private channels the bot is not in: it cannot see them.
  private canSee(conversation: Conversation): boolean {
    return conversation.kind !== 'private' || conversation.members.has(this.botUserId);
  }

  // not_in_channel unless the bot is a member; chat:write.public lifts that for public channels
  // (docs.slack.dev/reference/scopes/chat.write.public).
  private assertCanPost(conversation: Conversation): void {
    if (conversation.kind === 'im' || conversation.members.has(this.botUserId)) return;
    if (conversation.kind === 'public' && this.scopes.includes('chat:write.public')) return;
    throw new ApiError('not_in_channel');
  }

  private conversationForTest(ref: string): Conversation {
    const name = ref.replace(/^#/, '');
    const conversation = this.conversations.get(ref) ?? [...this.conversations.values()].find((c) => c.name === name);
    if (conversation === undefined) throw new Error(`slack-api emulator: no channel ${ref} (configure it in options.channels)`);
    return conversation;
  }

  private storeMessage(conversation: Conversation, draft: MessageDraft): StoredMessage {
    const message: StoredMessage = {
      channel: conversation.id,
      ts: this.nextTs(),
      user: draft.user,
      botId: draft.botId,
      text: draft.text,
      blocks: draft.blocks ?? [],
      attachments: draft.attachments ?? [],
      metadata: draft.metadata,
      files: draft.files ?? [],
      replyBroadcast: draft.replyBroadcast === true,
      replies: [],
    };
    conversation.byTs.set(message.ts, message);
    if (draft.threadTs === undefined) {
      conversation.messages.push(message);
      return message;
    }
    this.attachReply(conversation, message, draft.threadTs);
    if (message.replyBroadcast) conversation.messages.push(message);
    return message;
  }

  private attachReply(conversation: Conversation, message: StoredMessage, threadTs: string): void {
    const parent = conversation.byTs.get(threadTs);
    if (parent === undefined || parent === message) {
      // Slack answers ok and stores a reply nobody can see (node-slack-sdk#780,
      // python-slack-sdk#840): no error code exists for an unknown thread_ts.
      this.warn(`reply posted to ${conversation.id} with thread_ts ${threadTs}, which matches no message: Slack accepts it but nobody sees it`);
      message.threadTs = threadTs;
      return;
    }
    const isReply = parent.threadTs !== undefined && parent.threadTs !== parent.ts;
    const root = isReply && parent.threadTs !== undefined ? (conversation.byTs.get(parent.threadTs) ?? parent) : parent;
    if (root !== parent) this.warn(`reply posted with thread_ts ${threadTs}, a reply's ts; Slack says to use the parent's ts (${root.ts})`);
    root.threadTs = root.ts;
    message.threadTs = root.ts;
    root.replies.push(message);
  }

  private messageJson(message: StoredMessage): JsonObject {
    const parent = message.threadTs === undefined ? undefined : this.conversations.get(message.channel)?.byTs.get(message.threadTs);
    const isReply = message.threadTs !== undefined && message.threadTs !== message.ts;
    return {
      type: 'message',
      user: message.user,
      ...(message.botId === undefined ? {} : { bot_id: message.botId, app_id: this.appId }),
      text: message.text,
      ts: message.ts,
      team: this.teamId,
      blocks: structuredClone(message.blocks),
      ...(message.attachments.length > 0 ? { attachments: structuredClone(message.attachments) } : {}),
      ...(message.metadata === undefined ? {} : { metadata: structuredClone(message.metadata) }),
      ...(message.files.length > 0 ? { files: message.files.map((id) => ({ id })) } : {}),
      ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
      ...(isReply && parent !== undefined ? { parent_user_id: parent.user } : {}),
      ...(message.replies.length > 0
        ? {
            reply_count: message.replies.length,
            reply_users: [...new Set(message.replies.map((r) => r.user))],
            latest_reply: message.replies.at(-1)?.ts,
          }
        : {}),
      ...(message.edited === undefined ? {} : { edited: { ...message.edited } }),
    };
  }

  private conversationJson(conversation: Conversation, includeNumMembers: boolean): JsonObject {
    const numMembers = includeNumMembers ? { num_members: conversation.members.size } : {};
    if (conversation.kind === 'im') {
      return { id: conversation.id, created: conversation.created, is_im: true, is_org_shared: false, user: conversation.imUser, is_open: true, ...numMembers };
    }
    return {
      id: conversation.id,
      name: conversation.name,
      name_normalized: conversation.name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: conversation.kind === 'private',
      is_archived: false,
      is_general: false,
      is_member: conversation.members.has(this.botUserId),
      created: conversation.created,
      context_team_id: this.teamId,
      ...numMembers,
    };
  }

  private userJson(user: UserSpec): JsonObject {
    const tz = user.tz ?? 'UTC';
    const realName = user.realName ?? user.name;
    const at = new Date(this.now());
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      deleted: user.deleted === true,
      real_name: realName,
      tz,
      tz_label: zoneLabel(tz, at),
      tz_offset: zoneOffsetSeconds(tz, at),
      is_bot: user.isBot === true,
      is_app_user: false,
      is_admin: false,
      is_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      profile: {
        real_name: realName,
        real_name_normalized: realName,
        display_name: user.name,
        display_name_normalized: user.name,
        team: this.teamId,
        ...(user.id === this.botUserId ? { bot_id: this.botId } : {}),
      },
    };
  }

  // ---------------------------------------------------------------- views

  private createModal(input: JsonObject, userId: string | undefined, source: ViewSource, stack: string[]): EmulatedView {
    const id = newId('V');
    const root = stack[0] ?? id;
    const view = this.buildView(input, id, root, stack.at(-1) ?? null, { values: {} });
    this.viewStore.set(id, { view, userId, openedWith: source, isOpen: true });
    this.modalStacks.set(stackKey(userId), [...stack, id]);
    return view;
  }

  private buildView(input: JsonObject, id: string, rootViewId: string | null, previousViewId: string | null, state: EmulatedView['state']): EmulatedView {
    const type = input.type === 'home' ? 'home' : 'modal';
    return {
      id,
      team_id: this.teamId,
      type,
      title: plainTextOrNull(input.title),
      close: plainTextOrNull(input.close),
      submit: plainTextOrNull(input.submit),
      blocks: Array.isArray(input.blocks) ? normalizeBlocks(input.blocks) : [],
      private_metadata: typeof input.private_metadata === 'string' ? input.private_metadata : '',
      callback_id: typeof input.callback_id === 'string' ? input.callback_id : '',
      external_id: typeof input.external_id === 'string' ? input.external_id : '',
      state: structuredClone(state),
      hash: `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      clear_on_close: input.clear_on_close === true,
      notify_on_close: input.notify_on_close === true,
      root_view_id: rootViewId,
      previous_view_id: previousViewId,
      app_id: this.appId,
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
  }

  private exchangeTrigger(args: Args): TriggerRecord {
    const id = stringArg(args, 'trigger_id') ?? stringArg(args, 'interactivity_pointer');
    if (id === undefined) throw invalidArguments(['missing required field: trigger_id']);
    // The views.open docs' error example: invalid_arguments, "invalid `trigger_id`".
    if (!TRIGGER_FORMAT.test(id)) throw invalidArguments(['invalid `trigger_id`'], false);
    const trigger = this.triggers.get(id);
    if (trigger === undefined) throw new ApiError('invalid_trigger_id');
    if (trigger.exchanged) throw new ApiError('exchanged_trigger_id');
    if (this.now() - trigger.issuedAt > TRIGGER_TTL_MS) throw new ApiError('expired_trigger_id');
    trigger.exchanged = true;
    return trigger;
  }

  // external_id "must be unique for all views on a team"; closed views are taken to free theirs.
  private assertExternalIdFree(externalId: unknown, ownViewId?: string): void {
    if (typeof externalId !== 'string' || externalId === '') return;
    const holder = this.findViewByExternalId(externalId);
    if (holder !== undefined && holder.view.id !== ownViewId) throw new ApiError('duplicate_external_id');
  }

  private findViewByExternalId(externalId: string | undefined): StoredView | undefined {
    return [...this.viewStore.values()].find((stored) => stored.isOpen && stored.view.external_id === externalId);
  }

  private storedView(viewId: string): StoredView {
    const stored = this.viewStore.get(viewId);
    if (stored === undefined) throw new Error(`slack-api emulator: no view ${viewId}`);
    return stored;
  }

  // ---------------------------------------------------------------- helpers

  private requireScope(scope: string): void {
    if (!this.scopes.includes(scope)) throw new ApiError('missing_scope', { needed: scope, provided: this.scopes.join(',') });
  }

  private nextTs(): string {
    const seconds = Math.max(Math.floor(this.now() / 1000), this.lastTsSeconds);
    if (seconds !== this.lastTsSeconds) {
      this.lastTsSeconds = seconds;
      this.tsCounter = 0;
    }
    this.tsCounter += 1;
    return `${seconds}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private takeRateLimit(method: string): number | undefined {
    const limit = this.rateLimits.get(method);
    if (limit === undefined || limit.remaining <= 0) return undefined;
    limit.remaining -= 1;
    return limit.retryAfterSeconds;
  }

  private queueFailure(method: string, failure: Failure): void {
    const queue = this.failures.get(method) ?? [];
    queue.push(failure);
    this.failures.set(method, queue);
  }

  private warn(message: string): void {
    this.warningLog.push(message);
  }
}

// ------------------------------------------------------------------ request parsing

interface ParsedApiRequest {
  readonly args: JsonObject;
  readonly queryArgs: JsonObject;
  readonly formToken?: string;
  readonly isJson: boolean;
  readonly error?: string;
}

function parseApiRequest(headers: IncomingHttpHeaders, raw: Buffer, query: URLSearchParams): ParsedApiRequest {
  const queryArgs = withoutToken(Object.fromEntries(query));
  const queryToken = query.get('token') ?? undefined;
  if (raw.length === 0) return { args: decodeJsonFields(queryArgs), queryArgs, formToken: queryToken, isJson: false };
  const header = headers['content-type'];
  // Error codes from the common error list of every method page.
  if (header === undefined) return { args: queryArgs, queryArgs, isJson: false, error: 'missing_post_type' };
  const { mediaType, params } = parseContentType(header);
  const charset = params.get('charset')?.toLowerCase();
  if (charset !== undefined && !['utf-8', 'utf8', 'iso-8859-1'].includes(charset)) {
    return { args: queryArgs, queryArgs, isJson: false, error: 'invalid_charset' };
  }
  if (mediaType === 'application/json') {
    const body = parseJsonObject(raw);
    // Slack's code for an unparseable JSON body is not in the method docs; invalid_json is assumed.
    if (body === undefined) return { args: queryArgs, queryArgs, isJson: true, error: 'invalid_json' };
    return { args: decodeJsonFields({ ...queryArgs, ...withoutToken(body) }), queryArgs, isJson: true };
  }
  const fields = formFields(mediaType, params, raw);
  if (fields === undefined) return { args: queryArgs, queryArgs, isJson: false, error: 'invalid_post_type' };
  const formToken = typeof fields.token === 'string' ? fields.token : queryToken;
  return { args: decodeJsonFields({ ...queryArgs, ...withoutToken(fields) }), queryArgs, formToken, isJson: false };
}

function withoutToken(args: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(args).filter(([key]) => key !== 'token'));
}

function formFields(mediaType: string, params: ReadonlyMap<string, string>, raw: Buffer): JsonObject | undefined {
  if (mediaType === 'application/x-www-form-urlencoded' || mediaType === 'text/plain') {
    return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  }
  const boundary = params.get('boundary');
  if (mediaType === 'multipart/form-data' && boundary !== undefined) {
    const fields: JsonObject = {};
    for (const part of parseMultipart(raw, boundary)) {
      if (part.name !== undefined && part.filename === undefined) fields[part.name] = part.data.toString('utf8');
    }
    return fields;
  }
  return undefined;
}

function decodeJsonFields(args: JsonObject): JsonObject {
  const decoded = { ...args };
  for (const key of JSON_FIELDS) {
    const value = decoded[key];
    if (typeof value !== 'string') continue;
    try {
      decoded[key] = JSON.parse(value) as unknown;
    } catch {
      // Left as a string: the method answers with its own format error.
    }
  }
  return decoded;
}

function parseContentType(header: string): { mediaType: string; params: Map<string, string> } {
  const [type = '', ...rest] = header.split(';');
  const params = new Map<string, string>();
  for (const param of rest) {
    const equals = param.indexOf('=');
    if (equals > 0)
      params.set(
        param.slice(0, equals).trim().toLowerCase(),
        param
          .slice(equals + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
  }
  return { mediaType: type.trim().toLowerCase(), params };
}

interface MultipartPart {
  readonly name?: string;
  readonly filename?: string;
  readonly data: Buffer;
}

function parseMultipart(raw: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const next = raw.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const section = raw.subarray(start + delimiter.length, next);
    const headerEnd = section.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const head = section.subarray(0, headerEnd).toString('utf8');
      const body = section.subarray(headerEnd + 4);
      const data = body.subarray(-2).toString('latin1') === '\r\n' ? body.subarray(0, -2) : body;
      const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
      parts.push({ name: /\bname="([^"]*)"/i.exec(disposition)?.[1], filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1], data });
    }
    start = next;
  }
  return parts;
}

// The upload URL takes the raw bytes or a multipart form (WebClient sends a form whose file part
// is named "body").
function uploadedBytes(contentType: string | undefined, raw: Buffer): Buffer {
  const { mediaType, params } = parseContentType(contentType ?? '');
  const boundary = params.get('boundary');
  if (mediaType !== 'multipart/form-data' || boundary === undefined) return Buffer.from(raw);
  const parts = parseMultipart(raw, boundary);
  const file = parts.find((part) => part.filename !== undefined) ?? parts[0];
  return Buffer.from(file?.data ?? Buffer.alloc(0));
}

function parseJsonObject(raw: Buffer): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function parseFormPayload(contentType: string | undefined, raw: Buffer): JsonObject | undefined {
  if (parseContentType(contentType ?? '').mediaType !== 'application/x-www-form-urlencoded') return undefined;
  const payload = new URLSearchParams(raw.toString('utf8')).get('payload');
  return payload === null ? undefined : parseJsonObject(Buffer.from(payload));
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function readBody(req: IncomingMessage, limit = 50 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function platformReply(error: string): Reply {
  return { status: 200, body: { ok: false, error }, headers: {} };
}

// ------------------------------------------------------------------ arguments

function stringArg(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function boolArg(args: Args, key: string): boolean {
  const value = args[key];
  return value === true || value === 1 || value === 'true' || value === '1';
}

function readMessageContent(args: Args): MessageContent {
  const text = stringArg(args, 'text');
  const markdownText = stringArg(args, 'markdown_text');
  if (markdownText !== undefined) {
    // "This argument should not be used in conjunction with `blocks` or `text`."
    if (text !== undefined || args.blocks !== undefined) throw new ApiError('markdown_text_conflict');
    if (charLength(markdownText) > MARKDOWN_TEXT_MAX) throw new ApiError('msg_too_long');
  }
  const attachments = readAttachments(args.attachments);
  return {
    text: text ?? markdownText,
    blocks: readBlocks(args.blocks),
    attachments,
    metadata: isObject(args.metadata) ? args.metadata : undefined,
  };
}

function hasContent(content: MessageContent): boolean {
  return content.text !== undefined || (content.blocks?.length ?? 0) > 0 || (content.attachments?.length ?? 0) > 0;
}

function readBlocks(raw: unknown): JsonObject[] | undefined {
  if (raw === undefined) return undefined;
  // "invalid_blocks_format: The `blocks` is not a valid JSON object or doesn't match the Block Kit syntax."
  if (!Array.isArray(raw)) throw new ApiError('invalid_blocks_format');
  const problems = validateMessageBlocks(raw);
  if (problems.length > 0) {
    const messages = problems.map(formatProblem);
    // Shape seen from Slack: `errors` plus `[ERROR]`-prefixed response_metadata.messages.
    throw new ApiError('invalid_blocks', { errors: messages, response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) } });
  }
  return normalizeBlocks(raw);
}

function readAttachments(raw: unknown): JsonObject[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new ApiError('invalid_attachments');
  if (raw.length > MAX_ATTACHMENTS) throw new ApiError('too_many_attachments');
  return raw.filter(isObject).map((attachment) => structuredClone(attachment));
}

function readView(args: Args, expectedType: 'modal' | 'home'): JsonObject {
  const raw = args.view;
  if (raw === undefined) throw invalidArguments(['missing required field: view']);
  if (!isObject(raw)) throw invalidArguments(['must be a JSON object [json-pointer:/view]']);
  if (Buffer.byteLength(JSON.stringify(raw)) > MAX_VIEW_BYTES) throw new ApiError('view_too_large');
  const problems = validateView(raw, expectedType);
  if (problems.length > 0) throw invalidArguments(problems.map(formatProblem));
  return raw;
}

// views.* report schema problems as invalid_arguments with "[ERROR] … [json-pointer:/view/…]"
// messages (e.g. slackblocks#36, together-app#4).
function invalidArguments(messages: readonly string[], prefix = true): ApiError {
  return new ApiError('invalid_arguments', { response_metadata: { messages: messages.map((m) => (prefix ? `[ERROR] ${m}` : m)) } });
}

interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string;
}

function paginate<T>(items: readonly T[], args: Args, defaultLimit: number): Page<T> {
  const cursor = stringArg(args, 'cursor');
  const offset = cursor === undefined ? 0 : decodeCursor(cursor);
  const limit = Number(stringArg(args, 'limit') ?? defaultLimit);
  if (!Number.isInteger(limit) || limit <= 0) throw new ApiError('invalid_limit');
  const end = offset + limit;
  return { items: items.slice(offset, end), nextCursor: end < items.length ? Buffer.from(`offset:${end}`).toString('base64') : '' };
}

function decodeCursor(cursor: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (match?.[1] === undefined) throw new ApiError('invalid_cursor');
  return Number(match[1]);
}

function conversationScope(kind: ConversationKind, family: 'read' | 'history'): string {
  const prefix = kind === 'public' ? 'channels' : kind === 'private' ? 'groups' : 'im';
  return `${prefix}:${family}`;
}

function stackKey(userId: string | undefined): string {
  return userId ?? '(no user)';
}

function removeMessage(conversation: Conversation, message: StoredMessage): void {
  conversation.byTs.delete(message.ts);
  const index = conversation.messages.indexOf(message);
  if (index !== -1) conversation.messages.splice(index, 1);
}

function snapshotMessage(message: StoredMessage): EmulatedMessage {
  return {
    channel: message.channel,
    ts: message.ts,
    threadTs: message.threadTs,
    user: message.user,
    botId: message.botId,
    text: message.text,
    blocks: structuredClone(message.blocks),
    attachments: structuredClone(message.attachments),
    metadata: message.metadata === undefined ? undefined : structuredClone(message.metadata),
    files: [...message.files],
    edited: message.edited === undefined ? undefined : { ...message.edited },
    replyBroadcast: message.replyBroadcast,
    replies: message.replies.map(snapshotMessage),
  };
}

// Slack echoes plain_text objects with `emoji: true` added.
function plainTextOrNull(value: unknown): JsonObject | null {
  return isObject(value) ? { emoji: true, ...value } : null;
}

function zoneOffsetSeconds(timeZone: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (match === null) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60;
  return match[1] === '-' ? -seconds : seconds;
}

function zoneLabel(timeZone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'long' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? timeZone;
}

// Slack counts characters, not UTF-16 code units.
function charLength(text: string): number {
  return [...text].length;
}

function truncate(text: string, max: number): string {
  return charLength(text) > max ? [...text].slice(0, max).join('') : text;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function newId(prefix: string, length = 10): string {
  return prefix + [...randomBytes(length)].map((byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}

const BLOCK_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function generatedId(): string {
  return [...randomBytes(5)].map((byte) => BLOCK_ID_ALPHABET[byte % BLOCK_ID_ALPHABET.length]).join('');
}

// ------------------------------------------------------------------ Block Kit validation

/** A schema problem, reported by Slack as "<message> [json-pointer:<pointer>]". */
export interface Problem {
  readonly pointer: string;
  readonly message: string;
}

export function formatProblem(problem: Problem): string {
  return `${problem.message} [json-pointer:${problem.pointer}]`;
}

type TextType = 'plain_text' | 'mrkdwn';

interface Checker {
  readonly problems: Problem[];
  readonly blockIds: Set<string>;
}

interface TextSpec {
  readonly types: readonly TextType[];
  readonly max: number;
  readonly required?: boolean;
}

interface LengthSpec {
  readonly max: number;
  readonly min?: number;
  readonly required?: boolean;
}

const PLAIN: readonly TextType[] = ['plain_text'];
const ANY_TEXT: readonly TextType[] = ['plain_text', 'mrkdwn'];
const UNBOUNDED = Number.POSITIVE_INFINITY;

/** Validates message blocks (`/blocks`), Slack's limits included. */
export function validateMessageBlocks(blocks: readonly unknown[]): Problem[] {
  const checker: Checker = { problems: [], blockIds: new Set() };
  checkBlockList(checker, blocks, '/blocks', MAX_MESSAGE_BLOCKS);
  return checker.problems;
}

/** Validates a modal or Home tab view (`/view`), Slack's limits included. */
export function validateView(view: unknown, expectedType: 'modal' | 'home'): Problem[] {
  const checker: Checker = { problems: [], blockIds: new Set() };
  const ptr = '/view';
  if (!isObject(view)) {
    report(checker, ptr, 'must be a JSON object');
    return checker.problems;
  }
  if (view.type === undefined) report(checker, ptr, 'missing required field: type');
  else if (view.type !== expectedType) report(checker, `${ptr}/type`, `must be ${expectedType}`);
  if (expectedType === 'modal') checkModalFields(checker, view, ptr);
  else checkProps(checker, view, ptr, props('blocks', 'private_metadata', 'callback_id', 'external_id'));
  if (!Array.isArray(view.blocks)) report(checker, ptr, 'missing required field: blocks');
  else checkBlockList(checker, view.blocks, `${ptr}/blocks`, MAX_VIEW_BLOCKS);
  checkStringField(checker, view, 'private_metadata', ptr, { max: 3000, min: 0 });
  checkStringField(checker, view, 'callback_id', ptr, { max: 255, min: 0 });
  checkStringField(checker, view, 'external_id', ptr, { max: 255, min: 0 });
  return checker.problems;
}

function checkModalFields(checker: Checker, view: JsonObject, ptr: string): void {
  checkProps(
    checker,
    view,
    ptr,
    props('title', 'blocks', 'close', 'submit', 'private_metadata', 'callback_id', 'clear_on_close', 'notify_on_close', 'external_id'),
  );
  checkTextField(checker, view, 'title', ptr, { types: PLAIN, max: 24, required: true });
  checkTextField(checker, view, 'close', ptr, { types: PLAIN, max: 24 });
  checkTextField(checker, view, 'submit', ptr, { types: PLAIN, max: 24 });
  const hasInput = Array.isArray(view.blocks) && view.blocks.some((block) => isObject(block) && block.type === 'input');
  // "submit: … Required when an input block is within the blocks array."
  if (hasInput && (view.submit === undefined || view.submit === null)) report(checker, ptr, 'missing required field: submit (the view has input blocks)');
}

function checkBlockList(checker: Checker, blocks: readonly unknown[], ptr: string, max: number): void {
  if (blocks.length > max) report(checker, ptr, `no more than ${max} items allowed`);
  blocks.forEach((block, index) => checkBlock(checker, block, `${ptr}/${index}`));
}

type BlockCheck = (checker: Checker, block: JsonObject, ptr: string) => void;

const BLOCK_CHECKS: ReadonlyMap<string, BlockCheck> = new Map<string, BlockCheck>([
  ['section', checkSection],
  ['header', checkHeader],
  ['divider', (checker, block, ptr) => checkProps(checker, block, ptr, props('block_id'))],
  ['context', checkContext],
  ['actions', checkActions],
  ['input', checkInput],
  ['image', checkImageBlock],
  ['markdown', checkMarkdown],
]);

// Block types accepted without a deep check.
const OTHER_BLOCK_TYPES: ReadonlySet<string> = new Set(['rich_text', 'file', 'video', 'call', 'table', 'context_actions']);

function checkBlock(checker: Checker, block: unknown, ptr: string): void {
  if (!isObject(block)) return report(checker, ptr, 'must be a JSON object');
  if (typeof block.type !== 'string') return report(checker, ptr, 'missing required field: type');
  checkBlockId(checker, block, ptr);
  const check = BLOCK_CHECKS.get(block.type);
  if (check !== undefined) check(checker, block, ptr);
  else if (!OTHER_BLOCK_TYPES.has(block.type)) report(checker, ptr, `failed to match all allowed schemas (unknown block type ${block.type})`);
}

function checkBlockId(checker: Checker, block: JsonObject, ptr: string): void {
  if (block.block_id === undefined) return;
  if (!checkStringField(checker, block, 'block_id', ptr, { max: 255 })) return;
  const id = String(block.block_id);
  if (checker.blockIds.has(id)) report(checker, `${ptr}/block_id`, `duplicate block_id ${id}: block_id must be unique in a message or view`);
  checker.blockIds.add(id);
}

function checkSection(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'text', 'fields', 'accessory', 'expand'));
  if (block.text === undefined && block.fields === undefined) report(checker, ptr, 'must provide either text or fields');
  checkTextField(checker, block, 'text', ptr, { types: ANY_TEXT, max: 3000 });
  const fields = checkArrayField(checker, block, 'fields', ptr, { max: 10, min: 1 });
  fields?.forEach((field, index) => checkTextObject(checker, field, `${ptr}/fields/${index}`, { types: ANY_TEXT, max: 2000 }));
  if (block.accessory !== undefined) checkElement(checker, block.accessory, `${ptr}/accessory`, SECTION_ACCESSORIES, new Set());
}

function checkHeader(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'text'));
  checkTextField(checker, block, 'text', ptr, { types: PLAIN, max: 150, required: true });
}

function checkContext(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'elements'));
  const elements = checkArrayField(checker, block, 'elements', ptr, { max: 10, min: 1, required: true });
  elements?.forEach((element, index) => {
    const here = `${ptr}/elements/${index}`;
    if (isObject(element) && element.type === 'image') checkImageElement(checker, element, here);
    else checkTextObject(checker, element, here, { types: ANY_TEXT, max: UNBOUNDED });
  });
}

function checkActions(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'elements'));
  const elements = checkArrayField(checker, block, 'elements', ptr, { max: 25, min: 1, required: true });
  const actionIds = new Set<string>();
  elements?.forEach((element, index) => checkElement(checker, element, `${ptr}/elements/${index}`, ACTIONS_ELEMENTS, actionIds));
}

function checkInput(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'label', 'element', 'dispatch_action', 'hint', 'optional'));
  checkTextField(checker, block, 'label', ptr, { types: PLAIN, max: 2000, required: true });
  checkTextField(checker, block, 'hint', ptr, { types: PLAIN, max: 2000 });
  if (block.element === undefined) report(checker, ptr, 'missing required field: element');
  else checkElement(checker, block.element, `${ptr}/element`, INPUT_ELEMENTS, new Set());
}

function checkImageBlock(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'image_url', 'slack_file', 'alt_text', 'title'));
  checkImageSource(checker, block, ptr);
  checkTextField(checker, block, 'title', ptr, { types: PLAIN, max: 2000 });
}

function checkMarkdown(checker: Checker, block: JsonObject, ptr: string): void {
  checkProps(checker, block, ptr, props('block_id', 'text'));
  checkStringField(checker, block, 'text', ptr, { max: 12000, required: true });
}

const SELECTS = ['static_select', 'external_select', 'users_select', 'conversations_select', 'channels_select'];
const MULTI_SELECTS = SELECTS.map((type) => `multi_${type}`);
const ACTIONS_ELEMENTS: ReadonlySet<string> = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'overflow',
  'radio_buttons',
  'timepicker',
  'workflow_button',
  ...SELECTS,
  ...MULTI_SELECTS,
]);
const SECTION_ACCESSORIES: ReadonlySet<string> = new Set([
  'button',
  'checkboxes',
  'datepicker',
  'image',
  'overflow',
  'radio_buttons',
  'timepicker',
  'workflow_button',
  ...SELECTS,
  ...MULTI_SELECTS,
]);
const INPUT_ELEMENTS: ReadonlySet<string> = new Set([
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'email_text_input',
  'file_input',
  'number_input',
  'plain_text_input',
  'radio_buttons',
  'rich_text_input',
  'timepicker',
  'url_text_input',
  ...SELECTS,
  ...MULTI_SELECTS,
]);

type ElementCheck = (checker: Checker, element: JsonObject, ptr: string) => void;

const COMMON_SELECT = ['action_id', 'confirm', 'focus_on_load', 'placeholder'];

const ELEMENT_CHECKS: ReadonlyMap<string, ElementCheck> = new Map<string, ElementCheck>([
  ['button', checkButton],
  ['static_select', (c, e, p) => checkStaticSelect(c, e, p, false)],
  ['multi_static_select', (c, e, p) => checkStaticSelect(c, e, p, true)],
  ['external_select', (c, e, p) => checkSelectProps(c, e, p, ['initial_option', 'min_query_length'])],
  ['multi_external_select', (c, e, p) => checkSelectProps(c, e, p, ['initial_options', 'min_query_length', 'max_selected_items'])],
  ['users_select', (c, e, p) => checkSelectProps(c, e, p, ['initial_user'])],
  ['multi_users_select', (c, e, p) => checkSelectProps(c, e, p, ['initial_users', 'max_selected_items'])],
  [
    'conversations_select',
    (c, e, p) => checkSelectProps(c, e, p, ['initial_conversation', 'default_to_current_conversation', 'response_url_enabled', 'filter']),
  ],
  [
    'multi_conversations_select',
    (c, e, p) => checkSelectProps(c, e, p, ['initial_conversations', 'default_to_current_conversation', 'max_selected_items', 'filter']),
  ],
  ['channels_select', (c, e, p) => checkSelectProps(c, e, p, ['initial_channel', 'response_url_enabled'])],
  ['multi_channels_select', (c, e, p) => checkSelectProps(c, e, p, ['initial_channels', 'max_selected_items'])],
  ['overflow', checkOverflow],
  ['datepicker', checkDatepicker],
  ['timepicker', checkTimepicker],
  ['datetimepicker', (c, e, p) => checkProps(c, e, p, props('action_id', 'initial_date_time', 'confirm', 'focus_on_load'))],
  ['checkboxes', (c, e, p) => checkChoice(c, e, p, 'initial_options')],
  ['radio_buttons', (c, e, p) => checkChoice(c, e, p, 'initial_option')],
  ['plain_text_input', checkPlainTextInput],
  ['email_text_input', checkTextInput],
  ['url_text_input', checkTextInput],
  ['number_input', checkNumberInput],
  ['image', checkImageElement],
]);

function checkElement(checker: Checker, element: unknown, ptr: string, allowed: ReadonlySet<string>, actionIds: Set<string>): void {
  if (!isObject(element)) return report(checker, ptr, 'must be a JSON object');
  if (typeof element.type !== 'string') return report(checker, ptr, 'missing required field: type');
  if (!allowed.has(element.type)) return report(checker, `${ptr}/type`, `element type ${element.type} is not allowed here`);
  if (element.type !== 'image') checkActionId(checker, element, ptr, actionIds);
  ELEMENT_CHECKS.get(element.type)?.(checker, element, ptr);
}

// "action_id … should be unique among all other action_ids in the containing block."
function checkActionId(checker: Checker, element: JsonObject, ptr: string, actionIds: Set<string>): void {
  if (element.action_id === undefined) return;
  if (!checkStringField(checker, element, 'action_id', ptr, { max: 255 })) return;
  const id = String(element.action_id);
  if (actionIds.has(id)) report(checker, `${ptr}/action_id`, `duplicate action_id ${id}: action_id must be unique in its block`);
  actionIds.add(id);
}

function checkButton(checker: Checker, element: JsonObject, ptr: string): void {
  checkProps(checker, element, ptr, props('action_id', 'text', 'url', 'value', 'style', 'confirm', 'accessibility_label'));
  checkTextField(checker, element, 'text', ptr, { types: PLAIN, max: 75, required: true });
  checkStringField(checker, element, 'url', ptr, { max: 3000 });
  checkStringField(checker, element, 'value', ptr, { max: 2000 });
  checkStringField(checker, element, 'accessibility_label', ptr, { max: 75 });
  checkStyle(checker, element, ptr);
  checkConfirm(checker, element, ptr);
}

function checkSelectProps(checker: Checker, element: JsonObject, ptr: string, extra: readonly string[]): void {
  checkProps(checker, element, ptr, props(...COMMON_SELECT, ...extra));
  checkTextField(checker, element, 'placeholder', ptr, { types: PLAIN, max: 150 });
  checkConfirm(checker, element, ptr);
}

function checkStaticSelect(checker: Checker, element: JsonObject, ptr: string, multi: boolean): void {
  const extra = multi ? ['options', 'option_groups', 'initial_options', 'max_selected_items'] : ['options', 'option_groups', 'initial_option'];
  checkSelectProps(checker, element, ptr, extra);
  if (element.options !== undefined && element.option_groups !== undefined) report(checker, ptr, 'options and option_groups cannot both be provided');
  if (element.options === undefined && element.option_groups === undefined) report(checker, ptr, 'missing required field: options');
  checkOptions(checker, element, 'options', ptr, { max: 100, textTypes: PLAIN });
  const groups = checkArrayField(checker, element, 'option_groups', ptr, { max: 100, min: 1 });
  groups?.forEach((group, index) => checkOptionGroup(checker, group, `${ptr}/option_groups/${index}`));
}

function checkOverflow(checker: Checker, element: JsonObject, ptr: string): void {
  checkProps(checker, element, ptr, props('action_id', 'options', 'confirm'));
  checkOptions(checker, element, 'options', ptr, { max: 5, min: 1, required: true, textTypes: PLAIN, allowUrl: true });
  checkConfirm(checker, element, ptr);
}

function checkDatepicker(checker: Checker, element: JsonObject, ptr: string): void {
  checkSelectProps(checker, element, ptr, ['initial_date']);
  if (element.initial_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(element.initial_date))) {
    report(checker, `${ptr}/initial_date`, 'must be in the format YYYY-MM-DD');
  }
}

function checkTimepicker(checker: Checker, element: JsonObject, ptr: string): void {
  checkSelectProps(checker, element, ptr, ['initial_time', 'timezone']);
  if (element.initial_time !== undefined && !/^\d{2}:\d{2}$/.test(String(element.initial_time))) {
    report(checker, `${ptr}/initial_time`, 'must be in the format HH:mm');
  }
}

// Checkboxes and radio buttons: up to 10 options, whose text may be mrkdwn.
function checkChoice(checker: Checker, element: JsonObject, ptr: string, initial: string): void {
  checkProps(checker, element, ptr, props('action_id', 'options', initial, 'confirm', 'focus_on_load'));
  checkOptions(checker, element, 'options', ptr, { max: 10, min: 1, required: true, textTypes: ANY_TEXT });
  checkConfirm(checker, element, ptr);
}

function checkPlainTextInput(checker: Checker, element: JsonObject, ptr: string): void {
  checkTextInput(checker, element, ptr, ['multiline', 'min_length', 'max_length']);
  const min = checkIntegerField(checker, element, 'min_length', ptr, 0, 3000);
  const max = checkIntegerField(checker, element, 'max_length', ptr, 1, 3000);
  if (min !== undefined && max !== undefined && min > max) report(checker, `${ptr}/min_length`, 'must not be greater than max_length');
}

function checkTextInput(checker: Checker, element: JsonObject, ptr: string, extra: readonly string[] = []): void {
  checkProps(checker, element, ptr, props('action_id', 'initial_value', 'dispatch_action_config', 'focus_on_load', 'placeholder', ...extra));
  checkTextField(checker, element, 'placeholder', ptr, { types: PLAIN, max: 150 });
}

function checkNumberInput(checker: Checker, element: JsonObject, ptr: string): void {
  checkTextInput(checker, element, ptr, ['is_decimal_allowed', 'min_value', 'max_value']);
  if (typeof element.is_decimal_allowed !== 'boolean') report(checker, ptr, 'missing required field: is_decimal_allowed');
}

function checkImageElement(checker: Checker, element: JsonObject, ptr: string): void {
  checkProps(checker, element, ptr, props('image_url', 'slack_file', 'alt_text'));
  checkImageSource(checker, element, ptr);
}

function checkImageSource(checker: Checker, image: JsonObject, ptr: string): void {
  if (image.image_url === undefined && image.slack_file === undefined) report(checker, ptr, 'missing required field: image_url');
  checkStringField(checker, image, 'image_url', ptr, { max: 3000 });
  checkStringField(checker, image, 'alt_text', ptr, { max: 2000, required: true });
}

interface OptionSpec {
  readonly textTypes: readonly TextType[];
  readonly max: number;
  readonly min?: number;
  readonly required?: boolean;
  readonly allowUrl?: boolean;
}

function checkOptions(checker: Checker, parent: JsonObject, key: string, ptr: string, spec: OptionSpec): void {
  const options = checkArrayField(checker, parent, key, ptr, spec);
  options?.forEach((option, index) => checkOption(checker, option, `${ptr}/${key}/${index}`, spec));
}

function checkOption(checker: Checker, option: unknown, ptr: string, spec: OptionSpec): void {
  if (!isObject(option)) return report(checker, ptr, 'must be a JSON object');
  checkProps(checker, option, ptr, new Set(['text', 'value', 'description', ...(spec.allowUrl === true ? ['url'] : [])]));
  checkTextField(checker, option, 'text', ptr, { types: spec.textTypes, max: 75, required: true });
  checkTextField(checker, option, 'description', ptr, { types: spec.textTypes, max: 75 });
  // Current docs: option value up to 150 characters (older docs and @slack/types say 75).
  checkStringField(checker, option, 'value', ptr, { max: 150, required: true });
  checkStringField(checker, option, 'url', ptr, { max: 3000 });
}

function checkOptionGroup(checker: Checker, group: unknown, ptr: string): void {
  if (!isObject(group)) return report(checker, ptr, 'must be a JSON object');
  checkProps(checker, group, ptr, new Set(['label', 'options']));
  checkTextField(checker, group, 'label', ptr, { types: PLAIN, max: 75, required: true });
  checkOptions(checker, group, 'options', ptr, { max: 100, min: 1, required: true, textTypes: PLAIN });
}

function checkConfirm(checker: Checker, parent: JsonObject, ptr: string): void {
  const confirm = parent.confirm;
  if (confirm === undefined) return;
  const here = `${ptr}/confirm`;
  if (!isObject(confirm)) return report(checker, here, 'must be a JSON object');
  checkProps(checker, confirm, here, new Set(['title', 'text', 'confirm', 'deny', 'style']));
  checkTextField(checker, confirm, 'title', here, { types: PLAIN, max: 100, required: true });
  checkTextField(checker, confirm, 'text', here, { types: ANY_TEXT, max: 300, required: true });
  checkTextField(checker, confirm, 'confirm', here, { types: PLAIN, max: 30, required: true });
  checkTextField(checker, confirm, 'deny', here, { types: PLAIN, max: 30, required: true });
  checkStyle(checker, confirm, here);
}

function checkStyle(checker: Checker, parent: JsonObject, ptr: string): void {
  if (parent.style !== undefined && parent.style !== 'primary' && parent.style !== 'danger') {
    report(checker, `${ptr}/style`, 'must be one of primary, danger');
  }
}

function checkTextField(checker: Checker, parent: JsonObject, key: string, ptr: string, spec: TextSpec): void {
  const value = parent[key];
  if (value === undefined || value === null) {
    if (spec.required === true) report(checker, ptr, `missing required field: ${key}`);
    return;
  }
  checkTextObject(checker, value, `${ptr}/${key}`, spec);
}

function checkTextObject(checker: Checker, value: unknown, ptr: string, spec: TextSpec): void {
  if (!isObject(value)) return report(checker, ptr, 'must be a text object {type, text}');
  const type = value.type;
  if (type !== 'plain_text' && type !== 'mrkdwn') return report(checker, `${ptr}/type`, 'must be one of plain_text, mrkdwn');
  if (!spec.types.includes(type)) return report(checker, `${ptr}/type`, `must be ${spec.types.join(' or ')} here, not ${type}`);
  checkProps(checker, value, ptr, type === 'plain_text' ? props('text', 'emoji') : props('text', 'verbatim'));
  if (typeof value.text !== 'string') return report(checker, ptr, 'missing required field: text');
  checkLength(checker, value.text, `${ptr}/text`, 1, spec.max);
}

/** Returns true if the field is absent or a string (so callers can go on checking it). */
function checkStringField(checker: Checker, parent: JsonObject, key: string, ptr: string, spec: LengthSpec): boolean {
  const value = parent[key];
  if (value === undefined) {
    if (spec.required === true) report(checker, ptr, `missing required field: ${key}`);
    return true;
  }
  if (typeof value !== 'string') {
    report(checker, `${ptr}/${key}`, 'must be a string');
    return false;
  }
  checkLength(checker, value, `${ptr}/${key}`, spec.min ?? 1, spec.max);
  return true;
}

function checkArrayField(checker: Checker, parent: JsonObject, key: string, ptr: string, spec: LengthSpec): unknown[] | undefined {
  const value = parent[key];
  const here = `${ptr}/${key}`;
  if (value === undefined) {
    if (spec.required === true) report(checker, ptr, `missing required field: ${key}`);
    return undefined;
  }
  if (!Array.isArray(value)) {
    report(checker, here, 'must be an array');
    return undefined;
  }
  if (value.length > spec.max) report(checker, here, `no more than ${spec.max} items allowed`);
  if (value.length < (spec.min ?? 0)) report(checker, here, `must provide at least ${spec.min ?? 0} items`);
  return value;
}

function checkIntegerField(checker: Checker, parent: JsonObject, key: string, ptr: string, min: number, max: number): number | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    report(checker, `${ptr}/${key}`, `must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

function checkLength(checker: Checker, text: string, ptr: string, min: number, max: number): void {
  const length = charLength(text);
  if (length < min) report(checker, ptr, `must be more than ${min - 1} characters`);
  if (length > max) report(checker, ptr, `must be less than ${max + 1} characters`);
}

// Slack rejects unknown properties ("invalid additional property: disabled", bolt-js#1891).
function checkProps(checker: Checker, object: JsonObject, ptr: string, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(object)) {
    if (!allowed.has(key)) report(checker, ptr, `invalid additional property: ${key}`);
  }
}

function props(...names: string[]): ReadonlySet<string> {
  return new Set(['type', ...names]);
}

function report(checker: Checker, pointer: string, message: string): void {
  checker.problems.push({ pointer, message });
}

/**
 * Slack fills in a `block_id` for blocks without one, and an `action_id` for interactive
 * elements without one; view payloads then carry those generated ids.
 */
function normalizeBlocks(blocks: readonly unknown[]): JsonObject[] {
  return blocks.filter(isObject).map((original) => {
    const block = structuredClone(original);
    if (typeof block.block_id !== 'string') block.block_id = generatedId();
    for (const element of interactiveElements(block)) {
      if (element.type !== 'image' && typeof element.action_id !== 'string') element.action_id = generatedId();
    }
    return block;
  });
}
