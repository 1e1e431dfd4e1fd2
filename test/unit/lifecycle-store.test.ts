import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import { requestInput, storeTest, type EngineStore } from '../support/stores.ts';

const now = new Date('2026-12-01T09:00:00Z');
const at = (iso: string) => new Date(iso);

async function readyNamespace({ store }: EngineStore, name = 'payments-dev', expiresOn: string | undefined = '2026-12-10') {
  return { store, request: await makeReady(store, name, expiresOn) };
}

async function makeReady(store: Store, name: string, expiresOn: string | undefined) {
  const inserted = await store.insertRequest(requestInput({ namespace: name, expiresOn }), now);
  assert.ok(inserted.created);
  await store.decide(inserted.request.id, { status: 'approved', by: 'U0ALICE' }, now);
  const run = await store.startRun(inserted.request.id, ['namespace'], now);
  assert.ok(run);
  assert.ok(await store.completeRun(run.id, inserted.request.id, 'done', now));
  return inserted.request;
}

storeTest('a namespace that becomes ready is owned by its requester, with its end date', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  const ns = await store.lifecycle.get(request.id);
  assert.equal(ns?.owner, 'U0DEV');
  assert.equal(ns?.expiresOn, '2026-12-10');
  assert.equal(ns?.state, 'active');
  assert.equal(ns?.request.namespace, 'payments-dev');
  assert.deepEqual(
    (await store.lifecycle.ownedBy('U0DEV', { limit: 10, offset: 0 })).namespaces.map((n) => n.request.id),
    [request.id],
  );
});

storeTest('a due timer is claimed once, given back when its message failed, and only due ones are read', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  await store.lifecycle.replaceTimers(
    request.id,
    [
      { kind: 'reminder', daysBefore: 3, dueAt: at('2026-12-07T09:00:00Z') },
      { kind: 'reminder', daysBefore: 1, dueAt: at('2026-12-09T09:00:00Z') },
    ],
    now,
  );
  const due = await store.lifecycle.dueTimers(at('2026-12-08T00:00:00Z'), 100);
  assert.deepEqual(
    due.map((d) => d.daysBefore),
    [3],
  );
  const [first] = due;
  assert.ok(first);
  assert.equal(await store.lifecycle.claimTimer(first.id, 'done', now), true);
  assert.equal(await store.lifecycle.claimTimer(first.id, 'done', now), false, 'a second sweep cannot take it again');
  await store.lifecycle.releaseTimer(first.id, 'channel_not_found');
  assert.equal((await store.lifecycle.dueTimers(at('2026-12-08T00:00:00Z'), 100))[0]?.attempts, 1);
});

storeTest('a new end date replaces pending timers but never re-arms one already sent', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  const reminder = { kind: 'reminder' as const, daysBefore: 3, dueAt: at('2026-12-07T09:00:00Z') };
  await store.lifecycle.replaceTimers(request.id, [reminder], now);
  const [sent] = await store.lifecycle.dueTimers(at('2026-12-07T09:00:00Z'), 10);
  assert.ok(sent && (await store.lifecycle.claimTimer(sent.id, 'done', now)));
  assert.equal(await store.lifecycle.setExpiry(request.id, '2026-12-20', [reminder, { kind: 'expiry', dueAt: at('2026-12-20T09:00:00Z') }], now), true);
  assert.equal((await store.lifecycle.get(request.id))?.expiresOn, '2026-12-20');
  assert.deepEqual(
    (await store.lifecycle.pendingTimers(request.id)).map((p) => p.kind),
    ['expiry'],
  );
});

storeTest('replacing pending timers with the same ones keeps them pending', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  const timers = [
    { kind: 'reminder' as const, daysBefore: 1, dueAt: at('2026-12-09T09:00:00Z') },
    { kind: 'expiry' as const, dueAt: at('2026-12-10T09:00:00Z') },
  ];
  await store.lifecycle.replaceTimers(request.id, timers, now);
  await store.lifecycle.replaceTimers(request.id, timers, now);
  assert.deepEqual(
    (await store.lifecycle.pendingTimers(request.id)).map((p) => p.kind),
    ['reminder', 'expiry'],
  );
});

storeTest('untimed: live namespaces with an end date and no pending timer', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  const endless = await makeReady(store, 'payments-forever', undefined);
  const gone = await makeReady(store, 'payments-gone', '2026-12-12');
  await store.lifecycle.markDeleted(gone.id, now);
  const later = await makeReady(store, 'payments-later', '2026-12-20');
  assert.deepEqual(await store.lifecycle.untimed(0, 10), [request.id, later.id]);
  assert.deepEqual(await store.lifecycle.untimed(request.id, 10), [later.id], 'paged by request id');
  await store.lifecycle.replaceTimers(request.id, [{ kind: 'expiry', dueAt: at('2026-12-10T09:00:00Z') }], now);
  assert.deepEqual(await store.lifecycle.untimed(0, 10), [later.id]);
  assert.ok(endless);
});

storeTest('a deleted namespace frees its name and drops its timers', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  await store.lifecycle.replaceTimers(request.id, [{ kind: 'expiry', dueAt: at('2026-12-10T09:00:00Z') }], now);
  assert.equal(await store.lifecycle.transition(request.id, 'active', 'deleting', now), true);
  assert.equal(await store.lifecycle.setExpiry(request.id, '2027-01-01', [], now), false, 'no extension while deleting');
  assert.equal(await store.lifecycle.markDeleted(request.id, now), true);
  assert.equal(await store.lifecycle.markDeleted(request.id, now), false);
  assert.deepEqual(await store.lifecycle.pendingTimers(request.id), []);
  assert.deepEqual(await store.lifecycle.findByName('payments-dev'), []);
  const again = await makeReady(store, 'payments-dev', undefined);
  assert.notEqual(again.id, request.id);
  assert.equal((await store.lifecycle.findByName('payments-dev'))[0]?.request.id, again.id);
});

storeTest('one open extension or deletion request per namespace, decided once', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  const first = await store.lifecycle.openRequest({ requestId: request.id, kind: 'extend', requestedBy: 'U0DEV', expiresOn: '2027-03-01' }, now);
  const second = await store.lifecycle.openRequest({ requestId: request.id, kind: 'extend', requestedBy: 'U0DEV', expiresOn: '2027-04-01' }, now);
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.request.id, first.request.id);
  assert.equal((await store.lifecycle.decideRequest(first.request.id, 'approved', 'U0ALICE', now)).decided, true);
  const late = await store.lifecycle.decideRequest(first.request.id, 'denied', 'U0BOB', now);
  assert.equal(late.decided, false);
  assert.equal(late.request.status, 'approved');
  assert.equal(late.request.decidedBy, 'U0ALICE');
});

storeTest('transfer is compare-and-set on the current owner', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  assert.equal(await store.lifecycle.transfer(request.id, 'U0OTHER', 'U0NEW', now), false);
  assert.equal(await store.lifecycle.transfer(request.id, 'U0DEV', 'U0NEW', now), true);
  assert.equal((await store.lifecycle.ownedBy('U0NEW', { limit: 5, offset: 0 })).total, 1);
  assert.equal((await store.lifecycle.ownedBy('U0DEV', { limit: 5, offset: 0 })).total, 0);
});

storeTest('a finished deletion is untold until its namespace_deleted event is recorded, and only recent ones are looked at', async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  const run = await store.startRun(request.id, ['delete-namespace'], now, 'delete');
  assert.ok(run);
  assert.deepEqual(await store.lifecycle.untoldDeletions(at('2026-11-24T09:00:00Z')), [], 'a running deletion has nothing to tell');
  assert.ok(await store.completeRun(run.id, request.id, 'done', now));
  assert.deepEqual(await store.lifecycle.untoldDeletions(at('2026-11-24T09:00:00Z')), [run.id]);
  assert.deepEqual(await store.lifecycle.untoldDeletions(at('2026-12-02T09:00:00Z')), [], 'older than the window');
  await store.appendEvent({ type: 'namespace_deleted', at: now, requestId: request.id, data: { runId: run.id } });
  assert.deepEqual(await store.lifecycle.untoldDeletions(at('2026-11-24T09:00:00Z')), []);
});

storeTest("a namespace's settings start as its request's; an applied change records tier, purpose, end date and other teams' access", async (_t, s) => {
  const { store, request } = await readyNamespace(s);
  assert.deepEqual(await store.lifecycle.settingsOf(request.id), { tier: 'small', expiresOn: '2026-12-10', purpose: 'tests', access: [] });
  const next = {
    tier: 'large',
    expiresOn: undefined,
    purpose: 'load tests',
    access: [
      { team: 'search', role: 'view' as const },
      { team: 'data', role: 'edit' as const },
    ],
  };
  assert.equal(await store.lifecycle.applySettings(request.id, next, now), true);
  assert.deepEqual(await store.lifecycle.settingsOf(request.id), { ...next, access: [next.access[1], next.access[0]] }, 'access in team order');
  assert.equal((await store.getRequest(request.id))?.tier, 'small', 'the request keeps what was asked for');
  assert.equal(await store.lifecycle.applySettings(request.id, { ...next, access: [] }, now), true);
  assert.deepEqual((await store.lifecycle.settingsOf(request.id))?.access, [], 'access taken back');

  const ask = await store.lifecycle.openRequest({ requestId: request.id, kind: 'change', requestedBy: 'U0DEV', change: next }, now);
  assert.deepEqual((await store.lifecycle.getRequestById(ask.request.id))?.change, next);
  assert.equal(await store.lifecycle.openRequestFor(request.id, 'extend'), undefined);

  assert.ok(await store.lifecycle.transition(request.id, 'active', 'deleting', now));
  assert.equal(await store.lifecycle.applySettings(request.id, next, now), false, 'only an active namespace changes');
});
