import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, type Config } from '../../src/config.ts';
import { adoptionReport, distribution, TREND_WEEKS } from '../../src/workflows/adoption/metrics.ts';
import { lastCompleteWeek, weekContaining, zonedTime } from '../../src/lib/calendar.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../support/config.ts';
import { appendRequest } from '../support/history.ts';
import { storeTest } from '../support/stores.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function config(timezone: string): Config {
  const doc = exampleConfigDocument();
  const teams = doc.teams as Record<string, unknown>[];
  doc.teams = [...teams, { name: 'data', displayName: 'Data', costCenter: 'cc-3001', group: 'data-devs' }];
  doc.schedule = { timezone };
  return parseConfig(doc, EXAMPLE_CONFIG_PATH);
}

test('percentiles interpolate between the closest ranks', async () => {
  assert.deepEqual(distribution([]), { count: 0, median: undefined, p90: undefined });
  assert.deepEqual(distribution([7]), { count: 1, median: 7, p90: 7 });
  assert.deepEqual(distribution([4, 1, 3, 2]), { count: 4, median: 2.5, p90: 3.7 });
  const ten = distribution([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  assert.equal(ten.median, 5.5);
  assert.ok(Math.abs((ten.p90 ?? 0) - 9.1) < 1e-9);
});

test('weeks run Monday to Monday in the configured zone, 169 hours in the week clocks go back', async () => {
  const tz = 'Europe/Berlin';
  // Clocks go back on Sunday 2026-10-25 at 03:00 CEST.
  const week = weekContaining(new Date('2026-10-21T12:00:00Z'), tz);
  assert.equal(week.start.toISOString(), '2026-10-18T22:00:00.000Z', 'Monday 00:00 CEST');
  assert.equal(week.end.toISOString(), '2026-10-25T23:00:00.000Z', 'the next Monday 00:00 CET');
  assert.equal((week.end.getTime() - week.start.getTime()) / H, 169);
  assert.equal(week.label, 'Oct 19 – 25, 2026');
  // Clocks go forward on 2026-03-29: that week has 167 hours.
  const spring = weekContaining(new Date('2026-03-25T12:00:00Z'), tz);
  assert.equal((spring.end.getTime() - spring.start.getTime()) / H, 167);
  // Sunday 23:30 local is still the week; Monday 00:00 local is the next one.
  assert.equal(weekContaining(new Date('2026-10-25T22:30:00Z'), tz).monday, '2026-10-19');
  assert.equal(weekContaining(new Date('2026-10-25T23:00:00Z'), tz).monday, '2026-10-26');
  // A Monday-morning digest reports the week that just ended.
  assert.equal(lastCompleteWeek(new Date('2026-10-26T08:00:00Z'), tz).monday, '2026-10-19');
  // Another zone, another offset: New York's week starts at 04:00Z in summer.
  assert.equal(weekContaining(new Date('2026-07-08T12:00:00Z'), 'America/New_York').start.toISOString(), '2026-07-06T04:00:00.000Z');
  assert.equal(zonedTime(2026, 3, 29, 2, 30, tz).toISOString(), '2026-03-29T01:30:00.000Z', 'a time in the spring gap reads an hour later');
});

storeTest('weekly metrics from a hand-built history, in Europe/Berlin across the end of summer time', async (_t, { store }) => {
  const cfg = config('Europe/Berlin');
  // Payments and search used the platform long ago: they are not new.
  await appendRequest(store, { team: 'payments', at: '2026-09-01T09:00:00Z', auto: true, decideAfter: S, readyAfter: 40 * S });
  await appendRequest(store, { team: 'search', at: '2026-09-02T09:00:00Z', auto: true, decideAfter: S, readyAfter: 40 * S });

  // The week before: Mon Oct 12 00:00 CEST (Oct 11 22:00Z) to Mon Oct 19 00:00 CEST (Oct 18 22:00Z).
  await appendRequest(store, { team: 'payments', at: '2026-10-13T09:00:00Z', auto: true, decideAfter: S, readyAfter: 100 * S });
  await appendRequest(store, { team: 'search', at: '2026-10-14T09:00:00Z', decideAfter: 40 * M, readyAfter: 42 * M });
  await appendRequest(store, { team: 'payments', at: '2026-10-15T09:00:00Z', decideAfter: 8 * M, readyAfter: 10 * M });
  await appendRequest(store, { team: 'search', at: '2026-10-18T21:59:59Z' }); // Sunday 23:59:59 CEST, still pending

  // The week: Mon Oct 19 00:00 CEST to Mon Oct 26 00:00 CET (169 hours).
  await appendRequest(store, { team: 'payments', at: '2026-10-18T22:00:00Z', auto: true, decideAfter: S, readyAfter: 60 * S }); // Monday 00:00 CEST
  await appendRequest(store, { team: 'payments', at: '2026-10-19T08:00:00Z', decideAfter: 30 * M, readyAfter: 32 * M });
  await appendRequest(store, { team: 'search', at: '2026-10-20T09:00:00Z', auto: true, decideAfter: S, readyAfter: 120 * S });
  await appendRequest(store, { team: 'search', at: '2026-10-21T10:00:00Z', decideAfter: 10 * M, failAfter: 11 * M, readyAfter: 60 * M });
  await appendRequest(store, { team: 'payments', at: '2026-10-22T10:00:00Z', decideAfter: 20 * M, deny: true });
  await appendRequest(store, { team: 'data', at: '2026-10-25T22:30:00Z', auto: true, decideAfter: S, readyAfter: 91 * S }); // Sunday 23:30 CET
  // Monday 00:00 CET: the next week, not counted.
  await appendRequest(store, { team: 'payments', at: '2026-10-25T23:00:00Z', auto: true, decideAfter: S, readyAfter: 30 * S });

  const report = await adoptionReport({ store, config: cfg }, new Date('2026-10-26T08:00:00Z'));
  const { current: week, previous: before } = report;
  assert.equal(week.week.label, 'Oct 19 – 25, 2026');
  assert.equal(before.week.label, 'Oct 12 – 18, 2026');

  assert.equal(week.requests, 6);
  assert.equal(before.requests, 4);
  assert.deepEqual([week.approved, week.autoApproved, week.denied], [5, 3, 1]);
  assert.equal(week.selfServeShare, 0.5);
  assert.equal(week.namespacesReady, 5);
  // Request → ready: 60 s, 91 s, 120 s, 32 min, 60 min.
  assert.equal(week.timeToReady.count, 5);
  assert.equal(week.timeToReady.median, 120 * S);
  assert.equal(week.timeToReady.p90, 32 * M + 0.6 * 28 * M);
  // People's decisions: 10, 20 (denied) and 30 minutes; auto-approvals are not waits.
  assert.deepEqual([week.approvalWait.count, week.approvalWait.median], [3, 20 * M]);
  assert.deepEqual([week.runsFailed, week.runsEnded], [1, 6]);
  assert.ok(Math.abs((week.failureRate ?? 0) - 1 / 6) < 1e-9);
  assert.deepEqual(week.activeTeams, ['data', 'payments', 'search']);
  assert.equal(week.adoption, 1);
  assert.deepEqual(week.newTeams, [{ team: 'data', firstRequestAt: '2026-10-25T22:30:00.000Z', timeToFirstNamespaceMs: 91 * S }]);

  // The week before: ready in 100 s, 10 min, 42 min; waits of 8 and 40 min.
  assert.deepEqual([before.timeToReady.median, before.timeToReady.p90], [10 * M, 10 * M + 0.8 * 32 * M]);
  assert.equal(before.approvalWait.median, 24 * M);
  assert.equal(before.failureRate, 0);
  assert.deepEqual(before.activeTeams, ['payments', 'search']);
  assert.deepEqual(before.newTeams, []);

  // Week over week, and what is highlighted.
  assert.deepEqual([report.changes.requests.delta, report.changes.requests.relative], [2, 0.5]);
  assert.equal(report.changes.timeToReadyMedian.regression, false, 'faster is not a regression');
  assert.equal(report.changes.timeToReadyP90.regression, true);
  assert.equal(report.changes.timeToReadyP90.reason, 'up 37%');
  assert.equal(report.changes.failureRate.regression, true);
  assert.equal(report.changes.adoption.regression, false);
  assert.deepEqual(
    report.regressions.map((r) => r.key),
    ['timeToReadyP90', 'failureRate'],
  );

  // The trend: 8 weeks, oldest first, empty weeks as zeros.
  assert.equal(report.trend.length, TREND_WEEKS);
  assert.deepEqual(
    report.trend.map((w) => w.week.monday),
    ['2026-08-31', '2026-09-07', '2026-09-14', '2026-09-21', '2026-09-28', '2026-10-05', '2026-10-12', '2026-10-19'],
  );
  assert.deepEqual(
    report.trend.map((w) => w.requests),
    [2, 0, 0, 0, 0, 0, 4, 6],
  );
  assert.deepEqual(
    report.trend.map((w) => w.medianTimeToReadyMs),
    [40 * S, undefined, undefined, undefined, undefined, undefined, 10 * M, 120 * S],
  );
  assert.equal(report.trend.at(-1)?.week.monday, '2026-10-19');
});

storeTest('a week without activity counts as zeros, and a drop in adoption is a regression', async (_t, { store }) => {
  const cfg = config('UTC');
  await appendRequest(store, { team: 'payments', at: '2026-11-10T09:00:00Z', auto: true, decideAfter: S, readyAfter: 30 * S });
  await appendRequest(store, { team: 'search', at: '2026-11-11T09:00:00Z', decideAfter: 5 * M, readyAfter: 7 * M });

  const report = await adoptionReport({ store, config: cfg }, new Date('2026-11-23T09:00:00Z'));
  assert.equal(report.current.week.label, 'Nov 16 – 22, 2026');
  assert.equal(report.quiet, true);
  assert.equal(report.current.requests, 0);
  assert.equal(report.current.namespacesReady, 0);
  assert.equal(report.current.timeToReady.median, undefined);
  assert.equal(report.current.selfServeShare, undefined, 'no decisions: no share');
  assert.equal(report.current.adoption, 0);
  assert.deepEqual([report.changes.requests.delta, report.changes.requests.relative], [-2, -1]);
  assert.equal(report.changes.adoption.regression, true);
  assert.equal(report.changes.adoption.reason, 'down 100%');
  assert.deepEqual(
    report.trend.map((w) => w.requests),
    [0, 0, 0, 0, 0, 0, 2, 0],
  );
});

storeTest('active and idle namespaces and time to first workload come from the usage snapshots', async (_t, { store }) => {
  const cfg = config('UTC');
  const snap = async (at: string, namespace: string, requestId: number, team: string, runningPods: number, present = true) =>
    await store.adoption.insertSnapshots([{ at: new Date(at), cluster: 'dev-eu', namespace, team, requestId, present, runningPods }]);

  // A: ready Nov 1, idle until its first pods on Nov 17.
  const a = await appendRequest(store, { team: 'payments', at: '2026-11-01T09:59:00Z', auto: true, decideAfter: S, readyAfter: M, namespace: 'pay-a' });
  await snap('2026-11-01T10:20:00Z', 'pay-a', a, 'payments', 0);
  await snap('2026-11-17T12:00:00Z', 'pay-a', a, 'payments', 3);
  // B: ran pods from Oct 1, stopped Nov 10.
  const b = await appendRequest(store, { team: 'search', at: '2026-09-30T23:59:00Z', auto: true, decideAfter: S, readyAfter: M, namespace: 'search-b' });
  await snap('2026-10-01T00:15:00Z', 'search-b', b, 'search', 2);
  await snap('2026-11-10T12:00:00Z', 'search-b', b, 'search', 0);
  // C: never ran a pod.
  const c = await appendRequest(store, {
    team: 'payments',
    at: '2026-10-20T09:59:00Z',
    requester: 'U0CAROL',
    auto: true,
    decideAfter: S,
    readyAfter: M,
    namespace: 'pay-c',
  });
  await snap('2026-10-20T10:30:00Z', 'pay-c', c, 'payments', 0);
  // D: ran pods, deleted outside Slipway on Nov 18.
  const d = await appendRequest(store, { team: 'search', at: '2026-10-05T09:59:00Z', auto: true, decideAfter: S, readyAfter: M, namespace: 'search-d' });
  await snap('2026-10-05T10:30:00Z', 'search-d', d, 'search', 1);
  await snap('2026-11-18T08:00:00Z', 'search-d', d, 'search', 0, false);
  // E: a new team whose namespace ran pods 10 minutes after it was ready.
  const e = await appendRequest(store, { team: 'data', at: '2026-11-18T08:59:00Z', auto: true, decideAfter: S, readyAfter: M, namespace: 'data-e' });
  await snap('2026-11-18T09:10:00Z', 'data-e', e, 'data', 2);

  const report = await adoptionReport({ store, config: cfg }, new Date('2026-11-23T09:00:00Z'));
  const { current: week, previous: before } = report;
  assert.equal(week.activeNamespaces, 3, 'A, D (before its deletion) and E ran pods this week');
  assert.equal(week.idleNamespaces, 1, 'C: no pods for 14 days; B stopped only 13 days ago');
  assert.equal(before.activeNamespaces, 2, 'B and D');
  assert.equal(before.idleNamespaces, 2, 'A and C');
  assert.deepEqual(week.timeToFirstWorkload, { count: 2, median: (16 * D + 2 * H + 10 * M) / 2, p90: 10 * M + 0.9 * (16 * D + 2 * H - 10 * M) });
  assert.equal(before.timeToFirstWorkload.count, 0);
  assert.deepEqual(week.activeTeams, ['data', 'payments', 'search']);
  assert.deepEqual(before.activeTeams, ['search']);
  assert.ok(Math.abs((before.adoption ?? 0) - 1 / 3) < 1e-9);

  assert.equal(report.idle.total, 1);
  assert.deepEqual(report.idle.namespaces, [
    {
      cluster: 'dev-eu',
      namespace: 'pay-c',
      team: 'payments',
      requestId: c,
      owner: 'U0CAROL',
      idleSince: '2026-10-20T10:30:00.000Z',
      neverRan: true,
      // Nobody was asked about it (test/lifecycle-idle.test.ts shows who was asked and when).
      asked: undefined,
    },
  ]);

  // The same snapshots as the usage refresh, App Home and `/platform list` read them.
  const at = (iso: string) => new Date(iso);
  assert.equal(await store.adoption.snapshotCount(), 8);
  assert.deepEqual(
    (await store.adoption.presentAt(at('2026-11-18T08:30:00Z'))).map((s) => [s.namespace, s.runningPods]),
    [
      ['pay-a', 3],
      ['pay-c', 0],
      ['search-b', 0],
    ],
    'D was deleted at 08:00, E not seen yet',
  );
  assert.deepEqual((await store.adoption.latestStates(at('2026-11-18T08:30:00Z'))).map((s) => [s.namespace, s.present, s.runningPods, s.at]).sort(), [
    ['pay-a', true, 3, '2026-11-17T12:00:00.000Z'],
    ['pay-c', true, 0, '2026-10-20T10:30:00.000Z'],
    ['search-b', true, 0, '2026-11-10T12:00:00.000Z'],
    ['search-d', false, 0, '2026-11-18T08:00:00.000Z'],
  ]);
  assert.deepEqual(
    (await store.adoption.snapshotsBetween(at('2026-11-17T00:00:00Z'), at('2026-11-19T00:00:00Z'))).map((s) => s.namespace),
    ['pay-a', 'search-d', 'data-e'],
  );
  const usage = await store.adoption.usageOf([a, c, 9999]);
  assert.deepEqual(
    [...usage.values()].sort((x, y) => x.requestId - y.requestId),
    [
      { requestId: a, runningPods: 3, since: '2026-11-17T12:00:00.000Z', lastRunningAt: '2026-11-17T12:00:00.000Z' },
      { requestId: c, runningPods: 0, since: '2026-10-20T10:30:00.000Z', lastRunningAt: undefined },
    ],
    'A was requested before C; 9999 has no snapshot',
  );
  // F: ready, and no refresh has seen it yet (E, ready the day before, has been seen).
  const f = await appendRequest(store, { team: 'data', at: '2026-11-19T08:59:00Z', auto: true, decideAfter: S, readyAfter: M, namespace: 'data-f' });
  assert.deepEqual(await store.adoption.readyWithoutSnapshot(at('2026-11-18T00:00:00Z'), at('2026-11-20T00:00:00Z')), [
    { requestId: f, team: 'data', cluster: 'dev-eu', namespace: 'data-f', at: '2026-11-19T09:00:00.000Z' },
  ]);
});
