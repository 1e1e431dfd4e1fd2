import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

/** The numbered migrations, `db/NNNN_name.sql`, applied in name order. */
const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'db');

/** The migrations in `dir` that have not run yet, in the order they will run. */
export function pendingMigrations(db: Database.Database, dir = MIGRATIONS_DIR): string[] {
  const applied = new Set(
    db
      .prepare<[], { name: string }>('SELECT name FROM schema_migrations')
      .all()
      .map((r) => r.name),
  );
  return readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f) && !applied.has(f))
    .sort();
}

/** Applies numbered migrations from `db/` that have not run yet, each in its own transaction. */
export function migrate(db: Database.Database, dir = MIGRATIONS_DIR): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const pending = pendingMigrations(db, dir);
  for (const file of pending) {
    const sql = readFileSync(join(dir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(file, new Date().toISOString());
    }).immediate();
  }
  return pending;
}
