import assert from 'node:assert/strict';
import { storeTest } from '../support/stores.ts';

// Job runs (src/store/adoption.ts): one run per job and schedule slot, one running at a time, and
// a run left running by a stopped process closed as failed.

const MIN = 60_000;
const slot = new Date('2026-11-16T08:00:00Z');
const at = (minutes: number) => new Date(slot.getTime() + minutes * MIN);

storeTest('a slot is run once; a second run while one is going is recorded as skipped; a stale one is closed as failed', async (_t, { store }) => {
  const claim = (reason: 'scheduled' | 'catch-up' | 'manual', minutes: number, scheduledFor: Date | undefined = slot) =>
    store.adoption.claimJobRun({ job: 'digest', reason, scheduledFor, now: at(minutes), staleBefore: at(minutes - 30) });

  const first = await claim('scheduled', 0);
  assert.equal(first.claimed, true);
  assert.equal(first.run.status, 'running');
  assert.equal(first.run.scheduledFor, slot.toISOString());
  assert.equal(first.run.finishedAt, undefined);

  const again = await claim('catch-up', 1);
  assert.deepEqual({ claimed: again.claimed, why: again.why, id: again.run.id }, { claimed: false, why: 'slot-taken', id: first.run.id });

  const manual = await claim('manual', 2, undefined);
  assert.equal(manual.claimed, false);
  assert.equal(manual.why, 'busy');
  assert.equal(manual.run.status, 'skipped');
  assert.notEqual(manual.run.id, first.run.id);
  assert.match(manual.run.error ?? '', new RegExp(`run ${first.run.id}\\)$`));

  const next = await claim('scheduled', 60, at(60));
  assert.equal(next.claimed, true, 'the first run is stale by then');
  const abandoned = (await store.adoption.jobRuns('digest')).find((r) => r.id === first.run.id);
  assert.equal(abandoned?.status, 'failed');
  assert.match(abandoned?.error ?? '', /abandoned/);

  await store.adoption.finishJobRun(next.run.id, { status: 'ok', summary: 'posted' }, at(61));
  await store.adoption.finishJobRun(next.run.id, { status: 'failed', error: 'late' }, at(62));
  const last = await store.adoption.lastJobRun('digest');
  assert.deepEqual([last?.id, last?.status, last?.summary, last?.finishedAt], [next.run.id, 'ok', 'posted', at(61).toISOString()], 'finished once');
  assert.equal((await store.adoption.lastJobRun('digest', { includeSkipped: true }))?.id, next.run.id);
  assert.deepEqual(
    (await store.adoption.jobRuns('digest', 2)).map((r) => r.id),
    [next.run.id, manual.run.id],
  );
  assert.equal(await store.adoption.jobRanSince('digest', at(60)), true);
  assert.equal(await store.adoption.jobRanSince('digest', at(90)), false);
  assert.equal(await store.adoption.jobRanSince('survey', slot), false);
});
