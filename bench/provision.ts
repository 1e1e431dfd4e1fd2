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
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createSlipway, type Slipway } from '../src/app.ts';
import { parseConfig, type Config } from '../src/config.ts';
import type { RuntimeEnv } from '../src/env.ts';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { KubeApiEmulator, writeKubeconfig, type RecordedRequest } from '../src/playground/kube-api.ts';
import type { EmulatedMessage, RecordedCall, SlackApiEmulator } from '../src/playground/slack-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../test/support/config.ts';
import { readable } from '../test/support/harness.ts';
import { sendBlockAction, sendSlashCommand, sendViewSubmission, valuesFor } from '../src/playground/slack-requests.ts';
import { startCpuProfile } from './lib/cpu-profile.ts';
import { measureLoad } from './lib/machine.ts';
import { endWithSummary, positiveInt, runBench, type BenchRun } from './lib/run.ts';
import { CallLogFollower, startSlack } from './lib/slack.ts';
import { mostCommon, percentile, round, spread } from './lib/stats.ts';
import { fmt, table } from './lib/table.ts';
import { epochMs, waitFor } from './lib/time.ts';
import { SqliteDb } from '../src/store/db.ts';

const WARMUP = positiveInt(process.env.BENCH_PROVISION_WARMUP, 5);
const SINGLE = positiveInt(process.env.BENCH_PROVISION_SINGLE, 30);
const BURST = positiveInt(process.env.BENCH_PROVISION_BURST, 100);
const WITH_429 = process.env.BENCH_PROVISION_429 !== '0';
const CPU_PROFILE = process.env.BENCH_PROVISION_CPU_PROF?.trim() || undefined;

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

const DISCOVERY = /^\/(api|apis)(\/[^/]+){0,2}\/?$/;
const namespaceOf = (path: string) => /^\/api\/v1\/namespaces\/([^/]+)|^\/apis\/[^/]+\/[^/]+\/namespaces\/([^/]+)/.exec(path)?.slice(1).find(Boolean);

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

/** Every phase's result; `limited` is the burst with 429s injected (none with BENCH_PROVISION_429=0). */
interface Phases {
  warm: PhaseResult;
  single: PhaseResult;
  probe: PhaseResult;
  burst: PhaseResult;
  limited: PhaseResult | undefined;
  /** All of them, in the order they ran. */
  all: PhaseResult[];
  /** Discovery requests made by the end of the warm-up. */
  discoveryAfterWarmup: number;
}

/** The Kubernetes requests of every namespace, and what the single and probe phases say about concurrency. */
interface KubeAccounting {
  discovery: RecordedRequest[];
  discoveryByPath: Map<string, number>;
  /** Requests neither discovery nor for a namespace. */
  unattributed: number;
  shapes: KubeShape[];
  /** Namespaces of the measured phases (single, burst, burst+429). */
  measured: number;
  /** The distinct values over all namespaces, ascending. */
  callsPer: number[];
  appliedPer: number[];
  storedPer: number[];
  extraPer: number[];
  non2xx: string[];
  /** Peak provisioning requests in flight, per namespace of the single phase. */
  peaks: number[];
  /** Provisioning calls of a namespace (the most common count in the single phase). */
  provisionCalls: number;
  /** Probe: p50 of the steps' time at KUBE_LATENCY_MS and at PROBE_LATENCY_MS. */
  runP50: number;
  probeRunP50: number;
  /** Round trips a run waits for one after another: its growth per ms of added latency. */
  rounds: number;
  /** What the provisioning calls would cost in latency alone if they went one after another, ms. */
  sequentialFloor: number;
  /** The single phase's steps after the namespace: how many, and ms between the first and the last start. */
  stepStarts: { steps: number; spread: number }[];
}

interface Target {
  name: string;
  met: boolean;
  value: string;
}

async function main(run: BenchRun): Promise<number> {
  const rig = await Rig.start(run);
  const setupMs = Date.now() - run.started;
  const phases = await runPhases(rig);
  const kube = accountKube(rig, phases);
  printPhases(phases, setupMs);
  printKube(phases, kube);
  printSlackTraffic(phases);
  const problems = findProblems(rig, phases, kube);
  const targets = evaluateTargets(phases, kube);
  printVerdicts(rig, phases, targets, problems);
  const summary = summarize(rig, phases, kube, targets, problems, run.started);
  return endWithSummary(summary, { ok: problems.length === 0, targetsMet: summary.targets_met });
}

// ------------------------------------------------------------------ phases

/** Runs the phases in turn; all requests of a phase are submitted before its first click. */
async function runPhases(rig: Rig): Promise<Phases> {
  const warm = await runPhase(rig, 'warm-up', await rig.submitAll('warm', WARMUP), 'sequential', SINGLE_TIMEOUT_MS);
  const discoveryAfterWarmup = rig.kube.requests.filter((r) => DISCOVERY.test(r.path)).length;
  const single = await runPhase(rig, 'single', await rig.submitAll('single', SINGLE), 'sequential', SINGLE_TIMEOUT_MS);
  // The same, slower API: how much a run grows per ms of latency is the number of round trips it waits for in sequence.
  const probe = await runPhase(rig, 'probe', await rig.submitAll('probe', PROBE), 'sequential', SINGLE_TIMEOUT_MS, {
    latencyMs: (i) => (i % 2 === 0 ? KUBE_LATENCY_MS : PROBE_LATENCY_MS),
  });
  const burst = await runPhase(rig, 'burst', await rig.submitAll('burst', BURST), 'burst', BURST_TIMEOUT_MS);
  let limited: PhaseResult | undefined;
  if (WITH_429) {
    const pending = await rig.submitAll('burst429', BURST);
    limited = await runPhase(rig, 'burst+429', pending, 'burst', BURST_429_TIMEOUT_MS, {
      before: () => {
        for (const [method, times] of Object.entries(INJECTED_429)) rig.slack.rateLimit(method, { times, retryAfterSeconds: 1 });
      },
    });
  }
  rig.watch.stop();
  return { warm, single, probe, burst, limited, all: [warm, single, probe, burst, ...(limited ? [limited] : [])], discoveryAfterWarmup };
}

/** Clicks Approve on every request (one after another, or all at once) and measures until every message arrived. */
async function runPhase(
  rig: Rig,
  label: string,
  pending: Pending[],
  mode: 'sequential' | 'burst',
  timeoutMs: number,
  options: { before?: () => void; latencyMs?: (index: number) => number } = {},
): Promise<PhaseResult> {
  const latencyFor = options.latencyMs ?? (() => KUBE_LATENCY_MS);
  const callsBefore = rig.slack.calls.length;
  const load = measureLoad();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const stopProfile = CPU_PROFILE && mode === 'burst' && label === 'burst' ? await startCpuProfile(CPU_PROFILE, 'the burst') : undefined;
  loop.enable();
  options.before?.();
  let reqs: Req[];
  if (mode === 'sequential') {
    reqs = [];
    for (const [i, p] of pending.entries()) {
      rig.kube.setLatency(latencyFor(i));
      const r = await rig.click(p, latencyFor(i));
      reqs.push(r);
      await waitFor(`${label}: ${r.name} ready and told`, rig.allSettled([r]), timeoutMs, POLL_MS);
    }
  } else {
    rig.kube.setLatency(latencyFor(0));
    reqs = await Promise.all(pending.map((p) => rig.click(p, latencyFor(0))));
    await waitFor(`${label}: every request ready and told`, rig.allSettled(reqs), timeoutMs, 5);
  }
  loop.disable();
  rig.kube.setLatency(KUBE_LATENCY_MS);
  const { wallMs, benchCpuMs, otherCores } = load();
  if (stopProfile) rig.profileLines.push(...(await stopProfile()));
  rig.watch.poll();
  const machine = { cpuMs: benchCpuMs ?? NaN, otherCores, wallMs, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
  return phaseResult(rig, label, reqs, callsBefore, machine);
}

/** What a phase's clicks led to: timings, Slack traffic, Kubernetes requests and the messages people got. */
function phaseResult(
  rig: Rig,
  label: string,
  reqs: Req[],
  callsBefore: number,
  machine: Pick<PhaseResult, 'cpuMs' | 'otherCores' | 'wallMs' | 'loopP99' | 'loopMax'>,
): PhaseResult {
  const firstClick = Math.min(...reqs.map((r) => r.clickAt));
  const { timings, failedRuns } = timingsOf(rig, reqs);
  const lastDone = Math.max(...reqs.map((r) => Date.parse(rig.runOf(r.id)?.finished_at ?? '') || NaN));
  const lastDm = Math.max(...reqs.map((r) => rig.watch.readyDmAt.get(r.name) ?? NaN));
  const lastNote = Math.max(...reqs.map((r) => rig.watch.readyNoteAt.get(r.name) ?? NaN));
  const calls = rig.slack.calls.slice(callsBefore);
  const slackCalls: Record<string, number> = {};
  for (const c of calls) slackCalls[c.method] = (slackCalls[c.method] ?? 0) + 1;
  const { shapes, count } = kubeShape(rig, reqs, firstClick, Math.max(lastDone, lastDm));
  const { missing, duplicates } = checkMessages(rig, reqs);
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
    hit429: requestsHit429(rig, reqs, calls),
    slackCalls,
    approvalsPosts: calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === rig.approvals).length,
    failedRuns,
    ...machine,
  };
}

/** Each request's times from its click, read from its run in the store; a run not `done` is a failure. */
function timingsOf(rig: Rig, reqs: readonly Req[]): { timings: Timing[]; failedRuns: string[] } {
  const timings: Timing[] = [];
  const failedRuns: string[] = [];
  for (const r of reqs) {
    const run = rig.runOf(r.id);
    if (run?.status !== 'done' || !run.finished_at) {
      failedRuns.push(`${r.name}: run ${run?.status ?? 'missing'}`);
      continue;
    }
    const startedAt = Date.parse(run.started_at);
    const finishedAt = Date.parse(run.finished_at);
    const dmAt = rig.watch.readyDmAt.get(r.name) ?? NaN;
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
  return { timings, failedRuns };
}

/** The requests one of whose own Slack calls was answered 429: by card ts, thread, progress message or requester DM. */
function requestsHit429(rig: Rig, reqs: readonly Req[], calls: readonly RecordedCall[]): Set<string> {
  const owner = new Map<string, string>();
  for (const r of reqs) {
    owner.set(r.card.ts, r.name);
    owner.set(r.requester, r.name);
    const progressTs = rig.progressTs(r.id);
    if (progressTs) owner.set(progressTs, r.name);
  }
  const hit = new Set<string>();
  for (const c of calls.filter((call) => call.status === 429)) {
    const key = [c.args.ts, c.args.thread_ts, c.args.channel].find((v): v is string => typeof v === 'string' && owner.has(v));
    if (key) hit.add(owner.get(key) ?? '');
  }
  return hit;
}

/** Everything a person should see for a request, checked in the emulator's final state. */
function checkMessages(rig: Rig, reqs: readonly Req[]): { missing: string[]; duplicates: string[] } {
  const { slack, approvals } = rig;
  const missing: string[] = [];
  const duplicates: string[] = [];
  /** One message for `what` among `texts` (a DM or a thread reply): none is missing, more are duplicates. */
  const expectOne = (r: Req, what: string, texts: readonly string[], test: (text: string) => boolean) => {
    const n = texts.filter(test).length;
    if (n === 0) missing.push(`${r.name}: ${what}`);
    if (n > 1) duplicates.push(`${r.name}: ${what} x${n}`);
  };
  const cards = new Map(slack.messages(approvals).map((m) => [m.ts, m]));
  for (const r of reqs) {
    const ref = `R-${r.id}`;
    const dms = slack.dmWith(r.requester).map((m) => m.text);
    expectOne(r, 'DM received', dms, (t) => t.startsWith('Got it!') && t.includes(`*${ref}*`));
    expectOne(r, 'DM approved', dms, (t) => t.startsWith(`✅ <@${APPROVER}> approved *${ref}*`));
    expectOne(r, 'DM ready', dms, (t) => t.startsWith(`🎉 Your namespace \`${r.name}\` is ready`));
    const card = cards.get(r.card.ts);
    if (!card) missing.push(`${r.name}: card`);
    else if (!readable(card).includes(`Ready: ${r.name}`)) missing.push(`${r.name}: card not updated to Ready (${card.text.split('—').at(-1)?.trim()})`);
    const thread = slack.thread(approvals, r.card.ts).map((m) => m.text);
    expectOne(r, 'thread decision', thread, (t) => t.startsWith(`✅ Approved by <@${APPROVER}>`));
    expectOne(r, 'thread progress (final, the ready note)', thread, (t) => t.startsWith(`🎉 Provisioned \`${r.name}\``));
  }
  return { missing, duplicates };
}

/** The Kubernetes requests of each request's namespace, and how many requests of any kind arrived from `from` to `to`. */
function kubeShape(rig: Rig, reqs: readonly Req[], from: number, to: number): { shapes: Map<string, KubeShape>; count: number } {
  const { kube, arrivals } = rig;
  const byNs = new Map<string, RecordedRequest[]>();
  let count = 0;
  for (const rec of kube.requests) {
    const ns = namespaceOf(rec.path);
    if (ns && reqs.some((r) => r.name === ns)) byNs.set(ns, [...(byNs.get(ns) ?? []), rec]);
    const at = arrivals.get(rec) ?? 0;
    if (at >= from && at <= to) count++;
  }
  const managed = (o: { metadata?: { managedFields?: { manager: string }[] } } | undefined) =>
    o?.metadata?.managedFields?.some((f) => f.manager === 'slipway') === true;
  const shapes = new Map<string, KubeShape>();
  for (const r of reqs) {
    const recs = (byNs.get(r.name) ?? []).filter((rec) => !DISCOVERY.test(rec.path));
    const after = recs.filter((rec) => (arrivals.get(rec) ?? 0) >= r.clickAt).sort((a, b) => (arrivals.get(a) ?? 0) - (arrivals.get(b) ?? 0));
    const times = after.map((rec) => arrivals.get(rec) ?? 0);
    const peakInFlight = Math.max(0, ...times.map((t) => times.filter((u) => u <= t && u + r.latencyMs > t).length));
    const appliedPaths = new Set(
      after.filter((rec) => rec.method === 'PATCH' && rec.contentType?.startsWith('application/apply-patch')).map((rec) => rec.path),
    );
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
      non2xx: recs.filter((rec) => rec.status >= 300 && !(rec.method === 'GET' && rec.status === 404)).map((rec) => `${rec.method} ${rec.path} ${rec.status}`),
    });
  }
  return { shapes, count };
}

/** Kubernetes requests over every namespace of every phase, and the round trips a run waits for. */
function accountKube(rig: Rig, phases: Phases): KubeAccounting {
  const { single, probe, burst, limited } = phases;
  const requests = rig.kube.requests;
  const discovery = requests.filter((r) => DISCOVERY.test(r.path));
  const discoveryByPath = new Map<string, number>();
  for (const r of discovery) discoveryByPath.set(r.path, (discoveryByPath.get(r.path) ?? 0) + 1);
  const shapes = phases.all.flatMap((p) => [...p.kube.values()]);
  const distinct = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
  const singleShapes = [...single.kube.values()];
  const provisionCalls = Number(mostCommon(singleShapes.map((s) => String(s.provisionCalls))));
  const probeRunP50 = (latencyMs: number) =>
    percentile(
      probe.timings.filter((t) => t.latencyMs === latencyMs).map((t) => t.run),
      0.5,
    );
  const runP50 = probeRunP50(KUBE_LATENCY_MS);
  const slowRunP50 = probeRunP50(PROBE_LATENCY_MS);
  return {
    discovery,
    discoveryByPath,
    unattributed: requests.filter((r) => !DISCOVERY.test(r.path) && !namespaceOf(r.path)).length,
    shapes,
    measured: [single, burst, ...(limited ? [limited] : [])].reduce((n, p) => n + p.kube.size, 0),
    callsPer: distinct(shapes.map((s) => s.calls)),
    appliedPer: distinct(shapes.map((s) => s.applied)),
    storedPer: distinct(shapes.map((s) => s.stored)),
    extraPer: distinct(shapes.map((s) => s.calls - s.applied)),
    non2xx: shapes.flatMap((s) => s.non2xx),
    peaks: singleShapes.map((s) => s.peakInFlight),
    provisionCalls,
    runP50,
    probeRunP50: slowRunP50,
    rounds: (slowRunP50 - runP50) / (PROBE_LATENCY_MS - KUBE_LATENCY_MS),
    sequentialFloor: provisionCalls * KUBE_LATENCY_MS,
    stepStarts: single.reqs.map((r) => rig.stepStartSpread(r.id)),
  };
}

// ------------------------------------------------------------------ report

const PHASE_TABLE = table([
  ['phase', -10],
  ['n', 4],
  ['done p50', 10],
  ['p99', 8],
  ['DM p50', 9],
  ['p99', 8],
  ['pre-run p50/p99', 17],
  ['run p50/p99', 14],
  ['post p50/p99', 15],
  ['ack p99', 9],
  ['all done', 10],
  ['all DMs', 9],
  ['429s', 6],
  ['missing', 9],
  ['other cores', 13],
]);

/** The spread of one kind of timing over a phase's requests. */
const spreadOf = (p: PhaseResult, key: Exclude<keyof Timing, 'name' | 'latencyMs'>) => spread(p.timings.map((t) => t[key]));

/** What was measured, a line per phase (the probe aside), and each burst's traffic and CPU. */
function printPhases(phases: Phases, setupMs: number): void {
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
  console.log(PHASE_TABLE.header);
  for (const p of phases.all.filter((x) => x !== phases.probe)) {
    const done = spreadOf(p, 'done');
    const dm = spreadOf(p, 'dm');
    const both = (key: 'preRun' | 'run' | 'postRun') => `${fmt(spreadOf(p, key).p50)}/${fmt(spreadOf(p, key).p99)}`;
    const totals = p.label.startsWith('burst') ? [`${fmt(p.allDoneMs / 1000, 2)} s`, `${fmt(p.allDmMs / 1000, 2)} s`] : ['-', '-'];
    console.log(
      PHASE_TABLE.row([
        p.label,
        p.reqs.length,
        fmt(done.p50),
        fmt(done.p99),
        fmt(dm.p50),
        fmt(dm.p99),
        both('preRun'),
        both('run'),
        both('postRun'),
        fmt(spreadOf(p, 'ack').p99),
        ...totals,
        p.slack429,
        p.missing.length,
        fmt(p.otherCores ?? NaN, 2),
      ]),
    );
  }
  const noisy = phases.all.filter((p) => (p.otherCores ?? 0) > 0.1);
  if (noisy.length > 0) {
    console.log(
      `(WARNING: other processes on this machine kept ${noisy.map((p) => `${fmt(p.otherCores ?? NaN, 2)} cores busy during ${p.label}`).join(', ')}: timings are noisy.)`,
    );
  }
  console.log('');
  for (const p of phases.all.filter((x) => x.label.startsWith('burst'))) {
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
}

/** Kubernetes requests per namespace, discovery, and how many round trips a run waits for. */
function printKube(phases: Phases, k: KubeAccounting): void {
  console.log(
    `\nKubernetes per namespace (${k.shapes.length} namespaces): API calls ${k.callsPer.join('/')} (submit-time name check ` +
      `${mostCommon(k.shapes.map((s) => String(s.submitCalls)))} + provisioning ${mostCommon(k.shapes.map((s) => String(s.provisionCalls)))}), ` +
      `objects applied ${k.appliedPer.join('/')} (slipway-managed objects in the cluster: ${k.storedPer.join('/')}), extra calls ${k.extraPer.join('/')}.`,
  );
  console.log(
    `Discovery: ${k.discovery.length} requests (${[...k.discoveryByPath].map(([path, n]) => `${path} x${n}`).join(', ')}), ` +
      `${phases.discoveryAfterWarmup} of them during the warm-up; other requests not tied to a namespace: ${k.unattributed}.`,
  );
  console.log(
    `Concurrency: ${PROBE} sequential runs alternating between ${KUBE_LATENCY_MS} and ${PROBE_LATENCY_MS} ms API latency took (p50, steps only) ${fmt(k.runP50)} and ${fmt(k.probeRunP50)} ms: ` +
      `${fmt(k.rounds, 2)} sequential round trips per run for ${k.provisionCalls} calls (latency alone would cost ${k.sequentialFloor} ms if they were sequential). ` +
      `Peak provisioning requests in flight per namespace (lower bound) p50 ${percentile(k.peaks, 0.5)}, min ${Math.min(...k.peaks)}; ` +
      `the ${mostCommon(k.stepStarts.map((x) => String(x.steps)))} steps after the namespace start within ${fmt(Math.max(...k.stepStarts.map((x) => x.spread)), 0)} ms of each other (store).`,
  );
}

/** What the 429s did to the rate-limited burst, and what real Slack would make of the burst's traffic. */
function printSlackTraffic({ burst, limited }: Phases): void {
  if (limited) {
    const notHit = limited.timings.filter((t) => !limited.hit429.has(t.name)).map((t) => t.preRun);
    const slowSlack = spreadOf(limited, 'preRun');
    console.log(
      `Rate-limited burst: ${limited.hit429.size} of ${BURST} requests had one of their own Slack calls answered 429; the ${notHit.length} others ` +
        `waited ${fmt(percentile(notHit, 0.5))} ms (p50) from click to run start, vs ${fmt(spreadOf(burst, 'preRun').p50)} ms in the burst without 429s.`,
    );
    console.log(
      `Rate-limited burst: ${limited.slack429} HTTP 429s (${Object.entries(INJECTED_429)
        .map(([m, n]) => `${m} x${n}`)
        .join(', ')}, Retry-After 1 s); ` +
        `every namespace done in ${fmt(limited.allDoneMs / 1000, 2)} s, every DM in ${fmt(limited.allDmMs / 1000, 2)} s, ` +
        `every message in ${fmt(limited.allMessagesMs / 1000, 2)} s; click -> run start p50/p99 ${fmt(slowSlack.p50)}/${fmt(slowSlack.p99)} ms.`,
    );
  }
  // The emulator enforces no rate windows.
  const approvalsRate = burst.approvalsPosts / Math.max(0.001, burst.allMessagesMs / 1000);
  const updates = burst.slackCalls['chat.update'] ?? 0;
  console.log(
    `Real Slack limits: the burst posted ${burst.approvalsPosts} messages to one channel in ${fmt(burst.allMessagesMs / 1000, 2)} s ` +
      `(${fmt(approvalsRate, 0)}/s; chat.postMessage allows ~1/s per channel) and made ${updates} chat.update calls ` +
      `(Tier 3, ~50/min): sustained, that is >= ~${fmt(burst.approvalsPosts / 60, 1)} min of posting and ~${fmt(updates / 50, 1)} min of updates.`,
  );
}

/** Messages missing in any phase, named by phase. */
const allMissing = (phases: Phases) => phases.all.flatMap((p) => p.missing.map((m) => `${p.label}: ${m}`));

/** What fails the run: failed runs, clicks not acked with 200, missing (without injected 429s) or duplicate messages, errors. */
function findProblems(rig: Rig, phases: Phases, kube: KubeAccounting): string[] {
  const problems: string[] = [];
  for (const p of phases.all) {
    problems.push(...p.failedRuns.map((f) => `${p.label}: ${f}`));
    problems.push(...p.reqs.filter((r) => r.ackStatus !== 200).map((r) => `${p.label}: Approve click for ${r.name} answered HTTP ${r.ackStatus}`));
    if (p !== phases.limited) problems.push(...p.missing.map((m) => `${p.label}: missing ${m}`));
    problems.push(...p.duplicates.map((d) => `${p.label}: duplicate ${d}`));
  }
  problems.push(...kube.non2xx.map((k) => `unexpected Kubernetes answer: ${k}`));
  const errorsLogged = rig.logLines.filter((l) => l.level >= 50);
  problems.push(...errorsLogged.slice(0, 5).map((l) => `Slipway logged an error: ${l.line.slice(0, 300)}`));
  const ephemerals = rig.slack.ephemerals().length + rig.slack.responseUrlPosts.length;
  if (ephemerals > 0) problems.push(`${ephemerals} ephemeral / response_url messages (refusals or errors shown to clickers)`);
  return problems;
}

const burstTargetMet = (burst: PhaseResult) => burst.failedRuns.length === 0 && burst.allDoneMs <= BURST_TARGET_MS;

function evaluateTargets(phases: Phases, k: KubeAccounting): Target[] {
  const { burst, limited } = phases;
  const missing = allMissing(phases).length;
  const limitedMissing = limited?.missing.length ?? 0;
  const peakP50 = percentile(k.peaks, 0.5);
  return [
    {
      name: `burst: ${BURST} namespaces done within ${BURST_TARGET_MS / 1000} s of the first click`,
      met: burstTargetMet(burst),
      value: `${fmt(burst.allDoneMs / 1000, 2)} s`,
    },
    {
      name: `API calls per namespace <= objects applied + ${EXTRA_CALLS_MAX}, the same for every namespace`,
      met: k.extraPer.length === 1 && Math.max(...k.extraPer) <= EXTRA_CALLS_MAX,
      value: `extra ${k.extraPer.join('/')}`,
    },
    {
      name: 'independent objects applied concurrently: <= 3 sequential round trips (read, namespace, the rest together)',
      met: k.rounds <= 3.5 && peakP50 >= 2,
      value: `${fmt(k.rounds, 2)} round trips, peak in flight p50 ${peakP50}`,
    },
    { name: 'no user-facing message missing (all phases)', met: missing === 0, value: `${missing} missing` },
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
}

/** The targets, Slipway's and the emulator's warnings, the CPU profile's summary, and what went wrong. */
function printVerdicts(rig: Rig, phases: Phases, targets: readonly Target[], problems: readonly string[]): void {
  console.log('\nTargets:');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.value}`);
  const warningsLogged = rig.logLines.filter((l) => l.level === 40);
  if (warningsLogged.length > 0) {
    const kinds = new Map<string, number>();
    for (const l of warningsLogged) kinds.set(l.msg, (kinds.get(l.msg) ?? 0) + 1);
    console.log(`\nSlipway warnings: ${[...kinds].map(([msg, n]) => `"${msg}" x${n}`).join(', ')}`);
  }
  if (rig.slack.warnings.length > 0) console.log(`Slack emulator warnings: ${rig.slack.warnings.length} (first: ${rig.slack.warnings[0]})`);
  for (const line of rig.profileLines) console.log(line);
  for (const m of allMissing(phases).slice(0, 10)) console.log(`  missing: ${m}`);
  for (const p of problems.slice(0, 20)) console.log(`  PROBLEM: ${p}`);
}

/** The figures for the JSON line. */
function summarize(rig: Rig, phases: Phases, k: KubeAccounting, targets: readonly Target[], problems: readonly string[], started: number) {
  const { single, burst, limited } = phases;
  const spreads = (p: PhaseResult) => ({ done: spreadOf(p, 'done'), dm: spreadOf(p, 'dm'), pre: spreadOf(p, 'preRun'), run: spreadOf(p, 'run') });
  const ss = spreads(single);
  const bs = spreads(burst);
  return {
    bench: 'provision',
    kube_latency_ms: KUBE_LATENCY_MS,
    single_n: SINGLE,
    single_p50_ms: round(ss.done.p50, 1),
    single_p99_ms: round(ss.done.p99, 1),
    single_ready_p50_ms: round(ss.dm.p50, 1),
    single_ready_p99_ms: round(ss.dm.p99, 1),
    single_pre_run_p50_ms: round(ss.pre.p50, 1),
    single_run_p50_ms: round(ss.run.p50, 1),
    burst_n: BURST,
    burst_total_s: round(burst.allDoneMs / 1000, 3),
    burst_total_dm_s: round(burst.allDmMs / 1000, 3),
    burst_p50_ms: round(bs.done.p50, 1),
    burst_p99_ms: round(bs.done.p99, 1),
    burst_ready_p50_ms: round(bs.dm.p50, 1),
    burst_ready_p99_ms: round(bs.dm.p99, 1),
    burst_pre_run_p99_ms: round(bs.pre.p99, 1),
    burst_run_p99_ms: round(bs.run.p99, 1),
    burst_cpu_ms_per_request: round(burst.cpuMs / burst.reqs.length, 1),
    burst_event_loop_p99_ms: round(burst.loopP99, 1),
    burst_target_met: burstTargetMet(burst),
    api_calls_per_namespace: Math.max(...k.callsPer),
    provision_calls_per_namespace: k.provisionCalls,
    objects_per_namespace: Math.max(...k.appliedPer),
    extra_calls: Math.max(...k.extraPer),
    discovery_calls: k.discovery.length,
    sequential_round_trips: round(k.rounds, 2),
    single_peak_in_flight_p50: percentile(k.peaks, 0.5),
    sequential_floor_ms: k.sequentialFloor,
    namespaces_measured: k.measured,
    slack_429_seen: rig.slack.calls.filter((c) => c.status === 429).length,
    slack_429_to_user: limited?.missing.length ?? 0,
    missing_messages: allMissing(phases).length,
    ...(limited
      ? {
          burst429_total_s: round(limited.allDoneMs / 1000, 3),
          burst429_total_dm_s: round(limited.allDmMs / 1000, 3),
          burst429_all_messages_s: round(limited.allMessagesMs / 1000, 3),
          burst429_ready_p99_ms: round(spreadOf(limited, 'dm').p99, 1),
          burst429_pre_run_p99_ms: round(spreadOf(limited, 'preRun').p99, 1),
        }
      : {}),
    burst_approvals_channel_posts: burst.approvalsPosts,
    burst_chat_updates: burst.slackCalls['chat.update'] ?? 0,
    targets_met: targets.every((t) => t.met),
    problems: problems.length,
    elapsed_s: round((Date.now() - started) / 1000, 1),
  };
}

// ------------------------------------------------------------------ the rig

/** A line Slipway logged (warn and above). */
interface LogLine {
  level: number;
  msg: string;
  line: string;
}

/**
 * Slipway in this process against both emulators, and what the phases do with them: send requests
 * and clicks as Slack would, and read what arrived where (the emulators' logs, Slipway's store).
 */
class Rig {
  /** Lines of the burst's CPU profile summary (BENCH_PROVISION_CPU_PROF). */
  readonly profileLines: string[] = [];
  private nextRequester = 0;
  private readonly queries: ReturnType<typeof storeQueries>;

  private constructor(
    readonly slack: SlackApiEmulator,
    readonly kube: KubeApiEmulator,
    /** When each request reached the Kubernetes emulator (epoch ms). */
    readonly arrivals: WeakMap<RecordedRequest, number>,
    private readonly store: Slipway['deps']['store'],
    private readonly baseUrl: string,
    private readonly signingSecret: string,
    readonly approvals: string,
    private readonly requesters: readonly string[],
    readonly watch: SlackWatch,
    readonly logLines: readonly LogLine[],
  ) {
    this.queries = storeQueries(store);
  }

  /** Starts the emulators and Slipway, stopped again at the run's cleanup. */
  static async start(run: BenchRun): Promise<Rig> {
    const tmp = run.tempDir('slipway-bench-provision-');
    const kubeconfig = join(tmp, 'kubeconfig.yaml');
    const total = WARMUP + SINGLE + PROBE + BURST * (WITH_429 ? 2 : 1);
    const requesters = Array.from({ length: total }, (_, i) => `U0REQ${String(i).padStart(4, '0')}`);
    const config = benchConfig(kubeconfig);
    const approvals = config.slack.approvalsChannel;
    const { slack, signingSecret } = await startSlack({
      channels: [
        { id: approvals, name: 'platform-approvals', members: ['U0BOT', APPROVER, 'U0BOB', ...requesters] },
        { id: DEV_CHANNEL, name: 'dev', members: [APPROVER, ...requesters] },
      ],
      users: [APPROVER, 'U0BOB', ...requesters].map((id) => ({ id, name: id.slice(2).toLowerCase() })),
      userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [] }],
    });
    run.defer(() => slack.close());
    const kube = await KubeApiEmulator.start();
    run.defer(() => kube.close());
    kube.setLatency(KUBE_LATENCY_MS);
    const arrivals = stampKubeRequests(kube);
    await writeKubeconfig(kube, kubeconfig, { context: CLUSTER });

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
    const log = collectLog();
    // Production defaults: no `sleep` (real setTimeout backoff), no `slackRetries` (WebClient's own policy).
    const slipway = await createSlipway({ env, config, log: log.logger });
    const server = await slipway.start();
    run.defer(() => slipway.stop());
    if (!server) throw new Error('expected an HTTP server');
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const watch = new SlackWatch(slack);
    run.defer(() => watch.stop());
    return new Rig(slack, kube, arrivals, slipway.deps.store, baseUrl, signingSecret, approvals, requesters, watch, log.lines);
  }

  /** Submits requests one after another, as people would, and returns them with their cards. */
  async submitAll(prefix: string, count: number): Promise<Pending[]> {
    const submitted: { name: string; requester: string; id: number }[] = [];
    for (let i = 0; i < count; i++) {
      const requester = this.requesters[this.nextRequester++] ?? '';
      const name = `bench-${prefix}-${String(i).padStart(3, '0')}`;
      submitted.push({ name, requester, id: await this.submit(name, requester) });
    }
    await waitFor(
      `${prefix}: every card posted`,
      async () => {
        for (const s of submitted) if ((await this.store.getRequest(s.id))?.card === undefined) return false;
        return true;
      },
      10_000,
      5,
    );
    const byTs = new Map(this.slack.messages(this.approvals).map((m) => [m.ts, m]));
    const pending: Pending[] = [];
    for (const s of submitted) {
      const ts = (await this.store.getRequest(s.id))?.card?.ts ?? '';
      const card = byTs.get(ts);
      if (!card) throw new Error(`card of ${s.name} not found in ${this.approvals}`);
      pending.push({ ...s, card });
    }
    return pending;
  }

  /** `/platform new-namespace <name>`, then the form it opened, submitted; returns the stored request's id. */
  private async submit(name: string, requester: string): Promise<number> {
    const { slack, baseUrl, signingSecret } = this;
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
    const request = await this.store.findLiveRequest(CLUSTER, name);
    if (!request) throw new Error(`no request stored for ${name}`);
    return request.id;
  }

  /** The approver's signed Approve click on the request's card; the clock starts as it is sent. */
  async click(r: Pending, latencyMs: number): Promise<Req> {
    const clickAt = Date.now();
    const reply = await sendBlockAction(this.baseUrl, this.signingSecret, {
      userId: APPROVER,
      message: r.card,
      actionId: ACTION.approve,
      triggerId: this.slack.issueTriggerId(APPROVER),
      responseUrl: this.slack.issueResponseUrl({ channelId: this.approvals, userId: APPROVER, messageTs: r.card.ts }),
    });
    return { ...r, clickAt, ackAt: Date.now(), ackStatus: reply.status, latencyMs };
  }

  /**
   * Every request of a phase is through: its ready note in the thread and its ready DM (the last
   * message Slipway sends) arrived, or a run failed. The store is read at most every 100 ms so
   * that waiting costs the bot's thread next to nothing.
   */
  allSettled(reqs: readonly { id: number; name: string }[]): () => boolean {
    let checkedAt = 0;
    const ids = JSON.stringify(reqs.map((r) => r.id));
    return () => {
      if (reqs.every((r) => this.watch.readyNoteAt.has(r.name) && this.watch.readyDmAt.has(r.name))) return true;
      if (Date.now() - checkedAt < 100) return false;
      checkedAt = Date.now();
      return (this.queries.countFailed.get(ids)?.n ?? 0) > 0;
    };
  }

  /** The request's latest run. */
  runOf(id: number) {
    return this.queries.run.get(id);
  }

  /** The ts of the progress message in the request's thread. */
  progressTs(id: number): string | null | undefined {
    return this.queries.progress.get(id)?.progress_ts;
  }

  /** The steps that need only the namespace: how many, and ms between the first and the last start. */
  stepStartSpread(id: number): { steps: number; spread: number } {
    const starts = this.queries.steps
      .all(id)
      .filter((row) => row.name !== 'namespace' && row.started_at)
      .map((row) => Date.parse(row.started_at ?? ''));
    return { steps: starts.length, spread: Math.max(...starts) - Math.min(...starts) };
  }
}

/** What the bench reads from Slipway's database, prepared once. */
function storeQueries(store: Slipway['deps']['store']) {
  // The bench runs on SQLite and reads it synchronously, between the bot's own statements.
  if (!(store.sql instanceof SqliteDb)) throw new Error('the provisioning bench reads a SQLite store');
  const db = store.sql.raw;
  return {
    progress: db.prepare<[number], { progress_ts: string | null }>('SELECT progress_ts FROM runs WHERE request_id = ? ORDER BY id DESC LIMIT 1'),
    run: db.prepare<[number], { status: string; started_at: string; finished_at: string | null }>(
      'SELECT status, started_at, finished_at FROM runs WHERE request_id = ? ORDER BY id DESC LIMIT 1',
    ),
    steps: db.prepare<[number], { name: string; started_at: string | null }>(
      'SELECT s.name, s.started_at FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.request_id = ? ORDER BY s.position',
    ),
    countFailed: db.prepare<[string], { n: number }>(
      `SELECT COUNT(*) AS n FROM runs WHERE status = 'failed' AND request_id IN (SELECT value FROM json_each(?))`,
    ),
  };
}

/** The example config with its first cluster reached through `kubeconfig`. */
function benchConfig(kubeconfig: string): Config {
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], path: kubeconfig, context: CLUSTER };
  return parseConfig(doc, EXAMPLE_CONFIG_PATH);
}

/** A pino logger for Slipway whose lines (warn and above) are kept here, not printed to stdout. */
function collectLog(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        try {
          const parsed = JSON.parse(line) as { level?: number; msg?: string };
          lines.push({ level: parsed.level ?? 0, msg: parsed.msg ?? '', line });
        } catch {
          lines.push({ level: 50, msg: line, line });
        }
      }
      done();
    },
  });
  return { logger: pino({ level: 'warn', base: { app: 'slipway' } }, stream), lines };
}

/** Notes when the final DM and the ready note of each namespace reach the Slack emulator (polled every POLL_MS). */
class SlackWatch {
  readonly readyDmAt = new Map<string, number>();
  readonly readyNoteAt = new Map<string, number>();
  private readonly follower: CallLogFollower;

  constructor(slack: SlackApiEmulator) {
    this.follower = new CallLogFollower(
      () => slack.calls,
      (call, seenAt) => this.note(call, seenAt),
      POLL_MS,
    );
  }

  private note(call: RecordedCall, seenAt: number): void {
    if (!call.ok || typeof call.args.text !== 'string') return;
    if (call.method === 'chat.postMessage') {
      const dm = /^🎉 Your namespace `([^`]+)` is ready/.exec(call.args.text);
      if (dm?.[1] && !this.readyDmAt.has(dm[1])) this.readyDmAt.set(dm[1], seenAt);
    }
    // The thread's progress message, in its final state, is the ready note for approvers.
    if (call.method === 'chat.postMessage' || call.method === 'chat.update') {
      const note = /^🎉 Provisioned `([^`]+)`/.exec(call.args.text);
      if (note?.[1] && !this.readyNoteAt.has(note[1])) this.readyNoteAt.set(note[1], seenAt);
    }
  }

  poll(): void {
    this.follower.poll();
  }

  stop(): void {
    this.follower.stop();
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

runBench('provision', DEADLINE_MS, main);
