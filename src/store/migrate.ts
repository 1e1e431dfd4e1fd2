import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

/**
 * The numbered migrations, `db/NNNN_name.sql`, applied in name order on both engines. SQLite's
 * history starts at 0001; a PostgreSQL database starts from `db/postgres/NNNN_baseline.sql`, the
 * schema those first migrations made, and records them as applied. Every later migration is one
 * file that both engines run.
 */
const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'db');

/** The lock that replicas starting together take to migrate one at a time (PostgreSQL: an advisory lock's key). */
const MIGRATION_LOCK = 5_716_203_117;

const isMigration = (file: string) => /^\d+_.*\.sql$/.test(file);
const numberOf = (file: string) => Number(/^\d+/.exec(file)?.[0]);

/** The PostgreSQL baseline in `dir/postgres/`, if any: the migrations it stands for are those numbered up to its own. */
function baselineOf(dir: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(join(dir, 'postgres'));
  } catch {
    return undefined;
  }
  return files
    .filter((f) => /^\d+_baseline\.sql$/.test(f))
    .sort()
    .at(-1);
}

async function appliedMigrations(db: Db): Promise<Set<string>> {
  return new Set(await db.prepare<[], string>('SELECT name FROM schema_migrations').pluck().all());
}

/** The migrations in `dir` that have not run yet, in the order they will run. */
export async function pendingMigrations(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const applied = await appliedMigrations(db);
  return readdirSync(dir)
    .filter((f) => isMigration(f) && !applied.has(f))
    .sort();
}

/**
 * Applies the migrations in `dir` that have not run yet, in one transaction that holds the
 * migration lock, so replicas that start together migrate once: the others wait, then find
 * nothing left to do. Returns the migrations applied (the baseline's among them).
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  return await db.exclusive(MIGRATION_LOCK, async () => {
    await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
    const fresh = (await appliedMigrations(db)).size === 0;
    const pending = await pendingMigrations(db, dir);
    const baseline = db.engine === 'postgres' && fresh ? baselineOf(dir) : undefined;
    const covered = baseline ? pending.filter((f) => numberOf(f) <= numberOf(baseline)) : [];
    if (baseline) await db.exec(readFileSync(join(dir, 'postgres', baseline), 'utf8'));
    for (const file of pending) {
      if (!covered.includes(file)) await db.exec(readFileSync(join(dir, file), 'utf8'));
      await record.run(file, new Date().toISOString());
    }
    return pending;
  });
}
