// Benchmark: the looks replicas make on a timer, against a growing history (`npm run bench:orphans`).
//
// - The orphan look: every 2 s the leader asks for requests a replica that died left unannounced
//   and outcomes it left untold (`recoverOrphans`, src/workflows/provisioning/request.ts: the two
//   store calls as it makes them). The claims look: every heartbeat each replica asks for runs to
//   take over (`claimableRuns`) and the leader for job runs to take over (`lapsedJobRuns`).
// - On SQLite and on PostgreSQL (a server of its own, test/support/postgres.ts), a fresh database
//   per size holds HISTORY_SMALL, then HISTORY_LARGE settled requests (ready and told, denied,
//   failed and told, deleted), one finished run each and as many finished job runs, written with
//   direct SQL; and, the same at every size, a few orphans: 3 requests never announced, 3
//   outcomes never told, a running run nobody holds, one whose heartbeat lapsed, one held and
//   alive, a job run whose heartbeat lapsed. PostgreSQL's statistics are gathered (ANALYZE, as
//   autovacuum does); SQLite's are not (Slipway never runs ANALYZE).
// - Times each look (median of RUNS, after warm-ups) and checks it found exactly the orphans.
//   The figure: how much longer a look takes at HISTORY_LARGE than at HISTORY_SMALL (the
//   baseline, measured in the same run), per engine. Target: ≤ 2x (a look's cost follows what it
//   finds, not the history).
//
// Prints the plans, a table, then as the last line one JSON object. Exits 1 if a look finds other
// rows than the orphans; a missed target fails the run only with BENCH_ENFORCE_TARGETS=1.
// Knobs: BENCH_ORPHANS_SMALL (default 1000), BENCH_ORPHANS_LARGE (100000), BENCH_ORPHANS_RUNS (50).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../src/store/db.ts';
import { Store } from '../src/store/store.ts';
import { SETTLED_ANNOUNCE_MS } from '../src/workflows/provisioning/request.ts';
import { freshPostgresDatabase, timedLooks, queryPlan } from '../test/support/stores.ts';
import { endWithSummary, positiveInt, runBench, type BenchRun } from './lib/run.ts';
import { median, round } from './lib/stats.ts';
import { fmt, table } from './lib/table.ts';
import { timeRuns } from './lib/time.ts';

const HISTORY_SMALL = positiveInt(process.env.BENCH_ORPHANS_SMALL, 1_000);
const HISTORY_LARGE = positiveInt(process.env.BENCH_ORPHANS_LARGE, 100_000);
const RUNS = positiveInt(process.env.BENCH_ORPHANS_RUNS, 50);
const WARM_UPS = 5;
const TARGET_RATIO = 2;
const DEADLINE_MS = 300_000;
/** How long ago a claim's heartbeat must be to have lapsed, and orphans to be looked for (the default claims.lapseSeconds). */
const LAPSE_MS = 30_000;
/** When the history happened: long before the looks. */
const LONG_AGO = '2025-01-06T09:00:00.000Z';
/** What every look must find. */
const EXPECTED = { unannounced: 3, untold: 3, runs: 2, jobRuns: 1 };

interface Measured {
  engine: Engine;
  history: number;
  write_s: number;
  orphans_ms: number;
  claims_ms: number;
  found: typeof EXPECTED;
}

async function main(run: BenchRun): Promise<number> {
  const dir = run.tempDir('slipway-bench-orphans-');
  const rows: Measured[] = [];
  for (const engine of ['sqlite', 'postgres'] as const) {
    for (const history of [HISTORY_SMALL, HISTORY_LARGE]) {
      const target = engine === 'sqlite' ? join(dir, `history-${history}.db`) : await freshPostgresDatabase();
      rows.push(await measure(engine, target, history, history === HISTORY_LARGE));
    }
  }

  const layout = table(
    [
      ['engine', -9],
      ['history', 8],
      ['write s', 8],
      ['orphans', 8],
      ['claims', 8],
      ['found', 10],
    ],
    ' ',
  );
  console.log(`\n${layout.header}   (ms per look, median of ${RUNS}; found: unannounced/untold/runs/job runs)`);
  for (const r of rows) {
    const found = `${r.found.unannounced}/${r.found.untold}/${r.found.runs}/${r.found.jobRuns}`;
    console.log(layout.row([r.engine, r.history, fmt(r.write_s), fmt(r.orphans_ms, 3), fmt(r.claims_ms, 3), found]));
  }
  const wrong = rows.filter((r) => JSON.stringify(r.found) !== JSON.stringify(EXPECTED));
  const figure = (engine: Engine, look: 'orphans_ms' | 'claims_ms') => {
    const [small, large] = rows.filter((r) => r.engine === engine).map((r) => r[look]);
    return { small: small ?? NaN, large: large ?? NaN, ratio: (large ?? NaN) / (small ?? NaN) };
  };
  const figures = {
    sqlite: { orphans: figure('sqlite', 'orphans_ms'), claims: figure('sqlite', 'claims_ms') },
    postgres: { orphans: figure('postgres', 'orphans_ms'), claims: figure('postgres', 'claims_ms') },
  };
  const ratios = Object.values(figures).flatMap((f) => [f.orphans.ratio, f.claims.ratio]);
  const met = ratios.every((r) => r <= TARGET_RATIO);
  console.log(
    `\nHistory ${HISTORY_LARGE} / ${HISTORY_SMALL} (the baseline): orphan look ${figures.sqlite.orphans.ratio.toFixed(2)}x on SQLite, ` +
      `${figures.postgres.orphans.ratio.toFixed(2)}x on PostgreSQL; claims look ${figures.sqlite.claims.ratio.toFixed(2)}x on SQLite, ` +
      `${figures.postgres.claims.ratio.toFixed(2)}x on PostgreSQL.\n` +
      `Target ≤ ${TARGET_RATIO}x: ${met ? 'met' : 'NOT MET'}. Looks that found other rows than the orphans: ${wrong.length === 0 ? 'none' : wrong.map((r) => `${r.engine} ${r.history}`).join(', ')}. ` +
      `Total ${((Date.now() - run.started) / 1000).toFixed(1)} s.`,
  );
  const summary: Record<string, unknown> = { bench: 'orphans', history_small: HISTORY_SMALL, history_large: HISTORY_LARGE, runs: RUNS };
  for (const [engine, f] of Object.entries(figures)) {
    for (const [look, { small, large, ratio }] of Object.entries(f)) {
      summary[`${engine}_${look}_ms_small`] = round(small, 3);
      summary[`${engine}_${look}_ms_large`] = round(large, 3);
      summary[`${engine}_${look}_ratio`] = round(ratio, 2);
    }
  }
  Object.assign(summary, { target_ratio: TARGET_RATIO, target_met: met });
  return endWithSummary(summary, { ok: wrong.length === 0, targetsMet: met });
}

/** Writes `history` settled requests and the orphans into a fresh database on `engine`, then times both looks. */
async function measure(engine: Engine, target: string, history: number, showPlans: boolean): Promise<Measured> {
  const store = await Store.open(target);
  try {
    const w0 = performance.now();
    await writeHistory(store, history);
    const writeS = (performance.now() - w0) / 1000;
    const before = () => new Date(Date.now() - LAPSE_MS);
    const orphans = async () => {
      const unannounced = await store.unannouncedRequests({ createdBefore: before(), settledSince: new Date(Date.now() - SETTLED_ANNOUNCE_MS) }, 50);
      const untold = await store.pendingOutcomes(before(), 50);
      return { unannounced: unannounced.length, untold: untold.length };
    };
    const claims = async () => ({ runs: (await store.claimableRuns(before())).length, jobRuns: (await store.adoption.lapsedJobRuns(before())).length });
    const o = await timeRuns(orphans, RUNS, WARM_UPS);
    const c = await timeRuns(claims, RUNS, WARM_UPS);
    if (showPlans) {
      console.log(`\n${engine}, ${history} requests of history: the looks' plans`);
      for (const look of timedLooks(before())) console.log(`  ${look.name}: ${(await queryPlan(store, look.sql, look.params, false)).replaceAll('\n', ' | ')}`);
    }
    return { engine, history, write_s: writeS, orphans_ms: median(o.ms), claims_ms: median(c.ms), found: { ...o.value, ...c.value } };
  } finally {
    await store.close();
  }
}

// The numbers 1 … @count as a table `n (i)`, in SQL both engines run.
const NUMBERS = 'WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count)';

/**
 * The history, with direct SQL: `count` settled requests (of every 50: 40 ready and told, 6
 * denied, 3 failed and told, 1 ready and deleted), a finished run for each and `count` finished
 * job runs; then the orphans the looks must find, and a run held by a live replica, which they must not.
 */
async function writeHistory(store: Store, count: number): Promise<void> {
  const db = store.sql;
  const recent = new Date(Date.now() - 10 * LAPSE_MS).toISOString();
  const alive = new Date().toISOString();
  const status = `CASE WHEN i % 50 < 41 THEN 'ready' WHEN i % 50 < 47 THEN 'denied' ELSE 'failed' END`;
  await store.transaction(async () => {
    await db
      .prepare(
        `${NUMBERS}
         INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, requester, status, decided_by, decided_at,
                               card_channel, card_ts, notified_status, deleted_at, created_at, updated_at)
         SELECT 'history-' || i, 'dev-eu', 'payments', 'dev', 'small', 'history', 'U0DEV', ${status}, 'policy', @at,
                'C0APPROVALS', '1700000000.' || i, CASE WHEN ${status} = 'denied' THEN NULL ELSE ${status} END,
                CASE WHEN i % 50 = 40 THEN @at END, @at, @at
         FROM n`,
      )
      .run({ count, at: LONG_AGO });
    await db
      .prepare(
        `INSERT INTO runs (request_id, kind, status, started_at, finished_at)
         SELECT id, 'provision', CASE WHEN status = 'failed' THEN 'failed' ELSE 'done' END, created_at, updated_at FROM requests WHERE status <> 'denied'`,
      )
      .run();
    await db
      .prepare(
        `${NUMBERS} INSERT INTO job_runs (job, reason, started_at, finished_at, status, summary) SELECT 'lifecycle', 'scheduled', @at, @at, 'ok', 'nothing due' FROM n`,
      )
      .run({ count, at: LONG_AGO });

    // The orphans: never announced (pending, approved by policy), never told (ready, failed).
    const orphan = db.prepare<{ name: string; status: string; channel: string | null; card: string | null; at: string }>(
      `INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, requester, status, card_channel, card_ts, created_at, updated_at)
       VALUES (@name, 'dev-eu', 'payments', 'dev', 'small', 'orphan', 'U0DEV', @status, @channel, @card, @at, @at)`,
    );
    for (const [i, s] of ['pending', 'pending', 'approved'].entries())
      await orphan.run({ name: `unannounced-${i}`, status: s, channel: null, card: null, at: recent });
    for (const [i, s] of ['ready', 'ready', 'failed'].entries())
      await orphan.run({ name: `untold-${i}`, status: s, channel: 'C0APPROVALS', card: `1800000000.${i}`, at: recent });
    // Runs: one nobody holds, one whose holder's heartbeat lapsed, one held by a live replica.
    const running = db.prepare<{ name: string; holder: string | null; heartbeat: string | null }>(
      `INSERT INTO runs (request_id, kind, status, started_at, claimed_by, heartbeat_at)
       SELECT id, 'provision', 'running', created_at, @holder, @heartbeat FROM requests WHERE namespace = @name`,
    );
    await running.run({ name: 'unannounced-2', holder: null, heartbeat: null });
    await running.run({ name: 'history-1', holder: 'replica-a', heartbeat: recent });
    await running.run({ name: 'history-2', holder: 'replica-b', heartbeat: alive });
    await db
      .prepare(`INSERT INTO job_runs (job, reason, started_at, status, claimed_by, heartbeat_at) VALUES ('digest', 'manual', @at, 'running', 'replica-a', @at)`)
      .run({ at: recent });
  });
  // PostgreSQL gathers statistics on its own (autovacuum) soon after such a load; here, now.
  if (store.engine === 'postgres') await db.exec('ANALYZE');
}

runBench('orphans', DEADLINE_MS, main);
