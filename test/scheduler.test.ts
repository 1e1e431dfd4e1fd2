import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { WebClient } from '@slack/web-api';
import { buildDeps } from '../src/build-deps.ts';
import { parseConfig } from '../src/config.ts';
import type { Job } from '../src/jobs/jobs.ts';
import { Scheduler } from '../src/jobs/scheduler.ts';
import { schedule } from '../src/lib/schedule.ts';
import { createLogger } from '../src/log.ts';
import { Store } from '../src/store/store.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from './support/config.ts';

/**
 * The scheduler under a controllable clock: node:test's mock timers drive `Date` and `setTimeout`,
 * so node-cron's own timers fire when the test moves time on, and `deps.clock` reads the same
 * time. Jobs here are stand-ins that record when they ran.
 */

interface TestContext {
  after(fn: () => unknown): void;
}

const TZ = 'Europe/Berlin';

async function setUp(t: TestContext, start: string, jobs: { name: string; cron: string; run: Job['run']; timeoutMs?: number }[], graceMinutes = 360) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse(start) });
  const doc = exampleConfigDocument();
  doc.schedule = { timezone: TZ, missedRunGraceMinutes: graceMinutes };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  const store = await Store.open(join(mkdtempSync(join(tmpdir(), 'slipway-jobs-')), 'slipway.db'));
  const deps = buildDeps({
    config,
    store,
    slack: new WebClient('xoxb-unused'),
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    clock: { now: () => new Date() },
    engine: { sleep: async () => undefined, progressIntervalMs: 0 },
  });
  const defs: Job[] = jobs.map((j) => ({
    name: j.name,
    description: j.name,
    schedule: () => j.cron,
    run: j.run,
    ...(j.timeoutMs ? { timeoutMs: j.timeoutMs } : {}),
  }));
  const make = () => new Scheduler(deps, defs);
  const scheduler = make();
  t.after(async () => {
    await scheduler.stop(0);
    mock.timers.reset();
    await store.close();
  });
  return { deps, store, scheduler, make };
}

/** Lets promises and node-cron's async heartbeat settle (setImmediate is not mocked). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function advance(ms: number, step = 1000): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    mock.timers.tick(Math.min(step, ms - done));
    await settle();
  }
}

function recorder() {
  const calls: string[] = [];
  const run: Job['run'] = async (_deps, now) => {
    calls.push(now.toISOString());
    return `ran at ${now.toISOString()}`;
  };
  return { calls, run };
}

test('a schedule is read in the configured time zone, summer time included', async () => {
  const digest = schedule('0 9 * * 1', TZ);
  assert.equal(digest.next(new Date('2026-10-14T12:00:00Z'))?.toISOString(), '2026-10-19T07:00:00.000Z', '09:00 CEST');
  assert.equal(digest.next(new Date('2026-10-21T12:00:00Z'))?.toISOString(), '2026-10-26T08:00:00.000Z', '09:00 CET');
  assert.equal(digest.previous(new Date('2026-10-26T10:00:00Z'), 86_400_000)?.toISOString(), '2026-10-26T08:00:00.000Z');
  assert.equal(digest.previous(new Date('2026-10-26T07:59:00Z'), 86_400_000), undefined, 'the last slot is a week ago');
  assert.equal(schedule('*/30 * * * *', 'Asia/Kolkata').next(new Date('2026-11-26T10:07:00Z'))?.toISOString(), '2026-11-26T10:30:00.000Z');
});

test('the nights the clocks change in schedule.timezone: a skipped time is no slot, a repeated one is one slot', async () => {
  // Europe/Berlin, 2026: clocks go forward at 02:00 on Sunday 29 March, back at 03:00 on Sunday 25 October.
  const nightly = schedule('30 2 * * *', TZ);
  assert.equal(nightly.next(new Date('2026-03-28T12:00:00Z'))?.toISOString(), '2026-03-30T00:30:00.000Z', '02:30 does not exist on 29 March');
  assert.equal(nightly.previous(new Date('2026-03-30T00:29:00Z'), 2 * 86_400_000)?.toISOString(), '2026-03-28T01:30:00.000Z', '02:30 CET the day before');
  assert.equal(nightly.next(new Date('2026-10-24T12:00:00Z'))?.toISOString(), '2026-10-25T00:30:00.000Z', 'the first 02:30 (CEST)');
  assert.equal(nightly.next(new Date('2026-10-25T00:30:00Z'))?.toISOString(), '2026-10-26T01:30:00.000Z', 'not again at 02:30 CET');
  assert.equal(nightly.previous(new Date('2026-10-25T01:45:00Z'), 86_400_000)?.toISOString(), '2026-10-25T00:30:00.000Z');
  assert.equal(nightly.previous(new Date('2026-10-26T01:30:00Z'), 86_400_000)?.toISOString(), '2026-10-26T01:30:00.000Z', 'a slot is at or before');
  const halfHourly = schedule('*/30 * * * *', TZ);
  assert.equal(halfHourly.next(new Date('2026-03-29T00:30:00Z'))?.toISOString(), '2026-03-29T01:00:00.000Z', '01:30 CET, then 03:00 CEST');
  assert.equal(halfHourly.previous(new Date('2026-03-29T00:59:59Z'), 3_600_000)?.toISOString(), '2026-03-29T00:30:00.000Z');
  const sundays = schedule('0 3 * * 0', TZ);
  assert.equal(sundays.next(new Date('2026-10-18T12:00:00Z'))?.toISOString(), '2026-10-25T02:00:00.000Z', '03:00 CET, after the repeated hour');
  assert.equal(sundays.previous(new Date('2026-10-25T01:59:00Z'), 8 * 86_400_000)?.toISOString(), '2026-10-18T01:00:00.000Z', '03:00 CEST a week before');
});

test('jobs fire on their cron schedule in the configured zone, and each run is recorded', async (t) => {
  const digest = recorder();
  // Monday 08:59 in Berlin (CET, UTC+1).
  const { store, scheduler } = await setUp(t, '2026-11-23T07:59:00Z', [{ name: 'digest', cron: '0 9 * * 1', run: digest.run }]);
  scheduler.start();
  assert.equal((await scheduler.list(new Date())).at(0)?.nextRun?.toISOString(), '2026-11-23T08:00:00.000Z');

  await advance(59_000);
  assert.deepEqual(digest.calls, [], 'not before 09:00 local');
  await advance(2_000);
  assert.deepEqual(digest.calls, ['2026-11-23T08:00:00.000Z'], '09:00 Berlin is 08:00 UTC in winter');
  await scheduler.idle();

  const [run] = await store.adoption.jobRuns('digest');
  assert.deepEqual(run && [run.reason, run.status, run.scheduledFor, run.summary], [
    'scheduled',
    'ok',
    '2026-11-23T08:00:00.000Z',
    'ran at 2026-11-23T08:00:00.000Z',
  ]);
  const listed = await scheduler.list(new Date());
  assert.equal(listed[0]?.lastRun?.id, run?.id);
  assert.equal(listed[0]?.nextRun?.toISOString(), '2026-11-30T08:00:00.000Z');
});

test('a run missed while the bot was down runs once at start-up within the grace period, not after it', async (t) => {
  const digest = recorder();
  // The digest ran last week; the bot was down at 09:00 this Monday and starts again at 11:30 CET.
  const { store, scheduler, make } = await setUp(t, '2026-11-23T10:30:00Z', [{ name: 'digest', cron: '0 9 * * 1', run: digest.run }], 180);
  const lastWeek = await store.adoption.claimJobRun({
    job: 'digest',
    reason: 'scheduled',
    scheduledFor: new Date('2026-11-16T08:00:00Z'),
    now: new Date('2026-11-16T08:00:00Z'),
    staleBefore: new Date(0),
  });
  await store.adoption.finishJobRun(lastWeek.run.id, { status: 'ok', summary: 'posted' }, new Date('2026-11-16T08:00:02Z'));

  scheduler.start();
  await scheduler.idle();
  assert.deepEqual(digest.calls, ['2026-11-23T10:30:00.000Z'], 'caught up once, at start-up');
  const [caughtUp] = await store.adoption.jobRuns('digest');
  assert.deepEqual(caughtUp && [caughtUp.reason, caughtUp.scheduledFor, caughtUp.status], ['catch-up', '2026-11-23T08:00:00.000Z', 'ok']);

  // Another restart the same day: that slot has run, nothing to catch up.
  await scheduler.stop();
  const again = make();
  t.after(() => again.stop(0));
  again.start();
  await again.idle();
  assert.equal(digest.calls.length, 1);

  // Next Monday the bot is down from 08:00 until 12:30 CET: 3h30 late, beyond 180 minutes of grace.
  await again.stop();
  mock.timers.setTime(Date.parse('2026-11-30T11:30:00Z'));
  const late = make();
  t.after(() => late.stop(0));
  late.start();
  await late.idle();
  assert.equal(digest.calls.length, 1, 'outside the grace period the slot is skipped');
  assert.equal((await store.adoption.jobRuns('digest')).length, 2);
  assert.equal((await late.list(new Date()))[0]?.nextRun?.toISOString(), '2026-12-07T08:00:00.000Z');
});

test('a job that never ran has nothing to catch up', async (t) => {
  const digest = recorder();
  const { scheduler } = await setUp(t, '2026-11-23T08:30:00Z', [{ name: 'digest', cron: '0 9 * * 1', run: digest.run }]);
  scheduler.start();
  await scheduler.idle();
  assert.deepEqual(digest.calls, []);
});

test('a job never overlaps itself: busy slots and manual runs are skipped and recorded', async (t) => {
  let release: () => void = () => undefined;
  let starts = 0;
  const slow: Job['run'] = async () => {
    starts += 1;
    await new Promise<void>((resolve) => (release = resolve));
    return 'finished';
  };
  const { store, scheduler } = await setUp(t, '2026-11-23T07:59:30Z', [{ name: 'usage-refresh', cron: '* * * * *', run: slow }]);
  scheduler.start();
  await advance(31_000); // 08:00: the first run starts and hangs
  assert.equal(starts, 1);
  await advance(120_000); // 08:01 and 08:02 come while it runs
  assert.equal(starts, 1, 'no second run while the first is busy');
  const manual = await scheduler.run('usage-refresh', 'manual');
  assert.equal(manual.status, 'skipped');
  assert.match(manual.error ?? '', /still running since 2026-11-23T08:00:00.000Z/);
  release();
  await settle();
  await advance(60_000); // 08:03 runs again
  assert.equal(starts, 2);
  release();
  await scheduler.idle();
  const runs = (await store.adoption.jobRuns('usage-refresh')).reverse();
  assert.deepEqual(
    runs.map((r) => [r.reason, r.status]),
    [
      ['scheduled', 'ok'],
      ['manual', 'skipped'],
      ['scheduled', 'ok'],
    ],
  );
});

test('a job that throws or hangs is recorded as failed, and the other jobs go on', async (t) => {
  const healthy = recorder();
  const { deps, store, scheduler } = await setUp(t, '2026-11-23T07:59:59Z', [
    {
      name: 'broken',
      cron: '* * * * *',
      run: async () => {
        throw new Error('database is on fire');
      },
    },
    { name: 'stuck', cron: '*/2 * * * *', run: () => new Promise<string>(() => undefined), timeoutMs: 30_000 },
    { name: 'healthy', cron: '* * * * *', run: healthy.run },
  ]);
  scheduler.start();
  await advance(180_000);
  await scheduler.idle();
  assert.equal(healthy.calls.length, 3, 'the healthy job ran every minute');
  const broken = await store.adoption.jobRuns('broken');
  assert.equal(broken.length, 3);
  assert.ok(broken.every((r) => r.status === 'failed' && r.error === 'database is on fire'));
  const stuck = (await store.adoption.jobRuns('stuck')).reverse();
  assert.deepEqual(
    stuck.map((r) => [r.status, r.error]),
    [
      ['failed', 'did not finish within 30 s'],
      ['failed', 'did not finish within 30 s'],
    ],
  );
  const counted = await deps.metrics.registry.getSingleMetricAsString('slipway_job_runs_total');
  assert.match(counted, /slipway_job_runs_total\{job="broken",outcome="failed"\} 3/);
  assert.match(counted, /slipway_job_runs_total\{job="healthy",outcome="ok"\} 3/);
});
