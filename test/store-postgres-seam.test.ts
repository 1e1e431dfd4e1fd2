import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberPlaceholders, PostgresDb } from '../src/store/pg.ts';
import { isUniqueViolation } from '../src/store/rows.ts';
import { startPostgres } from './support/postgres.ts';

test("better-sqlite3's placeholders become PostgreSQL's, quoted text aside", () => {
  assert.deepEqual(numberPlaceholders("SELECT ? , '?@x', ? WHERE a = 'it''s'"), { text: "SELECT $1 , '?@x', $2 WHERE a = 'it''s'", names: [] });
  assert.deepEqual(numberPlaceholders('UPDATE t SET a = @a, b = @b WHERE a = @a'), { text: 'UPDATE t SET a = $1, b = $2 WHERE a = $1', names: ['a', 'b'] });
  assert.deepEqual(numberPlaceholders("SELECT ? -- the team's ?\nFROM t WHERE a = ?"), { text: "SELECT $1 -- the team's ?\nFROM t WHERE a = $2", names: [] });
});

test('the database seam on PostgreSQL: statements, ids, transactions, savepoints, unique violations', async (t) => {
  const server = await startPostgres();
  t.after(() => server.stop());
  const db = new PostgresDb(server.url);
  t.after(() => db.close());
  await db.prepare('CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL)').run();
  const insert = db.prepare<{ name: string; n: number }>('INSERT INTO items (name, n) VALUES (@name, @n) RETURNING id');
  const byName = db.prepare<[string], { id: number; name: string; n: number }>('SELECT id, name, n FROM items WHERE name = ?');
  const count = db.prepare<[], number>('SELECT count(*) FROM items').pluck();

  const made = await insert.run({ name: 'a', n: 1 });
  assert.deepEqual(made, { changes: 1, lastInsertRowid: 1 });
  assert.deepEqual(await byName.get('a'), { id: 1, name: 'a', n: 1 });
  assert.equal(await count.get(), 1, 'a count is a number, as on SQLite');

  await assert.rejects(insert.run({ name: 'a', n: 2 }), (err) => isUniqueViolation(err));

  await assert.rejects(
    db.transaction(async () => {
      await insert.run({ name: 'b', n: 2 });
      assert.equal(db.inTransaction, true);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await byName.get('b'), undefined, 'a failed transaction leaves nothing');

  await db.transaction(async () => {
    await insert.run({ name: 'c', n: 3 });
    await assert.rejects(
      db.transaction(async () => {
        await insert.run({ name: 'd', n: 4 });
        throw new Error('inner');
      }),
      /inner/,
    );
  });
  assert.deepEqual(await db.prepare('SELECT name FROM items ORDER BY id').pluck().all(), ['a', 'c'], 'the savepoint rolled back alone');
  assert.equal(db.inTransaction, false);
});
