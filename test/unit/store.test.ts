import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { isUniqueViolation } from '../../src/store/rows.ts';
import { Store } from '../../src/store/store.ts';
import { freshPostgresDatabase, openStore, queryPlan, requestInput, sqliteOf, storeTest, timedLooks } from '../support/stores.ts';

const now = new Date('2026-11-26T10:00:00Z');
const input = requestInput();

storeTest('migrations run once; a closed store is not ready', async (t, { engine, target, store }) => {
  assert.equal(await store.isReady(), true);
  await store.close();
  assert.equal(await store.isReady(), false);
  const reopened = await Store.open(target);
  t.after(() => reopened.close());
  const applied = await reopened.sql.prepare('SELECT name FROM schema_migrations ORDER BY name').all();
  const files = readdirSync(new URL('../../db', import.meta.url))
    .filter((f) => f.endsWith('.sql'))
    .sort();
  assert.ok(files.length >= 2);
  assert.deepEqual(
    applied,
    files.map((name) => ({ name })),
  );
  assert.equal(reopened.engine, engine);
});

test('a SQLite database gets its directory and the write-ahead log', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'slipway-store-')), 'nested', 'slipway.db');
  const store = await Store.open(path);
  t.after(() => store.close());
  assert.equal(sqliteOf(store).pragma('journal_mode', { simple: true }), 'wal');
});

storeTest('a redelivered submission returns the request it created; a live name is taken once', async (_t, { store }) => {
  const first = await store.insertRequest({ ...input, sourceViewId: 'V1' }, now);
  assert.equal(first.created, true);
  const again = await store.insertRequest({ ...input, sourceViewId: 'V1' }, now);
  assert.deepEqual(again, { created: false, reason: 'duplicate_submission', request: first.request });
  const other = await store.insertRequest({ ...input, requester: 'U0OTHER', sourceViewId: 'V2' }, now);
  assert.equal(other.created, false);
  assert.equal(!other.created && other.reason, 'name_taken');
});

storeTest('a denied request frees its name', async (_t, { store }) => {
  const first = await store.insertRequest({ ...input, sourceViewId: 'V1' }, now);
  assert.ok(first.created);
  assert.equal((await store.decide(first.request.id, { status: 'denied', by: 'U0ALICE', reason: 'no' }, now)).decided, true);
  assert.equal((await store.insertRequest({ ...input, sourceViewId: 'V2' }, now)).created, true);
});

storeTest('the first decision wins; later ones see who decided', async (_t, { store }) => {
  const { request } = await store.insertRequest(input, now);
  const a = await store.decide(request.id, { status: 'approved', by: 'U0ALICE' }, now);
  const b = await store.decide(request.id, { status: 'denied', by: 'U0BOB', reason: 'late' }, now);
  assert.equal(a.decided, true);
  assert.equal(b.decided, false);
  assert.equal(b.request.status, 'approved');
  assert.equal(b.request.decidedBy, 'U0ALICE');
});

storeTest('a request has at most one active run, enforced by the database', async (_t, { store }) => {
  const { request } = await store.insertRequest(input, now);
  const run = await store.startRun(request.id, ['namespace', 'quota'], now);
  assert.ok(run);
  assert.deepEqual(
    run.steps.map((s) => [s.name, s.status, s.attempts]),
    [
      ['namespace', 'pending', 0],
      ['quota', 'pending', 0],
    ],
  );
  assert.equal(await store.startRun(request.id, ['namespace'], now), undefined);
  await assert.rejects(
    store.sql.prepare(`INSERT INTO runs (request_id, status, started_at) VALUES (?, 'running', ?)`).run(request.id, now.toISOString()),
    (err) => isUniqueViolation(err),
  );
  await store.startStep(run.id, 0, now);
  await store.finishStep(run.id, 0, 'done', undefined, now);
  await store.startStep(run.id, 1, now);
  await store.finishStep(run.id, 1, 'failed', 'boom', now);
  assert.equal(await store.finishRun(run.id, 'failed', now), true);
  assert.equal(await store.reopenRun(run.id, now), true);
  assert.deepEqual(
    (await store.getRun(run.id))?.steps.map((s) => [s.status, s.attempts, s.lastError]),
    [
      ['done', 1, undefined],
      ['pending', 1, 'boom'],
    ],
  );
  assert.equal(await store.reopenRun(run.id, now), false, 'a running run cannot be reopened');
});

storeTest('events are append-only', async (_t, { store }) => {
  await store.appendEvent({ type: 'request_submitted', at: now, actor: 'U0DEV', team: 'payments', requestId: 1, data: { a: 1 } });
  assert.deepEqual(
    (await store.eventsFor(1)).map((e) => [e.type, e.actor, e.data]),
    [['request_submitted', 'U0DEV', { a: 1 }]],
  );
  await assert.rejects(store.sql.prepare('UPDATE events SET type = ?').run('x'), /append-only/);
  await assert.rejects(store.sql.prepare('DELETE FROM events').run(), /append-only/);
});

/** A database as the migrations before `first` left it, open without the store. */
async function databaseBefore(first: string): Promise<{ path: string; raw: Database.Database }> {
  const dir = mkdtempSync(join(tmpdir(), `slipway-before-${first}-`));
  const old = join(dir, 'db');
  mkdirSync(old);
  const all = readdirSync(new URL('../../db', import.meta.url))
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort();
  for (const f of all.filter((f) => f < first)) copyFileSync(new URL(`../../db/${f}`, import.meta.url), join(old, f));
  const path = join(dir, 'slipway.db');
  const raw = new Database(path);
  await migrate(new SqliteDb(raw), old);
  return { path, raw };
}

test('migration 0005 drops the key kept in the database, replaces its pseudonyms, and the next start seals plain-text authors', async (t) => {
  // A database as version 0004 left it: the key in survey_secret, an open pulse, a plain author.
  const { path, raw } = await databaseBefore('0005');
  raw.prepare('INSERT INTO survey_secret (id, secret) VALUES (1, ?)').run(Buffer.alloc(32, 7));
  raw
    .prepare(`INSERT INTO pulse_surveys (week, opened_at, closes_at, questions, min_answers) VALUES ('2026-11-23', ?, ?, '[]', 5)`)
    .run(now.toISOString(), now.toISOString());
  raw
    .prepare(
      `INSERT INTO pulse_answers (survey_id, question, respondent, score, answered_at) VALUES (1, 'ease', 'hmac-of-dev', 2, ?), (1, 'ease', 'hmac-of-ann', 4, ?)`,
    )
    .run(now.toISOString(), now.toISOString());
  raw
    .prepare(
      `INSERT INTO feedback (source, survey_id, question, score, author, anonymous, status, created_at) VALUES ('pulse', 1, 'ease', 2, 'U0DEV', 1, 'held', ?)`,
    )
    .run(now.toISOString());
  raw.close();

  const store = await Store.open(path, { surveyKey: Buffer.alloc(32, 1) });
  t.after(async () => await store.close());
  const db = sqliteOf(store);
  assert.equal(db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'survey_secret'`).pluck().get(), 0, 'the old key is gone');
  const respondents = db.prepare('SELECT respondent FROM pulse_answers').pluck().all() as string[];
  assert.equal(new Set(respondents).size, 2, 'still two people');
  assert.ok(
    respondents.every((r) => !r.startsWith('hmac-of')),
    'pseudonyms made with the old key are replaced',
  );
  assert.ok((db.prepare('SELECT key_salt FROM pulse_surveys WHERE id = 1').pluck().get() as Buffer).length === 32, 'the open pulse gets key material');
  assert.match(db.prepare('SELECT token FROM feedback').pluck().get() as string, /^[0-9a-f]{32}$/);

  assert.equal(await store.surveys.sealPlainAuthors(), 1);
  const sealed = db.prepare('SELECT author FROM feedback').pluck().get() as string;
  assert.ok(!sealed.includes('U0DEV'), sealed);
  assert.equal(await store.surveys.authorOf(1), 'U0DEV', 'opened with the key outside the database');
});

test('migration 0008 gives every namespace that was ready an owner, its end date and no timers yet; a deleted name is free again', async (t) => {
  const { path, raw } = await databaseBefore('0008');
  const insert = raw.prepare(
    `INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, expires_on, requester, status, created_at, updated_at)
     VALUES (?, 'dev-eu', 'payments', 'dev', 'small', 'tests', ?, 'U0DEV', ?, ?, ?)`,
  );
  insert.run('payments-ready', '2027-01-31', 'ready', now.toISOString(), now.toISOString());
  insert.run('payments-pending', null, 'pending', now.toISOString(), now.toISOString());
  raw.close();

  const store = await Store.open(path);
  t.after(async () => await store.close());
  const [ready] = await store.lifecycle.findByName('payments-ready');
  assert.equal(ready?.owner, 'U0DEV');
  assert.equal(ready?.expiresOn, '2027-01-31');
  assert.equal(ready?.state, 'active');
  assert.deepEqual(await store.lifecycle.findByName('payments-pending'), [], 'only ready requests made a namespace');
  assert.equal(await store.latestRun(1), undefined);
  assert.ok(
    ready && (await store.lifecycle.transition(ready.request.id, 'active', 'deleting', now)) && (await store.lifecycle.markDeleted(ready.request.id, now)),
  );
  assert.equal((await store.insertRequest({ ...input, namespace: 'payments-ready' }, now)).created, true);
});

test('migration 0010 keeps runs, their steps and lifecycle requests, and allows change runs and change requests', async (t) => {
  const { path, raw } = await databaseBefore('0010');
  raw
    .prepare(
      `INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, requester, status, created_at, updated_at)
       VALUES ('payments-ready', 'dev-eu', 'payments', 'dev', 'small', 'tests', 'U0DEV', 'ready', ?, ?)`,
    )
    .run(now.toISOString(), now.toISOString());
  raw
    .prepare(`INSERT INTO runs (request_id, status, started_at, finished_at, kind) VALUES (1, 'done', ?, ?, 'delete')`)
    .run(now.toISOString(), now.toISOString());
  raw.prepare(`INSERT INTO run_steps (run_id, position, name, status, attempts) VALUES (1, 0, 'delete-namespace', 'done', 2)`).run();
  raw
    .prepare(`INSERT INTO lifecycle_requests (request_id, kind, requested_by, expires_on, created_at) VALUES (1, 'extend', 'U0DEV', '2027-02-01', ?)`)
    .run(now.toISOString());
  assert.throws(() => raw.prepare(`INSERT INTO runs (request_id, status, started_at, kind) VALUES (1, 'done', 'x', 'change')`).run(), /CHECK/);
  raw.close();

  const store = await Store.open(path);
  t.after(async () => await store.close());
  const old = await store.getRun(1);
  assert.equal(old?.kind, 'delete');
  assert.deepEqual(
    old?.steps.map((s) => [s.name, s.status, s.attempts]),
    [['delete-namespace', 'done', 2]],
  );
  assert.equal((await store.lifecycle.openRequestFor(1, 'extend'))?.expiresOn, '2027-02-01');
  const change = await store.startRun(1, ['quota'], now, 'change');
  assert.equal(change?.kind, 'change');
  assert.equal(await store.startRun(1, ['quota'], now, 'change'), undefined, 'one active run per request still');
  assert.deepEqual(sqliteOf(store).pragma('foreign_key_check'), []);
  assert.deepEqual(
    sqliteOf(store).prepare(`SELECT sql FROM sqlite_master WHERE sql LIKE '%runs_new%'`).all(),
    [],
    'no reference to the temporary name is left',
  );
});

test("one task's transaction holds the SQLite connection: another task's transaction and reads wait for it, and a failed one leaves nothing", async (t) => {
  const { store } = await openStore(t, 'sqlite');
  const order: string[] = [];
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const first = store.transaction(async () => {
    await store.appendEvent({ type: 'first', at: now });
    await held;
    order.push('first committed');
  });
  const second = store.transaction(async () => {
    order.push('second began');
    await store.appendEvent({ type: 'second', at: now });
  });
  const read = store.eventsFor(0).then(() => order.push('read'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [], 'nothing runs while the first transaction is open');
  release();
  await Promise.all([first, second, read]);
  assert.equal(order[0], 'first committed');
  assert.deepEqual(order.slice(1).sort(), ['read', 'second began']);

  await assert.rejects(
    store.transaction(async () => {
      await store.appendEvent({ type: 'rolled-back', at: now });
      throw new Error('boom');
    }),
    /boom/,
  );
  const types = await store.sql.prepare('SELECT type FROM events ORDER BY id').pluck().all();
  assert.deepEqual(types, ['first', 'second']);
});

test('three replicas starting at once on a fresh PostgreSQL database migrate it once', async () => {
  const url = await freshPostgresDatabase();
  const replicas = await Promise.all([1, 2, 3].map(() => Store.open(url)));
  try {
    const files = readdirSync(new URL('../../db', import.meta.url)).filter((f) => /^\d+_.*\.sql$/.test(f));
    const applied = await replicas[0]?.sql.prepare<[], string>('SELECT name FROM schema_migrations ORDER BY name').pluck().all();
    assert.deepEqual(applied, files.sort(), 'each migration recorded once');
    for (const replica of replicas) assert.equal(await replica.isReady(), true);
    assert.equal(replicas[0]?.engine, 'postgres');
  } finally {
    for (const replica of replicas) await replica.close();
  }
});

// The invariants the schema enforces, tried on both engines: by the store's own methods racing
// each other, and by plain SQL that goes around the store, which the database must refuse.

storeTest('concurrent submissions of one form make one request; concurrent decisions decide once', async (_t, { store }) => {
  const submitted = await Promise.all([1, 2, 3, 4, 5].map(() => store.insertRequest({ ...input, sourceViewId: 'V1' }, now)));
  assert.equal(submitted.filter((s) => s.created).length, 1);
  assert.deepEqual(
    submitted.filter((s) => !s.created).map((s) => !s.created && s.reason),
    ['duplicate_submission', 'duplicate_submission', 'duplicate_submission', 'duplicate_submission'],
  );
  const id = submitted[0]?.request.id ?? 0;
  const people = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAN'];
  const decisions = await Promise.all(people.map((by, i) => store.decide(id, { status: i % 2 ? 'denied' : 'approved', by, reason: 'r' }, now)));
  assert.equal(decisions.filter((d) => d.decided).length, 1, 'one decision wins');
  const winner = decisions.find((d) => d.decided)?.request;
  for (const d of decisions) assert.deepEqual([d.request.status, d.request.decidedBy], [winner?.status, winner?.decidedBy]);
  await assert.rejects(store.sql.prepare(`UPDATE requests SET status = 'bogus' WHERE id = ?`).run(id), (err: Error) =>
    /CHECK|check constraint/.test(err.message),
  );
});

storeTest('concurrent submissions of one name from different forms make one request; the others are told it is taken', async (_t, { store }) => {
  const submitted = await Promise.all(['V1', 'V2', 'V3', 'V4'].map((sourceViewId) => store.insertRequest({ ...input, sourceViewId }, now)));
  assert.equal(submitted.filter((s) => s.created).length, 1);
  const made = submitted.find((s) => s.created)?.request;
  for (const s of submitted.filter((r) => !r.created)) assert.deepEqual([!s.created && s.reason, s.request.id], ['name_taken', made?.id]);
});

storeTest('concurrent starts of a run start one', async (_t, { store }) => {
  const { request } = await store.insertRequest(input, now);
  const started = await Promise.all([1, 2, 3, 4].map(() => store.startRun(request.id, ['namespace'], now)));
  assert.equal(started.filter(Boolean).length, 1);
  assert.equal((await store.activeRuns()).length, 1);
});

storeTest('a live name is one request per cluster, even written around the store', async (_t, { store }) => {
  await store.insertRequest(input, now);
  await assert.rejects(
    store.sql
      .prepare(
        `INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, requester, created_at, updated_at)
         VALUES (?, ?, 'payments', 'dev', 'small', 'tests', 'U0OTHER', ?, ?)`,
      )
      .run(input.namespace, input.cluster, now.toISOString(), now.toISOString()),
    (err) => isUniqueViolation(err),
  );
});

storeTest('one answer per person and question, one run per job and schedule slot: constraints of the database', async (_t, { store }) => {
  const at = now.toISOString();
  const survey = await store.sql
    .prepare<[string, string], { id: number }>(
      `INSERT INTO pulse_surveys (week, opened_at, closes_at, questions, min_answers) VALUES ('2026-11-23', ?, ?, '[]', 5) RETURNING id`,
    )
    .get(at, at);
  const answer = store.sql.prepare(`INSERT INTO pulse_answers (survey_id, question, respondent, score, answered_at) VALUES (?, 'ease', 'p1', ?, ?)`);
  await answer.run(survey?.id, 4, at);
  await assert.rejects(answer.run(survey?.id, 2, at), (err) => isUniqueViolation(err), 'a second answer to the same question');
  await assert.rejects(
    store.sql.prepare(`INSERT INTO pulse_answers (survey_id, question, respondent, score, answered_at) VALUES (?, 'speed', 'p1', 9, ?)`).run(survey?.id, at),
    (err: Error) => /CHECK|check constraint/.test(err.message),
    'a score is 1 to 5',
  );

  const run = store.sql.prepare<[string, string], { id: number }>(
    `INSERT INTO job_runs (job, reason, scheduled_for, started_at, status) VALUES ('digest', 'scheduled', ?, ?, 'running') RETURNING id`,
  );
  const slot = store.sql.prepare('INSERT INTO job_slots (job, scheduled_for, run_id) VALUES (?, ?, ?)');
  const first = await run.get(at, at);
  const second = await run.get(at, at);
  await slot.run('digest', at, first?.id);
  await assert.rejects(slot.run('digest', at, second?.id), (err) => isUniqueViolation(err), 'a second run of the same slot');
  await assert.rejects(slot.run('survey-open', at, 9999), (err: Error) => /FOREIGN KEY|foreign key/.test(err.message), 'a slot names its run');
});

storeTest('one open extension or deletion request per namespace, even written around the store', async (_t, { store }) => {
  const { request } = await store.insertRequest(input, now);
  const open = store.sql.prepare(`INSERT INTO lifecycle_requests (request_id, kind, requested_by, created_at) VALUES (?, 'extend', 'U0DEV', ?)`);
  await open.run(request.id, now.toISOString());
  await assert.rejects(open.run(request.id, now.toISOString()), (err) => isUniqueViolation(err));
  const opened = await Promise.all([1, 2, 3].map(() => store.lifecycle.openRequest({ requestId: request.id, kind: 'delete', requestedBy: 'U0DEV' }, now)));
  assert.equal(opened.filter((o) => o.created).length, 1);
});

storeTest("a request's card, the lists of open and pending requests, and outcomes told once", async (_t, { store }) => {
  const first = (await store.insertRequest(input, now)).request;
  const second = (await store.insertRequest({ ...input, namespace: 'payments-two' }, new Date(now.getTime() + 1000))).request;
  const other = (await store.insertRequest({ ...input, namespace: 'search-dev', requester: 'U0OTHER' }, now)).request;
  // Requests without a card, stored before a moment: what a replica that died left unannounced.
  const unannounced = async (createdBefore: Date, settledSince = now) =>
    (await store.unannouncedRequests({ createdBefore, settledSince }, 10)).map((r) => r.id);
  assert.deepEqual(await unannounced(new Date(now.getTime() + 1)), [first.id, other.id]);
  assert.equal(await store.setCard(first.id, { channel: 'C0APPROVALS', ts: '1700000000.000100' }, now), true);
  assert.equal(await store.setCard(first.id, { channel: 'C0APPROVALS', ts: '1700000000.000200' }, now), false, 'one card is recorded');
  assert.deepEqual((await store.getRequest(first.id))?.card, { channel: 'C0APPROVALS', ts: '1700000000.000100' });
  assert.deepEqual(await unannounced(new Date(now.getTime() + 2000)), [second.id, other.id]);
  assert.equal((await store.getRequest(second.id))?.card, undefined);
  assert.deepEqual(
    (await store.openRequestsBy('U0DEV', 10)).map((r) => r.id),
    [second.id, first.id],
    'newest first',
  );
  assert.equal((await store.lastRequestBy('U0OTHER'))?.id, other.id);
  assert.equal((await store.findLatestRequestForNamespace('payments-two'))?.id, second.id);
  const pending = await store.pendingRequests(2);
  assert.deepEqual([pending.requests.map((r) => r.id), pending.total], [[first.id, second.id], 3]);

  // Two outcomes reached, one told: only the other is left to tell, and telling it again is a no-op.
  for (const request of [first, second]) {
    await store.decide(request.id, { status: 'approved', by: 'policy', auto: true }, now);
    const run = await store.startRun(request.id, ['namespace'], now);
    assert.ok(run && (await store.completeRun(run.id, request.id, request === first ? 'done' : 'failed', now)));
  }
  assert.equal((await store.getRequest(first.id))?.autoApproved, true);
  // One that settled before it was announced (its run, taken over, finished first) still is,
  // unless it was stored before `settledSince`.
  assert.deepEqual(await unannounced(new Date(now.getTime() + 2000)), [second.id, other.id]);
  assert.deepEqual(await unannounced(new Date(now.getTime() + 2000), new Date(now.getTime() + 1001)), [other.id]);
  // Outcomes reached at `now` are left to the replica that reached them until a lapse has passed.
  const later = new Date(now.getTime() + 1);
  assert.deepEqual(await store.pendingOutcomes(now, 10), [], 'not settled before now');
  assert.deepEqual(
    (await store.pendingOutcomes(later, 10)).map((r) => [r.id, r.status]),
    [
      [first.id, 'ready'],
      [second.id, 'failed'],
    ],
  );
  // Telling starts once; a telling started and never recorded as done is found interrupted, and
  // stays to be told until it is.
  // A telling is left to its replica until a lapse after it began (`later` here), however long
  // ago the outcome was reached.
  const tellingAt = new Date(later.getTime() + 5000);
  assert.equal(await store.startTelling(first.id, 'ready', tellingAt), 'started');
  assert.equal(await store.startTelling(first.id, 'ready', tellingAt), 'interrupted');
  assert.equal(await store.startTelling(first.id, 'failed', tellingAt), 'told', 'not its outcome');
  assert.deepEqual(
    (await store.pendingOutcomes(later, 10)).map((r) => r.id),
    [second.id],
    'a telling under way is not looked at before a lapse after it began',
  );
  assert.deepEqual(
    (await store.pendingOutcomes(new Date(tellingAt.getTime() + 1), 10)).map((r) => r.id),
    [second.id, first.id],
    'started is not told',
  );
  await store.markNotified(first.id, 'ready');
  assert.equal(await store.startTelling(first.id, 'ready', tellingAt), 'told');
  await store.markNotified(second.id, 'ready');
  assert.deepEqual(
    (await store.pendingOutcomes(later, 10)).map((r) => r.id),
    [second.id],
    'a notice about another outcome does not count',
  );
  assert.equal(await store.reopenRun((await store.latestRun(second.id))?.id ?? 0, now), true);
  assert.equal((await store.getRequest(second.id))?.status, 'approved', 'a retried provisioning is approved again');
});

// The plan's step that reads an index by name: SQLite's `SEARCH/SCAN t USING [COVERING] INDEX i`,
// PostgreSQL's `Index [Only] Scan using i` or `Bitmap Index Scan on i`.
const readsIndex = (index: string) => new RegExp(`(USING (COVERING )?INDEX|Index (Only )?Scan using|Bitmap Index Scan on) ${index}\\b`);

storeTest('the looks replicas make on a timer read partial indexes of what they look for, not whole tables', async (_t, { engine, store }) => {
  for (const look of timedLooks(now)) {
    const plan = await queryPlan(store, look.sql, look.params);
    assert.match(plan, readsIndex(look.index), `${look.name} on ${engine}: ${plan}`);
  }
});

storeTest('the dialect fragments give the same answers on both engines', async (_t, { store }) => {
  const { dialect } = store.sql;
  const data = JSON.stringify({ auto: true, off: false, cluster: 'dev-eu' });
  const one = <R>(sql: string, ...params: unknown[]) =>
    store.sql
      .prepare<unknown[], R>(sql)
      .pluck()
      .get(...params);
  assert.equal(await one(`SELECT ${dialect.jsonText('?', 'cluster')}`, data), 'dev-eu');
  assert.equal(await one(`SELECT ${dialect.jsonText('?', 'missing')}`, data), null);
  const flag = (key: string) => one(`SELECT CASE WHEN ${dialect.jsonTrue('CAST(? AS TEXT)', key)} THEN 1 ELSE 0 END`, data);
  assert.deepEqual([await flag('auto'), await flag('off'), await flag('missing')], [1, 0, 0]);
  assert.equal(await one(`SELECT CASE WHEN NOT coalesce(${dialect.jsonTrue('CAST(? AS TEXT)', 'missing')}, FALSE) THEN 1 ELSE 0 END`, data), 1);
  const texts = await store.sql
    .prepare<[string], { value: string }>(`SELECT value FROM (${dialect.jsonArray('?', 'text')}) AS v ORDER BY value`)
    .pluck()
    .all(JSON.stringify(['b', 'a']));
  assert.deepEqual(texts, ['a', 'b']);
  const { request } = await store.insertRequest(input, now);
  assert.equal(await one(`SELECT count(*) FROM requests WHERE id IN (${dialect.jsonArray('?', 'integer')})`, JSON.stringify([request.id, 999])), 1);
  assert.equal(
    await one(`SELECT ${dialect.msBetween('CAST(? AS TEXT)', 'CAST(? AS TEXT)')}`, '2026-11-27T10:00:01.250Z', '2026-11-26T10:00:00.000Z'),
    86_401_250,
  );
});
