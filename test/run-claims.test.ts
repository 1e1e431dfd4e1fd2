/**
 * Run claims with a heartbeat (src/workflows/runs/claims.ts): the replica executing a run renews
 * its claim; a run whose replica died is taken over by another live replica once the heartbeat
 * lapses, and of two replicas racing for it one wins.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/store/store.ts';
import { PEOPLE, startHarness } from './support/harness.ts';

/** Short claim timings, so a lapse happens within a test (defaults: renew 5 s, lapse 30 s). */
const FAST_CLAIMS = { heartbeatSeconds: 0.1, lapseSeconds: 0.5 };
const STEPS = ['namespace', 'resource-quota', 'limit-range'];
/** A claim a replica that died a minute before `now` left behind. */
const deadClaim = (now: Date) => ({ holder: 'slipway-dead_0', at: new Date(now.getTime() - 60_000) });

async function newRequest(store: Store, now: Date) {
  const form = { namespace: 'payments-dev', cluster: 'dev-eu', team: 'payments', environment: 'dev', tier: 'small', purpose: 'tests' };
  return (await store.insertRequest({ ...form, expiresOn: undefined, requester: PEOPLE.dev }, now)).request;
}

test('two replicas race for a run whose replica died: one takes it over, keeps it while it works, and the run executes once', async (t) => {
  const h = await startHarness(t, { configure: (doc) => void (doc.claims = FAST_CLAIMS) });
  const second = await h.startReplica();
  const store = h.slipway.deps.store;
  const replicas = [h.slipway.deps.engine.identity, second.slipway.deps.engine.identity];
  assert.notEqual(replicas[0], replicas[1], 'each replica has its own identity');

  // An approved request whose run was claimed a minute ago by a replica that has not renewed since.
  const now = new Date();
  const request = await newRequest(store, now);
  await store.decide(request.id, { status: 'approved', by: PEOPLE.alice }, now);
  // The namespace's apply is slow: the run outlives several lapses, so only heartbeats keep it.
  const slow = h.kube.setLatency(1500, { method: 'PATCH', path: '/api/v1/namespaces/payments-dev' });
  const run = await store.startRun(request.id, STEPS, now, 'provision', deadClaim(now));
  assert.ok(run);

  const ready = () => h.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('🎉'));
  await h.waitFor('the run to be done', async () => (await store.getRun(run.id))?.status === 'done', 15_000);
  slow();
  await h.waitFor('the ready DM', () => ready()[0]);
  const holder = (await store.runClaim(run.id))?.holder;
  assert.ok(holder && replicas.includes(holder), `a live replica took the run over (${holder})`);
  const applies = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/payments-dev');
  assert.equal(applies.length, 1, 'the namespace was applied once: the other replica never took the run while its holder renewed');
  assert.deepEqual(
    (await store.getRun(run.id))?.steps.map((s) => [s.name, s.status, s.attempts]),
    STEPS.map((name) => [name, 'done', 1]),
  );
  assert.equal(ready().length, 1, 'the requester is told once');
});

test('of two replicas claiming the same lapsed claim at once, compare-and-set lets one through', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'slipway-claims-')), 'slipway.db');
  // Two connections on one database file, as two replicas have.
  const [a, b] = [await Store.open(path), await Store.open(path)];
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const now = new Date();
  const request = await newRequest(a, now);
  const run = await a.startRun(request.id, STEPS, now, 'provision', deadClaim(now));
  assert.ok(run);
  const read = await b.runClaim(run.id);
  assert.deepEqual(read, { status: 'running', holder: 'slipway-dead_0', heartbeatAt: new Date(now.getTime() - 60_000).toISOString() });
  const claims = await Promise.all([a.claimRun(run.id, { holder: 'a', at: now }, read), b.claimRun(run.id, { holder: 'b', at: now }, read)]);
  assert.deepEqual([...claims].sort(), [false, true]);
  const winner = claims[0] ? 'a' : 'b';
  assert.equal((await a.runClaim(run.id))?.holder, winner);
  // The loser's heartbeat is refused; the winner's goes through; a claim read before it is stale.
  assert.equal(await b.heartbeatRun(run.id, { holder: winner === 'a' ? 'b' : 'a', at: now }), false);
  assert.equal(await b.heartbeatRun(run.id, { holder: winner, at: now }), true);
  assert.equal(await a.claimRun(run.id, { holder: 'c', at: now }, read), false);
});

test('a replica that finds its run taken over (it was cut off past the lapse) stops at the next step and leaves the run to the new holder', async (t) => {
  const h = await startHarness(t, { configure: (doc) => void (doc.claims = FAST_CLAIMS) });
  const store = h.slipway.deps.store;
  const now = new Date();
  const request = await newRequest(store, now);
  await store.decide(request.id, { status: 'approved', by: PEOPLE.alice }, now);
  const slow = h.kube.setLatency(1500, { method: 'PATCH', path: '/api/v1/namespaces/payments-dev' });
  t.after(slow);
  const run = await store.startRun(request.id, STEPS, now, 'provision', deadClaim(now));
  assert.ok(run);
  await h.waitFor('the bot to take the run over', () => h.slipway.deps.engine.runs.executing(run.id));
  await h.waitFor('the namespace step under way', async () => (await store.getRun(run.id))?.steps[0]?.status === 'running');

  // Meanwhile another replica took the claim over (as after a pause longer than the lapse) and renews it.
  const read = await store.runClaim(run.id);
  assert.equal(read?.holder, h.slipway.deps.engine.identity);
  assert.ok(await store.claimRun(run.id, { holder: 'slipway-other_0', at: new Date(Date.now() + 3_600_000) }, read));

  await h.waitFor('the bot to stop executing the run', () => !h.slipway.deps.engine.runs.executing(run.id), 10_000);
  const left = await store.getRun(run.id);
  assert.equal(left?.status, 'running', 'the run is the other replica’s to finish');
  assert.deepEqual(
    left?.steps.map((s) => [s.name, s.status, s.attempts]),
    [
      ['namespace', 'done', 1],
      ['resource-quota', 'pending', 0],
      ['limit-range', 'pending', 0],
    ],
    'the step in flight ended; no step started after the claim was lost',
  );
  assert.equal((await store.runClaim(run.id))?.holder, 'slipway-other_0');
  assert.equal(h.kube.requests.filter((r) => r.path.includes('/resourcequotas/')).length, 0);
});
