// Benchmark: Slipway as several replicas (`npm run bench:ha`).
//
// - Every bot is a process of its own, started as `npm start` starts it, behind a stand-in for a
//   Kubernetes Service (test/support/service-proxy.ts: round-robin over the replicas whose
//   /readyz passes, a refused connection tried on the next one). The Slack Web API and Kubernetes
//   API emulators run in this process; the Lease for leader election is in the Kubernetes one.
//   PostgreSQL is a server of its own per phase (test/support/postgres.ts: initdb on a temp dir).
// - Burst: BURST developers each submit a small dev namespace (approved by policy) through the
//   Service, CONCURRENCY at a time, after a warm-up of two requests per replica; the clock runs
//   from the first submission to the last request `ready` with its requester told (the database).
//   On 1 replica / SQLite (today's default), 1 replica / PostgreSQL and 3 replicas / PostgreSQL,
//   in this one run; throughput is also given as a ratio to 1 replica / SQLite.
// - Rolling restart: 3 replicas (PostgreSQL, leader election on); a steady stream of
//   `/platform new-namespace` commands (RATE a second) through the Service while each replica in
//   turn is replaced as a Deployment's RollingUpdate with maxUnavailable 0 does it: start a new
//   one, wait until it is in rotation, SIGTERM an old one. Ack latency from send to answer; a
//   failed ack is a broken connection, a status other than 200, or an answer after Slack's 3 s.
//   Target: 0 failed.
// - Takeover: the leader is killed (SIGKILL) TAKEOVERS times (a replacement started after each);
//   the time from the kill until another replica holds the Lease. Target: under the lease
//   duration + 2 s.
//
// Prints a table, then as the last line of stdout one JSON object. Exits 1 if a phase fails (a
// request not ready in time, an unexpected bot exit); a missed target fails the run only with
// BENCH_ENFORCE_TARGETS=1. Knobs: BENCH_HA_BURST (default 100), BENCH_HA_CONCURRENCY (20),
// BENCH_HA_RATE (20 commands/s), BENCH_HA_LEASE (lease duration in s, default 4), BENCH_HA_TAKEOVERS (3),
// BENCH_HA_PHASES (`burst`, `restart` or both, the default: `burst,restart`), BENCH_HA_IDLE (5 s),
// BENCH_HA_COUNTS_FILE (a file for every count as JSON).
//
// Each burst is also counted, since wall-clock figures on a shared machine are only as quiet as
// the box (bench/lib/counts.ts): per request, the CPU seconds of the replicas, of PostgreSQL, of
// this process (emulators, Service, developers) and of everything else on the machine; the SQL
// statements PostgreSQL ran (pg_stat_statements), its transactions and rollbacks, its
// serialization failures and deadlocks (each a transaction run again, from its log); the Slack and
// Kubernetes calls; and how the Service spread the requests. The same counts for IDLE_SECONDS with
// no request before the burst show each setup's background work (polling, heartbeats, the Lease).
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sendSlashCommand } from '../src/playground/slack-requests.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { DEV_CHANNEL, SIGNING_SECRET } from '../test/support/harness.ts';
import { deliver, developer, SlackWatch, startReplicaSet, storedRequests, submitRequest, type ReplicaSet } from '../test/support/replicas.ts';
import { COUNTED_POSTGRES, countWindow, type CountedPostgres, type WindowCounts } from './lib/counts.ts';
import { endWithSummary, positiveInt, runBench, type BenchRun } from './lib/run.ts';
import { round, spread } from './lib/stats.ts';
import { fmt, table } from './lib/table.ts';
import { sleep, waitFor } from './lib/time.ts';

const BURST = positiveInt(process.env.BENCH_HA_BURST, 100);
const CONCURRENCY = positiveInt(process.env.BENCH_HA_CONCURRENCY, 20);
const RATE = positiveInt(process.env.BENCH_HA_RATE, 20);
const LEASE_SECONDS = positiveInt(process.env.BENCH_HA_LEASE, 4);
const TAKEOVERS = positiveInt(process.env.BENCH_HA_TAKEOVERS, 3);
/** Seconds each burst setup is watched with no request, before its burst: its background work. */
const IDLE_SECONDS = positiveInt(process.env.BENCH_HA_IDLE, 5);
const PHASES = new Set((process.env.BENCH_HA_PHASES ?? 'burst,restart').split(',').map((p) => p.trim()));
/** Where every count (the statements PostgreSQL ran most, its connections' wait events…) is written as JSON, when set. */
const COUNTS_FILE = process.env.BENCH_HA_COUNTS_FILE;
/** The Lease in the defaults' proportions (15 / 10 / 2 s). */
const LEASE = { leaseDurationSeconds: LEASE_SECONDS, renewDeadlineSeconds: (LEASE_SECONDS * 2) / 3, retryPeriodSeconds: LEASE_SECONDS / 7.5 };
const SLACK_ACK_LIMIT_MS = 3000;
const BURST_TIMEOUT_MS = 120_000;
const DEADLINE_MS = 900_000;

type Engine = 'sqlite' | 'postgres';

/** A phase's own resources, released when it ends (the harness's `t.after`, for a benchmark). */
async function inPhase<T>(run: BenchRun, fn: (scope: { after(step: () => unknown): void }) => Promise<T>): Promise<T> {
  const steps: (() => unknown)[] = [];
  try {
    return await fn({ after: (step) => steps.push(step) });
  } finally {
    for (const step of steps.reverse())
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => console.error('cleanup:', err));
    void run;
  }
}

/** A PostgreSQL server for one phase: the replicas' environment, or undefined for SQLite. */
async function database(engine: Engine, scope: { after(step: () => unknown): void }): Promise<Record<string, string> | undefined> {
  return (await countedDatabase(engine, scope)).env;
}

/** As `database`, with a connection that counts what the server does (pg_stat_statements, pg_stat_database, its log). */
async function countedDatabase(
  engine: Engine,
  scope: { after(step: () => unknown): void },
): Promise<{ env: Record<string, string> | undefined; counted: () => Promise<CountedPostgres | undefined> }> {
  if (engine === 'sqlite') return { env: undefined, counted: () => Promise.resolve(undefined) };
  const server = await startPostgres(COUNTED_POSTGRES);
  scope.after(() => server.stop());
  return {
    env: { DATABASE_URL: server.url },
    // After the replicas have migrated the database.
    counted: async () => {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      scope.after(() => client.end());
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const pid = Number(readFirstLine(`${server.dataDir}/postmaster.pid`));
      return { url: server.url, client, logPath: server.logPath, pid };
    },
  };
}

function readFirstLine(path: string): string {
  return readFileSync(path, 'utf8').split('\n')[0] ?? '';
}

/** Requests ready with their requester told, as the shared database says. */
async function settled(set: ReplicaSet): Promise<number> {
  return (await storedRequests(set.env)).filter((r) => r.status === 'ready' && r.notified === 'ready').length;
}

/**
 * Submits requests `from` … `to - 1` through the Service, `CONCURRENCY` at a time, and waits until
 * they are all ready; returns how many needed a command or a submission sent again.
 */
async function provision(set: ReplicaSet, watch: SlackWatch, from: number, to: number): Promise<number> {
  let next = from;
  let retried = 0;
  const developerAtWork = async () => {
    while (next < to) {
      const trip = await submitRequest(set, watch, next++, false);
      if (trip.commands > 1 || trip.submissions > 1) retried++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, developerAtWork));
  await waitFor(`${to} requests ready`, async () => (await settled(set)) >= to, BURST_TIMEOUT_MS, 100);
  return retried;
}

interface Burst {
  label: string;
  engine: Engine;
  replicas: number;
  seconds: number;
  perSecond: number;
  /** Requests whose command or submission was sent again (it failed, or the form answered with a field error). */
  retried: number;
  /** What the setup did with no request for IDLE_SECONDS, and during the burst. */
  idle: WindowCounts;
  counts: WindowCounts;
}

async function burst(run: BenchRun, engine: Engine, replicas: number): Promise<Burst> {
  return inPhase(run, async (scope) => {
    const warm = replicas * 2;
    const db = await countedDatabase(engine, scope);
    const set = await startReplicaSet(scope, {
      replicas,
      developers: warm + BURST,
      database: db.env,
      leaderElection: replicas > 1,
      lease: LEASE,
      env: { LOG_LEVEL: 'warn' },
    });
    const watch = new SlackWatch(set);
    scope.after(() => watch.close());
    // Both engines hold what the replicas wrote: a build that ignored DATABASE_URL fails here.
    await provision(set, watch, 0, warm);
    const counted = await db.counted();
    const idle = await countWindow(set, counted, async () => void (await sleep(IDLE_SECONDS * 1000)));
    let retried = 0;
    let seconds = 0;
    const counts = await countWindow(set, counted, async () => {
      const started = performance.now();
      retried = await provision(set, watch, warm, warm + BURST);
      seconds = (performance.now() - started) / 1000;
    });
    return {
      label: `${replicas} replica${replicas > 1 ? 's' : ''} / ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
      engine,
      replicas,
      seconds,
      perSecond: BURST / seconds,
      retried,
      idle,
      counts,
    };
  });
}

interface Rolling {
  engine: Engine;
  commands: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  replaced: number;
  seconds: number;
}

/** A steady stream of slash commands through the Service while every replica is replaced in turn. */
async function rollingRestart(set: ReplicaSet, engine: Engine): Promise<Rolling> {
  const samples: { ms: number; ok: boolean }[] = [];
  const inFlight = new Set<Promise<void>>();
  let sending = true;
  const users = set.developers;
  const stream = (async () => {
    for (let i = 0; sending; i++) {
      const user = users[i % users.length] ?? developer(0);
      const sent = performance.now();
      const one = deliver(() =>
        sendSlashCommand(set.proxy.url, SIGNING_SECRET, {
          text: 'new-namespace',
          userId: user,
          channelId: DEV_CHANNEL,
          triggerId: set.slack.issueTriggerId(user),
        }),
      ).then((reply) => {
        const ms = performance.now() - sent;
        samples.push({ ms, ok: reply?.status === 200 && ms <= SLACK_ACK_LIMIT_MS });
      });
      inFlight.add(one);
      void one.finally(() => inFlight.delete(one));
      await sleep(1000 / RATE);
    }
  })();
  const started = performance.now();
  await sleep(2000);
  const old = set.names();
  for (const name of old) {
    await set.start();
    const exit = await set.stop(name);
    if (exit.code !== 0) throw new Error(`${name} exited with ${exit.code ?? exit.signal} after SIGTERM`);
  }
  await sleep(2000);
  sending = false;
  await stream;
  await Promise.all([...inFlight]);
  const { p50, p99, max } = spread(samples.map((s) => s.ms));
  return {
    engine,
    commands: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    p50,
    p99,
    max,
    replaced: old.length,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Kills the leader `TAKEOVERS` times; the time from each kill until another replica holds the Lease. */
async function takeovers(set: ReplicaSet): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < TAKEOVERS; i++) {
    let leader: string | undefined;
    await waitFor('a leader', () => (leader = set.leader()) !== undefined, 30_000, 20);
    if (!leader) throw new Error('no leader');
    const killed = performance.now();
    await set.kill(leader);
    await waitFor('a new leader', () => set.leader() !== undefined, 60_000, 10);
    times.push(performance.now() - killed);
    await set.start();
  }
  return times;
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

/** A burst's counts per request (an idle window's per second, `per` its seconds). */
function perUnit(c: WindowCounts, per: number) {
  const p = c.postgres;
  return {
    cpu_s: {
      replicas: round(sum(c.replicaCpuS) / per, 4),
      postgres: c.postgresCpuS === undefined ? null : round(c.postgresCpuS / per, 4),
      emulators_and_service: round(c.benchCpuS / per, 4),
      other_processes: c.otherCpuS === undefined ? null : round(c.otherCpuS / per, 4),
    },
    sql_statements: p ? round(p.statements / per, 1) : null,
    transactions: p ? round(p.commits / per, 2) : null,
    rollbacks: p ? round(p.rollbacks / per, 3) : null,
    pg_retries: p ? round((p.serializationFailures + p.deadlockErrors) / per, 3) : null,
    slack_calls: round(sum(c.slack) / per, 2),
    kube_calls: round(sum(c.kube) / per, 2),
  };
}

function printCounts(bursts: readonly Burst[]): void {
  const countTable = table([
    ['counted, per request', -26],
    ['cpu bots', 9],
    ['cpu pg', 8],
    ['cpu emu', 8],
    ['cpu other', 10],
    ['sql', 7],
    ['xacts', 7],
    ['rollbk', 7],
    ['pg retry', 9],
    ['slack', 7],
    ['kube', 6],
    ['  spread over replicas', -24],
  ]);
  console.log('');
  console.log(`Counted during each burst, per request (CPU in seconds; "pg retry": serialization failures and deadlocks, each run again)`);
  console.log(countTable.header);
  const row = (label: string, u: ReturnType<typeof perUnit>, spread: string) =>
    countTable.row([
      label,
      fmt(u.cpu_s.replicas, 4),
      fmt(u.cpu_s.postgres ?? NaN, 4),
      fmt(u.cpu_s.emulators_and_service, 4),
      fmt(u.cpu_s.other_processes ?? NaN, 4),
      fmt(u.sql_statements ?? NaN, 1),
      fmt(u.transactions ?? NaN, 1),
      fmt(u.rollbacks ?? NaN, 2),
      fmt(u.pg_retries ?? NaN, 2),
      fmt(u.slack_calls, 1),
      fmt(u.kube_calls, 1),
      `  ${spread}`,
    ]);
  for (const b of bursts) console.log(row(b.label, perUnit(b.counts, BURST), Object.values(b.counts.answered).join(' / ')));
  console.log('');
  console.log(`Counted with no request for ${IDLE_SECONDS} s before each burst, per second (background work: polling, heartbeats, the Lease)`);
  console.log(countTable.header.replace('counted, per request ', 'idle, per second     '));
  for (const b of bursts) console.log(row(b.label, perUnit(b.idle, b.idle.seconds), ''));
}

async function main(run: BenchRun): Promise<number> {
  const bursts: Burst[] = [];
  if (PHASES.has('burst')) {
    for (const [engine, replicas] of [
      ['sqlite', 1],
      ['postgres', 1],
      ['postgres', 3],
    ] as const) {
      bursts.push(await burst(run, engine, replicas));
    }
  }
  const restart = PHASES.has('restart')
    ? await inPhase(run, async (scope) => {
        const set = await startReplicaSet(scope, {
          replicas: 3,
          developers: 50,
          database: await database('postgres', scope),
          lease: LEASE,
          env: { LOG_LEVEL: 'warn' },
        });
        return { rolling: await rollingRestart(set, 'postgres'), takeover: await takeovers(set) };
      })
    : undefined;

  const base = bursts[0]?.perSecond ?? NaN;
  if (bursts.length > 0) {
    const burstTable = table([
      ['provisioning burst', -26],
      ['requests', 9],
      ['seconds', 9],
      ['req/s', 8],
      ['x 1/SQLite', 11],
      ['sent again', 11],
    ]);
    console.log(`Provisioning burst: ${BURST} requests through the Service, ${CONCURRENCY} developers at a time (policy approves; until ready and told)`);
    console.log(burstTable.header);
    for (const b of bursts) console.log(burstTable.row([b.label, BURST, fmt(b.seconds, 2), fmt(b.perSecond, 1), fmt(b.perSecond / base, 2), b.retried]));
    printCounts(bursts);
    if (COUNTS_FILE) writeFileSync(COUNTS_FILE, JSON.stringify(bursts, null, 2));
  }
  const takeoverTarget = LEASE_SECONDS * 1000 + 2000;
  let targetsMet = true;
  if (restart) {
    const { rolling, takeover } = restart;
    const takeoverMax = Math.max(...takeover);
    console.log('');
    console.log(
      `Rolling restart (3 replicas / PostgreSQL, ${rolling.replaced} replaced one at a time, ${rolling.seconds.toFixed(1)} s): ${rolling.commands} commands at ${RATE}/s, ` +
        `ack p50 ${fmt(rolling.p50)} ms, p99 ${fmt(rolling.p99)} ms, max ${fmt(rolling.max)} ms, failed ${rolling.failed} (target 0: ${rolling.failed === 0 ? 'met' : 'NOT MET'})`,
    );
    console.log(
      `Leader takeover after SIGKILL (lease ${LEASE_SECONDS} s): ${takeover.map((ms) => fmt(ms / 1000, 2)).join(', ')} s; ` +
        `max ${fmt(takeoverMax / 1000, 2)} s (target < ${takeoverTarget / 1000} s: ${takeoverMax < takeoverTarget ? 'met' : 'NOT MET'})`,
    );
    targetsMet = rolling.failed === 0 && takeoverMax < takeoverTarget;
  }
  return endWithSummary(
    {
      bench: 'ha',
      burst: BURST,
      concurrency: CONCURRENCY,
      phases: [...PHASES],
      bursts: bursts.map((b) => ({
        engine: b.engine,
        replicas: b.replicas,
        seconds: round(b.seconds, 2),
        per_second: round(b.perSecond, 2),
        ratio: round(b.perSecond / base, 2),
        per_request: perUnit(b.counts, BURST),
        spread: Object.values(b.counts.answered),
        idle_per_second: perUnit(b.idle, b.idle.seconds),
      })),
      rolling_restart: restart
        ? {
            engine: restart.rolling.engine,
            commands: restart.rolling.commands,
            rate: RATE,
            failed: restart.rolling.failed,
            p50_ms: round(restart.rolling.p50, 1),
            p99_ms: round(restart.rolling.p99, 1),
            max_ms: round(restart.rolling.max, 1),
          }
        : null,
      takeover: restart
        ? {
            lease_s: LEASE_SECONDS,
            ms: restart.takeover.map((ms) => round(ms, 0)),
            max_ms: round(Math.max(...restart.takeover), 0),
            target_ms: takeoverTarget,
          }
        : null,
      targets_met: targetsMet,
    },
    { ok: true, targetsMet },
  );
}

runBench('ha', DEADLINE_MS, main);
