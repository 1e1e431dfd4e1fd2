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
export const FAST_CLAIMS = { heartbeatSeconds: 0.1, lapseSeconds: 0.5 };
const STEPS = ['namespace', 'resource-quota', 'limit-range'];

test('two replicas race for a run whose replica died: one takes it over, keeps it while it works, and the run executes once', async (t) => {
  const h = await startHarness(t, { configure: (doc) => void (doc.claims = FAST_CLAIMS) });
  const second = await h.startReplica();
  const store = h.slipway.deps.store;
  const replicas = [h.slipway.deps.engine.identity, second.slipway.deps.engine.identity];
  assert.notEqual(replicas[0], replicas[1], 'each replica has its own identity');

  // An approved request whose run was claimed a minute ago by a replica that has not renewed since.
  const now = new Date();
  const { request } = await store.insertRequest(
    {
      namespace: 'payments-dev',
      cluster: 'dev-eu',
      team: 'payments',
      environment: 'dev',
      tier: 'small',
      purpose: 'tests',
      expiresOn: undefined,
      requester: PEOPLE.dev,
    },
    now,
  );
  await store.decide(request.id, { status: 'approved', by: PEOPLE.alice }, now);
  // The namespace's apply is slow: the run outlives several lapses, so only heartbeats keep it.
  const slow = h.kube.setLatency(1500, { method: 'PATCH', path: '/api/v1/namespaces/payments-dev' });
  const run = await store.startRun(request.id, STEPS, now, 'provision', { holder: 'slipway-dead_0', at: new Date(now.getTime() - 60_000) });
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
  const { request } = await a.insertRequest(
    {
      namespace: 'payments-dev',
      cluster: 'dev-eu',
      team: 'payments',
      environment: 'dev',
      tier: 'small',
      purpose: 'tests',
      expiresOn: undefined,
      requester: PEOPLE.dev,
    },
    now,
  );
  const run = await a.startRun(request.id, STEPS, now, 'provision', { holder: 'slipway-dead_0', at: new Date(now.getTime() - 60_000) });
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
