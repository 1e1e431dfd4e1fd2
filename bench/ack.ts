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
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SlackApiEmulator } from '../test/emulators/slack-api.ts';
import type { ChildMessage, Invocation, ParentMessage, RunMessage, RunResult } from './load.ts';
import { machineBusyMs } from './lib/machine.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
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

interface Service {
  name: AppName;
  proc: ChildProcess;
  url: string;
  /** Last lines the process wrote (stdout and stderr), for diagnostics. */
  tail: string[];
  /** Pino lines at level error (50) or above, and anything on stderr. */
  errorLines: string[];
  exited: Promise<void>;
}

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

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** The parent environment minus anything that would change how the apps run (e.g. SLACK_APP_TOKEN). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(SLACK_|SLIPWAY_|BARE_|DATABASE_PATH$|PORT$|LOG_LEVEL$|NODE_OPTIONS$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

function startService(name: AppName, args: string[], env: NodeJS.ProcessEnv, port: number): Service {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const service: Service = {
    name,
    proc,
    url: `http://127.0.0.1:${port}`,
    tail: [],
    errorLines: [],
    exited: new Promise((resolve) => proc.once('exit', () => resolve())),
  };
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      service.tail.push(line);
      if (service.tail.length > 40) service.tail.shift();
      let level: unknown;
      try {
        level = (JSON.parse(line) as { level?: unknown }).level;
      } catch {
        // not a pino line
      }
      if ((typeof level === 'number' && level >= 50) || (level === undefined && stream === 'stderr')) service.errorLines.push(line);
    }
  };
  proc.stdout?.on('data', collect('stdout'));
  proc.stderr?.on('data', collect('stderr'));
  return service;
}

async function waitHealthy(service: Service): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (service.proc.exitCode !== null || service.proc.signalCode !== null) break;
    try {
      const res = await fetch(`${service.url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${service.name} did not become healthy on ${service.url}/healthz:\n${service.tail.join('\n')}`);
}

async function stopProcess(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** CPU time of a child process in ms from /proc (Linux, where USER_HZ is 100), or undefined. */
function procCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Resident set size of a child process in MB from /proc (Linux), or undefined. */
function procRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
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
    private readonly emulator: SlackApiEmulator,
    signingSecret: string,
  ) {
    this.proc = fork(join(ROOT, 'bench', 'load.ts'), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: cleanEnv({ SLACK_SIGNING_SECRET: signingSecret }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this.proc);
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
  private seen = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly emulator: SlackApiEmulator) {
    this.timer = setInterval(() => this.poll(), 10);
  }

  get count(): number {
    return this.seen;
  }

  poll(): void {
    const calls = this.emulator.callsTo('views.open');
    const now = epochMs();
    for (const call of calls.slice(this.seen)) {
      const trigger = call.args.trigger_id;
      if (typeof trigger === 'string') this.seenAt.set(trigger, now);
    }
    this.seen = calls.length;
  }

  /** After the emulator forgot its call log (soak): start counting again from its empty log. */
  reset(): void {
    this.seen = 0;
    this.seenAt.clear();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

function okResponses(result: RunResult): number {
  return Object.entries(result.statuses).reduce((sum, [status, count]) => sum + (status.startsWith('2') ? count : 0), 0);
}

function summarize(results: RunResult[], cpu: Cpu | undefined, watch: ViewsOpenWatch | undefined): Stats {
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
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
      })
      .sort((a, b) => a - b);
    openLag = { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: lags.at(-1) ?? NaN, over: lags.filter((l) => l > TRIGGER_TTL_MS / 2).length };
  }
  return {
    requests: latencies.length + failures,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
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

const pad = (value: string | number, width: number) => String(value).padStart(width);

/** Child processes to kill and temp dirs to remove if this process dies before cleanup (crash, Ctrl-C, closed pipe). */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));
// A reader that goes away (`| head`) must not crash the run before it has stopped its children.
process.stdout.on('error', () => undefined);

async function main(): Promise<number> {
  const started = Date.now();
  const signingSecret = randomBytes(16).toString('hex');
  const emulator = await SlackApiEmulator.start({ token: `xoxb-bench-${randomBytes(6).toString('hex')}` });
  const watch = new ViewsOpenWatch(emulator);
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  tempDirs.add(tmp);
  const services = new Map<AppName, Service>();
  let load: LoadGenerator | undefined;

  const cleanup = async () => {
    watch.stop();
    await load?.stop().catch(() => undefined);
    await Promise.all([...services.values()].map((s) => stopProcess(s.proc, s.exited)));
    await emulator.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = setTimeout(() => {
    console.error(`bench:ack: exceeded its time bound of ${DEADLINE_MS / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);

  try {
    const common = { SLACK_BOT_TOKEN: emulator.token, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: emulator.url };
    // BENCH_CPU_PROF_DIR=dir: V8 CPU profiles in dir/<app>/, one file per thread (tsx's loader
    // runs in its own thread; the app is the larger file).
    const profDir = process.env.BENCH_CPU_PROF_DIR?.trim();
    const prof = (name: AppName) => (profDir ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, name)] : []);
    for (const name of APPS) {
      const port = await freePort();
      const env =
        name === 'slipway'
          ? {
              ...common,
              PORT: String(port),
              METRICS_PORT: '0',
              HOST: '127.0.0.1',
              SLIPWAY_CONFIG: CONFIG,
              DATABASE_PATH: join(tmp, 'slipway.db'),
              LOG_LEVEL: 'warn',
            }
          : { ...common, PORT: String(port), ...(name === 'control' ? { BARE_OPEN_VIEW: '1', SLIPWAY_CONFIG: CONFIG } : {}) };
      // Slipway exactly as `npm start` runs it.
      const script = name === 'slipway' ? ['src/cli.ts', 'serve'] : ['bench/bare-bolt.ts'];
      services.set(name, startService(name, [...prof(name), '--import', 'tsx', ...script], cleanEnv(env), port));
    }
    load = new LoadGenerator(emulator, signingSecret);
    await Promise.all([...[...services.values()].map(waitHealthy), load.ready]);
    const startupMs = Date.now() - started;

    const generator = load;
    const service = (name: AppName) => services.get(name) as Service;
    let expectedViewsOpen = 0;
    /** Waits until every acked request of the apps that open modals has had its views.open. */
    const settle = async () => {
      const until = Date.now() + SETTLE_TIMEOUT_MS;
      while (emulator.callsTo('views.open').length < expectedViewsOpen && Date.now() < until) await sleep(10);
      await sleep(20);
      watch.poll();
    };
    const runBlock = async (name: AppName, total: number, concurrency: number) => {
      const result = await generator.run(`${service(name).url}/slack/events`, total, concurrency);
      if (OPENS_VIEW[name]) expectedViewsOpen += okResponses(result);
      await settle();
      return result;
    };

    /** CPU used by everything in the bench (all apps, generator, this process), ms, or undefined. */
    const benchCpuMs = () => {
      const parts = [...[...services.values()].map((s) => procCpuMs(s.proc.pid)), procCpuMs(generator.pid), ownCpuMs()];
      return parts.every((p) => p !== undefined) ? parts.reduce<number>((a, b) => a + (b ?? 0), 0) : undefined;
    };
    const runs: { concurrency: number; stats: Map<AppName, Stats>; otherCores: number | undefined }[] = [];
    for (const concurrency of CONCURRENCY) {
      for (const name of APPS) await runBlock(name, WARMUP, concurrency);
      const half = Math.ceil(REQUESTS / 2);
      const results = new Map<AppName, RunResult[]>(APPS.map((name) => [name, []]));
      const cpu = new Map<AppName, Cpu | undefined>(APPS.map((name) => [name, { app: 0, emulator: 0, generator: 0 }]));
      // ABBA: forward with the first half, backward with the rest.
      const order = [...APPS.map((name) => [name, half] as const), ...[...APPS].reverse().map((name) => [name, REQUESTS - half] as const)];
      // Other processes on the machine (not this bench) during the measured blocks, in cores.
      const machineBefore = machineBusyMs();
      const benchBefore = benchCpuMs();
      const wallBefore = performance.now();
      for (const [name, total] of order) {
        const pid = service(name).proc.pid;
        const before = { app: procCpuMs(pid), emulator: ownCpuMs(), generator: procCpuMs(generator.pid) };
        results.get(name)?.push(await runBlock(name, total, concurrency));
        const after = { app: procCpuMs(pid), emulator: ownCpuMs(), generator: procCpuMs(generator.pid) };
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
        APPS.map((name) => [name, summarize(results.get(name) ?? [], cpu.get(name), OPENS_VIEW[name] ? watch : undefined)]),
      );
      const [machineAfter, benchAfter] = [machineBusyMs(), benchCpuMs()];
      const otherCores =
        machineBefore !== undefined && machineAfter !== undefined && benchBefore !== undefined && benchAfter !== undefined
          ? Math.max(0, machineAfter - machineBefore - (benchAfter - benchBefore)) / (performance.now() - wallBefore)
          : undefined;
      runs.push({ concurrency, stats, otherCores });
    }
    await settle();

    const viewsOpen = emulator.callsTo('views.open');
    const viewsOpenFailed = viewsOpen.filter((c) => !c.ok);
    const viewErrors = [...new Set(viewsOpenFailed.map((c) => c.error ?? `HTTP ${c.status}`))];
    const openers = APPS.filter((name) => OPENS_VIEW[name]);
    const expectedOpens = runs.length * (REQUESTS + WARMUP) * openers.length;
    const rss = new Map<AppName, number | undefined>(APPS.map((name) => [name, procRssMb(service(name).proc.pid)]));

    // ---- soak: blocks of SOAK_BLOCK commands to bare+open and Slipway in turn, RSS after each
    const soakApps = APPS.filter((name) => name !== 'bare');
    const soakReadings: { sent: number; rss: Map<AppName, number | undefined>; stats: Map<AppName, Stats> }[] = [];
    const soakViews = { expected: 0, received: 0, failed: 0 };
    for (let sent = 0; sent < SOAK;) {
      const block = Math.min(SOAK_BLOCK, SOAK - sent);
      // The emulator keeps every call and view: forget them between blocks (this process's memory
      // is not what is measured, but it must not grow into swap or long GC pauses either).
      emulator.forgetHistory();
      watch.reset();
      expectedViewsOpen = 0;
      const stats = new Map<AppName, Stats>();
      // Alternate which app goes first, so drift hits both alike.
      for (const name of soakReadings.length % 2 ? [...soakApps].reverse() : soakApps) {
        stats.set(name, summarize([await runBlock(name, block, SOAK_CONCURRENCY)], undefined, undefined));
      }
      const calls = emulator.callsTo('views.open');
      soakViews.expected += expectedViewsOpen;
      soakViews.received += calls.length;
      soakViews.failed += calls.filter((c) => !c.ok).length;
      sent += block;
      soakReadings.push({ sent, rss: new Map(soakApps.map((name) => [name, procRssMb(service(name).proc.pid)])), stats });
    }

    // ---- report
    console.log(`\nSlash-command ack latency: signed "/platform new-namespace", ${REQUESTS} measured requests per app and`);
    console.log(`concurrency after ${WARMUP} warm-up, HTTP/1.1 keep-alive on 127.0.0.1, ABBA order (${[...APPS, ...[...APPS].reverse()].join(', ')}).`);
    console.log(
      RATE
        ? `OPEN LOOP at ${RATE} req/s per app (concurrency = cap on requests in flight); latency = scheduled start -> response received.`
        : `Closed loop (each of <concurrency> senders sends again on every response); latency = request written -> response received.`,
    );
    console.log(`Node ${process.version}, startup ${(startupMs / 1000).toFixed(1)} s.\n`);
    console.log(
      `${'conc'.padEnd(5)}${'app'.padEnd(10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('req/s', 8)}${pad('non-2xx', 8)}${pad('failed', 7)}` +
        `${pad('CPU µs/req', 11)}${pad('emu µs', 8)}${pad('gen µs', 8)}${pad('open lag p50/p99/max ms', 25)}`,
    );
    const json: Record<string, unknown>[] = [];
    let targetsMet = true;
    let errors = 0;
    for (const run of runs) {
      for (const name of APPS) {
        const s = run.stats.get(name) as Stats;
        const cpu = s.cpu ? ((s.cpu.app * 1000) / s.requests).toFixed(0) : '-';
        const emu = s.cpu ? ((s.cpu.emulator * 1000) / s.requests).toFixed(0) : '-';
        const gen = s.cpu ? ((s.cpu.generator * 1000) / s.requests).toFixed(0) : '-';
        const lag = s.openLag ? `${s.openLag.p50.toFixed(0)}/${s.openLag.p99.toFixed(0)}/${s.openLag.max.toFixed(0)}` : '-';
        console.log(
          `${String(run.concurrency).padEnd(5)}${LABEL[name].padEnd(10)}${pad(s.p50.toFixed(2), 9)}${pad(s.p99.toFixed(2), 9)}${pad(s.max.toFixed(2), 9)}` +
            `${pad(s.rps.toFixed(0), 8)}${pad(s.non2xx, 8)}${pad(s.failures, 7)}${pad(cpu, 11)}${pad(emu, 8)}${pad(gen, 8)}${pad(lag, 25)}`,
        );
        errors += s.non2xx + s.failures;
        for (const m of s.failureMessages) console.log(`     ${LABEL[name]} failure: ${m}`);
      }
      const slipway = run.stats.get('slipway') as Stats;
      const bare = run.stats.get('bare') as Stats;
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
      const control = run.stats.get('control');
      if (control) {
        console.log(
          `${''.padEnd(15)}bare+open/bare: p99 x${(control.p99 / bare.p99).toFixed(2)}, req/s x${(control.rps / bare.rps).toFixed(2)}; ` +
            `slipway/bare+open: p99 x${(slipway.p99 / control.p99).toFixed(2)}, req/s x${(slipway.rps / control.rps).toFixed(2)}`,
        );
      }
      if (RATE) {
        const late = APPS.map((name) => `${LABEL[name]} ${(run.stats.get(name)?.maxStartDelayMs ?? 0).toFixed(0)}`).join(', ');
        console.log(`${''.padEnd(15)}(latest start after schedule, ms: ${late})`);
      }
      if (run.otherCores !== undefined && run.otherCores > 0.1) {
        console.log(`${''.padEnd(15)}(WARNING: other processes on this machine used ${run.otherCores.toFixed(2)} cores meanwhile; numbers are noisy)`);
      }
      const stale = APPS.reduce((sum, name) => sum + (run.stats.get(name)?.staleTriggers ?? 0), 0);
      if (stale > 0) console.log(`${''.padEnd(15)}(${stale} trigger ids went unused: they aged past 0.5 s in the generator's pool)`);
      json.push({
        concurrency: run.concurrency,
        p50_ms: round(slipway.p50),
        p99_ms: round(slipway.p99),
        max_ms: round(slipway.max),
        rps: round(slipway.rps, 1),
        bare_p50_ms: round(bare.p50),
        bare_p99_ms: round(bare.p99),
        bare_max_ms: round(bare.max),
        bare_rps: round(bare.rps, 1),
        p99_ratio: round(p99Ratio),
        rps_ratio: round(rpsRatio),
        ...(run.otherCores !== undefined ? { other_load_cores: round(run.otherCores) } : {}),
        errors: slipway.non2xx + slipway.failures,
        bare_errors: bare.non2xx + bare.failures,
        ...(slipway.cpu && bare.cpu
          ? { cpu_us_per_req: round((slipway.cpu.app * 1000) / slipway.requests, 0), bare_cpu_us_per_req: round((bare.cpu.app * 1000) / bare.requests, 0) }
          : {}),
        ...(slipway.openLag ? { open_lag_p99_ms: round(slipway.openLag.p99, 0), open_lag_max_ms: round(slipway.openLag.max, 0) } : {}),
        ...(control
          ? {
              control_p50_ms: round(control.p50),
              control_p99_ms: round(control.p99),
              control_rps: round(control.rps, 1),
              control_p99_ratio: round(slipway.p99 / control.p99),
              ...(control.cpu ? { control_cpu_us_per_req: round((control.cpu.app * 1000) / control.requests, 0) } : {}),
            }
          : {}),
      });
    }
    const rssOf = (name: AppName) => rss.get(name);
    const rssText = APPS.map((name) => `${LABEL[name]} ${rssOf(name)?.toFixed(1) ?? '-'} MB`).join(', ');
    const rssSlipway = rssOf('slipway');
    const rssControl = rssOf('control');
    const rssRatio = rssSlipway !== undefined && rssControl !== undefined ? rssSlipway / rssControl : undefined;
    const rssOk = rssRatio === undefined || rssRatio <= RSS_RATIO_MAX;
    console.log(
      `\nResident memory (RSS) after the runs: ${rssText}` +
        (rssRatio !== undefined ? `; slipway/bare+open x${rssRatio.toFixed(2)} (target <= ${RSS_RATIO_MAX}: ${rssOk ? 'met' : 'NOT MET'})` : ''),
    );
    let soakJson: Record<string, unknown> | undefined;
    let soakOk = true;
    if (SOAK > 0) {
      console.log(`\nSoak: ${SOAK} more commands per app at concurrency ${SOAK_CONCURRENCY}, RSS after every ${SOAK_BLOCK} (bare+open and slipway in turn).`);
      console.log(`${pad('sent', 8)}${soakApps.map((name) => `${pad(`${LABEL[name]} MB`, 14)}${pad('p99 ms', 9)}${pad('req/s', 7)}`).join('')}`);
      for (const reading of soakReadings) {
        const cells = soakApps.map((name) => {
          const s = reading.stats.get(name);
          return `${pad(reading.rss.get(name)?.toFixed(1) ?? '-', 14)}${pad(s?.p99.toFixed(2) ?? '-', 9)}${pad(s?.rps.toFixed(0) ?? '-', 7)}`;
        });
        console.log(`${pad(reading.sent, 8)}${cells.join('')}`);
        for (const name of soakApps) {
          const s = reading.stats.get(name);
          if (!s) continue;
          errors += s.non2xx + s.failures;
          for (const m of s.failureMessages) console.log(`     ${LABEL[name]} failure: ${m}`);
        }
      }
      // Growth of Slipway's RSS from the reading at SOAK_BASE_AT (the first one if the soak is shorter) to the last.
      const base = soakReadings.find((r) => r.sent >= SOAK_BASE_AT) ?? soakReadings[0];
      const last = soakReadings.at(-1);
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
      const viewsFine = soakViews.received === soakViews.expected && soakViews.failed === 0;
      soakOk = flat && (lastRatio === undefined || lastRatio <= RSS_RATIO_MAX) && viewsFine;
      console.log(
        `Slipway RSS ${last?.sent ?? 0} vs ${base?.sent ?? 0} commands: x${growth?.toFixed(2) ?? '-'} (target <= ${SOAK_GROWTH_MAX}: ${flat ? 'met' : 'NOT MET'})` +
          (controlGrowth !== undefined ? `; bare+open x${controlGrowth.toFixed(2)}` : '') +
          (lastRatio !== undefined ? `; slipway/bare+open at the end x${lastRatio.toFixed(2)} (target <= ${RSS_RATIO_MAX})` : '') +
          `; views.open ${soakViews.received} for ${soakViews.expected}, ${soakViews.failed} failed: ${viewsFine ? 'OK' : 'MISMATCH'}`,
      );
      const mb = (n: number | undefined) => (n === undefined ? null : round(n, 1));
      soakJson = {
        commands: SOAK,
        concurrency: SOAK_CONCURRENCY,
        every: SOAK_BLOCK,
        readings: soakReadings.map((r) => ({
          sent: r.sent,
          rss_mb: mb(r.rss.get('slipway')),
          ...(CONTROL ? { control_rss_mb: mb(r.rss.get('control')) } : {}),
          p99_ms: round(r.stats.get('slipway')?.p99 ?? NaN),
          ...(CONTROL ? { control_p99_ms: round(r.stats.get('control')?.p99 ?? NaN) } : {}),
        })),
        ...(growth !== undefined ? { growth: round(growth, 3), growth_from: base?.sent } : {}),
        ...(controlGrowth !== undefined ? { control_growth: round(controlGrowth, 3) } : {}),
        ...(lastRatio !== undefined ? { rss_ratio: round(lastRatio) } : {}),
        flat,
        views_open: soakViews,
      };
    }
    console.log(
      `\nCPU µs/req: CPU time of the app's process per measured request, including its work after the ack (views.open).\n` +
        `emu µs: CPU time of this process (Slack API emulator, trigger ids) per request meanwhile; gen µs: the load generator's. All processes share ${availableParallelism()} cores.\n` +
        `open lag: request written -> its views.open seen by the emulator (10 ms polling); the trigger id expires at ${TRIGGER_TTL_MS} ms.`,
    );
    const viewsOk = viewsOpen.length === expectedOpens && viewsOpenFailed.length === 0;
    console.log(
      `views.open received by the emulator: ${viewsOpen.length} for ${expectedOpens} requests to ${openers.map((n) => LABEL[n]).join(' + ')} (incl. warm-up), ` +
        `${viewsOpenFailed.length} failed${viewErrors.length ? ` (${viewErrors.join(', ')})` : ''}: ${viewsOk ? 'OK' : 'MISMATCH'}`,
    );
    for (const s of services.values()) {
      if (s.errorLines.length > 0) console.log(`${LABEL[s.name]} logged ${s.errorLines.length} error lines, e.g.:\n  ${s.errorLines.slice(0, 3).join('\n  ')}`);
    }
    console.log(`Targets (Slipway p99 <= ${P99_RATIO_MAX}x bare Bolt's, req/s >= ${RPS_RATIO_MIN}x): ${targetsMet ? 'met' : 'NOT MET'}.`);
    if (!targetsMet && !RATE) {
      // What any app that opens a modal can reach here: its own process needs the CPU of the ack
      // plus the views.open exchange, so even with Slack on another machine its one JavaScript
      // thread serves at most about 1 s / (its CPU per request) commands a second.
      for (const run of runs) {
        const [bare, control] = [run.stats.get('bare'), run.stats.get('control')];
        if (!bare?.cpu || !control?.cpu) continue;
        const controlCpuUs = (control.cpu.app * 1000) / control.requests;
        const capRps = 1e6 / controlCpuUs;
        console.log(
          `Floor at ${run.concurrency}: bare Bolt + one views.open reached req/s x${(control.rps / bare.rps).toFixed(2)} and p99 x${(control.p99 / bare.p99).toFixed(2)} of bare Bolt; ` +
            `at ${controlCpuUs.toFixed(0)} µs of CPU per request it could serve at most about ${capRps.toFixed(0)} req/s (x${(capRps / bare.rps).toFixed(2)}) with Slack elsewhere.`,
        );
      }
    }
    console.log(`Total ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    console.log(
      JSON.stringify({
        bench: 'ack',
        requests: REQUESTS,
        warmup: WARMUP,
        ...(RATE ? { open_loop_rate: RATE } : {}),
        runs: json,
        views_open: { expected: expectedOpens, received: viewsOpen.length, failed: viewsOpenFailed.length },
        ...(rssSlipway !== undefined ? { rss_mb: round(rssSlipway, 1) } : {}),
        ...(rss.get('bare') !== undefined ? { bare_rss_mb: round(rss.get('bare') ?? 0, 1) } : {}),
        ...(rssControl !== undefined ? { control_rss_mb: round(rssControl, 1) } : {}),
        ...(rssRatio !== undefined ? { rss_ratio: round(rssRatio) } : {}),
        ...(soakJson ? { soak: soakJson } : {}),
        targets_met: targetsMet,
        memory_targets_met: rssOk && soakOk,
      }),
    );
    const loggedErrors = [...services.values()].some((s) => s.errorLines.length > 0);
    const enforce = process.env.BENCH_ENFORCE_TARGETS === '1';
    const soakViewsOk = soakViews.received === soakViews.expected && soakViews.failed === 0;
    return errors === 0 && viewsOk && soakViewsOk && !loggedErrors && ((targetsMet && rssOk && soakOk) || !enforce) ? 0 : 1;
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
