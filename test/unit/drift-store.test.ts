import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import { requestInput, storeTest } from '../support/stores.ts';

const now = new Date('2026-12-01T09:00:00Z');

/** Requests for namespaces `names` on dev-eu, their ids in order. */
async function requests(store: Store, names: readonly string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const namespace of names) {
    ids.push((await store.insertRequest(requestInput({ namespace }), now)).request.id);
  }
  return ids;
}

storeTest('one running upgrade per cluster, whoever clicks at the same time', async (_t, { store }) => {
  const requestIds = await requests(store, ['a', 'b']);
  const input = { cluster: 'dev-eu', by: 'U0ALICE', channel: 'C0PLATFORM', requestIds };
  const started = await Promise.all([1, 2, 3].map(() => store.drift.startUpgrade(input, now)));
  const upgrade = started.find(Boolean);
  assert.equal(started.filter(Boolean).length, 1);
  assert.deepEqual(upgrade && { ...upgrade, id: 0 }, {
    id: 0,
    cluster: 'dev-eu',
    status: 'running',
    startedBy: 'U0ALICE',
    startedAt: now.toISOString(),
    finishedAt: undefined,
    channel: 'C0PLATFORM',
    threadTs: undefined,
  });
  assert.deepEqual(await store.drift.items(upgrade?.id ?? 0), [
    { requestId: requestIds[0], position: 0, status: 'pending', attempts: 0, lastError: undefined },
    { requestId: requestIds[1], position: 1, status: 'pending', attempts: 0, lastError: undefined },
  ]);
});

storeTest('namespaces are claimed once each, in order, and a resumed upgrade releases the failed and the running ones', async (_t, { store }) => {
  const requestIds = await requests(store, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  const upgrade = await store.drift.startUpgrade({ cluster: 'dev-eu', by: 'U0ALICE', channel: 'C0PLATFORM', requestIds }, now);
  assert.ok(upgrade);
  const claimed = await Promise.all(requestIds.slice(0, 8).map(() => store.drift.claim(upgrade.id)));
  assert.deepEqual(
    [...claimed].sort((a, b) => (a ?? 0) - (b ?? 0)),
    requestIds.slice(0, 8),
    'eight workers at once, eight different namespaces: the first eight',
  );
  assert.equal(await store.drift.finishItem(upgrade.id, requestIds[0] ?? 0, 'done', undefined, now), true);
  assert.equal(await store.drift.finishItem(upgrade.id, requestIds[0] ?? 0, 'done', undefined, now), false, 'finished once');
  assert.equal(await store.drift.finishItem(upgrade.id, requestIds[1] ?? 0, 'failed', 'forbidden', now), true);
  assert.equal(await store.drift.finish(upgrade.id, 'failed', now), true);
  assert.equal(await store.drift.claim(upgrade.id), undefined, 'nothing is claimed from a stopped upgrade');
  assert.deepEqual(await store.drift.counts(upgrade.id), { pending: 2, running: 6, done: 1, failed: 1 });

  const resumed = await Promise.all([store.drift.reopen(upgrade.id), store.drift.reopen(upgrade.id)]);
  assert.deepEqual([...resumed].sort(), [false, true], 'one click resumes');
  assert.deepEqual(await store.drift.counts(upgrade.id), { pending: 9, running: 0, done: 1, failed: 0 });
  assert.equal(await store.drift.claim(upgrade.id), requestIds[1], 'the first pending by position');
});

storeTest("the drift job's latest counts", async (_t, { store }) => {
  assert.equal(await store.drift.latestScan(), undefined);
  await store.drift.recordScan({ at: now.toISOString(), namespaces: 10, edited: 1, outdated: 2, summary: 'first' });
  await store.drift.recordScan({ at: now.toISOString(), namespaces: 12, edited: 0, outdated: 3, summary: 'second' });
  assert.deepEqual(await store.drift.latestScan(), { at: now.toISOString(), namespaces: 12, edited: 0, outdated: 3, summary: 'second' });
});
