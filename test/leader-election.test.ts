/**
 * More than one replica: leader election on a coordination.k8s.io/v1 Lease in the Kubernetes
 * emulator, through client-node, and the job table that keeps two leaders of a moment from
 * doing a slot's work twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLATFORM, startHarness } from './support/harness.ts';

test('two replicas that both believe they lead post one digest for a slot, however their runs overlap', async (t) => {
  const h = await startHarness(t);
  const second = await h.startReplica();
  const slot = new Date('2026-11-23T09:00:00Z');
  const digests = () => h.slack.messages(PLATFORM).filter((m) => m.text.startsWith('Platform adoption'));

  // At the same moment: one runs the slot, the other finds it taken.
  const both = await Promise.all([h.slipway.scheduler.run('digest', 'scheduled', slot), second.slipway.scheduler.run('digest', 'scheduled', slot)]);
  assert.deepEqual(both.map((o) => o.status).sort(), ['ok', 'skipped']);
  const posted = h.slack.messages(PLATFORM).length;
  assert.ok(posted >= 1, 'the digest went out');

  // One after the other (the first had finished): a second leader's run of the same slot, scheduled or caught up, does nothing.
  for (const replica of [second.slipway, h.slipway]) {
    for (const reason of ['scheduled', 'catch-up'] as const) {
      const outcome = await replica.scheduler.run('digest', reason, slot);
      assert.equal(outcome.status, 'skipped', `${reason} run of a slot that ran`);
    }
  }
  assert.equal(h.slack.messages(PLATFORM).length, posted, 'nothing more was posted');
  assert.equal(digests().length, 1);
  const ran = h.slipway.deps.store.adoption.jobRuns('digest').filter((r) => r.status === 'ok');
  assert.equal(ran.length, 1, 'one run of the slot is recorded');

  // The next slot is a new slot; a run by hand is never a slot's.
  assert.equal((await second.slipway.scheduler.run('digest', 'scheduled', new Date('2026-11-30T09:00:00Z'))).status, 'ok');
  assert.equal((await h.slipway.scheduler.run('digest', 'manual')).status, 'ok');
  assert.equal(digests().length, 3);
});
