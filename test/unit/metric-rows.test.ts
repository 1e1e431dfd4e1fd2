import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { parseConfig, type Config } from '../../src/config.ts';
import type { UsageSnapshotInput } from '../../src/store/adoption.ts';
import { migrate } from '../../src/store/migrate.ts';
import { SqliteDb, type Engine } from '../../src/store/db.ts';
import type { EventInput } from '../../src/store/events.ts';
import { Store } from '../../src/store/store.ts';
import { adoptionReport, metricsSettings } from '../../src/workflows/adoption/metrics.ts';
import type { AdoptionReport } from '../../src/domain/adoption.ts';
import { shiftWeek, weekContaining, type Week } from '../../src/lib/calendar.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../support/config.ts';
import { RawMetrics } from '../support/raw-metrics.ts';
import { openStore } from '../support/stores.ts';
import { seededRandom } from '../../src/lib/random.ts';

// The adoption metrics read rows derived as events and usage snapshots are written
// (db/0006_metric_rows.sql: durations, and the state each snapshot holds until the next). These
// tests hold them to the same figures as computing everything from the raw rows, for a generated
// history, and for a database written before that migration and filled by it.

const TZ = 'Europe/Berlin';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const FIRST_MIGRATION_WITH_METRIC_ROWS = '0006_metric_rows.sql';

function config(): Config {
  const doc = exampleConfigDocument();
  doc.teams = [
    ...(doc.teams as Record<string, unknown>[]),
    { name: 'data', displayName: 'Data', costCenter: 'cc-3001', group: 'data-devs' },
    // Active only through a namespace relabelled to it.
    { name: 'tools', displayName: 'Tools', costCenter: 'cc-3002', group: 'tools-devs' },
  ];
  doc.schedule = { timezone: TZ };
  return parseConfig(doc, EXAMPLE_CONFIG_PATH);
}

/** A seeded history of 16 weeks across the end of summer time, with what makes metrics tricky. */
function history(): { events: EventInput[]; snapshots: UsageSnapshotInput[]; first: Week; last: Week } {
  const random = seededRandom(0xd16e57);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const first = weekContaining(new Date('2026-08-03T12:00:00Z'), TZ);
  const last = shiftWeek(first, 15, TZ);
  const span = last.end.getTime() - first.start.getTime();
  // Usage refreshes run every 30 minutes: many snapshots share their time.
  const refresh = (t: number) => Math.ceil(t / (30 * MIN)) * 30 * MIN;
  // Teams onboard over time; 'legacy' is not in the config.
  const teams = [
    { team: 'payments', from: 0 },
    { team: 'search', from: 0.2 },
    { team: 'data', from: 0.55 },
    { team: 'legacy', from: 0.1 },
  ];
  const events: EventInput[] = [];
  const snapshots: UsageSnapshotInput[] = [];
  const lastRow = new Map<string, number>();
  let requestId = 1;
  for (let i = 0; i < 260; i++) {
    const { team, from } = pick(teams);
    const week = shiftWeek(first, Math.floor((from + random() * (1 - from)) * 16), TZ);
    // Some exactly at a week's start (Monday 00:00 local), the rest anywhere in the week.
    const at = random() < 0.05 ? week.start.getTime() : week.start.getTime() + Math.floor(random() * 7 * DAY);
    const id = requestId++;
    const namespace = `${team}-${Math.floor(random() * 6)}`;
    const cluster = pick(['dev-eu', 'prod-eu']);
    const ev = (type: string, t: number, extra: Partial<EventInput> = {}) => ({ type, at: new Date(t), team, requestId: id, ...extra });
    const own: EventInput[] = [ev('request_submitted', at, { actor: `U0${team.toUpperCase()}${i % 3}`, data: { namespace, cluster } })];
    const roll = random();
    if (roll < 0.05) {
      events.push(...own); // still pending
      continue;
    }
    const auto = roll < 0.4;
    let t = at + (auto ? 1000 : Math.floor(random() * 6 * HOUR));
    if (!auto && roll > 0.9) {
      own.push(ev('request_denied', t, { actor: 'U0ALICE' }));
      events.push(...own);
      continue;
    }
    own.push(ev('request_approved', t, { actor: auto ? 'policy' : 'U0ALICE', data: { auto } }));
    own.push(ev('run_started', t + 100, { data: { runId: id } }));
    t += 100 + Math.floor(random() * 20_000);
    if (random() < 0.1) {
      own.push(ev('run_failed', t, { data: { runId: id } }));
      if (random() < 0.5) {
        events.push(...own);
        continue;
      }
      t += Math.floor(random() * 3 * HOUR);
    }
    own.push(ev('namespace_ready', t, { data: { runId: id, namespace, cluster } }));
    // An imported log may hold a request's events out of order: its submission after the rest.
    events.push(...(i % 41 === 7 ? [...own.slice(1), ...own.slice(0, 1)] : own));

    // What the usage refresh sees of it, unless the namespace was never seen.
    if (random() < 0.1 || t > last.end.getTime()) continue;
    const key = `${cluster}/${namespace}`;
    let seen = Math.max(refresh(t + 1), (lastRow.get(key) ?? 0) + 30 * MIN);
    const row = (when: number, present: boolean, runningPods: number, label = team) => {
      snapshots.push({ at: new Date(when), cluster, namespace, team: label, requestId: id, present, runningPods });
      lastRow.set(key, when);
    };
    const running = random() < 0.7;
    row(seen, true, running && random() < 0.3 ? 2 : 0);
    if (running) {
      seen = refresh(seen + 1 + random() * 5 * DAY);
      row(seen, true, 1 + Math.floor(random() * 4));
      if (random() < 0.5) {
        seen = refresh(seen + 1 + random() * 10 * DAY);
        row(seen, true, 0);
      }
    }
    // Relabelled to another team while running: counted under the later team.
    if (random() < 0.05) row((seen = refresh(seen + 1 + random() * DAY)), true, 3, 'data');
    if (random() < 0.5) row(refresh(seen + 1 + random() * 20 * DAY), false, 0);
  }
  // A namespace Slipway manages that the event log does not know (made before it kept one).
  snapshots.push({
    at: new Date(first.start.getTime() + 3 * HOUR),
    cluster: 'dev-eu',
    namespace: 'old-tools',
    team: 'search',
    requestId: undefined,
    present: true,
    runningPods: 0,
  });
  snapshots.push({
    at: new Date(first.start.getTime() + span / 2),
    cluster: 'dev-eu',
    namespace: 'old-tools',
    team: 'search',
    requestId: undefined,
    present: true,
    runningPods: 1,
  });
  // Snapshots exactly at the edges of a week's windows (its end, and its end less activeDays and
  // idleDays), which are half-open: a state ending at a window's start was still there at it.
  const edge = shiftWeek(first, 8, TZ).end.getTime();
  const at = (namespace: string, t: number, present: boolean, runningPods: number, team = 'search') =>
    snapshots.push({ at: new Date(t), cluster: 'prod-eu', namespace, team, requestId: 9000 + namespace.length, present, runningPods });
  at('edge-running', first.start.getTime() + HOUR, true, 2);
  at('edge-running', edge - 7 * DAY, true, 0);
  at('edge-starts', first.start.getTime() + HOUR, true, 0);
  at('edge-starts', edge, true, 1);
  at('edge-deleted', first.start.getTime() + HOUR, true, 0);
  at('edge-deleted', edge - 14 * DAY, false, 0);
  // Relabelled (same request, no pods either side) right at the idle window's start: still idle.
  at('edge-relabelled', first.start.getTime() + HOUR, true, 0);
  at('edge-relabelled', edge - 14 * DAY, true, 0, 'data');
  // Relabelled while running: the namespace counts for the team of its latest label.
  at('edge-tools', first.start.getTime() + HOUR, true, 1, 'legacy');
  at('edge-tools', edge - 2 * DAY, true, 1, 'tools');
  // Written in time order, as the refresh writes them, but for a few rows written late.
  snapshots.sort((a, b) => a.at.getTime() - b.at.getTime());
  for (let i = 11; i < snapshots.length; i += 37) snapshots.push(...snapshots.splice(i, 1));
  return { events, snapshots, first, last };
}

/** The parts of a report computed from the rows (changes and regressions follow from them). */
function figures(report: AdoptionReport) {
  return { current: report.current, previous: report.previous, trend: report.trend, idle: report.idle, quiet: report.quiet };
}

function expected(raw: RawMetrics, report: AdoptionReport) {
  const { current, previous } = report;
  return {
    current: raw.week(current.week),
    previous: raw.week(previous.week),
    trend: report.trend.map((t) => raw.trendPoint(t.week)),
    idle: raw.idleAtEnd(current.week, 10),
    quiet: report.quiet,
  };
}

/** A database with the schema as it was before the metric rows, written with plain SQL. */
async function databaseBeforeMetricRows(path: string, events: readonly EventInput[], snapshots: readonly UsageSnapshotInput[]): Promise<void> {
  const root = new URL('../../db', import.meta.url).pathname;
  const older = mkdtempSync(join(tmpdir(), 'slipway-migrations-'));
  for (const file of readdirSync(root).filter((f) => f < FIRST_MIGRATION_WITH_METRIC_ROWS)) copyFileSync(join(root, file), join(older, file));
  const db = new Database(path);
  await migrate(new SqliteDb(db), older);
  const event = db.prepare('INSERT INTO events (at, type, actor, team, request_id, data) VALUES (?, ?, ?, ?, ?, ?)');
  const snapshot = db.prepare('INSERT INTO usage_snapshots (at, cluster, namespace, team, request_id, present, running_pods) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const e of events) event.run(e.at.toISOString(), e.type, e.actor ?? null, e.team ?? null, e.requestId ?? null, e.data ? JSON.stringify(e.data) : null);
    for (const s of snapshots) snapshot.run(s.at.toISOString(), s.cluster, s.namespace, s.team ?? null, s.requestId ?? null, s.present ? 1 : 0, s.runningPods);
  })();
  db.close();
}

/** A history written as the workflows write it: through the store, one event or refresh at a time. */
async function writtenThroughStore(t: TestContext, engine: Engine, events: readonly EventInput[], snapshots: readonly UsageSnapshotInput[]) {
  const opened = await openStore(t, engine);
  for (const e of events) await opened.store.appendEvent(e);
  for (const s of snapshots) await opened.store.adoption.insertSnapshots([s]);
  return opened;
}

/** The rows the triggers (or the migration) derive from events and usage snapshots. */
async function metricRows(store: Store) {
  return {
    durations: await store.sql.prepare('SELECT kind, at, ms FROM metric_durations ORDER BY kind, at, ms').all(),
    states: await store.sql.prepare('SELECT * FROM usage_states ORDER BY snapshot_id').all(),
    firstWorkloads: await store.sql.prepare('SELECT * FROM first_workloads ORDER BY cluster, namespace, request_id').all(),
    teams: await store.sql.prepare('SELECT * FROM team_first_requests ORDER BY team').all(),
  };
}

/**
 * The same history twice: written as the workflows write it (through the store, one event or
 * refresh at a time), and written before the migration existed, then opened (and migrated).
 */
async function writtenAndBackfilled(
  t: TestContext,
  events: readonly EventInput[],
  snapshots: readonly UsageSnapshotInput[],
): Promise<{ written: Store; backfilled: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-metric-rows-'));
  const { store: written } = await writtenThroughStore(t, 'sqlite', events, snapshots);
  await databaseBeforeMetricRows(join(dir, 'backfilled.db'), events, snapshots);
  const backfilled = await Store.open(join(dir, 'backfilled.db'));
  t.after(() => backfilled.close());
  return { written, backfilled };
}

/** The adoption report of every week of the history and the next, each compared with the raw rows' figures. */
async function assertWeeks(store: Store, raw: RawMetrics, cfg: Config, first: Week, last: Week, what: string): Promise<void> {
  let busy = 0;
  for (let week = shiftWeek(first, 1, TZ); week.start < shiftWeek(last, 2, TZ).start; week = shiftWeek(week, 1, TZ)) {
    const report = await adoptionReport({ store, config: cfg }, new Date(week.end.getTime() + 9 * HOUR));
    assert.equal(report.current.week.monday, week.monday);
    const want = expected(raw, report);
    assert.deepEqual(figures(report), want, `week of ${week.monday}, ${what}`);
    if (want.current.requests > 0 && want.current.activeNamespaces > 0 && want.idle.total > 0) busy += 1;
  }
  // The history exercises what it is meant to: busy weeks with active and idle namespaces.
  assert.ok(busy >= 8, `${busy} busy weeks`);
}

test('metrics from the rows written with events and snapshots equal metrics from the raw rows, and so does a database filled by the migration', async (t) => {
  const cfg = config();
  const { events, snapshots, first, last } = history();
  const raw = new RawMetrics(events, snapshots, metricsSettings(cfg));
  const { written, backfilled } = await writtenAndBackfilled(t, events, snapshots);
  await assertWeeks(written, raw, cfg, first, last, 'written');
  await assertWeeks(backfilled, raw, cfg, first, last, 'backfilled');
});

test('on PostgreSQL, metrics from the rows its triggers write equal metrics from the raw rows', async (t) => {
  const cfg = config();
  const { events, snapshots, first, last } = history();
  const { store } = await writtenThroughStore(t, 'postgres', events, snapshots);
  await assertWeeks(store, new RawMetrics(events, snapshots, metricsSettings(cfg)), cfg, first, last, 'PostgreSQL');
});

test('the migration fills the metric rows exactly as the triggers write them', async (t) => {
  const { events, snapshots } = history();
  const { written, backfilled } = await writtenAndBackfilled(t, events, snapshots);

  const fromTriggers = await metricRows(written);
  assert.ok(fromTriggers.durations.length > 200 && fromTriggers.states.length > 200 && fromTriggers.firstWorkloads.length > 50);
  assert.deepEqual(await metricRows(backfilled), fromTriggers);
});

test("PostgreSQL's triggers (db/postgres/0012_baseline.sql) write the metric rows SQLite's write", async (t) => {
  const { events, snapshots } = history();
  const [sqlite, postgres] = await Promise.all([writtenThroughStore(t, 'sqlite', events, snapshots), writtenThroughStore(t, 'postgres', events, snapshots)]);
  const want = await metricRows(sqlite.store);
  assert.ok(want.durations.length > 200 && want.states.length > 200 && want.firstWorkloads.length > 50);
  assert.deepEqual(await metricRows(postgres.store), want);
});
