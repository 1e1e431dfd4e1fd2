// Helper for bench/ack.ts (not a benchmark itself): the load generator. Runs as a child process
// (forked with `node --import tsx`) so its CPU use does not disturb the timers of the process that
// hosts the Slack API emulator. It is driven over IPC:
//
//   parent -> child  { type: 'run', id, url, total, concurrency, rate?, teamId, … }
//   child  -> parent { type: 'need-triggers', count }        (the emulator issues trigger ids)
//   parent -> child  { type: 'triggers', items: [{ triggerId, userId, responseUrl }] }
//   child  -> parent { type: 'done', id, result }
//
// Each request is a signed `/platform new-namespace` slash command, form-encoded exactly as Slack
// sends it, with a fresh trigger id. Latency is measured from just before the request is written
// (open loop: from its scheduled start) to the end of the HTTP response, i.e. when Slack would see
// the ack.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { signRequest } from '../src/playground/slack-requests.ts';

export interface RunMessage {
  type: 'run';
  id: number;
  url: string;
  total: number;
  concurrency: number;
  /**
   * Open loop: start request i at i/rate s, at most `concurrency` in flight, and time it from its
   * scheduled start (so a stalled server is not hidden by requests starting late). Closed loop
   * (each of `concurrency` workers sends as soon as its previous request got its response) if unset.
   */
  rate?: number;
  /** The workspace and app, as the emulator knows them. */
  teamId: string;
  teamDomain: string;
  appId: string;
}

export interface RunResult {
  /** Ack latency of every request that got an HTTP response, in ms, in completion order. */
  latencies: number[];
  /** Response count per HTTP status. */
  statuses: Record<string, number>;
  /** Requests that got no response at all (connection error, timeout). */
  failures: number;
  failureMessages: string[];
  /** From the first request written to the last response, ms. */
  elapsedMs: number;
  /** Trigger ids thrown away because they sat in the pool too long to still be valid. */
  staleTriggers: number;
  /** [trigger id, epoch ms when its request was written], to time the bot's views.open. */
  sent: [string, number][];
  /** Open loop: the latest any request was written after its scheduled start, ms. */
  maxStartDelayMs: number;
}

/** What Slack would mint for one invocation: the trigger id is bound to the user who typed the command. */
export interface Invocation {
  triggerId: string;
  userId: string;
  responseUrl: string;
}

export type ParentMessage = RunMessage | { type: 'triggers'; items: Invocation[] } | { type: 'exit' };
export type ChildMessage = { type: 'ready' } | { type: 'need-triggers'; count: number } | { type: 'done'; id: number; result: RunResult };

/**
 * A trigger id is valid for 3 s from issue. Slack mints it as it sends the command; ids older than
 * this in the pool are dropped so that pool time adds little to the age the bot sees.
 */
const MAX_TRIGGER_AGE_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;

const secret = process.env.SLACK_SIGNING_SECRET ?? '';
if (!secret) throw new Error('SLACK_SIGNING_SECRET is not set');
if (!process.send) throw new Error('bench/load.ts must be started with an IPC channel (child_process.fork)');

const send = (message: ChildMessage) => process.send?.(message);

/** Invocations from the parent, oldest first, with when they arrived. */
const pool: { invocation: Invocation; at: number }[] = [];
let waiting: (() => void)[] = [];
let requested = 0;
let staleTriggers = 0;

/** Asks for `batch` more ids when fewer than half a batch are left or on the way. */
function refill(batch: number): void {
  if (pool.length + requested < batch / 2) {
    requested += batch;
    send({ type: 'need-triggers', count: batch });
  }
}

/**
 * Ids to ask for at a time: enough for a few round trips to the parent, but few enough to be
 * used well within MAX_TRIGGER_AGE_MS at an open-loop rate.
 */
function batchSize(run: RunMessage): number {
  const closedLoop = run.concurrency * 4;
  return run.rate ? Math.max(4, Math.min(closedLoop, Math.ceil(run.rate / 5))) : closedLoop;
}

async function takeInvocation(batch: number): Promise<Invocation> {
  for (;;) {
    const now = performance.now();
    while (pool.length > 0 && now - (pool[0]?.at ?? now) > MAX_TRIGGER_AGE_MS) {
      pool.shift();
      staleTriggers++;
    }
    refill(batch);
    const next = pool.shift();
    if (next) return next.invocation;
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
}

function slashCommandBody(run: RunMessage, invocation: Invocation): string {
  const user = invocation.userId;
  return new URLSearchParams({
    token: 'bench-verification-token',
    team_id: run.teamId,
    team_domain: run.teamDomain,
    channel_id: 'C0BENCH',
    channel_name: 'bench',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/platform',
    text: 'new-namespace',
    api_app_id: run.appId,
    is_enterprise_install: 'false',
    response_url: invocation.responseUrl,
    trigger_id: invocation.triggerId,
  }).toString();
}

function post(url: URL, agent: Agent, body: string, scheduledAt?: number, retry = true): Promise<{ status: number; ms: number }> {
  const headers = {
    ...signRequest(secret, body),
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
  };
  return new Promise((resolve, reject) => {
    const started = scheduledAt ?? performance.now();
    const req = request(url, { method: 'POST', agent, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The app closed an idle kept-alive connection just as it was reused; the request never
      // reached it, so send it again on a fresh connection (as any HTTP client would).
      if (retry && req.reusedSocket && err.code === 'ECONNRESET') resolve(post(url, agent, body, scheduledAt, false));
      else reject(err);
    });
    req.end(body);
  });
}

/**
 * One keep-alive agent per app and concurrency, kept across runs, so a measured block reuses the
 * connections its warm-up opened: the blocks measure steady state, and connection set-up belongs
 * to the warm-up. (Opening `concurrency` connections at once to an app that is saturated delays
 * the last acks of that burst by up to ~2 s, for bare Bolt + views.open as for Slipway.)
 */
const agents = new Map<string, Agent>();
function agentFor(message: RunMessage): Agent {
  const key = `${message.url} ${message.concurrency}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: message.concurrency });
    agents.set(key, agent);
  }
  return agent;
}

async function run(message: RunMessage): Promise<RunResult> {
  const url = new URL(message.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load ${url.hostname}: loopback only`);
  const agent = agentFor(message);
  const result: RunResult = { latencies: [], statuses: {}, failures: 0, failureMessages: [], elapsedMs: 0, staleTriggers: 0, sent: [], maxStartDelayMs: 0 };
  staleTriggers = 0;
  let next = 0;
  const started = performance.now();
  const rate = message.rate;
  const worker = async () => {
    while (next < message.total) {
      const seq = next++;
      let scheduledAt: number | undefined;
      if (rate) {
        scheduledAt = started + (seq * 1000) / rate;
        const wait = scheduledAt - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const invocation = await takeInvocation(batchSize(message));
      const now = performance.now();
      if (scheduledAt !== undefined) result.maxStartDelayMs = Math.max(result.maxStartDelayMs, now - scheduledAt);
      result.sent.push([invocation.triggerId, performance.timeOrigin + now]);
      try {
        const { status, ms } = await post(url, agent, slashCommandBody(message, invocation), scheduledAt);
        result.latencies.push(ms);
        result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      } catch (err) {
        result.failures++;
        if (result.failureMessages.length < 5) result.failureMessages.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: message.concurrency }, worker));
  result.elapsedMs = performance.now() - started;
  result.staleTriggers = staleTriggers;
  pool.length = 0; // leftover ids would be stale by the next run
  return result;
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'triggers': {
      const at = performance.now();
      requested = Math.max(0, requested - message.items.length);
      for (const invocation of message.items) pool.push({ invocation, at });
      const wake = waiting;
      waiting = [];
      for (const resolve of wake) resolve();
      break;
    }
    case 'run':
      void run(message).then(
        (result) => send({ type: 'done', id: message.id, result }),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
      break;
    case 'exit':
      for (const agent of agents.values()) agent.destroy();
      process.disconnect();
      break;
  }
});

send({ type: 'ready' });
