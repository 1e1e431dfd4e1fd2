import type { Db } from './db.ts';
import type { IdleAsk, IdleCandidate, IdleStage } from '../domain/idle.ts';
import { present, type Row } from './rows.ts';

/**
 * The SQL of idle reclaim (db/0009_idle_reclaim.sql), reached through `store.idle`. Candidates come
 * from the usage states (db/0006): the latest state of each namespace, without running pods, older
 * than a cut-off; a stage moves by compare-and-set, so two sweeps or two clicks never both act.
 */

type AskRow = Omit<IdleAsk, 'notMine'> & { notMine: number };

const ASK = `SELECT id, request_id AS "requestId", idle_since AS "idleSince", asked_at AS "askedAt", asked_user AS "askedUser",
  asked_to AS "askedTo", stage, next_at AS "nextAt", team_told_at AS "teamToldAt", not_mine AS "notMine", quiet_until AS "quietUntil",
  closed_at AS "closedAt", closed_by AS "closedBy" FROM idle_asks`;

export interface IdleAskInput {
  requestId: number;
  idleSince: string;
  askedUser: string;
  nextAt: Date;
}

export class IdleStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      // The latest states without pods since before the cut-off (usage_states_stopped), less the
      // namespaces with an open conversation or one that keeps them quiet until after `now`.
      candidates: db.prepare<{ environment: string; before: string; now: string; limit: number }, IdleCandidate>(
        `SELECT s.request_id AS "requestId", s.at AS "idleSince" FROM usage_states s JOIN requests r ON r.id = s.request_id
         WHERE s.next_at IS NULL AND s.running_pods = 0 AND s.at <= @before AND r.environment = @environment
           AND NOT EXISTS (SELECT 1 FROM idle_asks a WHERE a.request_id = s.request_id
             AND (a.next_at IS NOT NULL OR a.quiet_until > @now))
         ORDER BY s.at LIMIT @limit`,
      ),
      // The namespace's latest snapshot, by the request id index (one seek, whatever the fleet).
      runningNow: db.prepare<{ requestId: number }, { running: number }>(
        `SELECT CASE WHEN present = 1 AND running_pods > 0 THEN 1 ELSE 0 END AS running
         FROM usage_snapshots WHERE request_id = @requestId ORDER BY id DESC LIMIT 1`,
      ),
      insert: db.prepare<Omit<IdleAskInput, 'nextAt'> & { nextAt: string; now: string }, { id: number }>(
        `INSERT INTO idle_asks (request_id, idle_since, asked_at, asked_user, asked_to, stage, next_at)
         VALUES (@requestId, @idleSince, @now, @askedUser, 'owner', 'asked', @nextAt) ON CONFLICT DO NOTHING RETURNING id`,
      ),
      setAskedTo: db.prepare('UPDATE idle_asks SET asked_to = ? WHERE id = ?'),
      forget: db.prepare(`DELETE FROM idle_asks WHERE id = ? AND stage = 'asked' AND team_told_at IS NULL`),
      byId: db.prepare<[number], Row<AskRow>>(`${ASK} WHERE id = ?`),
      latestOf: db.prepare<[number], Row<AskRow>>(`${ASK} WHERE request_id = ? ORDER BY id DESC LIMIT 1`),
      due: db.prepare<[string, number], Row<AskRow>>(`${ASK} WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, id LIMIT ?`),
      toldTeam: db.prepare(
        `UPDATE idle_asks SET stage = 'team_told', team_told_at = @now, next_at = @nextAt, not_mine = CASE WHEN not_mine = 1 THEN 1 ELSE CAST(@notMine AS INTEGER) END
         WHERE id = @id AND stage = @from AND next_at IS NOT NULL`,
      ),
      close: db.prepare(
        `UPDATE idle_asks SET stage = @stage, next_at = NULL, quiet_until = @quietUntil, closed_at = @now, closed_by = @by
         WHERE id = @id AND stage IN (${db.dialect.jsonArray('@from', 'text')})`,
      ),
    };
  }

  /**
   * Namespaces of an environment idle since `before` or earlier with nothing open or quiet about
   * them, longest idle first.
   */
  async candidates(environment: string, before: Date, now: Date, limit: number): Promise<IdleCandidate[]> {
    return await this.stmts.candidates.all({ environment, before: before.toISOString(), now: now.toISOString(), limit });
  }

  /** Whether the latest usage snapshot of this request's namespace shows running pods. */
  async runningNow(requestId: number): Promise<boolean> {
    return (await this.stmts.runningNow.get({ requestId }))?.running === 1;
  }

  /** Opens a conversation; undefined when one is open already (another sweep was first). */
  async open(input: IdleAskInput, now: Date): Promise<IdleAsk | undefined> {
    // No row comes back when the conflict clause kept the open one.
    const inserted = await this.stmts.insert.get({ ...input, nextAt: input.nextAt.toISOString(), now: now.toISOString() });
    return inserted ? await this.get(inserted.id) : undefined;
  }

  /** Where the question went: to the owner, or to their team once they left. */
  async setAskedTo(id: number, to: 'owner' | 'team'): Promise<void> {
    await this.stmts.setAskedTo.run(to, id);
  }

  /** Takes back a conversation whose first message could not be sent: the next sweep asks again. */
  async forget(id: number): Promise<void> {
    await this.stmts.forget.run(id);
  }

  async get(id: number): Promise<IdleAsk | undefined> {
    const row = await this.stmts.byId.get(id);
    return row && toAsk(row);
  }

  async latestOf(requestId: number): Promise<IdleAsk | undefined> {
    const row = await this.stmts.latestOf.get(requestId);
    return row && toAsk(row);
  }

  /** Open conversations whose next step is due at `now`, oldest first (reads only those). */
  async due(now: Date, limit: number): Promise<IdleAsk[]> {
    return (await this.stmts.due.all(now.toISOString(), limit)).map(toAsk);
  }

  /** The team's channel heard about it (compare-and-set from `from`); its next step is due at `nextAt`. */
  async toldTeam(id: number, from: IdleStage, nextAt: Date, notMine: boolean, now: Date): Promise<boolean> {
    return (await this.stmts.toldTeam.run({ id, from, nextAt: nextAt.toISOString(), notMine: notMine ? 1 : 0, now: now.toISOString() })).changes === 1;
  }

  /** Closes a conversation in one of the stages `from`; false when it had moved on. */
  async close(id: number, from: readonly IdleStage[], to: IdleStage, by: string, now: Date, quietUntil?: Date): Promise<boolean> {
    const params = { id, from: JSON.stringify(from), stage: to, by, now: now.toISOString(), quietUntil: quietUntil?.toISOString() ?? null };
    return (await this.stmts.close.run(params)).changes === 1;
  }
}

function toAsk(row: Row<AskRow>): IdleAsk {
  const ask = present<AskRow>(row);
  return { ...ask, notMine: ask.notMine === 1 };
}
