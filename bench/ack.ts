// Benchmark: slash-command acknowledgement latency as Slack sees it (`npm run bench:ack`).
//
// - The Slack Web API emulator runs in this process (127.0.0.1, ephemeral port) and mints a fresh
//   trigger id (valid 3 s, single use) and response_url for every request, so Slipway's
//   `views.open` after the ack succeeds as it would on Slack.
// - Slipway runs as a separate process exactly as `npm start` runs it; a bare Bolt app that only
//   acks `/platform` (bench/bare-bolt.ts, same Bolt) runs beside it as the baseline.
// - A load generator (bench/load.ts, another process) sends signed `/platform new-namespace`
//   commands at concurrency 10 and 50 and times each one until the HTTP response (the ack).
//   Per concurrency level every app gets a warm-up, then the measured requests in ABBA order
//   (bare, control, slipway, then back; half the requests per block), so drift hits all alike. After
//   each block the bench waits until the emulator has seen a views.open for every acked request.
//   Connections are kept alive across blocks, so blocks measure steady state (see bench/load.ts).
// - Besides latency and throughput it reports CPU time per request of each process, how long after
//   each command its views.open reached the emulator (the trigger id dies at 3 s), and how much
//   CPU other processes on the machine used meanwhile (the numbers are only as quiet as the box).
//
// Prints a table, then as the last line one JSON object. Exits 1 on any non-2xx response, failed
// request, missing or failed `views.open`, error logged by Slipway, or if the run exceeds its
// time bound. Missing the latency/throughput targets is reported, and fails the run only with
// BENCH_ENFORCE_TARGETS=1.
//
// Knobs: BENCH_ACK_REQUESTS / BENCH_ACK_WARMUP (request counts, for quick local runs);
// a third app, bare Bolt + the same views.open (bench/bare-bolt.ts), splits Slipway's cost into
// "opening a modal" and "Slipway's own code" and shows what any app that opens a modal reaches
// here (BENCH_ACK_CONTROL=0 leaves it out); BENCH_ACK_RATE=n
// offers n requests/s open-loop (concurrency is then only a cap) instead of saturating the apps;
// BENCH_CPU_PROF_DIR=dir writes V8 CPU profiles of the apps to dir/<app>/.
//
// Memory: after the measured runs it reads each app's resident set size (RSS, /proc) and reports it
// next to bare+open's (target: Slipway <= 1.3x). BENCH_ACK_SOAK=n (`npm run bench:ack:soak` sends
// 100000) then sends n more commands to bare+open and Slipway each, at concurrency 10 in blocks of
// 10000, and reads both RSS after every block: a leak shows as growth (target: the last reading at
// most 1.1x the one at 20000). The soak is bounded by n (at most 1,000,000) and by the time bound,
// which grows with n.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { SlackApiEmulator } from '../src/playground/slack-api.ts';
import { freePort } from '../test/support/bot-process.ts';
import type { ChildMessage, Invocation, ParentMessage, RunMessage, RunResult } from './load.ts';
import { measureLoad, ownCpuMs, procCpuMs, procRssMb } from './lib/machine.ts';
import { cleanEnv, ROOT, startService, stopProcess, waitHealthy, type Service } from './lib/processes.ts';
import { endWithSummary, positiveInt, runBench, type BenchRun } from './lib/run.ts';
import { CallLogFollower, startSlack } from './lib/slack.ts';
import { percentile, round } from './lib/stats.ts';
import { fmt, table } from './lib/table.ts';
import { sleep } from './lib/time.ts';

const REQUESTS = positiveInt(process.env.BENCH_ACK_REQUESTS, 2000);
const WARMUP = positiveInt(process.env.BENCH_ACK_WARMUP, 200);
const CONTROL = process.env.BENCH_ACK_CONTROL !== '0';
/** Open-loop rate in requests/s per app; 0 = closed loop (the default, the measurement the targets are for). */
const RATE = positiveInt(process.env.BENCH_ACK_RATE, 0);
const CONCURRENCY = [10, 50] as const;
const P99_RATIO_MAX = 1.5;
const RPS_RATIO_MIN = 0.8;
const TRIGGER_TTL_MS = 3_000;
const SOAK = Math.min(1_000_000, Number.isInteger(Number(process.env.BENCH_ACK_SOAK)) ? Math.max(0, Number(process.env.BENCH_ACK_SOAK)) : 0);
const SOAK_CONCURRENCY = 10;
const SOAK_BLOCK = 10_000;
/** The soak's RSS target: the last reading at most this times the reading after 20000 commands. */
const SOAK_GROWTH_MAX = 1.1;
const SOAK_BASE_AT = 20_000;
const RSS_RATIO_MAX = 1.3;
/**
 * The time bound: the measured runs, plus 10 ms for each soak command and app (apps here manage
 * 400-600/s alone; 100000 took 19 minutes on a machine busy with other work).
 */
const DEADLINE_MS = 170_000 + SOAK * 2 * 10;
const STARTUP_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 5_000;
const USERS = Array.from({ length: 50 }, (_, i) => `U0BENCH${String(i).padStart(3, '0')}`);
const CHANNEL = 'C0BENCH';
const CONFIG = 'slipway.config.example.yaml';

type AppName = 'bare' | 'control' | 'slipway';
const APPS: readonly AppName[] = CONTROL ? ['bare', 'control', 'slipway'] : ['bare', 'slipway'];
const LABEL: Record<AppName, string> = { bare: 'bare', control: 'bare+open', slipway: 'slipway' };
/** Apps that call views.open after acking. */
const OPENS_VIEW: Record<AppName, boolean> = { bare: false, control: true, slipway: true };
/** The apps the soak sends to, in turn. */
const SOAK_APPS = APPS.filter((name) => name !== 'bare');

/** CPU time (user + system) burnt during the measured blocks, in ms, per process. */
interface Cpu {
  app: number;
  emulator: number;
  generator: number;
}

interface Stats {
  requests: number;
  p50: number;
  p99: number;
  max: number;
  rps: number;
  non2xx: number;
  failures: number;
  failureMessages: string[];
  staleTriggers: number;
  maxStartDelayMs: number;
  cpu: Cpu | undefined;
  /** ms from the request being sent to the emulator seeing its views.open (10 ms resolution). */
  openLag: { p50: number; p99: number; max: number; over: number } | undefined;
}

/** One concurrency level: each app's figures over its measured blocks. */
interface Level {
  concurrency: number;
  stats: Map<AppName, Stats>;
  /** Cores other processes on the machine kept busy meanwhile. */
  otherCores: number | undefined;
}

interface ViewsOpenTally {
  expected: number;
  received: number;
  failed: number;
}

interface Soak {
  readings: { sent: number; rss: Map<AppName, number | undefined>; stats: Map<AppName, Stats> }[];
  views: ViewsOpenTally;
}

async function main(run: BenchRun): Promise<number> {
  const rig = await Rig.start(run);
  const startupMs = Date.now() - run.started;
  const levels: Level[] = [];
  for (const concurrency of CONCURRENCY) levels.push(await measureLevel(rig, concurrency));
  await rig.settle();
  const viewsOpen = rig.emulator.callsTo('views.open');
  const viewsOpenFailed = viewsOpen.filter((c) => !c.ok);
  const views = {
    expected: levels.length * (REQUESTS + WARMUP) * APPS.filter((name) => OPENS_VIEW[name]).length,
    received: viewsOpen.length,
    failed: viewsOpenFailed.length,
  };
  const viewErrors = [...new Set(viewsOpenFailed.map((c) => c.error ?? `HTTP ${c.status}`))];
  const rss = new Map<AppName, number | undefined>(APPS.map((name) => [name, procRssMb(rig.service(name).proc.pid)]));
  const soak = await runSoak(rig);

  printIntro(startupMs);
  const measured = reportLevels(levels);
  const memory = reportMemory(rss);
  const soakReport = SOAK > 0 ? reportSoak(soak) : undefined;
  console.log(
    `\nCPU µs/req: CPU time of the app's process per measured request, including its work after the ack (views.open).\n` +
      `emu µs: CPU time of this process (Slack API emulator, trigger ids) per request meanwhile; gen µs: the load generator's. All processes share ${availableParallelism()} cores.\n` +
      `open lag: request written -> its views.open seen by the emulator (10 ms polling); the trigger id expires at ${TRIGGER_TTL_MS} ms.`,
  );
  const viewsOk = views.received === views.expected && views.failed === 0;
  const openers = APPS.filter((name) => OPENS_VIEW[name]).map((name) => LABEL[name]);
  console.log(
    `views.open received by the emulator: ${views.received} for ${views.expected} requests to ${openers.join(' + ')} (incl. warm-up), ` +
      `${views.failed} failed${viewErrors.length ? ` (${viewErrors.join(', ')})` : ''}: ${viewsOk ? 'OK' : 'MISMATCH'}`,
  );
  for (const [name, s] of rig.services) {
    if (s.errorLines.length > 0) console.log(`${LABEL[name]} logged ${s.errorLines.length} error lines, e.g.:\n  ${s.errorLines.slice(0, 3).join('\n  ')}`);
  }
  console.log(`Targets (Slipway p99 <= ${P99_RATIO_MAX}x bare Bolt's, req/s >= ${RPS_RATIO_MIN}x): ${measured.targetsMet ? 'met' : 'NOT MET'}.`);
  if (!measured.targetsMet && !RATE) printFloors(levels);
  console.log(`Total ${((Date.now() - run.started) / 1000).toFixed(1)} s.`);

  const summary = {
    bench: 'ack',
    requests: REQUESTS,
    warmup: WARMUP,
    ...(RATE ? { open_loop_rate: RATE } : {}),
    runs: measured.json,
    views_open: views,
    ...memory.json,
    ...(soakReport ? { soak: soakReport.json } : {}),
    targets_met: measured.targetsMet,
    memory_targets_met: memory.ok && (soakReport?.ok ?? true),
  };
  const loggedErrors = [...rig.services.values()].some((s) => s.errorLines.length > 0);
  const soakViewsOk = soak.views.received === soak.views.expected && soak.views.failed === 0;
  const errors = measured.errors + (soakReport?.errors ?? 0);
  return endWithSummary(summary, {
    ok: errors === 0 && viewsOk && soakViewsOk && !loggedErrors,
    targetsMet: summary.targets_met && summary.memory_targets_met,
  });
}

// ------------------------------------------------------------------ the apps and their load

/** The three apps (or two), the Slack API emulator they call and the load generator that drives them. */
class Rig {
  /** views.open calls the emulator should have seen: one per acked request to an app that opens the form. */
  expectedViewsOpen = 0;

  private constructor(
    readonly emulator: SlackApiEmulator,
    readonly watch: ViewsOpenWatch,
    readonly services: ReadonlyMap<AppName, Service>,
    readonly load: LoadGenerator,
  ) {}

  /** Starts everything, stopped again at the run's cleanup, and waits until the apps answer /healthz. */
  static async start(run: BenchRun): Promise<Rig> {
    const { slack: emulator, signingSecret } = await startSlack();
    run.defer(() => emulator.close());
    const watch = new ViewsOpenWatch(emulator);
    run.defer(() => watch.stop());
    const tmp = run.tempDir('slipway-bench-');
    const services = new Map<AppName, Service>();
    run.defer(() => Promise.all([...services.values()].map((s) => stopProcess(s.proc, s.exited))));
    for (const name of APPS) {
      const port = await freePort();
      const { args, env } = appCommand(name, { SLACK_BOT_TOKEN: emulator.token, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: emulator.url }, port, tmp);
      services.set(name, startService(run, name, args, cleanEnv(env), port));
    }
    const load = new LoadGenerator(run, emulator, signingSecret);
    run.defer(() => load.stop().catch(() => undefined));
    await Promise.all([...[...services.values()].map((s) => waitHealthy(s, STARTUP_TIMEOUT_MS)), load.ready]);
    return new Rig(emulator, watch, services, load);
  }

  service(name: AppName): Service {
    const service = this.services.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service;
  }

  /** Waits until every acked request of the apps that open modals has had its views.open. */
  async settle(): Promise<void> {
    const until = Date.now() + SETTLE_TIMEOUT_MS;
    while (this.emulator.callsTo('views.open').length < this.expectedViewsOpen && Date.now() < until) await sleep(10);
    await sleep(20);
    this.watch.poll();
  }

  /** Sends `total` commands to one app at `concurrency`, then lets its views.open calls arrive. */
  async runBlock(name: AppName, total: number, concurrency: number): Promise<RunResult> {
    const result = await this.load.run(`${this.service(name).url}/slack/events`, total, concurrency);
    if (OPENS_VIEW[name]) this.expectedViewsOpen += okResponses(result);
    await this.settle();
    return result;
  }

  /** CPU used by everything in the bench (all apps, generator, this process), ms, or undefined. */
  benchCpuMs(): number | undefined {
    const parts = [...[...this.services.values()].map((s) => procCpuMs(s.proc.pid)), procCpuMs(this.load.pid), ownCpuMs()];
    return parts.every((p) => p !== undefined) ? parts.reduce<number>((a, b) => a + (b ?? 0), 0) : undefined;
  }

  /** CPU time so far of one app, of this process (the emulator) and of the load generator, ms. */
  cpuOf(name: AppName): { app: number | undefined; emulator: number; generator: number | undefined } {
    return { app: procCpuMs(this.service(name).proc.pid), emulator: ownCpuMs(), generator: procCpuMs(this.load.pid) };
  }
}

/** How to run each app: Slipway exactly as `npm start` runs it, the bare apps from bench/bare-bolt.ts. */
function appCommand(name: AppName, slack: Record<string, string>, port: number, tmp: string): { args: string[]; env: Record<string, string> } {
  // BENCH_CPU_PROF_DIR=dir: V8 CPU profiles in dir/<app>/, one file per thread (tsx's loader
  // runs in its own thread; the app is the larger file).
  const profDir = process.env.BENCH_CPU_PROF_DIR?.trim();
  const prof = profDir ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, name)] : [];
  if (name === 'slipway') {
    return {
      args: [...prof, '--import', 'tsx', 'src/cli.ts', 'serve'],
      env: {
        ...slack,
        PORT: String(port),
        METRICS_PORT: '0',
        HOST: '127.0.0.1',
        SLIPWAY_CONFIG: CONFIG,
        DATABASE_PATH: join(tmp, 'slipway.db'),
        LOG_LEVEL: 'warn',
      },
    };
  }
  return {
    args: [...prof, '--import', 'tsx', 'bench/bare-bolt.ts'],
    env: { ...slack, PORT: String(port), ...(name === 'control' ? { BARE_OPEN_VIEW: '1', SLIPWAY_CONFIG: CONFIG } : {}) },
  };
}

/**
 * One concurrency level: a warm-up per app, then the measured requests in ABBA order (forward
 * with the first half, backward with the rest), with each app's CPU time per block.
 */
async function measureLevel(rig: Rig, concurrency: number): Promise<Level> {
  for (const name of APPS) await rig.runBlock(name, WARMUP, concurrency);
  const half = Math.ceil(REQUESTS / 2);
  const results = new Map<AppName, RunResult[]>(APPS.map((name) => [name, []]));
  const cpu = new Map<AppName, Cpu | undefined>(APPS.map((name) => [name, { app: 0, emulator: 0, generator: 0 }]));
  const order = [...APPS.map((name) => [name, half] as const), ...[...APPS].reverse().map((name) => [name, REQUESTS - half] as const)];
  const load = measureLoad(() => rig.benchCpuMs());
  for (const [name, total] of order) {
    const before = rig.cpuOf(name);
    results.get(name)?.push(await rig.runBlock(name, total, concurrency));
    const after = rig.cpuOf(name);
    const sum = cpu.get(name);
    if (sum && before.app !== undefined && after.app !== undefined && before.generator !== undefined && after.generator !== undefined) {
      sum.app += after.app - before.app;
      sum.emulator += after.emulator - before.emulator;
      sum.generator += after.generator - before.generator;
    } else {
      cpu.set(name, undefined);
    }
  }
  const stats = new Map<AppName, Stats>(
    APPS.map((name) => [name, summarize(results.get(name) ?? [], cpu.get(name), OPENS_VIEW[name] ? rig.watch : undefined)]),
  );
  return { concurrency, stats, otherCores: load().otherCores };
}

/** The soak: blocks of SOAK_BLOCK commands to bare+open and Slipway in turn, their RSS after each. */
async function runSoak(rig: Rig): Promise<Soak> {
  const soak: Soak = { readings: [], views: { expected: 0, received: 0, failed: 0 } };
  for (let sent = 0; sent < SOAK;) {
    const block = Math.min(SOAK_BLOCK, SOAK - sent);
    // The emulator keeps every call and view: forget them between blocks (this process's memory
    // is not what is measured, but it must not grow into swap or long GC pauses either).
    rig.emulator.forgetHistory();
    rig.watch.reset();
    rig.expectedViewsOpen = 0;
    const stats = new Map<AppName, Stats>();
    // Alternate which app goes first, so drift hits both alike.
    for (const name of soak.readings.length % 2 ? [...SOAK_APPS].reverse() : SOAK_APPS) {
      stats.set(name, summarize([await rig.runBlock(name, block, SOAK_CONCURRENCY)], undefined, undefined));
    }
    const calls = rig.emulator.callsTo('views.open');
    soak.views.expected += rig.expectedViewsOpen;
    soak.views.received += calls.length;
    soak.views.failed += calls.filter((c) => !c.ok).length;
    sent += block;
    soak.readings.push({ sent, rss: new Map(SOAK_APPS.map((name) => [name, procRssMb(rig.service(name).proc.pid)])), stats });
  }
  return soak;
}

/** Drives bench/load.ts over IPC and answers its requests for trigger ids from the emulator. */
class LoadGenerator {
  private readonly proc: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, (result: RunResult) => void>();
  private nextId = 0;
  private nextUser = 0;
  readonly ready: Promise<void>;

  constructor(
    run: BenchRun,
    private readonly emulator: SlackApiEmulator,
    signingSecret: string,
  ) {
    this.proc = fork(join(ROOT, 'bench', 'load.ts'), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: cleanEnv({ SLACK_SIGNING_SECRET: signingSecret }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    run.track(this.proc);
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    let onReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve) => (onReady = resolve));
    this.proc.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') onReady();
      else if (message.type === 'need-triggers') this.send({ type: 'triggers', items: this.invocations(message.count) });
      else if (message.type === 'done') this.pending.get(message.id)?.(message.result);
    });
    this.proc.once('exit', (code) => {
      for (const [, resolve] of this.pending) resolve(LoadGenerator.failed(`load generator exited (${code})`));
      this.pending.clear();
    });
  }

  private static failed(message: string): RunResult {
    return { latencies: [], statuses: {}, failures: 1, failureMessages: [message], elapsedMs: 1, staleTriggers: 0, sent: [], maxStartDelayMs: 0 };
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private send(message: ParentMessage): void {
    if (this.proc.connected) this.proc.send(message);
  }

  private invocations(count: number): Invocation[] {
    return Array.from({ length: count }, () => {
      const userId = USERS[this.nextUser++ % USERS.length] ?? 'U0BENCH000';
      return {
        triggerId: this.emulator.issueTriggerId(userId),
        userId,
        responseUrl: this.emulator.issueResponseUrl({ channelId: CHANNEL, userId }),
      };
    });
  }

  run(url: string, total: number, concurrency: number): Promise<RunResult> {
    const id = this.nextId++;
    const message: RunMessage = {
      type: 'run',
      id,
      url,
      total,
      concurrency,
      ...(RATE ? { rate: RATE } : {}),
      teamId: this.emulator.teamId,
      teamDomain: this.emulator.teamDomain,
      appId: this.emulator.appId,
    };
    if (!this.proc.connected) return Promise.resolve(LoadGenerator.failed('load generator is not running'));
    return new Promise((resolve) => {
      this.pending.set(id, (result) => {
        this.pending.delete(id);
        resolve(result);
      });
      this.send(message);
    });
  }

  async stop(): Promise<void> {
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Notes when each views.open reaches the emulator, by trigger id (polls its call log every 10 ms). */
class ViewsOpenWatch {
  readonly seenAt = new Map<string, number>();
  private readonly follower: CallLogFollower;

  constructor(emulator: SlackApiEmulator) {
    this.follower = new CallLogFollower(
      () => emulator.callsTo('views.open'),
      (call, seenAt) => {
        const trigger = call.args.trigger_id;
        if (typeof trigger === 'string') this.seenAt.set(trigger, seenAt);
      },
      10,
    );
  }

  poll(): void {
    this.follower.poll();
  }

  /** After the emulator forgot its call log (soak): start counting again from its empty log. */
  reset(): void {
    this.follower.reset();
    this.seenAt.clear();
  }

  stop(): void {
    this.follower.stop();
  }
}

// ------------------------------------------------------------------ figures

function okResponses(result: RunResult): number {
  return Object.entries(result.statuses).reduce((sum, [status, count]) => sum + (status.startsWith('2') ? count : 0), 0);
}

function summarize(results: RunResult[], cpu: Cpu | undefined, watch: ViewsOpenWatch | undefined): Stats {
  const latencies = results.flatMap((r) => r.latencies);
  const elapsedMs = results.reduce((sum, r) => sum + r.elapsedMs, 0);
  let non2xx = 0;
  const bad: string[] = [];
  for (const r of results) {
    for (const [status, count] of Object.entries(r.statuses)) {
      if (status.startsWith('2')) continue;
      non2xx += count;
      bad.push(`HTTP ${status} x${count}`);
    }
  }
  const failures = results.reduce((sum, r) => sum + r.failures, 0);
  let openLag: Stats['openLag'];
  if (watch) {
    const lags = results
      .flatMap((r) => r.sent)
      .flatMap(([trigger, sentAt]) => {
        const seenAt = watch.seenAt.get(trigger);
        return seenAt === undefined ? [] : [Math.max(0, seenAt - sentAt)];
      });
    openLag = { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: percentile(lags, 1), over: lags.filter((l) => l > TRIGGER_TTL_MS / 2).length };
  }
  return {
    requests: latencies.length + failures,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: percentile(latencies, 1),
    rps: (latencies.length / elapsedMs) * 1000,
    non2xx,
    failures,
    failureMessages: [...bad, ...results.flatMap((r) => r.failureMessages)].slice(0, 5),
    staleTriggers: results.reduce((sum, r) => sum + r.staleTriggers, 0),
    maxStartDelayMs: Math.max(0, ...results.map((r) => r.maxStartDelayMs)),
    cpu,
    openLag,
  };
}

/** An app's figures at one level (every app runs at every level). */
function statsOf(level: Level, name: AppName): Stats {
  const stats = level.stats.get(name);
  if (!stats) throw new Error(`no figures for ${name} at concurrency ${level.concurrency}`);
  return stats;
}

/** CPU time of one process per request, µs. */
const usPerRequest = (ms: number, s: Stats) => (ms * 1000) / s.requests;

// ------------------------------------------------------------------ report

function printIntro(startupMs: number): void {
  console.log(`\nSlash-command ack latency: signed "/platform new-namespace", ${REQUESTS} measured requests per app and`);
  console.log(`concurrency after ${WARMUP} warm-up, HTTP/1.1 keep-alive on 127.0.0.1, ABBA order (${[...APPS, ...[...APPS].reverse()].join(', ')}).`);
  console.log(
    RATE
      ? `OPEN LOOP at ${RATE} req/s per app (concurrency = cap on requests in flight); latency = scheduled start -> response received.`
      : `Closed loop (each of <concurrency> senders sends again on every response); latency = request written -> response received.`,
  );
  console.log(`Node ${process.version}, startup ${(startupMs / 1000).toFixed(1)} s.\n`);
}

const LEVELS_TABLE = table([
  ['conc', -5],
  ['app', -10],
  ['p50 ms', 9],
  ['p99 ms', 9],
  ['max ms', 9],
  ['req/s', 8],
  ['non-2xx', 8],
  ['failed', 7],
  ['CPU µs/req', 11],
  ['emu µs', 8],
  ['gen µs', 8],
  ['open lag p50/p99/max ms', 25],
]);

/** Prints a line per app and level with the ratios below each level; returns the levels' JSON, the latency targets' verdict and the errors. */
function reportLevels(levels: readonly Level[]): { json: Record<string, unknown>[]; targetsMet: boolean; errors: number } {
  console.log(LEVELS_TABLE.header);
  const json: Record<string, unknown>[] = [];
  let targetsMet = true;
  let errors = 0;
  for (const level of levels) {
    for (const name of APPS) {
      const s = statsOf(level, name);
      const cpu = s.cpu ? [s.cpu.app, s.cpu.emulator, s.cpu.generator].map((ms) => usPerRequest(ms, s).toFixed(0)) : ['-', '-', '-'];
      const lag = s.openLag ? `${s.openLag.p50.toFixed(0)}/${s.openLag.p99.toFixed(0)}/${s.openLag.max.toFixed(0)}` : '-';
      console.log(
        LEVELS_TABLE.row([level.concurrency, LABEL[name], fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.max, 2), s.rps.toFixed(0), s.non2xx, s.failures, ...cpu, lag]),
      );
      errors += s.non2xx + s.failures;
      for (const m of s.failureMessages) console.log(`     ${LABEL[name]} failure: ${m}`);
    }
    const slipway = statsOf(level, 'slipway');
    const bare = statsOf(level, 'bare');
    const control = level.stats.get('control');
    const p99Ratio = slipway.p99 / bare.p99;
    const rpsRatio = slipway.rps / bare.rps;
    const p99Ok = p99Ratio <= P99_RATIO_MAX;
    // Open loop offers the same rate to both apps, so their req/s says nothing about capacity.
    const rpsOk = RATE > 0 || rpsRatio >= RPS_RATIO_MIN;
    targetsMet &&= p99Ok && rpsOk;
    console.log(
      `${''.padEnd(5)}${'ratio'.padEnd(10)}slipway/bare: p99 x${p99Ratio.toFixed(2)} (target <= ${P99_RATIO_MAX}: ${p99Ok ? 'met' : 'NOT MET'}), ` +
        `req/s x${rpsRatio.toFixed(2)} (target >= ${RPS_RATIO_MIN}: ${RATE ? 'n/a in open loop' : rpsOk ? 'met' : 'NOT MET'})`,
    );
    if (control) {
      console.log(
        `${''.padEnd(15)}bare+open/bare: p99 x${(control.p99 / bare.p99).toFixed(2)}, req/s x${(control.rps / bare.rps).toFixed(2)}; ` +
          `slipway/bare+open: p99 x${(slipway.p99 / control.p99).toFixed(2)}, req/s x${(slipway.rps / control.rps).toFixed(2)}`,
      );
    }
    if (RATE) {
      const late = APPS.map((name) => `${LABEL[name]} ${(level.stats.get(name)?.maxStartDelayMs ?? 0).toFixed(0)}`).join(', ');
      console.log(`${''.padEnd(15)}(latest start after schedule, ms: ${late})`);
    }
    if (level.otherCores !== undefined && level.otherCores > 0.1) {
      console.log(`${''.padEnd(15)}(WARNING: other processes on this machine used ${level.otherCores.toFixed(2)} cores meanwhile; numbers are noisy)`);
    }
    const stale = APPS.reduce((sum, name) => sum + (level.stats.get(name)?.staleTriggers ?? 0), 0);
    if (stale > 0) console.log(`${''.padEnd(15)}(${stale} trigger ids went unused: they aged past 0.5 s in the generator's pool)`);
    json.push(levelJson(level));
  }
  return { json, targetsMet, errors };
}

/** One level's figures for the JSON line: Slipway's, bare Bolt's and the control's, and their ratios. */
function levelJson(level: Level): Record<string, unknown> {
  const slipway = statsOf(level, 'slipway');
  const bare = statsOf(level, 'bare');
  const control = level.stats.get('control');
  return {
    concurrency: level.concurrency,
    p50_ms: round(slipway.p50, 2),
    p99_ms: round(slipway.p99, 2),
    max_ms: round(slipway.max, 2),
    rps: round(slipway.rps, 1),
    bare_p50_ms: round(bare.p50, 2),
    bare_p99_ms: round(bare.p99, 2),
    bare_max_ms: round(bare.max, 2),
    bare_rps: round(bare.rps, 1),
    p99_ratio: round(slipway.p99 / bare.p99, 2),
    rps_ratio: round(slipway.rps / bare.rps, 2),
    ...(level.otherCores !== undefined ? { other_load_cores: round(level.otherCores, 2) } : {}),
    errors: slipway.non2xx + slipway.failures,
    bare_errors: bare.non2xx + bare.failures,
    ...(slipway.cpu && bare.cpu
      ? { cpu_us_per_req: round(usPerRequest(slipway.cpu.app, slipway), 0), bare_cpu_us_per_req: round(usPerRequest(bare.cpu.app, bare), 0) }
      : {}),
    ...(slipway.openLag ? { open_lag_p99_ms: round(slipway.openLag.p99, 0), open_lag_max_ms: round(slipway.openLag.max, 0) } : {}),
    ...(control
      ? {
          control_p50_ms: round(control.p50, 2),
          control_p99_ms: round(control.p99, 2),
          control_rps: round(control.rps, 1),
          control_p99_ratio: round(slipway.p99 / control.p99, 2),
          ...(control.cpu ? { control_cpu_us_per_req: round(usPerRequest(control.cpu.app, control), 0) } : {}),
        }
      : {}),
  };
}

/** Prints each app's RSS after the measured runs; returns its JSON fields and whether Slipway's is within RSS_RATIO_MAX of bare+open's. */
function reportMemory(rss: ReadonlyMap<AppName, number | undefined>): { json: Record<string, number>; ok: boolean } {
  const rssText = APPS.map((name) => `${LABEL[name]} ${rss.get(name)?.toFixed(1) ?? '-'} MB`).join(', ');
  const [slipway, bare, control] = [rss.get('slipway'), rss.get('bare'), rss.get('control')];
  const ratio = slipway !== undefined && control !== undefined ? slipway / control : undefined;
  const ok = ratio === undefined || ratio <= RSS_RATIO_MAX;
  console.log(
    `\nResident memory (RSS) after the runs: ${rssText}` +
      (ratio !== undefined ? `; slipway/bare+open x${ratio.toFixed(2)} (target <= ${RSS_RATIO_MAX}: ${ok ? 'met' : 'NOT MET'})` : ''),
  );
  const json = {
    ...(slipway !== undefined ? { rss_mb: round(slipway, 1) } : {}),
    ...(bare !== undefined ? { bare_rss_mb: round(bare, 1) } : {}),
    ...(control !== undefined ? { control_rss_mb: round(control, 1) } : {}),
    ...(ratio !== undefined ? { rss_ratio: round(ratio, 2) } : {}),
  };
  return { json, ok };
}

/** Prints the soak's RSS readings and Slipway's growth; returns its JSON, its verdict and the errors in its blocks. */
function reportSoak(soak: Soak): { json: Record<string, unknown>; ok: boolean; errors: number } {
  const { readings, views } = soak;
  console.log(`\nSoak: ${SOAK} more commands per app at concurrency ${SOAK_CONCURRENCY}, RSS after every ${SOAK_BLOCK} (bare+open and slipway in turn).`);
  const layout = table([['sent', 8], ...SOAK_APPS.flatMap((name) => [[`${LABEL[name]} MB`, 14] as const, ['p99 ms', 9] as const, ['req/s', 7] as const])]);
  console.log(layout.header);
  let errors = 0;
  for (const reading of readings) {
    const cells = SOAK_APPS.flatMap((name) => {
      const s = reading.stats.get(name);
      return [reading.rss.get(name)?.toFixed(1) ?? '-', s?.p99.toFixed(2) ?? '-', s?.rps.toFixed(0) ?? '-'];
    });
    console.log(layout.row([reading.sent, ...cells]));
    for (const name of SOAK_APPS) {
      const s = reading.stats.get(name);
      if (!s) continue;
      errors += s.non2xx + s.failures;
      for (const m of s.failureMessages) console.log(`     ${LABEL[name]} failure: ${m}`);
    }
  }
  // Growth of Slipway's RSS from the reading at SOAK_BASE_AT (the first one if the soak is shorter) to the last.
  const base = readings.find((r) => r.sent >= SOAK_BASE_AT) ?? readings[0];
  const last = readings.at(-1);
  const growthOf = (name: AppName) => {
    const [from, to] = [base?.rss.get(name), last?.rss.get(name)];
    return from !== undefined && to !== undefined ? to / from : undefined;
  };
  const growth = growthOf('slipway');
  const controlGrowth = growthOf('control');
  const lastRatio =
    last?.rss.get('slipway') !== undefined && last.rss.get('control') !== undefined
      ? (last.rss.get('slipway') ?? 0) / (last.rss.get('control') ?? 1)
      : undefined;
  const flat = growth === undefined || growth <= SOAK_GROWTH_MAX;
  const viewsFine = views.received === views.expected && views.failed === 0;
  console.log(
    `Slipway RSS ${last?.sent ?? 0} vs ${base?.sent ?? 0} commands: x${growth?.toFixed(2) ?? '-'} (target <= ${SOAK_GROWTH_MAX}: ${flat ? 'met' : 'NOT MET'})` +
      (controlGrowth !== undefined ? `; bare+open x${controlGrowth.toFixed(2)}` : '') +
      (lastRatio !== undefined ? `; slipway/bare+open at the end x${lastRatio.toFixed(2)} (target <= ${RSS_RATIO_MAX})` : '') +
      `; views.open ${views.received} for ${views.expected}, ${views.failed} failed: ${viewsFine ? 'OK' : 'MISMATCH'}`,
  );
  const mb = (n: number | undefined) => (n === undefined ? null : round(n, 1));
  const json = {
    commands: SOAK,
    concurrency: SOAK_CONCURRENCY,
    every: SOAK_BLOCK,
    readings: readings.map((r) => ({
      sent: r.sent,
      rss_mb: mb(r.rss.get('slipway')),
      ...(CONTROL ? { control_rss_mb: mb(r.rss.get('control')) } : {}),
      p99_ms: round(r.stats.get('slipway')?.p99 ?? NaN, 2),
      ...(CONTROL ? { control_p99_ms: round(r.stats.get('control')?.p99 ?? NaN, 2) } : {}),
    })),
    ...(growth !== undefined ? { growth: round(growth, 3), growth_from: base?.sent } : {}),
    ...(controlGrowth !== undefined ? { control_growth: round(controlGrowth, 3) } : {}),
    ...(lastRatio !== undefined ? { rss_ratio: round(lastRatio, 2) } : {}),
    flat,
    views_open: views,
  };
  return { json, ok: flat && (lastRatio === undefined || lastRatio <= RSS_RATIO_MAX) && viewsFine, errors };
}

/**
 * What any app that opens a modal can reach here: its own process needs the CPU of the ack plus
 * the views.open exchange, so even with Slack on another machine its one JavaScript thread serves
 * at most about 1 s / (its CPU per request) commands a second.
 */
function printFloors(levels: readonly Level[]): void {
  for (const level of levels) {
    const [bare, control] = [level.stats.get('bare'), level.stats.get('control')];
    if (!bare?.cpu || !control?.cpu) continue;
    const controlCpuUs = usPerRequest(control.cpu.app, control);
    const capRps = 1e6 / controlCpuUs;
    console.log(
      `Floor at ${level.concurrency}: bare Bolt + one views.open reached req/s x${(control.rps / bare.rps).toFixed(2)} and p99 x${(control.p99 / bare.p99).toFixed(2)} of bare Bolt; ` +
        `at ${controlCpuUs.toFixed(0)} µs of CPU per request it could serve at most about ${capRps.toFixed(0)} req/s (x${(capRps / bare.rps).toFixed(2)}) with Slack elsewhere.`,
    );
  }
}

runBench('ack', DEADLINE_MS, main);
