import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../src/store/store.ts';
import { setUpBotProcesses } from './support/bot-process.ts';
import { BOT_WORKSPACE, readyDms, requestAndApprove, waitForBot } from './support/bot-journey.ts';
import { APPROVALS, PEOPLE } from './support/harness.ts';

/** Emulators, a config file and a database that outlive the bot processes started on them. */
async function setUp(t: { after(fn: () => unknown): void }, configure?: (doc: Record<string, unknown>) => void) {
  const { slack, kube, doc, start: startBot, env: botEnv } = await setUpBotProcesses(t, BOT_WORKSPACE, 'slipway-restart-');
  configure?.(doc);
  const env = botEnv();
  const start = () => startBot(env);
  return { slack, kube, start, databasePath: env.DATABASE_PATH };
}

function runState(databasePath: string) {
  const db = new Database(databasePath, { readonly: true });
  try {
    const run = db.prepare('SELECT id, status FROM runs ORDER BY id DESC LIMIT 1').get() as { id: number; status: string } | undefined;
    const steps = run
      ? (db.prepare('SELECT name, status, attempts FROM run_steps WHERE run_id = ? ORDER BY position').all(run.id) as {
          name: string;
          status: string;
          attempts: number;
        }[])
      : [];
    return { run, steps };
  } finally {
    db.close();
  }
}

test('a bot killed mid-run resumes the run after a restart, and the requester gets one final message', async (t) => {
  const s = await setUp(t);
  const first = await s.start();
  const slowQuota = s.kube.setLatency(60_000, { path: /\/resourcequotas\// });
  await requestAndApprove(s.slack, first);
  await waitForBot('the namespace step', () => s.kube.get('namespaces', 'payments-staging'));
  await waitForBot('the quota step in flight', () => s.kube.requests.some((r) => r.path.includes('/resourcequotas/')) || undefined);

  first.child.kill('SIGKILL');
  await first.exited;
  const killed = runState(s.databasePath);
  assert.equal(killed.run?.status, 'running', 'the run was interrupted');
  assert.deepEqual(
    killed.steps.slice(0, 2).map((x) => [x.name, x.status]),
    [
      ['namespace', 'done'],
      ['resource-quota', 'running'],
    ],
  );
  assert.equal(readyDms(s.slack).length, 0);

  slowQuota();
  await s.start();
  await waitForBot('the ready DM', () => readyDms(s.slack)[0], 20_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(readyDms(s.slack).length, 1, 'exactly one final message');
  const resumed = runState(s.databasePath);
  assert.equal(resumed.run?.status, 'done');
  assert.equal(resumed.steps.find((x) => x.name === 'resource-quota')?.attempts, 2);
  assert.equal(resumed.steps.find((x) => x.name === 'namespace')?.attempts, 1, 'done steps are not repeated');
  assert.equal(s.kube.list('networkpolicies', 'payments-staging').length, 5);
  assert.ok(s.kube.get('rolebindings', 'payments-staging', 'slipway-team-access'));
});

test('SIGTERM lets the step in flight finish, exits cleanly, and the run continues at the next start', async (t) => {
  const s = await setUp(t);
  const first = await s.start();
  const namespacePath = /^\/api\/v1\/namespaces\/payments-staging$/;
  const slowNamespace = s.kube.setLatency(1500, { method: 'PATCH', path: namespacePath });
  await requestAndApprove(s.slack, first);
  // The namespace step applies the namespace (slowly): stop while that PATCH is in flight.
  await waitForBot('the namespace step in flight', () => s.kube.requests.some((r) => r.method === 'PATCH' && namespacePath.test(r.path)) || undefined);

  const signalled = Date.now();
  first.child.kill('SIGTERM');
  const exit = await first.exited;
  assert.equal(exit.code, 0, first.output());
  assert.ok(Date.now() - signalled < 15_000, 'exits within a bounded time');
  const paused = runState(s.databasePath);
  assert.equal(paused.steps.find((x) => x.name === 'namespace')?.status, 'done', 'the step in flight finished');
  assert.ok(s.kube.get('namespaces', 'payments-staging'));
  assert.deepEqual(
    paused.steps.filter((x) => x.status !== 'done').map((x) => [x.name, x.attempts]),
    [
      ['resource-quota', 0],
      ['limit-range', 0],
      ['network-policies', 0],
      ['role-binding', 0],
    ],
    'no new step started after SIGTERM',
  );
  assert.equal(paused.run?.status, 'running', 'the rest waits for the next start');
  assert.match(first.output(), /runs paused cleanly/);

  slowNamespace();
  await s.start();
  await waitForBot('the ready DM', () => readyDms(s.slack)[0], 20_000);
  assert.equal(runState(s.databasePath).run?.status, 'done');
  assert.equal(readyDms(s.slack).length, 1);
});

test('SIGTERM while a step is being retried leaves the run unfinished, and the next start finishes it with one message', async (t) => {
  const s = await setUp(t, (doc) => {
    doc.provisioning = { maxAttempts: 20, backoffBaseMs: 200 };
  });
  const first = await s.start();
  const quotaWrites = /\/resourcequotas\//;
  const outage = s.kube.injectFault({ method: 'PATCH', path: quotaWrites, status: 503 });
  await requestAndApprove(s.slack, first);
  await waitForBot('the quota step retried', () => outage.hits >= 2 || undefined);

  first.child.kill('SIGTERM');
  const exit = await first.exited;
  assert.equal(exit.code, 0, first.output());
  const paused = runState(s.databasePath);
  assert.equal(paused.run?.status, 'running', 'a transient error during shutdown does not fail the run');
  const quota = paused.steps.find((x) => x.name === 'resource-quota');
  assert.ok(quota && quota.attempts >= 2);
  assert.notEqual(quota.status, 'failed', 'the step is not marked failed');
  const told = () => s.slack.dmWith(PEOPLE.dev).filter((m) => /hit a problem|failed/i.test(m.text));
  assert.deepEqual(told(), [], 'the requester is not told of a failure');
  assert.ok(!s.slack.thread(APPROVALS, s.slack.messages(APPROVALS)[0]?.ts ?? '').some((m) => m.text.startsWith('❌ Step')), 'no failure in the thread');

  outage.remove();
  await s.start();
  await waitForBot('the ready DM', () => readyDms(s.slack)[0], 20_000);
  const done = runState(s.databasePath);
  assert.equal(done.run?.status, 'done');
  assert.equal(done.steps.find((x) => x.name === 'resource-quota')?.status, 'done');
  assert.equal(readyDms(s.slack).length, 1, 'exactly one final message');
  assert.deepEqual(told(), []);
  assert.equal(s.kube.list('resourcequotas', 'payments-staging').length, 1);
});

// What a bot that died after acking a form left: the request stored, nothing posted. Its run may
// have been finished by then (a replica took it over) and the requester told it is ready.
for (const { left, settled } of [
  { left: 'waiting for approval', settled: false },
  { left: 'ready, its requester told', settled: true },
]) {
  test(`a request left unannounced, ${left}, gets its card at the next start, once, and a receipt only while it waits`, async (t) => {
    const s = await setUp(t);
    const first = await s.start();
    first.child.kill('SIGTERM');
    await first.exited;
    const store = await Store.open(s.databasePath);
    const form = { namespace: 'payments-staging', cluster: 'dev-eu', team: 'payments', environment: 'staging', tier: 'medium', purpose: 'load tests' };
    const now = new Date();
    const { request } = await store.insertRequest({ ...form, expiresOn: undefined, requester: PEOPLE.dev }, now);
    if (settled) {
      await store.decide(request.id, { status: 'approved', by: PEOPLE.alice }, now);
      const run = await store.startRun(request.id, ['namespace'], now);
      assert.ok(run && (await store.completeRun(run.id, request.id, 'done', now)));
      await store.markNotified(request.id, 'ready');
    }
    await store.close();

    const second = await s.start();
    const recorded = () => {
      const db = new Database(s.databasePath, { readonly: true });
      try {
        return db.prepare('SELECT card_ts AS ts, status FROM requests').get() as { ts: string | null; status: string };
      } finally {
        db.close();
      }
    };
    await waitForBot('the card recorded', () => recorded().ts ?? undefined);
    second.child.kill('SIGTERM');
    await second.exited;
    const cards = s.slack.messages(APPROVALS);
    assert.equal(cards.length, 1, 'one card');
    assert.deepEqual(recorded(), { ts: cards[0]?.ts, status: settled ? 'ready' : 'pending' }, 'the card is recorded');
    assert.match(JSON.stringify(cards[0]?.blocks), settled ? /Ready/ : /Approve/, 'the card shows where the request stands');
    assert.equal(s.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('Got it!')).length, settled ? 0 : 1, 'a receipt only while it waits');
  });
}
