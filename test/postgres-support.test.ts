import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { postgresBin, startPostgres } from './support/postgres.ts';

/** Runs one statement with the server's own psql; its one value, as text. */
function psql(url: string, sql: string): string {
  return execFileSync(join(postgresBin() ?? '', 'psql'), [url, '-Atc', sql], { encoding: 'utf8' }).trim();
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

test('a test gets a PostgreSQL server of its own on 127.0.0.1, gone once stopped', async (t) => {
  const pg = await startPostgres();
  let stopped = false;
  t.after(() => stopped || pg.stop());
  assert.match(pg.url, /^postgres:\/\/slipway@127\.0\.0\.1:\d+\/slipway$/);
  assert.ok(Number(psql(pg.url, 'SHOW server_version_num')) >= 130000, 'PostgreSQL 13 or later');
  assert.equal(psql(pg.url, 'SHOW listen_addresses'), '127.0.0.1');
  assert.equal(psql(pg.url, 'SELECT current_database()'), 'slipway');
  pg.stop();
  stopped = true;
  assert.equal(await refused(pg.port), true, 'nothing listens on the port after stop()');
});
