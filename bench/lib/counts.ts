// What a phase of bench/ha.ts did, counted rather than timed (timings on a shared 2-core machine
// are only as quiet as the box): CPU seconds per process, SQL statements and transactions,
// PostgreSQL's serialization failures and lock waits, Slack and Kubernetes calls, and how the
// requests were spread over the replicas. A snapshot is taken before and after the phase; the
// difference is what the phase cost.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { machineBusyMs, ownCpuMs, statFields } from './machine.ts';

/** Server settings for a PostgreSQL whose statements are counted (pg_stat_statements) and whose lock waits are logged. */
export const COUNTED_POSTGRES = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', log_lock_waits: 'on' };

/** CPU time (user + system, ms) of process `pid` and of its children: those alive now and those it has waited for. */
export function processTreeCpuMs(pid: number): number | undefined {
  const ticks = (stat: string, fields: number[]) => {
    const rest = statFields(stat);
    return fields.reduce((sum, i) => sum + Number(rest[i]), 0) * 10;
  };
  try {
    // utime, stime, then cutime, cstime (children that exited and were waited for).
    let total = ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'), [11, 12, 13, 14]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(statFields(stat)[1]) === pid) total += ticks(stat, [11, 12]);
      } catch {
        // exited meanwhile
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** The value of an unlabelled sample in Prometheus text (`name value`), or of the sum of a labelled one's series. */
export function promValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A Kubernetes API path as `VERB resource` (`PATCH resourcequotas`, `PUT leases`). */
export function kubeCall(method: string, path: string): string {
  const segments = path.replace(/^\/(api\/v1|apis\/[^/]+\/[^/]+)\/?/, '').split('/');
  const resource = segments[0] === 'namespaces' && segments.length >= 3 ? segments[2] : segments[0];
  return `${method} ${resource ?? path}`;
}

/** How many of each: the difference of two tallies, without the zeros. */
export function tallyDiff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) if (n - (before[key] ?? 0) !== 0) out[key] = n - (before[key] ?? 0);
  return out;
}

export function tally(keys: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  return out;
}

export interface PostgresCounts {
  commits: number;
  rollbacks: number;
  deadlocks: number;
  conflicts: number;
}

/** pg_stat_database's counters for the database `slipway`. */
export async function postgresCounts(client: pg.Client): Promise<PostgresCounts> {
  const row = (
    await client.query<{ commits: string; rollbacks: string; deadlocks: string; conflicts: string }>(
      `SELECT xact_commit AS commits, xact_rollback AS rollbacks, deadlocks, conflicts FROM pg_stat_database WHERE datname = current_database()`,
    )
  ).rows[0];
  return { commits: Number(row?.commits), rollbacks: Number(row?.rollbacks), deadlocks: Number(row?.deadlocks), conflicts: Number(row?.conflicts) };
}

/** Statements run since pg_stat_statements was last reset, by their text (normalized), most called first. */
export async function statementCounts(client: pg.Client): Promise<{ query: string; calls: number }[]> {
  const rows = (
    await client.query<{ query: string; calls: string }>(
      `SELECT s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%' ORDER BY s.calls DESC`,
    )
  ).rows;
  return rows.map((r) => ({ query: r.query.replace(/\s+/g, ' '), calls: Number(r.calls) }));
}

/**
 * Samples pg_stat_activity every `periodMs` until stopped: how many of the replicas' connections
 * were in each state and wait event (`active`, `active Lock:transactionid`, `idle in transaction`…).
 */
export function sampleActivity(client: pg.Client, periodMs = 50): () => Promise<{ samples: number; seen: Record<string, number> }> {
  const seen: Record<string, number> = {};
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = (
        await client.query<{ state: string | null; wait: string | null }>(
          `SELECT state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'`,
        )
      ).rows;
      samples++;
      for (const r of rows) {
        const key = `${r.state ?? '?'}${r.wait && r.wait !== 'Client:ClientRead' ? ` ${r.wait}` : ''}`;
        seen[key] = (seen[key] ?? 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, periodMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { samples, seen };
  };
}

/**
 * What a PostgreSQL server log reports: serialization failures, deadlocks and long lock waits, and
 * for the failures, the statement each one stopped (its first words) and PostgreSQL's reason.
 */
export function logCounts(path: string): { serialization: number; deadlock: number; lockWait: number; failed: Record<string, number> } {
  let lines: string[] = [];
  try {
    lines = readFileSync(path, 'utf8').split('\n');
  } catch {
    // unreadable: nothing counted
  }
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const failed: string[] = [];
  lines.forEach((line, i) => {
    if (!/ERROR: {2}(could not serialize access|deadlock detected)/.test(line)) return;
    const detail = /DETAIL: {2}(Reason code: )?(.*)/.exec(lines[i + 1] ?? '')?.[2] ?? '';
    const statement = lines.slice(i + 1, i + 4).find((l) => / STATEMENT: {2}/.test(l));
    const text =
      statement
        ?.replace(/.* STATEMENT: {2}/, '')
        .replace(/\s+/g, ' ')
        .slice(0, 90) ?? '?';
    failed.push(`${text} | ${detail.slice(0, 70)}`);
  });
  return {
    serialization: count(/ERROR: {2}could not serialize access/),
    deadlock: count(/ERROR: {2}deadlock detected/),
    lockWait: count(/LOG: {2}process \d+ still waiting for/),
    failed: tally(failed),
  };
}

/** CPU ms of this process (the emulators, the Service and the developers) and of the whole machine. */
export function localCpu(): { benchMs: number; machineMs: number | undefined } {
  return { benchMs: ownCpuMs(), machineMs: machineBusyMs() };
}

/** What a snapshot reads: the replica set of test/support/replicas.ts, and its PostgreSQL when it has one. */
export interface Counted {
  slack: { readonly calls: readonly { method: string }[] };
  kube: { readonly requests: readonly { method: string; path: string }[] };
  proxy: { readonly stats: { answered: Record<string, number> } };
  names(): string[];
  bot(name: string): { metricsUrl: string; child: { pid?: number | undefined } } | undefined;
}

export interface CountedPostgres {
  url: string;
  client: pg.Client;
  logPath: string;
  /** The server process (postmaster). */
  pid: number;
}

interface Snapshot {
  at: number;
  replicaCpuS: Record<string, number>;
  slack: Record<string, number>;
  kube: Record<string, number>;
  answered: Record<string, number>;
  bench: { benchMs: number; machineMs: number | undefined };
  postgresCpuMs: number | undefined;
  postgres: PostgresCounts | undefined;
  log: ReturnType<typeof logCounts> | undefined;
}

async function snapshot(set: Counted, db: CountedPostgres | undefined): Promise<Snapshot> {
  const replicaCpuS: Record<string, number> = {};
  for (const name of set.names()) {
    const bot = set.bot(name);
    if (!bot) continue;
    const text = await (await fetch(`${bot.metricsUrl}/metrics`)).text();
    replicaCpuS[name] = promValue(text, 'slipway_process_cpu_seconds_total');
  }
  return {
    at: performance.now(),
    replicaCpuS,
    slack: tally(set.slack.calls.map((c) => c.method)),
    kube: tally(set.kube.requests.map((r) => kubeCall(r.method, r.path))),
    answered: { ...set.proxy.stats.answered },
    bench: localCpu(),
    postgresCpuMs: db && processTreeCpuMs(db.pid),
    postgres: db && (await postgresCounts(db.client)),
    log: db && logCounts(db.logPath),
  };
}

/** What a counted window cost, in total (divide by its requests for "per request"). */
export interface WindowCounts {
  seconds: number;
  /** CPU seconds of each replica. */
  replicaCpuS: Record<string, number>;
  /** CPU seconds of PostgreSQL's processes, of this process (emulators, Service, developers) and of everything else on the machine. */
  postgresCpuS: number | undefined;
  benchCpuS: number;
  otherCpuS: number | undefined;
  slack: Record<string, number>;
  kube: Record<string, number>;
  /** Slack requests each replica answered through the Service. */
  answered: Record<string, number>;
  postgres?: PostgresCounts & {
    statements: number;
    topStatements: { query: string; calls: number }[];
    serializationFailures: number;
    deadlockErrors: number;
    lockWaitsOver1s: number;
    /** The statements serialization failures stopped, and PostgreSQL's reason. */
    failed: Record<string, number>;
    activity: { samples: number; seen: Record<string, number> };
  };
}

/** Counts what happens while `work` runs (replicas, emulators, PostgreSQL). */
export async function countWindow(set: Counted, db: CountedPostgres | undefined, work: () => Promise<void>): Promise<WindowCounts> {
  if (db) await db.client.query('SELECT pg_stat_statements_reset()');
  const before = await snapshot(set, db);
  // A client of its own: the counting one stays free for the snapshots.
  const sampler = db && new pg.Client({ connectionString: db.url });
  await sampler?.connect();
  const stopSampling = sampler && sampleActivity(sampler);
  let activity: Awaited<ReturnType<ReturnType<typeof sampleActivity>>> | undefined;
  try {
    await work();
  } finally {
    activity = await stopSampling?.();
    await sampler?.end();
  }
  const after = await snapshot(set, db);
  const seconds = (after.at - before.at) / 1000;
  const replicaCpuS: Record<string, number> = {};
  for (const [name, s] of Object.entries(after.replicaCpuS)) replicaCpuS[name] = s - (before.replicaCpuS[name] ?? 0);
  const postgresCpuS =
    after.postgresCpuMs !== undefined && before.postgresCpuMs !== undefined ? (after.postgresCpuMs - before.postgresCpuMs) / 1000 : undefined;
  const benchCpuS = (after.bench.benchMs - before.bench.benchMs) / 1000;
  const machineS =
    after.bench.machineMs !== undefined && before.bench.machineMs !== undefined ? (after.bench.machineMs - before.bench.machineMs) / 1000 : undefined;
  const ours = Object.values(replicaCpuS).reduce((a, b) => a + b, 0) + (postgresCpuS ?? 0) + benchCpuS;
  const counts: WindowCounts = {
    seconds,
    replicaCpuS,
    postgresCpuS,
    benchCpuS,
    otherCpuS: machineS === undefined ? undefined : Math.max(0, machineS - ours),
    slack: tallyDiff(after.slack, before.slack),
    kube: tallyDiff(after.kube, before.kube),
    answered: tallyDiff(after.answered, before.answered),
  };
  if (db && before.postgres && after.postgres && before.log && after.log) {
    const statements = await statementCounts(db.client);
    counts.postgres = {
      // The sampler's queries are transactions of their own (the snapshots' few are left in).
      commits: after.postgres.commits - before.postgres.commits - (activity?.samples ?? 0),
      rollbacks: after.postgres.rollbacks - before.postgres.rollbacks,
      deadlocks: after.postgres.deadlocks - before.postgres.deadlocks,
      conflicts: after.postgres.conflicts - before.postgres.conflicts,
      statements: statements.reduce((sum, s) => sum + s.calls, 0),
      topStatements: statements.slice(0, 25),
      serializationFailures: after.log.serialization - before.log.serialization,
      deadlockErrors: after.log.deadlock - before.log.deadlock,
      lockWaitsOver1s: after.log.lockWait - before.log.lockWait,
      failed: tallyDiff(after.log.failed, before.log.failed),
      activity: activity ?? { samples: 0, seen: {} },
    };
  }
  return counts;
}
