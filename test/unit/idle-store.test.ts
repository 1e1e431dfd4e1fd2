import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import { requestInput, storeTest } from '../support/stores.ts';

// The idle reclaim store (src/store/idle.ts): candidates from the usage states, one open
// conversation per namespace, and stages that move by compare-and-set.

const DAY = 24 * 60 * 60 * 1000;
const now = new Date('2026-12-01T09:00:00Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);

/** A request for a namespace of `environment`, and its usage snapshots: pods running until `idleSince`, none after. */
async function namespace(store: Store, name: string, environment: string, idleSince: Date | undefined): Promise<number> {
  const { request } = await store.insertRequest(requestInput({ namespace: name, environment }), daysAgo(60));
  const snapshot = { cluster: 'dev-eu', namespace: name, team: 'payments', requestId: request.id, present: true };
  await store.adoption.insertSnapshots([{ ...snapshot, at: daysAgo(50), runningPods: 2 }]);
  if (idleSince) await store.adoption.insertSnapshots([{ ...snapshot, at: idleSince, runningPods: 0 }]);
  return request.id;
}

const ask = (requestId: number, idleSince: Date) => ({
  requestId,
  idleSince: idleSince.toISOString(),
  askedUser: 'U0DEV',
  nextAt: new Date(now.getTime() + 3 * DAY),
});

storeTest(
  'candidates: namespaces of the environment idle since the cut-off, longest first, less those with an open or quiet conversation',
  async (_t, { store }) => {
    const older = await namespace(store, 'payments-old', 'dev', daysAgo(30));
    const newer = await namespace(store, 'payments-new', 'dev', daysAgo(20));
    await namespace(store, 'payments-recent', 'dev', daysAgo(5));
    await namespace(store, 'payments-running', 'dev', undefined);
    await namespace(store, 'payments-prod', 'prod', daysAgo(30));
    const before = daysAgo(14);
    const candidates = async (limit = 10) => (await store.idle.candidates('dev', before, now, limit)).map((c) => c.requestId);

    assert.deepEqual(await store.idle.candidates('dev', before, now, 10), [
      { requestId: older, idleSince: daysAgo(30).toISOString() },
      { requestId: newer, idleSince: daysAgo(20).toISOString() },
    ]);
    assert.deepEqual(await candidates(1), [older]);
    assert.equal(await store.idle.runningNow(older), false);

    const opened = await store.idle.open(ask(older, daysAgo(30)), now);
    assert.ok(opened);
    assert.deepEqual(await candidates(), [newer], 'an open conversation keeps its namespace out');
    assert.ok(await store.idle.close(opened.id, ['asked'], 'kept', 'U0DEV', now, new Date(now.getTime() + 30 * DAY)));
    assert.deepEqual(await candidates(), [newer], 'kept quiet until after now');
    assert.deepEqual(
      (await store.idle.candidates('dev', before, new Date(now.getTime() + 31 * DAY), 10)).map((c) => c.requestId),
      [older, newer],
      'asked again once the quiet time is over',
    );

    await store.adoption.insertSnapshots([
      { at: now, cluster: 'dev-eu', namespace: 'payments-new', team: 'payments', requestId: newer, present: true, runningPods: 1 },
    ]);
    assert.equal(await store.idle.runningNow(newer), true);
    assert.deepEqual(await candidates(), [], 'pods again: no longer idle');
  },
);

storeTest('one open conversation per namespace; stages move by compare-and-set', async (_t, { store }) => {
  const requestId = await namespace(store, 'payments-dev', 'dev', daysAgo(30));
  const opened = await store.idle.open(ask(requestId, daysAgo(30)), now);
  assert.ok(opened);
  assert.equal(opened.stage, 'asked');
  assert.equal(opened.askedTo, 'owner');
  assert.equal(opened.notMine, false);
  assert.equal(opened.closedAt, undefined, 'absent values are undefined');
  assert.equal(await store.idle.open(ask(requestId, daysAgo(30)), now), undefined, 'a second sweep opens nothing');

  await store.idle.setAskedTo(opened.id, 'team');
  assert.equal((await store.idle.get(opened.id))?.askedTo, 'team');

  const due = new Date(now.getTime() + 3 * DAY);
  assert.deepEqual(await store.idle.due(now, 10), [], 'not due yet');
  assert.deepEqual(
    (await store.idle.due(due, 10)).map((a) => a.id),
    [opened.id],
  );

  const later = new Date(now.getTime() + 7 * DAY);
  assert.equal(await store.idle.toldTeam(opened.id, 'asked', later, true, due), true);
  assert.equal(await store.idle.toldTeam(opened.id, 'asked', later, false, due), false, 'moved on already');
  assert.equal(await store.idle.toldTeam(opened.id, 'team_told', later, false, due), true);
  const told = await store.idle.get(opened.id);
  assert.equal(told?.stage, 'team_told');
  assert.equal(told?.teamToldAt, due.toISOString());
  assert.equal(told?.notMine, true, '"Not mine" stays said');

  assert.equal(await store.idle.close(opened.id, ['asked'], 'ended', 'U0DEV', later), false, 'not in that stage');
  assert.equal(await store.idle.close(opened.id, ['asked', 'team_told'], 'approvers', 'slipway', later), true);
  assert.equal(await store.idle.close(opened.id, ['asked', 'team_told'], 'ended', 'slipway', later), false, 'closed once');
  const closed = await store.idle.get(opened.id);
  assert.equal(closed?.stage, 'approvers');
  assert.equal(closed?.nextAt, undefined);
  assert.equal(closed?.closedBy, 'slipway');

  const again = await store.idle.open(ask(requestId, daysAgo(1)), later);
  assert.ok(again, 'a closed conversation lets a new one open');
  assert.equal((await store.idle.latestOf(requestId))?.id, again.id);
});

storeTest('a conversation whose first message failed is forgotten; one that moved on is kept', async (_t, { store }) => {
  const requestId = await namespace(store, 'payments-dev', 'dev', daysAgo(30));
  const first = await store.idle.open(ask(requestId, daysAgo(30)), now);
  assert.ok(first);
  await store.idle.forget(first.id);
  assert.equal(await store.idle.get(first.id), undefined);
  const second = await store.idle.open(ask(requestId, daysAgo(30)), now);
  assert.ok(second);
  assert.ok(await store.idle.toldTeam(second.id, 'asked', new Date(now.getTime() + DAY), false, now));
  await store.idle.forget(second.id);
  assert.equal((await store.idle.get(second.id))?.stage, 'team_told');
});
