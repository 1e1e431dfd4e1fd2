import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type Database from 'better-sqlite3';
import pg from 'pg';
import type { RequestInput } from '../../src/domain/requests.ts';
import { SqliteDb, type Engine } from '../../src/store/db.ts';
import { Store } from '../../src/store/store.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * The engines a store contract test runs on: SQLite on a temporary file, and PostgreSQL on a
 * server of the test file's own (startPostgres(), started at first use and stopped when the file's
 * process exits), each test with a database of its own.
 */
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

let server: Promise<TestPostgres> | undefined;
let databases = 0;

/** The test file's PostgreSQL server, started on first use. */
export function sharedPostgres(): Promise<TestPostgres> {
  return (server ??= startPostgres().then((started) => {
    process.once('exit', () => started.stop());
    return started;
  }));
}

/** A new, empty database on the shared server: its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  const { url } = await sharedPostgres();
  const name = `slipway_${process.pid}_${++databases}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return url.replace(/\/slipway$/, `/${name}`);
}

/** Where a fresh database on `engine` is: a new SQLite file's path, or a new PostgreSQL database's URL. */
export async function freshDatabase(engine: Engine): Promise<string> {
  return engine === 'postgres' ? await freshPostgresDatabase() : join(mkdtempSync(join(tmpdir(), 'slipway-store-')), 'slipway.db');
}

export interface EngineStore {
  engine: Engine;
  /** What `Store.open` took: open it again to see what a restart sees. */
  target: string;
  store: Store;
}

/** A fresh, migrated store on `engine`, closed after the test. */
export async function openStore(t: Pick<TestContext, 'after'>, engine: Engine, options: { surveyKey?: Buffer } = {}): Promise<EngineStore> {
  const target = await freshDatabase(engine);
  const store = await Store.open(target, options);
  t.after(() => store.close());
  return { engine, target, store };
}

/** One test per engine, named `name [sqlite]` and `name [postgres]`, each on a fresh store. */
export function storeTest(name: string, body: (t: TestContext, s: EngineStore) => Promise<void>, options: { surveyKey?: Buffer } = {}): void {
  for (const engine of ENGINES) test(`${name} [${engine}]`, async (t) => body(t, await openStore(t, engine, options)));
}

/** A request as the contract tests make them: `payments-dev` on dev-eu, by U0DEV, with `changes`. */
export function requestInput(changes: Partial<RequestInput> = {}): RequestInput {
  return {
    namespace: 'payments-dev',
    cluster: 'dev-eu',
    team: 'payments',
    environment: 'dev',
    tier: 'small',
    purpose: 'tests',
    expiresOn: undefined,
    requester: 'U0DEV',
    ...changes,
  };
}

/** The better-sqlite3 connection under a SQLite store, for tests of SQLite's own files and tables. */
export function sqliteOf(store: Store): Database.Database {
  if (!(store.sql instanceof SqliteDb)) throw new Error(`a SQLite store was expected, not ${store.engine}`);
  return store.sql.raw;
}
