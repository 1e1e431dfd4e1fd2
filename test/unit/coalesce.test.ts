import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { coalesce } from '../../src/lib/coalesce.ts';

test('pokes within the interval collapse into one trailing update', async () => {
  let runs = 0;
  const updates = coalesce(
    async () => void runs++,
    30,
    (err) => assert.fail(String(err)),
  );
  for (let i = 0; i < 5; i++) updates.poke();
  await sleep(5);
  assert.equal(runs, 1, 'the first poke runs at once');
  updates.poke();
  updates.poke();
  await sleep(60);
  assert.equal(runs, 2, 'later pokes became one trailing run');
  await updates.close();
});

test('an update the timer started that fails goes to onError, not to an unhandled rejection', async () => {
  const errors: unknown[] = [];
  const updates = coalesce(
    () => Promise.reject(new Error('The database connection is not open')),
    10,
    (err) => errors.push(err),
  );
  updates.poke();
  await sleep(30);
  assert.deepEqual(
    errors.map((e) => (e as Error).message),
    ['The database connection is not open'],
  );
  await updates.close();
});

test('close drops a pending update, waits for the one under way, and later pokes send nothing', async () => {
  const log: string[] = [];
  let release = () => undefined as void;
  const updates = coalesce(
    async () => {
      log.push('start');
      await new Promise<void>((resolve) => (release = resolve));
      log.push('end');
    },
    10,
    (err) => assert.fail(String(err)),
  );
  updates.poke();
  await sleep(5);
  updates.poke(); // pending behind the one under way
  const closed = updates.close().then(() => log.push('closed'));
  await sleep(5);
  assert.deepEqual(log, ['start'], 'close waits for the update under way');
  release();
  await closed;
  updates.poke();
  await sleep(30);
  assert.deepEqual(log, ['start', 'end', 'closed'], 'the pending update and later pokes were dropped');
});
