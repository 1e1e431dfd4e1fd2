/**
 * A replica that dies mid-work, as bot processes killed with SIGKILL: its runs and its job runs
 * are taken over by a live replica once their heartbeats lapse (src/workflows/runs/claims.ts),
 * and finished without posting anything twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseWeek } from '../src/lib/calendar.ts';
import { Store } from '../src/store/store.ts';
import { setUpBotProcesses, type BotProcess } from './support/bot-process.ts';
import { BOT_WORKSPACE, readyDms, requestAndApprove, waitForBot } from './support/bot-journey.ts';
import { startCli } from './support/cli.ts';
import { PEOPLE, PLATFORM } from './support/harness.ts';
import { readyNamespaces } from './support/namespaces.ts';

/** Short timings, so the Lease and the claims lapse within a test (the Lease's as in leader-election.test.ts). */
const LEADER = {
  enabled: true,
  cluster: 'dev-eu',
  namespace: 'default',
  leaseName: 'slipway-leader',
  leaseDurationSeconds: 1,
  renewDeadlineSeconds: 0.6,
  retryPeriodSeconds: 0.1,
};
const CLAIMS = { heartbeatSeconds: 0.2, lapseSeconds: 1 };
const DAY = 86_400_000;

async function kill(bot: BotProcess): Promise<void> {
  bot.child.kill('SIGKILL');
  await bot.exited;
}

/** Two bot processes (a, then b) with leader election and short claims; `jobs`: the schedules that are on. */
async function twoReplicas(t: { after(fn: () => unknown): void }, jobs: Record<string, string>) {
  const s = await setUpBotProcesses(t, BOT_WORKSPACE, 'slipway-takeover-');
  const schedule = s.doc.schedule as { jobs: Record<string, unknown> };
  s.doc.schedule = { ...schedule, jobs: { digest: false, usageRefresh: false, lifecycle: false, drift: false, ...jobs } };
  s.doc.leaderElection = LEADER;
  s.doc.claims = CLAIMS;
  const env = s.env();
  const withStore = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => {
    const store = await Store.open(env.DATABASE_PATH);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };
  const startLeader = async () => {
    const a = await s.start({ ...env, POD_NAME: 'slipway-a' });
    await waitForBot('a to lead', () => a.output().includes('became the leader'));
    const b = await s.start({ ...env, POD_NAME: 'slipway-b' });
    await waitForBot('b to join the election', () => b.output().includes('leader election started'));
    return { a, b };
  };
  /** Kills the leader `a`, and waits until `b` leads and has finished the run of `job` a had started. */
  const killLeader = async (a: BotProcess, b: BotProcess, job: string) => {
    await kill(a);
    await waitForBot('b to lead', () => b.output().includes('became the leader'));
    const finished = await waitForBot(`the ${job} run to finish`, async () => {
      const [run] = await withStore((store) => store.adoption.jobRuns(job, 1));
      return run?.status === 'ok' && run;
    });
    assert.match(finished.holder ?? '', /^slipway-b_/, 'b finished the run a started');
    return finished;
  };
  return { ...s, withStore, startLeader, killLeader };
}

/**
 * A cron expression (UTC, as the example config's schedule) whose last slot was an hour ago: a
 * leader's start catches it up once the job has run before, and the next slot is a day away.
 */
function slotAnHourAgo(): string {
  const slot = new Date(Date.now() - 3_600_000);
  return `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`;
}

/** An earlier run of the job, so the leader catches up the slot it missed. */
async function ranBefore(store: Store, job: string): Promise<void> {
  const at = new Date(Date.now() - 2 * DAY);
  const claim = await store.adoption.claimJobRun({ job, reason: 'manual', scheduledFor: undefined, now: at, staleBefore: at });
  await store.adoption.finishJobRun(claim.run.id, { status: 'ok', summary: 'an earlier run' }, at);
}

// The leader dies while Slack carries out a call whose answer never reaches it: the digest's post
// (Slack has the message; the leader never recorded its ts), or its chart's upload (after the post).
for (const { stalled, when } of [
  { stalled: 'chat.postMessage', when: 'while the digest is being posted' },
  { stalled: 'files.getUploadURLExternal', when: 'after the digest was posted, during its chart' },
]) {
  test(`a leader killed ${when}: the new leader takes its run over and finishes it, and the digest is posted once`, async (t) => {
    const s = await twoReplicas(t, { digest: slotAnHourAgo() });
    await s.withStore((store) => ranBefore(store, 'digest'));
    s.slack.stall(stalled, 60_000);
    const { a, b } = await s.startLeader();
    await waitForBot(`${stalled} in flight`, () => s.slack.callsTo(stalled).length === 1);
    const digests = () => s.slack.messages(PLATFORM).filter((m) => m.text.startsWith('Platform adoption'));
    assert.equal(digests().length, 1, 'Slack has the digest before the leader dies');
    const finished = await s.killLeader(a, b, 'digest');
    assert.equal(finished.reason, 'catch-up');
    assert.equal(finished.progress.posted, digests()[0]?.ts, 'the run knows the message it posted');
    assert.ok(finished.progress.chart, 'and its chart');
    assert.ok(b.output().includes('taking over a job run'));
    assert.equal(digests().length, 1, 'the digest was posted once');
    assert.equal(s.slack.uploadedFiles.filter((f) => f.completed).length, 1, 'its chart once');
    const runs = await s.withStore((store) => store.adoption.jobRuns('digest'));
    assert.equal(runs.filter((r) => r.status !== 'skipped').length, 2, 'the earlier run and this one: the slot was not run again');
  });
}

test('a `slipway digest --week current` killed during its chart: the leader finishes the run for the week that was asked for', async (t) => {
  const s = await twoReplicas(t, {});
  s.slack.stall('files.getUploadURLExternal', 60_000);
  const env = s.env();
  const a = await s.start({ ...env, POD_NAME: 'slipway-a' });
  await waitForBot('a to lead', () => a.output().includes('became the leader'));
  const cli = startCli(['digest', '--week', 'current'], env);
  t.after(() => cli.child.kill('SIGKILL'));
  await waitForBot('the chart upload in flight', () => s.slack.callsTo('files.getUploadURLExternal').length === 1);
  cli.child.kill('SIGKILL');
  await cli.result;

  const finished = await waitForBot('the leader to finish the run', async () => {
    const [run] = await s.withStore((store) => store.adoption.jobRuns('digest', 1));
    return run?.status === 'ok' && run;
  });
  assert.equal(finished.reason, 'manual');
  assert.match(finished.holder ?? '', /^slipway-a_/, 'the leader finished the run the command started');
  const asked = chooseWeek('current', new Date(finished.startedAt), (s.doc.schedule as { timezone: string }).timezone);
  assert.ok(!('problem' in asked));
  assert.deepEqual(
    s.slack.uploadedFiles.filter((f) => f.completed).map((f) => f.filename),
    [`slipway-adoption-${asked.week.monday}.png`],
    'one chart, of the week in progress that was asked for',
  );
  assert.equal(s.slack.messages(PLATFORM).filter((m) => m.text.startsWith('Platform adoption')).length, 1, 'the digest was posted once');
});

test('a leader killed during the expiry sweep: the new leader finishes the sweep, and each final notice goes out once', async (t) => {
  const s = await twoReplicas(t, { lifecycle: slotAnHourAgo() });
  const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
  await s.withStore(async (store) => {
    const made = await readyNamespaces(store, 3, { expiresOn: yesterday, at: new Date(Date.now() - 30 * DAY), requester: PEOPLE.dev });
    // Their owner heard they were ready long ago.
    for (const request of made) await store.markNotified(request.id, 'ready');
    await ranBefore(store, 'lifecycle');
  });
  // The first final notice is sent, and its answer hangs: the leader dies before the others.
  s.slack.stall('chat.postMessage', 60_000);
  const { a, b } = await s.startLeader();
  await waitForBot('the first notice in flight', () => s.slack.callsTo('chat.postMessage').length === 1);
  const finished = await s.killLeader(a, b, 'lifecycle');
  const notices = s.slack.dmWith(PEOPLE.dev).filter((m) => /^⌛/u.test(m.text));
  const named = notices.map((m) => /\bns-\d\b/.exec(m.text)?.[0]).sort();
  assert.deepEqual(named, ['ns-1', 'ns-2', 'ns-3'], 'one final notice per namespace');
  assert.match(finished.summary ?? '', /^0 reminded, 2 final notices,/, 'the new leader sent the two the old one had not');
});

test('a run claimed by a killed replica is taken over by the live one, which keeps running, after the heartbeat lapses', async (t) => {
  const s = await twoReplicas(t, {});
  const { a, b } = await s.startLeader();
  // b, a follower, takes the request: the run is b's, and its quota step hangs.
  const slowQuota = s.kube.setLatency(60_000, { path: /\/resourcequotas\// });
  await requestAndApprove(s.slack, b);
  await waitForBot('the quota step in flight', () => s.kube.requests.some((r) => r.path.includes('/resourcequotas/')) || undefined);
  await kill(b);
  slowQuota();

  await waitForBot('the ready DM', () => readyDms(s.slack)[0], 20_000);
  assert.ok(a.output().includes('taking over a run'), 'a took the run over');
  assert.equal(a.child.exitCode, null, 'a was not restarted');
  const { run, claim } = await s.withStore(async (store) => {
    const latest = await store.latestRun(1);
    return { run: latest, claim: latest && (await store.runClaim(latest.id)) };
  });
  assert.equal(run?.status, 'done');
  assert.match(claim?.holder ?? '', /^slipway-a_/);
  assert.equal(run.steps.find((step) => step.name === 'namespace')?.attempts, 1, 'a continued at the step b was on');
  assert.equal(readyDms(s.slack).length, 1, 'the requester is told once');
});
