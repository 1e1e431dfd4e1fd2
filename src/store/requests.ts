import type { Db } from './db.ts';
import { isUniqueViolation, present, type Row } from './rows.ts';
import type { NamespaceRequest, RequestInput, RequestStatus } from '../domain/requests.ts';

/**
 * The SQL behind namespace requests (db/0001_init.sql), reached through `store` itself
 * (`store.getRequest`). Statements are prepared once; state changes are compare-and-set, so
 * concurrent clicks resolve in the database.
 */

// The columns of a request, named as its fields.
const COLUMNS = `id, namespace, cluster, team, environment, tier, purpose, expires_on AS "expiresOn", requester, status,
  auto_approved AS "autoApproved", decided_by AS "decidedBy", decided_at AS "decidedAt", decision_reason AS "decisionReason",
  card_channel AS "cardChannel", card_ts AS "cardTs",
  created_at AS "createdAt"`;
const REQUEST = `SELECT ${COLUMNS} FROM requests`;

/**
 * The leader's looks for work a replica that died left undone (`recoverOrphans`), every 2 s:
 * requests stored before `?` whose card was never recorded (and, if settled, stored since `?`),
 * and outcomes reached before `?` that the requester was not told (at most `?` of each, oldest
 * first). Each reads only its partial index (db/0014_timed_looks.sql, requests_unannounced and
 * requests_untold), whose WHERE terms are among these word for word: a look costs what it finds,
 * not the history.
 */
export const ORPHAN_LOOKS = {
  unannounced: `${REQUEST} WHERE card_ts IS NULL AND created_at < ? AND (status IN ('pending', 'approved') OR created_at >= ?) ORDER BY id LIMIT ?`,
  untold: `${REQUEST} WHERE status IN ('ready', 'failed') AND notified_status IS DISTINCT FROM status AND updated_at < ? ORDER BY updated_at, id LIMIT ?`,
} as const;

export type InsertResult =
  { created: true; request: NamespaceRequest } | { created: false; reason: 'duplicate_submission' | 'name_taken'; request: NamespaceRequest };

export type Decision = { status: 'approved' | 'denied'; by: string; reason?: string | undefined; auto?: boolean };

/** A request as its row has it: the card as two columns. */
type RequestRow = Omit<NamespaceRequest, 'card'> & { cardChannel: string | undefined; cardTs: string | undefined };

function toRequest(row: Row<RequestRow>): NamespaceRequest {
  const { cardChannel, cardTs, ...rest } = present<RequestRow>(row, { autoApproved: row.autoApproved === 1 });
  return { ...rest, card: cardChannel && cardTs ? { channel: cardChannel, ts: cardTs } : undefined };
}

export class RequestStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insertRequest: db.prepare<Record<string, unknown>, Row<RequestRow>>(
        `INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, expires_on, requester, source_view_id, created_at, updated_at)
         VALUES (@namespace, @cluster, @team, @environment, @tier, @purpose, @expiresOn, @requester, @sourceViewId, @now, @now) RETURNING ${COLUMNS}`,
      ),
      requestById: db.prepare<[number], Row<RequestRow>>(`${REQUEST} WHERE id = ?`),
      requestBySourceView: db.prepare<[string], Row<RequestRow>>(`${REQUEST} WHERE source_view_id = ?`),
      // One statement, so one snapshot: the request of this form first, else the live one with its name.
      existingFor: db.prepare<{ view: string | null; cluster: string; namespace: string }, Row<RequestRow> & { sameForm: number }>(
        `SELECT ${COLUMNS}, CASE WHEN source_view_id = @view THEN 1 ELSE 0 END AS "sameForm" FROM requests
         WHERE source_view_id = @view OR (cluster = @cluster AND namespace = @namespace AND status <> 'denied' AND deleted_at IS NULL)
         ORDER BY "sameForm" DESC LIMIT 1`,
      ),
      // A denied request or a deleted namespace frees its name (db/0008_lifecycle.sql).
      liveRequestByName: db.prepare<[string, string], Row<RequestRow>>(
        `${REQUEST} WHERE cluster = ? AND namespace = ? AND status <> 'denied' AND deleted_at IS NULL`,
      ),
      latestRequestByNamespace: db.prepare<[string], Row<RequestRow>>(`${REQUEST} WHERE namespace = ? ORDER BY id DESC LIMIT 1`),
      lastRequestBy: db.prepare<[string], Row<RequestRow>>(`${REQUEST} WHERE requester = ? ORDER BY id DESC LIMIT 1`),
      openRequestsBy: db.prepare<[string, number], Row<RequestRow>>(
        `${REQUEST} WHERE requester = ? AND status IN ('pending', 'approved', 'failed') ORDER BY id DESC LIMIT ?`,
      ),
      pendingRequests: db.prepare<[number], Row<RequestRow>>(`${REQUEST} WHERE status = 'pending' ORDER BY id LIMIT ?`),
      countPending: db.prepare<[], { count: number }>(`SELECT count(*) AS count FROM requests WHERE status = 'pending'`),
      setCard: db.prepare('UPDATE requests SET card_channel = ?, card_ts = ?, updated_at = ? WHERE id = ? AND card_ts IS NULL'),
      unannounced: db.prepare<[string, string, number], Row<RequestRow>>(ORPHAN_LOOKS.unannounced),
      decide: db.prepare<Record<string, unknown>, Row<RequestRow>>(
        `UPDATE requests SET status = @status, decided_by = @by, decision_reason = @reason, auto_approved = @auto,
                decided_at = @now, updated_at = @now
         WHERE id = @id AND status = 'pending' RETURNING ${COLUMNS}`,
      ),
      setStatus: db.prepare('UPDATE requests SET status = ?, updated_at = ? WHERE id = ? AND status = ?'),
      pendingOutcomes: db.prepare<[string, number], Row<RequestRow>>(ORPHAN_LOOKS.untold),
      markNotified: db.prepare('UPDATE requests SET notified_status = ? WHERE id = ? AND status = ?'),
      startTelling: db.prepare(
        'UPDATE requests SET notified_status = ?, updated_at = ? WHERE id = ? AND status = ? AND notified_status IS DISTINCT FROM ? AND notified_status IS DISTINCT FROM ?',
      ),
      telling: db.prepare<[number], { status: string; notified: string | null }>('SELECT status, notified_status AS "notified" FROM requests WHERE id = ?'),
    };
  }

  /**
   * Stores a request unless its form was submitted before (`duplicate_submission`) or its name is
   * live (`name_taken`). Both are UNIQUE indexes (source_view_id, requests_live_namespace), so a
   * submission racing another past the reads is refused by the INSERT, and then read again.
   */
  async insertRequest(input: RequestInput & { sourceViewId?: string | undefined }, now: Date): Promise<InsertResult> {
    try {
      return await this.db.transaction(async (): Promise<InsertResult> => {
        const existing = await this.existingFor(input);
        if (existing) return existing;
        // The row as made comes back with the INSERT: one read fewer in the transaction.
        const made = await this.stmts.insertRequest.get({
          ...input,
          expiresOn: input.expiresOn ?? null,
          sourceViewId: input.sourceViewId ?? null,
          now: now.toISOString(),
        });
        if (!made) throw new Error('the INSERT returned no row');
        return { created: true, request: toRequest(made) };
      }, 'read committed');
    } catch (err) {
      const existing = isUniqueViolation(err) ? await this.existingFor(input) : undefined;
      if (existing) return existing;
      throw err;
    }
  }

  /**
   * The request this submission already made, or the live one with its name: read by one
   * statement, as a READ COMMITTED transaction's two reads could see a racing submission of the
   * same form committed between them and call it a name taken.
   */
  private async existingFor(input: RequestInput & { sourceViewId?: string | undefined }): Promise<InsertResult | undefined> {
    const found = await this.stmts.existingFor.get({ view: input.sourceViewId ?? null, cluster: input.cluster, namespace: input.namespace });
    if (!found) return undefined;
    const { sameForm, ...row } = found;
    return { created: false, reason: sameForm === 1 ? 'duplicate_submission' : 'name_taken', request: toRequest(row) };
  }

  /** The request a submission of this view created, if any. */
  async findRequestBySourceView(viewId: string): Promise<NamespaceRequest | undefined> {
    const row = await this.stmts.requestBySourceView.get(viewId);
    return row && toRequest(row);
  }

  async getRequest(id: number): Promise<NamespaceRequest | undefined> {
    const row = await this.stmts.requestById.get(id);
    return row && toRequest(row);
  }

  private async mustGetRequest(id: number): Promise<NamespaceRequest> {
    const request = await this.getRequest(id);
    if (!request) throw new Error(`request ${id} does not exist`);
    return request;
  }

  async findLiveRequest(cluster: string, namespace: string): Promise<NamespaceRequest | undefined> {
    const row = await this.stmts.liveRequestByName.get(cluster, namespace);
    return row && toRequest(row);
  }

  async findLatestRequestForNamespace(namespace: string): Promise<NamespaceRequest | undefined> {
    const row = await this.stmts.latestRequestByNamespace.get(namespace);
    return row && toRequest(row);
  }

  async lastRequestBy(user: string): Promise<NamespaceRequest | undefined> {
    const row = await this.stmts.lastRequestBy.get(user);
    return row && toRequest(row);
  }

  /** A person's requests that are not settled yet (waiting, provisioning, failed), newest first. */
  async openRequestsBy(user: string, limit: number): Promise<NamespaceRequest[]> {
    return (await this.stmts.openRequestsBy.all(user, limit)).map(toRequest);
  }

  /** Requests waiting for an approver, oldest first, and how many there are in all. */
  async pendingRequests(limit: number): Promise<{ requests: NamespaceRequest[]; total: number }> {
    return { requests: (await this.stmts.pendingRequests.all(limit)).map(toRequest), total: (await this.stmts.countPending.get())?.count ?? 0 };
  }

  /** Records where the request's card was posted; false when a card was recorded already (another replica posted one). */
  async setCard(id: number, card: { channel: string; ts: string }, now: Date): Promise<boolean> {
    return (await this.stmts.setCard.run(card.channel, card.ts, now.toISOString(), id)).changes === 1;
  }

  /**
   * Requests stored before `createdBefore` whose card was never recorded, oldest first: the
   * undecided and approved ones, and those settled since (their run finished before anyone
   * finished announcing them) that were stored at `settledSince` or later.
   */
  async unannouncedRequests(window: { createdBefore: Date; settledSince: Date }, limit: number): Promise<NamespaceRequest[]> {
    return (await this.stmts.unannounced.all(window.createdBefore.toISOString(), window.settledSince.toISOString(), limit)).map(toRequest);
  }

  /**
   * Records a decision if the request is still pending. Returns the request as it now stands and
   * whether this call made the decision; `decided: false` means someone else decided first.
   */
  async decide(id: number, decision: Decision, now: Date): Promise<{ decided: boolean; request: NamespaceRequest }> {
    // The decided row comes back with the UPDATE; it is read only when someone else decided first.
    const decided = await this.stmts.decide.get({
      id,
      status: decision.status,
      by: decision.by,
      reason: decision.reason ?? null,
      auto: decision.auto ? 1 : 0,
      now: now.toISOString(),
    });
    return decided ? { decided: true, request: toRequest(decided) } : { decided: false, request: await this.mustGetRequest(id) };
  }

  /** Compare-and-set of the request status; false when it was not `from`. */
  async transition(id: number, from: RequestStatus, to: RequestStatus, now: Date): Promise<boolean> {
    return (await this.stmts.setStatus.run(to, now.toISOString(), id, from)).changes === 1;
  }

  /** Requests whose outcome, reached before `settledBefore`, the requester has not been told about yet: `limit` of them, the earliest settled first. */
  async pendingOutcomes(settledBefore: Date, limit: number): Promise<NamespaceRequest[]> {
    return (await this.stmts.pendingOutcomes.all(settledBefore.toISOString(), limit)).map(toRequest);
  }

  /**
   * Records that telling the requester about this outcome starts now (`notified_status` holds
   * `telling <status>` until `markNotified`): `started` the first time; `interrupted` when a
   * telling started before and was never recorded as done (its process died, or Slack failed), so
   * the message may have gone out; `told` when it was recorded, or the request is past this outcome.
   * The start is the request's `updated_at`: the leader's look for untold outcomes leaves a telling
   * to its replica until a claim's lapse after it began, not after the outcome was reached.
   */
  async startTelling(requestId: number, status: 'ready' | 'failed', now: Date): Promise<'started' | 'interrupted' | 'told'> {
    const telling = `telling ${status}`;
    if ((await this.stmts.startTelling.run(telling, now.toISOString(), requestId, status, status, telling)).changes === 1) return 'started';
    const current = await this.stmts.telling.get(requestId);
    return current?.status === status && current.notified === telling ? 'interrupted' : 'told';
  }

  /** Records that the requester was told about this outcome. */
  async markNotified(requestId: number, status: 'ready' | 'failed'): Promise<void> {
    await this.stmts.markNotified.run(status, requestId, status);
  }
}
