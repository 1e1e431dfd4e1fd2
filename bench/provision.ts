// Benchmark: provisioning after an Approve click (`npm run bench:provision`).
//
// - Slipway runs in this process, built with `createSlipway` as the tests build it, but with the
//   production defaults the tests turn off: real `setTimeout` backoff sleeps and the Slack
//   WebClient's default retry policy (429s are waited out as in production). Its HTTP listener is
//   bound to 127.0.0.1 only (`host` in its runtime env).
// - The Slack Web API emulator and the Kubernetes API emulator (5 ms added latency per request,
//   reached through a kubeconfig by the real client-node) run in this process on 127.0.0.1.
// - Every request goes in as Slack sends it: a signed `/platform new-namespace <name>`, a signed
//   submission of the modal the bot opened (staging + medium: needs approval), then a signed
//   `block_actions` Approve click by an approver. The clock starts when the click is sent.
// - Phases: warm-up (discovery and JIT), single (N sequential requests), probe (12 sequential runs
//   alternating between 5 and 55 ms API latency: a run's growth per ms of latency is the number of
//   round trips it waits for in sequence, ~3 when independent objects go out together, 10 when
//   not), burst (N requests submitted first, then all Approve clicks at once) and, unless
//   BENCH_PROVISION_429=0, the same burst again while the Slack emulator answers the first 20
//   chat.postMessage and 20 chat.update calls with HTTP 429 (Retry-After: 1 s).
// - Every phase also records the CPU other processes on the machine used meanwhile: the timings
//   are only as quiet as the box.
// - "done" = the run is `done` in the store (runs.finished_at, ms resolution); "DM" = the requester's
//   "🎉 Your namespace … is ready" arrived at the Slack emulator (its call log, polled every 2 ms).
// - Kubernetes: every request the emulator received (its `requests` log, stamped with an arrival
//   time here) is attributed to a namespace by URL; discovery (/api, /apis/...) is counted apart.
// - Slack: after each phase every message a person should see is checked: the requester's three
//   DMs (received, approved, ready), the card (updated to "Ready"), and in its thread the decision,
//   the progress message (final state) and the ready note.
//
// Prints a table, then as the last line of stdout one JSON object. Exits 1 if a run fails, a
// message is missing in a phase without injected 429s, a click is not acked with 200, Slipway logs
// an error, or the run exceeds its time bound. Missing a target is reported and fails the run only
// with BENCH_ENFORCE_TARGETS=1.
//
// Knobs: BENCH_PROVISION_WARMUP (default 5), BENCH_PROVISION_SINGLE (30), BENCH_PROVISION_BURST
// (100), BENCH_PROVISION_429=0 (skip the rate-limited burst), BENCH_PROVISION_CPU_PROF=file (V8 CPU
// profile of the burst phase, with a summary of where the time went).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createSlipway, type Slipway } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import type { RuntimeEnv } from '../src/env.ts';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { KubeApiEmulator, writeKubeconfig, type RecordedRequest } from '../test/emulators/kube-api.ts';
import { SlackApiEmulator, type EmulatedMessage } from '../test/emulators/slack-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../test/support/config.ts';
import { readable } from '../test/support/harness.ts';
import { sendBlockAction, sendSlashCommand, sendViewSubmission, valuesFor } from '../test/support/slack-requests.ts';
import { machineBusyMs } from './lib/machine.ts';

const WARMUP = positiveInt(process.env.BENCH_PROVISION_WARMUP, 5);
const SINGLE = positiveInt(process.env.BENCH_PROVISION_SINGLE, 30);
const BURST = positiveInt(process.env.BENCH_PROVISION_BURST, 100);
const WITH_429 = process.env.BENCH_PROVISION_429 !== '0';
const CPU_PROFILE = process.env.BENCH_PROVISION_CPU_PROF?.trim() || undefined;
const ENFORCE = process.env.BENCH_ENFORCE_TARGETS === '1';

const KUBE_LATENCY_MS = 5;
/**
 * Sequential runs alternating between KUBE_LATENCY_MS and this latency: how much a run grows per
 * ms of added latency is the number of round trips it waits for one after another.
 */
const PROBE_LATENCY_MS = 55;
const PROBE = 12;
const BURST_TARGET_MS = 10_000;
/** API calls per namespace beyond one per object applied: the name check at submission and the guard read. */
const EXTRA_CALLS_MAX = 2;
/** 429s injected in the rate-limited burst, per method, each with Retry-After: 1 s. */
const INJECTED_429 = { 'chat.postMessage': 20, 'chat.update': 20 } as const;
const DEADLINE_MS = 170_000;
const SINGLE_TIMEOUT_MS = 10_000;
const BURST_TIMEOUT_MS = 40_000;
const BURST_429_TIMEOUT_MS = 70_000;
const POLL_MS = 2;

const CLUSTER = 'dev-eu';
const DEV_CHANNEL = 'C0DEV';
const APPROVER = 'U0ALICE';
const FORM = {
  [BLOCK.team]: 'payments',
  [BLOCK.environment]: 'staging',
  [BLOCK.cluster]: CLUSTER,
  [BLOCK.tier]: 'medium',
  [BLOCK.purpose]: 'Benchmark of provisioning after approval',
};

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null);
const pad = (value: string | number, width: number) => String(value).padStart(width);
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

/** CPU time used by the whole machine (all cores, excluding idle and iowait) in ms, or undefined. */

async function waitFor(what: string, check: () => boolean, timeoutMs: number, everyMs = POLL_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ observation

/**
 * Follows the Slack emulator's call log: when each call arrived (polled), the final DMs and ready
 * notes by namespace, and 429s.
 */
class SlackWatch {
  readonly arrivedAt: number[] = [];
  readonly readyDmAt = new Map<string, number>();
  readonly readyNoteAt = new Map<string, number>();
  private seen = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly slack: SlackApiEmulator) {}

  start(): void {
    const tick = () => {
      this.poll();
      this.timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.poll();
  }

  poll(): void {
    const calls = this.slack.calls;
    const now = epochMs();
    for (let i = this.seen; i < calls.length; i++) {
      const call = calls[i];
      this.arrivedAt[i] = now;
      if (!call || !call.ok || typeof call.args.text !== 'string') continue;
      if (call.method === 'chat.postMessage') {
        const dm = /^🎉 Your namespace `([^`]+)` is ready/.exec(call.args.text);
        if (dm?.[1] && !this.readyDmAt.has(dm[1])) this.readyDmAt.set(dm[1], now);
      }
      // The thread's progress message, in its final state, is the ready note for approvers.
      if (call.method === 'chat.postMessage' || call.method === 'chat.update') {
        const note = /^🎉 Provisioned `([^`]+)`/.exec(call.args.text);
        if (note?.[1] && !this.readyNoteAt.has(note[1])) this.readyNoteAt.set(note[1], now);
      }
    }
    this.seen = calls.length;
  }
}

/** Stamps every request the Kubernetes emulator records with its arrival time (after the body was read). */
function stampKubeRequests(kube: KubeApiEmulator): WeakMap<RecordedRequest, number> {
  const arrivals = new WeakMap<RecordedRequest, number>();
  const log = kube.requests;
  const push = log.push.bind(log);
  log.push = (...items: RecordedRequest[]) => {
    const now = epochMs();
    for (const item of items) arrivals.set(item, now);
    return push(...items);
  };
  return arrivals;
}

const DISCOVERY = /^\/(api|apis)(\/[^/]+){0,2}\/?$/;
const namespaceOf = (path: string) => /^\/api\/v1\/namespaces\/([^/]+)|^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)/.exec(path)?.slice(1).find(Boolean);

// ------------------------------------------------------------------ requests

interface Req {
  name: string;
  requester: string;
  id: number;
  card: EmulatedMessage;
  clickAt: number;
  ackAt: number;
  ackStatus: number;
  /** The Kubernetes emulator's added latency while this request was provisioned. */
  latencyMs: number;
}

type Pending = Omit<Req, 'clickAt' | 'ackAt' | 'ackStatus' | 'latencyMs'>;

interface Timing {
  name: string;
  latencyMs: number;
  /** click -> run done in the store */
  done: number;
  /** click -> final DM at the Slack emulator */
  dm: number;
  /** click -> run started (the Slack calls approve() makes first) */
  preRun: number;
  /** run started -> run done */
  run: number;
  /** run done -> final DM */
  postRun: number;
  /** click -> ack received */
  ack: number;
}

interface KubeShape {
  /** Non-discovery requests for the namespace, all of them / before the click / after it. */
  calls: number;
  submitCalls: number;
  provisionCalls: number;
  /** Objects applied (distinct SSA targets) and objects in the emulator managed by `slipway`. */
  applied: number;
  stored: number;
  /**
   * Most provisioning requests in flight at once, counting each as in flight only for the
   * emulator's added latency after its arrival (a lower bound: it is in flight longer).
   */
  peakInFlight: number;
  non2xx: string[];
}

interface PhaseResult {
  label: string;
  reqs: Req[];
  timings: Timing[];
  firstClick: number;
  allDoneMs: number;
  allDmMs: number;
  allMessagesMs: number;
  kube: Map<string, KubeShape>;
  kubeRequests: number;
  missing: string[];
  duplicates: string[];
  slack429: number;
  /** Requests one of whose own Slack calls was answered 429. */
  hit429: Set<string>;
  slackCalls: Record<string, number>;
  approvalsPosts: number;
  failedRuns: string[];
  cpuMs: number;
  /** Cores other processes on the machine kept busy meanwhile (the numbers are only as quiet as the box). */
  otherCores: number | undefined;
  wallMs: number;
  loopP99: number;
  loopMax: number;
}

async function main(): Promise<number> {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-provision-'));
  const signingSecret = randomBytes(16).toString('hex');
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(tmp, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await Promise.resolve(step()).catch((err: unknown) => console.error('cleanup:', err));
  };
  const deadline = setTimeout(() => {
    console.error(`bench:provision: exceeded its time bound of ${DEADLINE_MS / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);

  // Pino lines from Slipway (warn and above) go here, not to stdout.
  const logLines: { level: number; msg: string; line: string }[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        try {
          const parsed = JSON.parse(line) as { level?: number; msg?: string };
          logLines.push({ level: parsed.level ?? 0, msg: parsed.msg ?? '', line });
        } catch {
          logLines.push({ level: 50, msg: line, line });
        }
      }
      done();
    },
  });

  try {
    const total = WARMUP + SINGLE + PROBE + BURST * (WITH_429 ? 2 : 1);
    const requesters = Array.from({ length: total }, (_, i) => `U0REQ${String(i).padStart(4, '0')}`);
    const config = (() => {
      const doc = exampleConfigDocument();
      const clusters = doc.clusters as Record<string, unknown>[];
      clusters[0] = { ...clusters[0], path: join(tmp, 'kubeconfig.yaml'), context: CLUSTER };
      return parseConfig(doc, EXAMPLE_CONFIG_PATH);
    })();
    const approvals = config.slack.approvalsChannel;

    const slack = await SlackApiEmulator.start({
      token: `xoxb-bench-${randomBytes(6).toString('hex')}`,
      channels: [
        { id: approvals, name: 'platform-approvals', members: ['U0BOT', APPROVER, 'U0BOB', ...requesters] },
        { id: DEV_CHANNEL, name: 'dev', members: [APPROVER, ...requesters] },
      ],
      users: [APPROVER, 'U0BOB', ...requesters].map((id) => ({ id, name: id.slice(2).toLowerCase() })),
      userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [] }],
    });
    cleanups.push(() => slack.close());
    const kube = await KubeApiEmulator.start();
    cleanups.push(() => kube.close());
    kube.setLatency(KUBE_LATENCY_MS);
    const arrivals = stampKubeRequests(kube);
    await writeKubeconfig(kube, join(tmp, 'kubeconfig.yaml'), { context: CLUSTER });

    const env: RuntimeEnv = {
      slackBotToken: slack.token,
      slackSigningSecret: signingSecret,
      slackAppToken: undefined,
      slackApiUrl: slack.url,
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      configPath: EXAMPLE_CONFIG_PATH,
      databasePath: join(tmp, 'slipway.db'),
      logLevel: 'warn',
    };
    // Production defaults: no `sleep` (real setTimeout backoff), no `slackRetries` (WebClient's own policy).
    const slipway: Slipway = createSlipway({ env, config, log: pino({ level: 'warn', base: { app: 'slipway' } }, logStream) });
    const server = await slipway.start();
    cleanups.push(() => slipway.stop());
    if (!server) throw new Error('expected an HTTP server');
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { store } = slipway.deps;

    const watch = new SlackWatch(slack);
    watch.start();
    cleanups.push(() => watch.stop());

    const profileLines: string[] = [];
    let nextRequester = 0;
    /** Submits requests one after another, as people would, and returns them with their cards. */
    const submitAll = async (prefix: string, count: number): Promise<Pending[]> => {
      const submitted: { name: string; requester: string; id: number }[] = [];
      for (let i = 0; i < count; i++) {
        const requester = requesters[nextRequester++] ?? '';
        const name = `bench-${prefix}-${String(i).padStart(3, '0')}`;
        const opened = slack.callsTo('views.open').length;
        const command = await sendSlashCommand(baseUrl, signingSecret, {
          text: `new-namespace ${name}`,
          userId: requester,
          channelId: DEV_CHANNEL,
          triggerId: slack.issueTriggerId(requester),
          responseUrl: slack.issueResponseUrl({ channelId: DEV_CHANNEL, userId: requester }),
        });
        if (command.status !== 200) throw new Error(`/platform answered ${command.status} for ${name}`);
        await waitFor(`the form for ${name}`, () => slack.callsTo('views.open').length > opened, 5_000, 1);
        const last = slack.callsTo('views.open').at(-1);
        if (!last?.ok) throw new Error(`views.open failed for ${name}: ${last?.error ?? `HTTP ${last?.status}`}`);
        const view = slack.lastViewOpened();
        const reply = await sendViewSubmission(baseUrl, signingSecret, { view, values: valuesFor(view, { ...FORM, [BLOCK.name]: name }), userId: requester });
        slack.applySubmissionAck(view.id, reply.body);
        if (reply.status !== 200 || reply.body !== '') throw new Error(`submission of ${name} answered ${reply.status} ${JSON.stringify(reply.body)}`);
        const request = store.findLiveRequest(CLUSTER, name);
        if (!request) throw new Error(`no request stored for ${name}`);
        submitted.push({ name, requester, id: request.id });
      }
      await waitFor(`${prefix}: every card posted`, () => submitted.every((s) => store.getRequest(s.id)?.card !== undefined), 10_000, 5);
      const byTs = new Map(slack.messages(approvals).map((m) => [m.ts, m]));
      return submitted.map((s) => {
        const ts = store.getRequest(s.id)?.card?.ts ?? '';
        const card = byTs.get(ts);
        if (!card) throw new Error(`card of ${s.name} not found in ${approvals}`);
        return { ...s, card };
      });
    };

    const click = async (r: Pending, latencyMs: number): Promise<Req> => {
      const clickAt = Date.now();
      const reply = await sendBlockAction(baseUrl, signingSecret, {
        userId: APPROVER,
        message: r.card,
        actionId: ACTION.approve,
        triggerId: slack.issueTriggerId(APPROVER),
        responseUrl: slack.issueResponseUrl({ channelId: approvals, userId: APPROVER, messageTs: r.card.ts }),
      });
      return { ...r, clickAt, ackAt: Date.now(), ackStatus: reply.status, latencyMs };
    };

    const progressRow = store.db.prepare<[number], { progress_ts: string | null }>(
      'SELECT progress_ts FROM runs WHERE request_id = ? ORDER BY id DESC LIMIT 1',
    );
    const runRow = store.db.prepare<[number], { status: string; started_at: string; finished_at: string | null }>(
      'SELECT status, started_at, finished_at FROM runs WHERE request_id = ? ORDER BY id DESC LIMIT 1',
    );
    const runOf = (id: number) => runRow.get(id);
    const stepRows = store.db.prepare<[number], { name: string; started_at: string | null }>(
      'SELECT s.name, s.started_at FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.request_id = ? ORDER BY s.position',
    );
    /** The steps that need only the namespace: how many, and ms between the first and the last start. */
    const stepStartSpread = (id: number) => {
      const starts = stepRows
        .all(id)
        .filter((row) => row.name !== 'namespace' && row.started_at)
        .map((row) => Date.parse(row.started_at ?? ''));
      return { steps: starts.length, spread: Math.max(...starts) - Math.min(...starts) };
    };
    const progressOf = { get: (id: number) => progressRow.get(id) };
    const countFailed = store.db.prepare<[string], { n: number }>(
      `SELECT COUNT(*) AS n FROM runs WHERE status = 'failed' AND request_id IN (SELECT value FROM json_each(?))`,
    );
    /**
     * Every request of a phase is through: its ready note in the thread and its ready DM (the
     * last message Slipway sends) arrived, or a run failed. The store is read at most every 100 ms so that waiting costs the
     * bot's thread next to nothing.
     */
    const allSettled = (reqs: readonly { id: number; name: string }[]) => {
      let checkedAt = 0;
      const ids = JSON.stringify(reqs.map((r) => r.id));
      return () => {
        if (reqs.every((r) => watch.readyNoteAt.has(r.name) && watch.readyDmAt.has(r.name))) return true;
        if (Date.now() - checkedAt < 100) return false;
        checkedAt = Date.now();
        return (countFailed.get(ids)?.n ?? 0) > 0;
      };
    };

    /** Everything a person should see for a request, checked in the emulator's final state. */
    const checkMessages = (reqs: readonly Req[]) => {
      const missing: string[] = [];
      const duplicates: string[] = [];
      const cards = new Map(slack.messages(approvals).map((m) => [m.ts, m]));
      for (const r of reqs) {
        const ref = `R-${r.id}`;
        const dms = slack.dmWith(r.requester).map((m) => m.text);
        const expectDm = (what: string, test: (text: string) => boolean) => {
          const n = dms.filter(test).length;
          if (n === 0) missing.push(`${r.name}: DM ${what}`);
          if (n > 1) duplicates.push(`${r.name}: DM ${what} x${n}`);
        };
        expectDm('received', (t) => t.startsWith('Got it!') && t.includes(`*${ref}*`));
        expectDm('approved', (t) => t.startsWith(`✅ <@${APPROVER}> approved *${ref}*`));
        expectDm('ready', (t) => t.startsWith(`🎉 Your namespace \`${r.name}\` is ready`));
        const card = cards.get(r.card.ts);
        if (!card) missing.push(`${r.name}: card`);
        else if (!readable(card).includes(`Ready: ${r.name}`)) missing.push(`${r.name}: card not updated to Ready (${card.text.split('—').at(-1)?.trim()})`);
        const thread = slack.thread(approvals, r.card.ts).map((m) => m.text);
        const expectReply = (what: string, test: (text: string) => boolean) => {
          const n = thread.filter(test).length;
          if (n === 0) missing.push(`${r.name}: thread ${what}`);
          if (n > 1) duplicates.push(`${r.name}: thread ${what} x${n}`);
        };
        expectReply('decision', (t) => t.startsWith(`✅ Approved by <@${APPROVER}>`));
        expectReply('progress (final, the ready note)', (t) => t.startsWith(`🎉 Provisioned \`${r.name}\``));
      }
      return { missing, duplicates };
    };

    const kubeShape = (reqs: readonly Req[], from: number, to: number): { shapes: Map<string, KubeShape>; count: number } => {
      const byNs = new Map<string, RecordedRequest[]>();
      let count = 0;
      for (const rec of kube.requests) {
        const ns = namespaceOf(rec.path);
        if (ns && reqs.some((r) => r.name === ns)) byNs.set(ns, [...(byNs.get(ns) ?? []), rec]);
        const at = arrivals.get(rec) ?? 0;
        if (at >= from && at <= to) count++;
      }
      const shapes = new Map<string, KubeShape>();
      for (const r of reqs) {
        const recs = (byNs.get(r.name) ?? []).filter((rec) => !DISCOVERY.test(rec.path));
        const after = recs.filter((rec) => (arrivals.get(rec) ?? 0) >= r.clickAt).sort((a, b) => (arrivals.get(a) ?? 0) - (arrivals.get(b) ?? 0));
        const times = after.map((rec) => arrivals.get(rec) ?? 0);
        const peakInFlight = Math.max(0, ...times.map((t) => times.filter((u) => u <= t && u + r.latencyMs > t).length));
        const appliedPaths = new Set(
          after.filter((rec) => rec.method === 'PATCH' && rec.contentType?.startsWith('application/apply-patch')).map((rec) => rec.path),
        );
        const managed = (o: { metadata?: { managedFields?: { manager: string }[] } } | undefined) =>
          o?.metadata?.managedFields?.some((f) => f.manager === 'slipway') === true;
        const stored =
          (managed(kube.get('namespaces', r.name)) ? 1 : 0) +
          ['resourcequotas', 'limitranges', 'networkpolicies', 'rolebindings'].reduce((n, kind) => n + kube.list(kind, r.name).filter(managed).length, 0);
        shapes.set(r.name, {
          calls: recs.length,
          submitCalls: recs.length - after.length,
          provisionCalls: after.length,
          applied: appliedPaths.size,
          stored,
          peakInFlight,
          non2xx: recs
            .filter((rec) => rec.status >= 300 && !(rec.method === 'GET' && rec.status === 404))
            .map((rec) => `${rec.method} ${rec.path} ${rec.status}`),
        });
      }
      return { shapes, count };
    };

    /** Clicks Approve on every request (one after another, or all at once) and measures until every message arrived. */
    const runPhase = async (
      label: string,
      pending: Pending[],
      mode: 'sequential' | 'burst',
      timeoutMs: number,
      options: { before?: () => void; latencyMs?: (index: number) => number } = {},
    ): Promise<PhaseResult> => {
      const latencyFor = options.latencyMs ?? (() => KUBE_LATENCY_MS);
      const machineBefore = machineBusyMs();
      const callsBefore = slack.calls.length;
      const loop = monitorEventLoopDelay({ resolution: 5 });
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      let profiler: Session | undefined;
      if (CPU_PROFILE && mode === 'burst' && label === 'burst') {
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      loop.enable();
      options.before?.();
      let reqs: Req[];
      if (mode === 'sequential') {
        reqs = [];
        for (const [i, p] of pending.entries()) {
          kube.setLatency(latencyFor(i));
          const r = await click(p, latencyFor(i));
          reqs.push(r);
          await waitFor(`${label}: ${r.name} ready and told`, allSettled([r]), timeoutMs);
        }
      } else {
        kube.setLatency(latencyFor(0));
        reqs = await Promise.all(pending.map((p) => click(p, latencyFor(0))));
        await waitFor(`${label}: every request ready and told`, allSettled(reqs), timeoutMs, 5);
      }
      loop.disable();
      kube.setLatency(KUBE_LATENCY_MS);
      const wallMs = performance.now() - wallBefore;
      const cpu = process.cpuUsage(cpuBefore);
      const machineAfter = machineBusyMs();
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const otherCores = machineBefore !== undefined && machineAfter !== undefined ? Math.max(0, machineAfter - machineBefore - cpuMs) / wallMs : undefined;
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        writeFileSync(CPU_PROFILE ?? 'provision.cpuprofile', JSON.stringify(profile));
        profileLines.push(...profileSummary(profile, `${CPU_PROFILE ?? ''}`));
      }
      watch.poll();

      const firstClick = Math.min(...reqs.map((r) => r.clickAt));
      const timings: Timing[] = [];
      const failedRuns: string[] = [];
      for (const r of reqs) {
        const run = runOf(r.id);
        if (run?.status !== 'done' || !run.finished_at) {
          failedRuns.push(`${r.name}: run ${run?.status ?? 'missing'}`);
          continue;
        }
        const startedAt = Date.parse(run.started_at);
        const finishedAt = Date.parse(run.finished_at);
        const dmAt = watch.readyDmAt.get(r.name) ?? NaN;
        timings.push({
          name: r.name,
          latencyMs: r.latencyMs,
          done: finishedAt - r.clickAt,
          dm: dmAt - r.clickAt,
          preRun: startedAt - r.clickAt,
          run: finishedAt - startedAt,
          postRun: dmAt - finishedAt,
          ack: r.ackAt - r.clickAt,
        });
      }
      const lastDone = Math.max(...reqs.map((r) => Date.parse(runOf(r.id)?.finished_at ?? '') || NaN));
      const lastDm = Math.max(...reqs.map((r) => watch.readyDmAt.get(r.name) ?? NaN));
      const lastNote = Math.max(...reqs.map((r) => watch.readyNoteAt.get(r.name) ?? NaN));
      const calls = slack.calls.slice(callsBefore);
      const slackCalls: Record<string, number> = {};
      for (const c of calls) slackCalls[c.method] = (slackCalls[c.method] ?? 0) + 1;
      const { shapes, count } = kubeShape(reqs, firstClick, Math.max(lastDone, lastDm));
      const { missing, duplicates } = checkMessages(reqs);
      // Which request each 429 belonged to: by card ts, thread, progress message or requester DM.
      const owner = new Map<string, string>();
      for (const r of reqs) {
        owner.set(r.card.ts, r.name);
        owner.set(r.requester, r.name);
        const progressTs = progressOf.get(r.id)?.progress_ts;
        if (progressTs) owner.set(progressTs, r.name);
      }
      const hit429 = new Set<string>();
      for (const c of calls.filter((call) => call.status === 429)) {
        const key = [c.args.ts, c.args.thread_ts, c.args.channel].find((v): v is string => typeof v === 'string' && owner.has(v));
        if (key) hit429.add(owner.get(key) ?? '');
      }
      return {
        label,
        reqs,
        timings,
        firstClick,
        allDoneMs: lastDone - firstClick,
        allDmMs: lastDm - firstClick,
        allMessagesMs: Math.max(lastDm, lastNote) - firstClick,
        kube: shapes,
        kubeRequests: count,
        missing,
        duplicates,
        slack429: calls.filter((c) => c.status === 429).length,
        hit429,
        slackCalls,
        approvalsPosts: calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === approvals).length,
        failedRuns,
        cpuMs,
        otherCores,
        wallMs,
        loopP99: loop.percentile(99) / 1e6,
        loopMax: loop.max / 1e6,
      };
    };

    // ---- phases (all requests of a phase are submitted before its first click)
    const setupMs = Date.now() - started;
    const warm = await runPhase('warm-up', await submitAll('warm', WARMUP), 'sequential', SINGLE_TIMEOUT_MS);
    const discoveryAfterWarmup = kube.requests.filter((r) => DISCOVERY.test(r.path)).length;
    const single = await runPhase('single', await submitAll('single', SINGLE), 'sequential', SINGLE_TIMEOUT_MS);
    // The same, slower API: how much a run grows per ms of latency is the number of round trips it waits for in sequence.
    const probe = await runPhase('probe', await submitAll('probe', PROBE), 'sequential', SINGLE_TIMEOUT_MS, {
      latencyMs: (i) => (i % 2 === 0 ? KUBE_LATENCY_MS : PROBE_LATENCY_MS),
    });
    const burst = await runPhase('burst', await submitAll('burst', BURST), 'burst', BURST_TIMEOUT_MS);
    let limited: PhaseResult | undefined;
    if (WITH_429) {
      const pending = await submitAll('burst429', BURST);
      limited = await runPhase('burst+429', pending, 'burst', BURST_429_TIMEOUT_MS, {
        before: () => {
          for (const [method, times] of Object.entries(INJECTED_429)) slack.rateLimit(method, { times, retryAfterSeconds: 1 });
        },
      });
    }
    watch.stop();
    const phases = [warm, single, probe, burst, ...(limited ? [limited] : [])];
    const tablePhases = phases.filter((p) => p !== probe);

    // ---- Kubernetes accounting over every namespace
    const discovery = kube.requests.filter((r) => DISCOVERY.test(r.path));
    const discoveryByPath = new Map<string, number>();
    for (const r of discovery) discoveryByPath.set(r.path, (discoveryByPath.get(r.path) ?? 0) + 1);
    const unattributed = kube.requests.filter((r) => !DISCOVERY.test(r.path) && !namespaceOf(r.path));
    const shapes = phases.flatMap((p) => [...p.kube.values()]);
    const measured = [single, burst, ...(limited ? [limited] : [])].flatMap((p) => [...p.kube.values()]);
    const callsPer = [...new Set(shapes.map((s) => s.calls))].sort((a, b) => a - b);
    const appliedPer = [...new Set(shapes.map((s) => s.applied))].sort((a, b) => a - b);
    const storedPer = [...new Set(shapes.map((s) => s.stored))].sort((a, b) => a - b);
    const extraPer = [...new Set(shapes.map((s) => s.calls - s.applied))].sort((a, b) => a - b);
    const kubeNon2xx = shapes.flatMap((s) => s.non2xx);
    const singleShapes = [...single.kube.values()];
    const peaks = singleShapes.map((s) => s.peakInFlight);
    const provisionCalls = Number(mostCommon(singleShapes.map((s) => String(s.provisionCalls))));
    const runP50 = percentile(
      probe.timings.filter((t) => t.latencyMs === KUBE_LATENCY_MS).map((t) => t.run),
      0.5,
    );
    const probeRunP50 = percentile(
      probe.timings.filter((t) => t.latencyMs === PROBE_LATENCY_MS).map((t) => t.run),
      0.5,
    );
    /** Round trips a run waits for one after another: its growth per ms of added latency. */
    const rounds = (probeRunP50 - runP50) / (PROBE_LATENCY_MS - KUBE_LATENCY_MS);
    const sequentialFloor = provisionCalls * KUBE_LATENCY_MS;
    const stepStarts = single.reqs.map((r) => stepStartSpread(r.id));

    // ---- report
    const stats = (values: number[]) => ({ p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: percentile(values, 1) });
    console.log(`\nProvisioning after Approve: Slipway in-process (real WebClient retries, real backoff sleeps), Kubernetes API`);
    console.log(
      `emulator with ${KUBE_LATENCY_MS} ms latency per request, Slack API emulator; all on 127.0.0.1. Node ${process.version}, setup ${(setupMs / 1000).toFixed(1)} s.`,
    );
    console.log(`Times in ms from sending the signed Approve click: done = run done in the store, DM = "🎉 … is ready" DM at Slack,`);
    console.log(`pre-run = click -> run started (approve() updates the card, posts the decision and DMs first), run = steps, post = done -> DM.`);
    const rank = (n: number) => n - Math.ceil(0.99 * n) + 1;
    console.log(
      `p99 is nearest-rank: with ${SINGLE} samples the ${rank(SINGLE) === 1 ? 'largest' : `${rank(SINGLE)}th largest`}, with ${BURST} the ${rank(BURST) === 2 ? '2nd' : rank(BURST)} largest.\n`,
    );
    console.log(
      `${'phase'.padEnd(10)}${pad('n', 4)}${pad('done p50', 10)}${pad('p99', 8)}${pad('DM p50', 9)}${pad('p99', 8)}${pad('pre-run p50/p99', 17)}` +
        `${pad('run p50/p99', 14)}${pad('post p50/p99', 15)}${pad('ack p99', 9)}${pad('all done', 10)}${pad('all DMs', 9)}${pad('429s', 6)}${pad('missing', 9)}${pad('other cores', 13)}`,
    );
    for (const p of tablePhases) {
      const done = stats(p.timings.map((t) => t.done));
      const dm = stats(p.timings.map((t) => t.dm));
      const pre = stats(p.timings.map((t) => t.preRun));
      const run = stats(p.timings.map((t) => t.run));
      const post = stats(p.timings.map((t) => t.postRun));
      const ack = stats(p.timings.map((t) => t.ack));
      const totals = p.label.startsWith('burst') ? [`${fmt(p.allDoneMs / 1000, 2)} s`, `${fmt(p.allDmMs / 1000, 2)} s`] : ['-', '-'];
      console.log(
        `${p.label.padEnd(10)}${pad(p.reqs.length, 4)}${pad(fmt(done.p50), 10)}${pad(fmt(done.p99), 8)}${pad(fmt(dm.p50), 9)}${pad(fmt(dm.p99), 8)}` +
          `${pad(`${fmt(pre.p50)}/${fmt(pre.p99)}`, 17)}${pad(`${fmt(run.p50)}/${fmt(run.p99)}`, 14)}${pad(`${fmt(post.p50)}/${fmt(post.p99)}`, 15)}` +
          `${pad(fmt(ack.p99), 9)}${pad(totals[0] ?? '-', 10)}${pad(totals[1] ?? '-', 9)}${pad(p.slack429, 6)}${pad(p.missing.length, 9)}${pad(fmt(p.otherCores ?? NaN, 2), 13)}`,
      );
    }
    const noisy = phases.filter((p) => (p.otherCores ?? 0) > 0.1);
    if (noisy.length > 0) {
      console.log(
        `(WARNING: other processes on this machine kept ${noisy.map((p) => `${fmt(p.otherCores ?? NaN, 2)} cores busy during ${p.label}`).join(', ')}: timings are noisy.)`,
      );
    }
    console.log('');
    for (const p of phases.filter((x) => x.label.startsWith('burst'))) {
      const cores = p.cpuMs / p.wallMs;
      const methods = Object.entries(p.slackCalls)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ');
      console.log(
        `${p.label}: ${p.kubeRequests} Kubernetes requests, Slack calls: ${methods} (${p.approvalsPosts} posts in the approvals channel); ` +
          `CPU ${fmt(p.cpuMs, 0)} ms over ${fmt(p.wallMs, 0)} ms (${fmt(cores, 2)} cores, ${fmt(p.cpuMs / p.reqs.length, 1)} ms/request, bot and emulators together); ` +
          `event-loop delay p99 ${fmt(p.loopP99)} ms, max ${fmt(p.loopMax)} ms; all messages in ${fmt(p.allMessagesMs / 1000, 2)} s.`,
      );
    }
    console.log(
      `\nKubernetes per namespace (${shapes.length} namespaces): API calls ${callsPer.join('/')} (submit-time name check ` +
        `${mostCommon(shapes.map((s) => String(s.submitCalls)))} + provisioning ${mostCommon(shapes.map((s) => String(s.provisionCalls)))}), ` +
        `objects applied ${appliedPer.join('/')} (slipway-managed objects in the cluster: ${storedPer.join('/')}), extra calls ${extraPer.join('/')}.`,
    );
    console.log(
      `Discovery: ${discovery.length} requests (${[...discoveryByPath].map(([path, n]) => `${path} x${n}`).join(', ')}), ` +
        `${discoveryAfterWarmup} of them during the warm-up; other requests not tied to a namespace: ${unattributed.length}.`,
    );
    console.log(
      `Concurrency: ${PROBE} sequential runs alternating between ${KUBE_LATENCY_MS} and ${PROBE_LATENCY_MS} ms API latency took (p50, steps only) ${fmt(runP50)} and ${fmt(probeRunP50)} ms: ` +
        `${fmt(rounds, 2)} sequential round trips per run for ${provisionCalls} calls (latency alone would cost ${sequentialFloor} ms if they were sequential). ` +
        `Peak provisioning requests in flight per namespace (lower bound) p50 ${percentile(peaks, 0.5)}, min ${Math.min(...peaks)}; ` +
        `the ${mostCommon(stepStarts.map((x) => String(x.steps)))} steps after the namespace start within ${fmt(Math.max(...stepStarts.map((x) => x.spread)), 0)} ms of each other (store).`,
    );
    const slowSlack = limited ? stats(limited.timings.map((t) => t.preRun)) : undefined;
    if (limited && slowSlack) {
      const notHit = limited.timings.filter((t) => !limited?.hit429.has(t.name)).map((t) => t.preRun);
      console.log(
        `Rate-limited burst: ${limited.hit429.size} of ${BURST} requests had one of their own Slack calls answered 429; the ${notHit.length} others ` +
          `waited ${fmt(percentile(notHit, 0.5))} ms (p50) from click to run start, vs ${fmt(
            percentile(
              burst.timings.map((t) => t.preRun),
              0.5,
            ),
          )} ms in the burst without 429s.`,
      );
      console.log(
        `Rate-limited burst: ${limited.slack429} HTTP 429s (${Object.entries(INJECTED_429)
          .map(([m, n]) => `${m} x${n}`)
          .join(', ')}, Retry-After 1 s); ` +
          `every namespace done in ${fmt(limited.allDoneMs / 1000, 2)} s, every DM in ${fmt(limited.allDmMs / 1000, 2)} s, ` +
          `every message in ${fmt(limited.allMessagesMs / 1000, 2)} s; click -> run start p50/p99 ${fmt(slowSlack.p50)}/${fmt(slowSlack.p99)} ms.`,
      );
    }
    // What real Slack would make of the burst's traffic (the emulator enforces no rate windows).
    const approvalsRate = burst.approvalsPosts / Math.max(0.001, burst.allMessagesMs / 1000);
    const updates = burst.slackCalls['chat.update'] ?? 0;
    console.log(
      `Real Slack limits: the burst posted ${burst.approvalsPosts} messages to one channel in ${fmt(burst.allMessagesMs / 1000, 2)} s ` +
        `(${fmt(approvalsRate, 0)}/s; chat.postMessage allows ~1/s per channel) and made ${updates} chat.update calls ` +
        `(Tier 3, ~50/min): sustained, that is >= ~${fmt(burst.approvalsPosts / 60, 1)} min of posting and ~${fmt(updates / 50, 1)} min of updates.`,
    );

    const problems: string[] = [];
    const allMissing = phases.flatMap((p) => p.missing.map((m) => `${p.label}: ${m}`));
    const limitedMissing = limited?.missing.length ?? 0;
    for (const p of phases) {
      problems.push(...p.failedRuns.map((f) => `${p.label}: ${f}`));
      problems.push(...p.reqs.filter((r) => r.ackStatus !== 200).map((r) => `${p.label}: Approve click for ${r.name} answered HTTP ${r.ackStatus}`));
      if (p !== limited) problems.push(...p.missing.map((m) => `${p.label}: missing ${m}`));
      problems.push(...p.duplicates.map((d) => `${p.label}: duplicate ${d}`));
    }
    problems.push(...kubeNon2xx.map((k) => `unexpected Kubernetes answer: ${k}`));
    const errorsLogged = logLines.filter((l) => l.level >= 50);
    problems.push(...errorsLogged.slice(0, 5).map((l) => `Slipway logged an error: ${l.line.slice(0, 300)}`));
    const ephemerals = slack.ephemerals().length + slack.responseUrlPosts.length;
    if (ephemerals > 0) problems.push(`${ephemerals} ephemeral / response_url messages (refusals or errors shown to clickers)`);
    const warningsLogged = logLines.filter((l) => l.level === 40);
    const slack429Seen = slack.calls.filter((c) => c.status === 429).length;

    const extraMax = Math.max(...extraPer);
    const targets = [
      {
        name: `burst: ${BURST} namespaces done within ${BURST_TARGET_MS / 1000} s of the first click`,
        met: burst.failedRuns.length === 0 && burst.allDoneMs <= BURST_TARGET_MS,
        value: `${fmt(burst.allDoneMs / 1000, 2)} s`,
      },
      {
        name: `API calls per namespace <= objects applied + ${EXTRA_CALLS_MAX}, the same for every namespace`,
        met: extraPer.length === 1 && extraMax <= EXTRA_CALLS_MAX,
        value: `extra ${extraPer.join('/')}`,
      },
      {
        name: 'independent objects applied concurrently: <= 3 sequential round trips (read, namespace, the rest together)',
        met: rounds <= 3.5 && percentile(peaks, 0.5) >= 2,
        value: `${fmt(rounds, 2)} round trips, peak in flight p50 ${percentile(peaks, 0.5)}`,
      },
      { name: 'no user-facing message missing (all phases)', met: allMissing.length === 0, value: `${allMissing.length} missing` },
      ...(limited
        ? [
            {
              name: 'with 429s injected: every message still arrives',
              met: limitedMissing === 0 && limited.failedRuns.length === 0,
              value: `${fmt(limited.allMessagesMs / 1000, 2)} s, ${limitedMissing} missing`,
            },
          ]
        : []),
    ];
    console.log('\nTargets:');
    for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.value}`);
    if (warningsLogged.length > 0) {
      const kinds = new Map<string, number>();
      for (const l of warningsLogged) kinds.set(l.msg, (kinds.get(l.msg) ?? 0) + 1);
      console.log(`\nSlipway warnings: ${[...kinds].map(([msg, n]) => `"${msg}" x${n}`).join(', ')}`);
    }
    if (slack.warnings.length > 0) console.log(`Slack emulator warnings: ${slack.warnings.length} (first: ${slack.warnings[0]})`);
    for (const line of profileLines) console.log(line);
    for (const m of allMissing.slice(0, 10)) console.log(`  missing: ${m}`);
    for (const p of problems.slice(0, 20)) console.log(`  PROBLEM: ${p}`);

    const s = (p: PhaseResult) => ({
      done: stats(p.timings.map((t) => t.done)),
      dm: stats(p.timings.map((t) => t.dm)),
      pre: stats(p.timings.map((t) => t.preRun)),
      run: stats(p.timings.map((t) => t.run)),
    });
    const ss = s(single);
    const bs = s(burst);
    const ls = limited ? s(limited) : undefined;
    const json = {
      bench: 'provision',
      kube_latency_ms: KUBE_LATENCY_MS,
      single_n: SINGLE,
      single_p50_ms: round(ss.done.p50),
      single_p99_ms: round(ss.done.p99),
      single_ready_p50_ms: round(ss.dm.p50),
      single_ready_p99_ms: round(ss.dm.p99),
      single_pre_run_p50_ms: round(ss.pre.p50),
      single_run_p50_ms: round(ss.run.p50),
      burst_n: BURST,
      burst_total_s: round(burst.allDoneMs / 1000, 3),
      burst_total_dm_s: round(burst.allDmMs / 1000, 3),
      burst_p50_ms: round(bs.done.p50),
      burst_p99_ms: round(bs.done.p99),
      burst_ready_p50_ms: round(bs.dm.p50),
      burst_ready_p99_ms: round(bs.dm.p99),
      burst_pre_run_p99_ms: round(bs.pre.p99),
      burst_run_p99_ms: round(bs.run.p99),
      burst_cpu_ms_per_request: round(burst.cpuMs / burst.reqs.length),
      burst_event_loop_p99_ms: round(burst.loopP99),
      burst_target_met: targets[0]?.met ?? false,
      api_calls_per_namespace: Math.max(...callsPer),
      provision_calls_per_namespace: provisionCalls,
      objects_per_namespace: Math.max(...appliedPer),
      extra_calls: extraMax,
      discovery_calls: discovery.length,
      sequential_round_trips: round(rounds, 2),
      single_peak_in_flight_p50: percentile(peaks, 0.5),
      sequential_floor_ms: sequentialFloor,
      namespaces_measured: measured.length,
      slack_429_seen: slack429Seen,
      slack_429_to_user: limitedMissing,
      missing_messages: allMissing.length,
      ...(limited && ls
        ? {
            burst429_total_s: round(limited.allDoneMs / 1000, 3),
            burst429_total_dm_s: round(limited.allDmMs / 1000, 3),
            burst429_all_messages_s: round(limited.allMessagesMs / 1000, 3),
            burst429_ready_p99_ms: round(ls.dm.p99),
            burst429_pre_run_p99_ms: round(ls.pre.p99),
          }
        : {}),
      burst_approvals_channel_posts: burst.approvalsPosts,
      burst_chat_updates: updates,
      targets_met: targets.every((t) => t.met),
      problems: problems.length,
      elapsed_s: round((Date.now() - started) / 1000, 1),
    };
    console.log(JSON.stringify(json));
    if (problems.length > 0) return 1;
    if (ENFORCE && !json.targets_met) return 1;
    return 0;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Where a V8 CPU profile's time went. Each sample goes to the nearest frame on its stack that
 * belongs to someone: Slipway (src/ and the libraries it calls), the emulators, or the bench's
 * driver; frames with no such caller (socket and parser callbacks, GC) stay "Node, unattributed".
 */
function profileSummary(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }, file: string): string[] {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const SLIPWAY_LIBS = /\/node_modules\/(@slack\/(bolt|web-api|socket-mode|oauth)|@kubernetes\/client-node|better-sqlite3|pino[^/]*|p-queue|p-retry|zod)\//;
  const ownerOf = (url: string, name: string): string | undefined => {
    if (name === '(garbage collector)') return 'garbage collector';
    if (name === '(idle)' || name === '(program)') return name;
    if (url.startsWith('node:inspector')) return '(profiler)';
    if (url.includes('/test/emulators/')) return 'emulators (test/emulators + what they call)';
    if (url.includes('/src/') || SLIPWAY_LIBS.test(url)) return 'Slipway (src/ + its libraries)';
    if (url.includes('/bench/') || url.includes('/test/support/')) return 'bench driver (signing, polling)';
    return undefined;
  };
  const owners = new Map<number, string>();
  const owner = (id: number): string => {
    const known = owners.get(id);
    if (known) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const found =
      (node && ownerOf(node.callFrame.url, node.callFrame.functionName)) ?? (up === undefined ? 'Node, unattributed (sockets, parsers, timers)' : owner(up));
    owners.set(id, found);
    return found;
  };
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const slipwayBy = new Map<string, number>();
  const { samples = [], timeDeltas = [] } = profile;
  let busy = 0;
  samples.forEach((id, i) => {
    const ms = (timeDeltas[i] ?? 0) / 1000;
    const who = owner(id);
    if (who === '(profiler)') return;
    byOwner.set(who, (byOwner.get(who) ?? 0) + ms);
    const frame = byId.get(id)?.callFrame;
    if (who.startsWith('Slipway')) {
      // The nearest Slipway frame on the stack names the package (or src/ file) the time is spent for.
      let up: number | undefined = id;
      let area = '';
      while (up !== undefined && !area) {
        const url = byId.get(up)?.callFrame.url ?? '';
        area = /\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? (url.includes('/src/') ? `src/${url.split('/src/')[1] ?? ''}` : '');
        if (area && !area.startsWith('src/') && !SLIPWAY_LIBS.test(url)) area = '';
        up = parent.get(up);
      }
      slipwayBy.set(area || '?', (slipwayBy.get(area || '?') ?? 0) + ms);
    }
    const where = frame?.url ? `${frame.url.replace(/^.*\/(node_modules|src|test|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '(native)';
    const fn = `${frame?.functionName || '(anonymous)'} ${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    if (who !== '(idle)') busy += ms;
  });
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `\nCPU profile of the burst (${file}; the profiler slows the run): ${fmt(busy, 0)} ms busy. Self time by owner (nearest owning caller):`,
    ...top(byOwner, 10).map(([who, ms]) => `  ${pad(fmt(ms, 0), 7)} ms ${pad(fmt((100 * ms) / busy, 0), 3)}%  ${who}`),
    `Slipway's share by package / file: ${top(slipwayBy, 8)
      .map(([area, ms]) => `${area} ${fmt(ms, 0)}`)
      .join(', ')} (ms)`,
    'Top functions by self time:',
    ...top(byFunction, 12).map(([fn, ms]) => `  ${pad(fmt(ms, 0), 7)} ms  ${fn}`),
  ];
}

// A reader that goes away (`| head`) must not crash the run before it has cleaned up.
process.stdout.on('error', () => undefined);
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
