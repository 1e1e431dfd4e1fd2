import Database from 'better-sqlite3';
import pg from 'pg';
import { ACTION, BLOCK, CALLBACK } from '../../src/slack/ids.ts';
import type { EmulatedMessage, EmulatedView } from '../../src/playground/slack-api.ts';
import { sendBlockAction, sendSlashCommand, sendViewSubmission, valuesFor, type SlackReply } from '../../src/playground/slack-requests.ts';
import { setUpBotProcesses, type BotProcess } from './bot-process.ts';
import { APPROVALS, DEV_CHANNEL, PEOPLE, SIGNING_SECRET } from './harness.ts';
import { ServiceProxy } from './service-proxy.ts';

/**
 * Several bot processes on one database behind a Service (test/support/service-proxy.ts), with
 * leader election on a Lease in the Kubernetes emulator, as the `ha` overlay runs them; and
 * developers who request namespaces through the Service as Slack would deliver their clicks.
 */

/** Lease timings short enough for a takeover within a test, in the defaults' proportions (15/10/2 s). */
export const LEASE_TIMINGS = { leaseDurationSeconds: 2, renewDeadlineSeconds: 1.2, retryPeriodSeconds: 0.2 };
export const LEASE = { namespace: 'default', name: 'slipway-leader' };
/** Run claims renewed every 2 s and taken over after 10 s: a replica slowed by a busy machine is not taken for a dead one. */
export const CLAIM_TIMINGS = { heartbeatSeconds: 2, lapseSeconds: 10 };

/** The developer making request `i` (one each, so what each was told is easy to count). */
export const developer = (i: number) => `U0DEV${String(i).padStart(4, '0')}`;

export interface ReplicaSetOptions {
  /** Bot processes started at once. */
  replicas: number;
  /** Developers in the workspace (`developer(0)` …). */
  developers: number;
  /** The database every replica shares: its environment (DATABASE_URL), or a SQLite file in the set's folder when undefined. */
  database?: Record<string, string> | undefined;
  /** Leader election on (default true). */
  leaderElection?: boolean;
  /** Extra environment for every replica. */
  env?: Record<string, string>;
  /** The Lease's timings (default LEASE_TIMINGS). */
  lease?: typeof LEASE_TIMINGS;
}

export type ReplicaSet = Awaited<ReturnType<typeof startReplicaSet>>;

export async function startReplicaSet(t: { after(fn: () => unknown): void }, options: ReplicaSetOptions) {
  const developers = Array.from({ length: options.developers }, (_, i) => developer(i));
  const setup = await setUpBotProcesses(
    t,
    {
      channels: [
        { id: APPROVALS, name: 'platform-approvals', members: ['U0BOT', PEOPLE.alice, PEOPLE.bob, PEOPLE.carol] },
        { id: DEV_CHANNEL, name: 'dev', members: developers },
      ],
      users: [PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, ...developers].map((id) => ({ id, name: id.toLowerCase() })),
      userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [PEOPLE.carol] }],
    },
    'slipway-replicas-',
  );
  // A replica that died is found out within seconds (its run claims and unfinished announcements).
  setup.doc.claims = CLAIM_TIMINGS;
  if (options.leaderElection !== false) {
    setup.doc.leaderElection = { enabled: true, cluster: 'dev-eu', namespace: LEASE.namespace, leaseName: LEASE.name, ...(options.lease ?? LEASE_TIMINGS) };
  }
  const proxy = await ServiceProxy.start();
  t.after(() => proxy.close());
  // Replicas read one survey key from the environment, as DATABASE_URL requires (src/env.ts).
  const env = { ...setup.env(), SLIPWAY_SURVEY_KEY: Buffer.alloc(32, 7).toString('base64'), ...(options.database ?? {}), ...(options.env ?? {}) };
  const running = new Map<string, BotProcess>();
  let serial = 0;

  /** Starts a replica (`slipway-<n>`), puts it behind the Service and waits until it is in rotation. */
  const start = async (): Promise<string> => {
    const name = `slipway-${serial++}`;
    const bot = await setup.start({ ...env, POD_NAME: name });
    running.set(name, bot);
    proxy.add({ name, baseUrl: bot.baseUrl, metricsUrl: bot.metricsUrl });
    await proxy.waitReady(name);
    return name;
  };
  /** Ends a replica with `signal` and waits for it to exit; its endpoint leaves the Service. */
  const end = async (name: string, signal: 'SIGKILL' | 'SIGTERM') => {
    const bot = running.get(name);
    if (!bot) throw new Error(`no replica ${name}`);
    bot.child.kill(signal);
    const exit = await bot.exited;
    running.delete(name);
    proxy.remove(name);
    return exit;
  };
  for (let i = 0; i < options.replicas; i++) await start();

  /** The replica holding the Lease now (by its POD_NAME), if any. */
  const leader = (): string | undefined => {
    const lease = setup.kube.get('leases', LEASE.namespace, LEASE.name) as { spec?: { holderIdentity?: string } } | undefined;
    const holder = lease?.spec?.holderIdentity?.split('_')[0];
    return holder && running.has(holder) ? holder : undefined;
  };

  return {
    ...setup,
    /** Every replica's environment (the shared database among it). */
    env,
    proxy,
    developers,
    start,
    kill: (name: string) => end(name, 'SIGKILL'),
    stop: (name: string) => end(name, 'SIGTERM'),
    names: () => [...running.keys()],
    bot: (name: string) => running.get(name),
    leader,
    /** Everything the replicas wrote, for a failure's message. */
    output: () => [...running.entries()].map(([name, bot]) => `--- ${name}\n${bot.output()}`).join('\n'),
  };
}

/** What a developer's request asks for: a small dev namespace (auto-approved by policy) or a medium staging one (an approver decides). */
export function requestAnswers(namespace: string, needsApproval: boolean) {
  return {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: needsApproval ? 'staging' : 'dev',
    [BLOCK.cluster]: 'dev-eu',
    [BLOCK.tier]: needsApproval ? 'medium' : 'small',
    [BLOCK.name]: namespace,
    [BLOCK.purpose]: 'Replica tests',
  };
}

/**
 * What the tests read from the Slack emulator while many developers work at once: a developer's
 * request forms and a namespace's request card, each looked up alone (reading every view and
 * message per developer would copy them hundreds of times a second).
 */
export class SlackWatch {
  constructor(private readonly set: Pick<ReplicaSet, 'slack'>) {}

  /** Nothing to stop: kept so a watch is closed where it is made. */
  close(): void {}

  /** The `n`th request form opened for `user` (0 the first), once it is. */
  form(user: string, n: number): Promise<EmulatedView> {
    return until(`request form ${n} of ${user}`, () => this.set.slack.viewsFor(user, CALLBACK.newNamespace)[n]);
  }

  /** The request card for `namespace`, once it is posted. */
  card(namespace: string, timeoutMs?: number): Promise<EmulatedMessage> {
    const text = new RegExp(` requests namespace ${namespace} \\(`);
    return until(`the card for ${namespace}`, () => this.set.slack.messagesMatching(APPROVALS, text)[0], timeoutMs);
  }
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A delivery through the Service: its answer, or undefined when the connection broke (Slack would show the person an error). */
export async function deliver(send: () => Promise<SlackReply>): Promise<SlackReply | undefined> {
  try {
    return await send();
  } catch {
    return undefined;
  }
}

const acked = (reply: SlackReply | undefined) => reply?.status === 200;

/** How long a person takes to try again after Slack showed them an error. */
const RETRY_AFTER_MS = 500;
const MAX_TRIES = 10;
const pause = () => new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));

/** What happened to one developer's request on the way in. */
export interface RequestTrip {
  namespace: string;
  user: string;
  needsApproval: boolean;
  /** Commands typed (again after a failure) until the form opened. */
  commands: number;
  /** Submissions of the form until one was acked with 200. */
  submissions: number;
  /** Approve clicks until one was acked with 200 (0 when policy approved). */
  clicks: number;
}

/**
 * One developer's request through the Service, as a person does it: types the command (again when
 * Slack shows an error), submits the form (again, the same form, when its submission failed), and
 * when an approver must decide, Alice clicks Approve on the card (again when the click failed).
 */
export async function requestThroughService(set: ReplicaSet, watch: SlackWatch, i: number, needsApproval: boolean): Promise<RequestTrip> {
  const trip = await submitRequest(set, watch, i, needsApproval);
  if (needsApproval) trip.clicks = await clickApprove(set.proxy.url, set, await watch.card(trip.namespace), PEOPLE.alice);
  return trip;
}

/** Developer `i` types the command and submits the form to `url` (default the Service), each again after a failure; returns the trip so far. */
export async function submitRequest(set: ReplicaSet, watch: SlackWatch, i: number, needsApproval: boolean, url = set.proxy.url): Promise<RequestTrip> {
  const user = developer(i);
  const namespace = `ha-${String(i).padStart(4, '0')}`;
  const trip: RequestTrip = { namespace, user, needsApproval, commands: 0, submissions: 0, clicks: 0 };
  let view: EmulatedView | undefined;
  while (!view) {
    trip.commands++;
    const command = await deliver(() =>
      sendSlashCommand(url, SIGNING_SECRET, { text: 'new-namespace', userId: user, channelId: DEV_CHANNEL, triggerId: set.slack.issueTriggerId(user) }),
    );
    if (acked(command)) view = await watch.form(user, 0).catch(() => undefined);
    if (view) break;
    if (trip.commands >= MAX_TRIES) throw new Error(`${user}: the form never opened`);
    await pause();
  }
  const form = view;
  const values = valuesFor(form, requestAnswers(namespace, needsApproval));
  for (;;) {
    trip.submissions++;
    const reply = await deliver(() => sendViewSubmission(url, SIGNING_SECRET, { view: form, values, userId: user }));
    // Closed: the request is in. Field errors (a cluster slow to answer the name check) keep the
    // form open, and the developer submits it again, as after a failure.
    if (acked(reply) && reply?.body === '') {
      set.slack.applySubmissionAck(form.id, reply.body);
      return trip;
    }
    if (trip.submissions >= MAX_TRIES) throw new Error(`${user}: the submission never went through: ${JSON.stringify(reply?.body)}`);
    await pause();
  }
}

/** `approver` clicks Approve on `card`, sent to `url`, again until a click is acked; returns the clicks. */
export async function clickApprove(url: string, set: Pick<ReplicaSet, 'slack'>, card: EmulatedMessage, approver: string): Promise<number> {
  for (let clicks = 1; ; clicks++) {
    const reply = await deliver(() =>
      sendBlockAction(url, SIGNING_SECRET, { userId: approver, message: card, actionId: ACTION.approve, triggerId: set.slack.issueTriggerId(approver) }),
    );
    if (acked(reply)) return clicks;
    if (clicks >= MAX_TRIES) throw new Error(`the Approve click on ${card.ts} never went through`);
    await pause();
  }
}

/** A request as the shared database holds it, with its runs. */
export interface StoredRequest {
  id: number;
  namespace: string;
  requester: string;
  status: string;
  viewId: string | null;
  notified: string | null;
  /** The ts of the request's card in the approvals channel, once recorded. */
  cardTs: string | null;
  runs: { status: string; kind: string }[];
}

/** Reads every request and its runs from the replicas' database (SQLite file or DATABASE_URL), as an operator's query would. */
export async function storedRequests(env: Record<string, string | undefined>): Promise<StoredRequest[]> {
  const requestsSql = `SELECT id, namespace, requester, status, source_view_id AS "viewId", notified_status AS "notified", card_ts AS "cardTs" FROM requests ORDER BY id`;
  const runsSql = `SELECT request_id AS "requestId", status, kind FROM runs ORDER BY id`;
  type RunRow = { requestId: number; status: string; kind: string };
  let requests: Omit<StoredRequest, 'runs'>[];
  let runs: RunRow[];
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      requests = (await client.query<Omit<StoredRequest, 'runs'>>(requestsSql)).rows.map((r) => ({ ...r, id: Number(r.id) }));
      runs = (await client.query<RunRow>(runsSql)).rows.map((r) => ({ ...r, requestId: Number(r.requestId) }));
    } finally {
      await client.end();
    }
  } else {
    const db = new Database(env.DATABASE_PATH ?? '', { readonly: true, fileMustExist: true });
    try {
      requests = db.prepare(requestsSql).all() as Omit<StoredRequest, 'runs'>[];
      runs = db.prepare(runsSql).all() as RunRow[];
    } finally {
      db.close();
    }
  }
  return requests.map((r) => ({ ...r, runs: runs.filter((run) => run.requestId === r.id).map(({ status, kind }) => ({ status, kind })) }));
}
