import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.ts';

const now = new Date('2026-11-26T10:00:00Z');
const input = {
  namespace: 'payments-dev',
  cluster: 'dev-eu',
  team: 'payments',
  environment: 'dev',
  tier: 'small',
  purpose: 'tests',
  expiresOn: undefined,
  requester: 'U0DEV',
};

function openStore(t: { after: (fn: () => void) => void }) {
  const path = join(mkdtempSync(join(tmpdir(), 'slipway-store-')), 'nested', 'slipway.db');
  const store = Store.open(path);
  t.after(() => store.close());
  return { store, path };
}

test('migrations run once and the database directory is created', (t) => {
  const { store, path } = openStore(t);
  store.close();
  const reopened = Store.open(path);
  const applied = reopened.db.prepare('SELECT name FROM schema_migrations').all();
  const files = readdirSync(new URL('../../db', import.meta.url)).filter((f) => f.endsWith('.sql')).sort();
  assert.ok(files.length >= 2);
  assert.deepEqual(applied, files.map((name) => ({ name })));
  reopened.close();
  const raw = new Database(path);
  t.after(() => raw.close());
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
});

test('a redelivered submission returns the request it created; a live name is taken once', (t) => {
  const { store } = openStore(t);
  const first = store.insertRequest({ ...input, sourceViewId: 'V1' }, now);
  assert.equal(first.created, true);
  const again = store.insertRequest({ ...input, sourceViewId: 'V1' }, now);
  assert.deepEqual(again, { created: false, reason: 'duplicate_submission', request: first.request });
  const other = store.insertRequest({ ...input, requester: 'U0OTHER', sourceViewId: 'V2' }, now);
  assert.equal(other.created, false);
  assert.equal(!other.created && other.reason, 'name_taken');
});

test('a denied request frees its name', (t) => {
  const { store } = openStore(t);
  const first = store.insertRequest({ ...input, sourceViewId: 'V1' }, now);
  assert.ok(first.created);
  assert.equal(store.decide(first.request.id, { status: 'denied', by: 'U0ALICE', reason: 'no' }, now).decided, true);
  assert.equal(store.insertRequest({ ...input, sourceViewId: 'V2' }, now).created, true);
});

test('the first decision wins; later ones see who decided', (t) => {
  const { store } = openStore(t);
  const { request } = store.insertRequest(input, now);
  const a = store.decide(request.id, { status: 'approved', by: 'U0ALICE' }, now);
  const b = store.decide(request.id, { status: 'denied', by: 'U0BOB', reason: 'late' }, now);
  assert.equal(a.decided, true);
  assert.equal(b.decided, false);
  assert.equal(b.request.status, 'approved');
  assert.equal(b.request.decidedBy, 'U0ALICE');
});

test('a request has at most one active run, enforced by the database', (t) => {
  const { store } = openStore(t);
  const { request } = store.insertRequest(input, now);
  const run = store.startRun(request.id, ['namespace', 'quota'], now);
  assert.ok(run);
  assert.deepEqual(run.steps.map((s) => [s.name, s.status, s.attempts]), [['namespace', 'pending', 0], ['quota', 'pending', 0]]);
  assert.equal(store.startRun(request.id, ['namespace'], now), undefined);
  assert.throws(
    () => store.db.prepare(`INSERT INTO runs (request_id, status, started_at) VALUES (?, 'running', ?)`).run(request.id, now.toISOString()),
    /UNIQUE constraint failed/,
  );
  store.startStep(run.id, 0, now);
  store.finishStep(run.id, 0, 'done', undefined, now);
  store.startStep(run.id, 1, now);
  store.finishStep(run.id, 1, 'failed', 'boom', now);
  assert.equal(store.finishRun(run.id, 'failed', now), true);
  assert.equal(store.reopenRun(run.id, now), true);
  assert.deepEqual(store.getRun(run.id)?.steps.map((s) => [s.status, s.attempts, s.lastError]), [['done', 1, undefined], ['pending', 1, 'boom']]);
  assert.equal(store.reopenRun(run.id, now), false, 'a running run cannot be reopened');
});

test('events are append-only', (t) => {
  const { store } = openStore(t);
  store.appendEvent({ type: 'request_submitted', at: now, actor: 'U0DEV', team: 'payments', requestId: 1, data: { a: 1 } });
  assert.deepEqual(store.eventsFor(1).map((e) => [e.type, e.actor, e.data]), [['request_submitted', 'U0DEV', { a: 1 }]]);
  assert.throws(() => store.db.prepare('UPDATE events SET type = ?').run('x'), /append-only/);
  assert.throws(() => store.db.prepare('DELETE FROM events').run(), /append-only/);
});
