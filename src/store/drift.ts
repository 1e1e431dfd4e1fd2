import type Database from 'better-sqlite3';
import type { DriftScanRecord, Upgrade, UpgradeCounts, UpgradeItem, UpgradeItemStatus } from '../domain/drift.ts';
import { isUniqueViolation, present, type Row } from './rows.ts';

/**
 * The SQL of drift and fleet upgrades (db/0011_upgrades.sql), reached through `store.drift`: the
 * drift job's latest counts, and upgrades with their namespaces. Every state change is a
 * compare-and-set, so two workers never claim the same namespace and two clicks never both resume.
 */

const UPGRADE = `SELECT id, cluster, status, started_by AS startedBy, started_at AS startedAt, finished_at AS finishedAt,
  channel, thread_ts AS threadTs FROM upgrades`;
const ITEM = 'SELECT request_id AS requestId, position, status, attempts, last_error AS lastError FROM upgrade_items';

export class DriftStore {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      insertScan: db.prepare('INSERT INTO drift_scans (at, namespaces, edited, outdated, summary) VALUES (@at, @namespaces, @edited, @outdated, @summary)'),
      latestScan: db.prepare<[], DriftScanRecord>('SELECT at, namespaces, edited, outdated, summary FROM drift_scans ORDER BY id DESC LIMIT 1'),
      insertUpgrade: db.prepare(`INSERT INTO upgrades (cluster, status, started_by, started_at, channel) VALUES (?, 'running', ?, ?, ?)`),
      insertItem: db.prepare('INSERT INTO upgrade_items (upgrade_id, request_id, position) VALUES (?, ?, ?)'),
      byId: db.prepare<[number], Row<Upgrade>>(`${UPGRADE} WHERE id = ?`),
      running: db.prepare<[], Row<Upgrade>>(`${UPGRADE} WHERE status = 'running' ORDER BY id`),
      runningOn: db.prepare<[string], Row<Upgrade>>(`${UPGRADE} WHERE status = 'running' AND cluster = ?`),
      items: db.prepare<[number], Row<UpgradeItem>>(`${ITEM} WHERE upgrade_id = ? ORDER BY position`),
      counts: db.prepare<[number], { status: UpgradeItemStatus; n: number }>(
        'SELECT status, count(*) AS n FROM upgrade_items WHERE upgrade_id = ? GROUP BY status',
      ),
      // The next pending namespace, claimed only while the upgrade is running.
      claim: db.prepare<{ id: number }, { requestId: number }>(
        `UPDATE upgrade_items SET status = 'running', attempts = attempts + 1
         WHERE upgrade_id = @id AND status = 'pending' AND EXISTS (SELECT 1 FROM upgrades WHERE id = @id AND status = 'running')
           AND position = (SELECT min(position) FROM upgrade_items WHERE upgrade_id = @id AND status = 'pending')
         RETURNING request_id AS requestId`,
      ),
      retryItem: db.prepare(`UPDATE upgrade_items SET attempts = attempts + 1, last_error = ? WHERE upgrade_id = ? AND request_id = ? AND status = 'running'`),
      finishItem: db.prepare(
        `UPDATE upgrade_items SET status = ?, last_error = ?, finished_at = ? WHERE upgrade_id = ? AND request_id = ? AND status = 'running'`,
      ),
      release: db.prepare(`UPDATE upgrade_items SET status = 'pending' WHERE upgrade_id = ? AND status IN (SELECT value FROM json_each(?))`),
      finish: db.prepare(`UPDATE upgrades SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'`),
      reopen: db.prepare(`UPDATE upgrades SET status = 'running', finished_at = NULL WHERE id = ? AND status = 'failed'`),
      setThread: db.prepare('UPDATE upgrades SET thread_ts = ? WHERE id = ?'),
    };
  }

  /** Keeps the counts of a drift scan (the digest shows the latest). */
  recordScan(scan: DriftScanRecord): void {
    this.stmts.insertScan.run(scan);
  }

  latestScan(): DriftScanRecord | undefined {
    return this.stmts.latestScan.get();
  }

  /**
   * Starts an upgrade of these requests' namespaces, in this order; undefined when the cluster
   * already has a running upgrade (someone clicked first).
   */
  startUpgrade(input: { cluster: string; by: string; channel: string; requestIds: readonly number[] }, now: Date): Upgrade | undefined {
    try {
      return this.db
        .transaction(() => {
          const id = Number(this.stmts.insertUpgrade.run(input.cluster, input.by, now.toISOString(), input.channel).lastInsertRowid);
          input.requestIds.forEach((requestId, position) => this.stmts.insertItem.run(id, requestId, position));
          return this.get(id);
        })
        .immediate();
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  get(id: number): Upgrade | undefined {
    const row = this.stmts.byId.get(id);
    return row && present<Upgrade>(row);
  }

  /** The upgrade running on this cluster, if any. */
  runningOn(cluster: string): Upgrade | undefined {
    const row = this.stmts.runningOn.get(cluster);
    return row && present<Upgrade>(row);
  }

  /** Every running upgrade (at start-up, the interrupted ones). */
  running(): Upgrade[] {
    return this.stmts.running.all().map((row) => present<Upgrade>(row));
  }

  items(id: number): UpgradeItem[] {
    return this.stmts.items.all(id).map((row) => present<UpgradeItem>(row));
  }

  counts(id: number): UpgradeCounts {
    const counts: UpgradeCounts = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const { status, n } of this.stmts.counts.all(id)) counts[status] = n;
    return counts;
  }

  /** Claims the next pending namespace of a running upgrade; undefined when none is left or it stopped. */
  claim(id: number): number | undefined {
    return this.stmts.claim.get({ id })?.requestId;
  }

  /** Another attempt at a claimed namespace, after `error`. */
  retryItem(id: number, requestId: number, error: string): void {
    this.stmts.retryItem.run(error, id, requestId);
  }

  /** Ends a claimed namespace; false when it was not claimed. */
  finishItem(id: number, requestId: number, status: 'done' | 'failed', error: string | undefined, now: Date): boolean {
    return this.stmts.finishItem.run(status, error ?? null, now.toISOString(), id, requestId).changes === 1;
  }

  /** Namespaces claimed by a process that stopped (and, on Resume, the failed ones) are pending again. */
  release(id: number, from: readonly ('running' | 'failed')[]): void {
    this.stmts.release.run(id, JSON.stringify(from));
  }

  /** Ends a running upgrade; false when it was not running (stopped by another worker, or already ended). */
  finish(id: number, status: 'failed' | 'done', now: Date): boolean {
    return this.stmts.finish.run(status, now.toISOString(), id).changes === 1;
  }

  /**
   * Resume: a failed upgrade runs again, its failed namespaces pending; false when it was not
   * failed (another click resumed it first), or another upgrade is running on its cluster.
   */
  reopen(id: number): boolean {
    try {
      return this.db
        .transaction(() => {
          if (this.stmts.reopen.run(id).changes !== 1) return false;
          this.release(id, ['failed', 'running']);
          return true;
        })
        .immediate();
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  setThread(id: number, ts: string): void {
    this.stmts.setThread.run(ts, id);
  }
}
