import type { Db } from './db.ts';
import type { DriftScanRecord, Upgrade, UpgradeCounts, UpgradeItem, UpgradeItemStatus } from '../domain/drift.ts';
import { isUniqueViolation, present, type Row } from './rows.ts';

/**
 * The SQL of drift and fleet upgrades (db/0011_upgrades.sql), reached through `store.drift`: the
 * drift job's latest counts, and upgrades with their namespaces. Every state change is a
 * compare-and-set, so two workers never claim the same namespace and two clicks never both resume.
 */

const UPGRADE = `SELECT id, cluster, status, started_by AS "startedBy", started_at AS "startedAt", finished_at AS "finishedAt",
  channel, thread_ts AS "threadTs" FROM upgrades`;
const ITEM = 'SELECT request_id AS "requestId", position, status, attempts, last_error AS "lastError" FROM upgrade_items';

export class DriftStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insertScan: db.prepare('INSERT INTO drift_scans (at, namespaces, edited, outdated, summary) VALUES (@at, @namespaces, @edited, @outdated, @summary)'),
      latestScan: db.prepare<[], DriftScanRecord>('SELECT at, namespaces, edited, outdated, summary FROM drift_scans ORDER BY id DESC LIMIT 1'),
      insertUpgrade: db.prepare<[string, string, string, string], { id: number }>(
        `INSERT INTO upgrades (cluster, status, started_by, started_at, channel) VALUES (?, 'running', ?, ?, ?) RETURNING id`,
      ),
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
         RETURNING request_id AS "requestId"`,
      ),
      retryItem: db.prepare(`UPDATE upgrade_items SET attempts = attempts + 1, last_error = ? WHERE upgrade_id = ? AND request_id = ? AND status = 'running'`),
      finishItem: db.prepare(
        `UPDATE upgrade_items SET status = ?, last_error = ?, finished_at = ? WHERE upgrade_id = ? AND request_id = ? AND status = 'running'`,
      ),
      release: db.prepare(`UPDATE upgrade_items SET status = 'pending' WHERE upgrade_id = ? AND status IN (${db.dialect.jsonArray('?', 'text')})`),
      finish: db.prepare(`UPDATE upgrades SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'`),
      reopen: db.prepare(`UPDATE upgrades SET status = 'running', finished_at = NULL WHERE id = ? AND status = 'failed'`),
      setThread: db.prepare('UPDATE upgrades SET thread_ts = ? WHERE id = ?'),
    };
  }

  /** Keeps the counts of a drift scan (the digest shows the latest). */
  async recordScan(scan: DriftScanRecord): Promise<void> {
    await this.stmts.insertScan.run(scan);
  }

  async latestScan(): Promise<DriftScanRecord | undefined> {
    return await this.stmts.latestScan.get();
  }

  /**
   * Starts an upgrade of these requests' namespaces, in this order; undefined when the cluster
   * already has a running upgrade (someone clicked first).
   */
  async startUpgrade(input: { cluster: string; by: string; channel: string; requestIds: readonly number[] }, now: Date): Promise<Upgrade | undefined> {
    try {
      return await this.db.transaction(async () => {
        const id = Number((await this.stmts.insertUpgrade.get(input.cluster, input.by, now.toISOString(), input.channel))?.id);
        for (const [position, requestId] of input.requestIds.entries()) await this.stmts.insertItem.run(id, requestId, position);
        return await this.get(id);
      });
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  async get(id: number): Promise<Upgrade | undefined> {
    const row = await this.stmts.byId.get(id);
    return row && present<Upgrade>(row);
  }

  /** The upgrade running on this cluster, if any. */
  async runningOn(cluster: string): Promise<Upgrade | undefined> {
    const row = await this.stmts.runningOn.get(cluster);
    return row && present<Upgrade>(row);
  }

  /** Every running upgrade (at start-up, the interrupted ones). */
  async running(): Promise<Upgrade[]> {
    return (await this.stmts.running.all()).map((row) => present<Upgrade>(row));
  }

  async items(id: number): Promise<UpgradeItem[]> {
    return (await this.stmts.items.all(id)).map((row) => present<UpgradeItem>(row));
  }

  async counts(id: number): Promise<UpgradeCounts> {
    const counts: UpgradeCounts = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const { status, n } of await this.stmts.counts.all(id)) counts[status] = n;
    return counts;
  }

  /**
   * Claims the next pending namespace of a running upgrade; undefined when none is left or it
   * stopped. In a transaction: on PostgreSQL, a statement alone that waited for another worker's
   * claim of the same row would find it taken and claim nothing, though other rows were pending;
   * the transaction is run again instead.
   */
  async claim(id: number): Promise<number | undefined> {
    return await this.db.transaction(async () => (await this.stmts.claim.get({ id }))?.requestId);
  }

  /** Another attempt at a claimed namespace, after `error`. */
  async retryItem(id: number, requestId: number, error: string): Promise<void> {
    await this.stmts.retryItem.run(error, id, requestId);
  }

  /** Ends a claimed namespace; false when it was not claimed. */
  async finishItem(id: number, requestId: number, status: 'done' | 'failed', error: string | undefined, now: Date): Promise<boolean> {
    return (await this.stmts.finishItem.run(status, error ?? null, now.toISOString(), id, requestId)).changes === 1;
  }

  /** Namespaces claimed by a process that stopped (and, on Resume, the failed ones) are pending again. */
  async release(id: number, from: readonly ('running' | 'failed')[]): Promise<void> {
    await this.stmts.release.run(id, JSON.stringify(from));
  }

  /** Ends a running upgrade; false when it was not running (stopped by another worker, or already ended). */
  async finish(id: number, status: 'failed' | 'done', now: Date): Promise<boolean> {
    return (await this.stmts.finish.run(status, now.toISOString(), id)).changes === 1;
  }

  /**
   * Resume: a failed upgrade runs again, its failed namespaces pending; false when it was not
   * failed (another click resumed it first), or another upgrade is running on its cluster.
   */
  async reopen(id: number): Promise<boolean> {
    try {
      return await this.db.transaction(async () => {
        if ((await this.stmts.reopen.run(id)).changes !== 1) return false;
        await this.release(id, ['failed', 'running']);
        return true;
      });
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async setThread(id: number, ts: string): Promise<void> {
    await this.stmts.setThread.run(ts, id);
  }
}
