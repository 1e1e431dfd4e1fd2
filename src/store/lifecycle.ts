import type { Db } from './db.ts';
import type {
  ExtraAccess,
  LifecycleRequest,
  LifecycleRequestKind,
  LifecycleTimer,
  ManagedNamespace,
  NamespaceLifeState,
  NamespaceSettings,
  TimerKind,
} from '../domain/lifecycle.ts';
import type { NamespaceRequest } from '../domain/requests.ts';
import { present, type Row } from './rows.ts';

/**
 * The SQL of day 2 (db/0008_lifecycle.sql): namespaces with their owner, end date and state, the
 * timers of reminders, notices and grace ends, and extension and deletion requests. Reached through
 * `store.lifecycle`. State changes are compare-and-set, as everywhere in the store.
 */

type NamespaceRow = Omit<ManagedNamespace, 'request' | 'tier'> & { requestId: number; tier: string | undefined };
type LifecycleRequestRow = Omit<LifecycleRequest, 'message'> & { messageChannel: string | undefined; messageTs: string | undefined };
type SettingsRow = Omit<NamespaceSettings, 'access'>;

const NAMESPACE = `SELECT n.request_id AS "requestId", n.tier, n.owner, n.expires_on AS "expiresOn", n.state, n.grace_until AS "graceUntil",
  n.deleted_at AS "deletedAt" FROM namespaces n`;
const TIMER = 'SELECT id, request_id AS "requestId", kind, days_before AS "daysBefore", due_at AS "dueAt", attempts FROM lifecycle_timers';
const LIFECYCLE_REQUEST = `SELECT id, request_id AS "requestId", kind, requested_by AS "requestedBy", expires_on AS "expiresOn", reason, status,
  decided_by AS "decidedBy", decided_at AS "decidedAt", message_channel AS "messageChannel", message_ts AS "messageTs", created_at AS "createdAt",
  change FROM lifecycle_requests`;
/** Namespaces that still exist (or are being deleted), newest first. */
const LIVE = `n.state <> 'deleted'`;

export interface TimerInput {
  kind: TimerKind;
  daysBefore?: number | undefined;
  dueAt: Date;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface LifecycleRequestInput {
  requestId: number;
  kind: LifecycleRequestKind;
  requestedBy: string;
  expiresOn?: string | undefined;
  reason?: string | undefined;
  /** change: the settings asked for. */
  change?: NamespaceSettings | undefined;
}

export class LifecycleStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly getRequest: (id: number) => Promise<NamespaceRequest | undefined>,
  ) {
    this.stmts = {
      insertNamespace: db.prepare(
        `INSERT INTO namespaces (request_id, owner, expires_on, updated_at) VALUES (@requestId, @owner, @expiresOn, @now)
         ON CONFLICT (request_id) DO NOTHING`,
      ),
      byId: db.prepare<[number], Row<NamespaceRow>>(`${NAMESPACE} WHERE n.request_id = ?`),
      byName: db.prepare<[string], Row<NamespaceRow>>(
        `${NAMESPACE} JOIN requests r ON r.id = n.request_id WHERE r.namespace = ? AND ${LIVE} ORDER BY n.request_id`,
      ),
      ownedBy: db.prepare<[string, number, number], Row<NamespaceRow>>(
        `${NAMESPACE} WHERE n.owner = ? AND ${LIVE} ORDER BY n.request_id DESC LIMIT ? OFFSET ?`,
      ),
      countOwnedBy: db.prepare<[string], { count: number }>(`SELECT count(*) AS count FROM namespaces n WHERE n.owner = ? AND ${LIVE}`),
      ofTeam: db.prepare<[string, number, number], Row<NamespaceRow>>(
        `${NAMESPACE} JOIN requests r ON r.id = n.request_id WHERE r.team = ? AND ${LIVE} ORDER BY n.request_id DESC LIMIT ? OFFSET ?`,
      ),
      countOfTeam: db.prepare<[string], { count: number }>(
        `SELECT count(*) AS count FROM namespaces n JOIN requests r ON r.id = n.request_id WHERE r.team = ? AND ${LIVE}`,
      ),
      all: db.prepare<[number, number], Row<NamespaceRow>>(`${NAMESPACE} WHERE ${LIVE} ORDER BY n.request_id DESC LIMIT ? OFFSET ?`),
      countAll: db.prepare<[], { count: number }>(`SELECT count(*) AS count FROM namespaces n WHERE ${LIVE}`),
      setExpiry: db.prepare(
        `UPDATE namespaces SET expires_on = @expiresOn, state = 'active', grace_until = NULL, updated_at = @now
         WHERE request_id = @requestId AND state IN ('active', 'expired')`,
      ),
      setOwner: db.prepare(`UPDATE namespaces SET owner = @to, updated_at = @now WHERE request_id = @requestId AND owner = @from AND state <> 'deleted'`),
      setState: db.prepare(
        `UPDATE namespaces SET state = @to, grace_until = coalesce(@graceUntil, grace_until), updated_at = @now
         WHERE request_id = @requestId AND state = @from`,
      ),
      markDeleted: db.prepare(
        `UPDATE namespaces SET state = 'deleted', deleted_at = @now, updated_at = @now WHERE request_id = @requestId AND state <> 'deleted'`,
      ),
      freeName: db.prepare('UPDATE requests SET deleted_at = @now, updated_at = @now WHERE id = @requestId AND deleted_at IS NULL'),
      skipTimers: db.prepare(`UPDATE lifecycle_timers SET status = 'skipped', done_at = ? WHERE request_id = ? AND status = 'pending'`),
      insertTimer: db.prepare(
        `INSERT INTO lifecycle_timers (request_id, kind, days_before, due_at) VALUES (@requestId, @kind, @daysBefore, @dueAt)
         ON CONFLICT (request_id, kind, due_at) DO UPDATE SET status = 'pending', done_at = NULL WHERE lifecycle_timers.status = 'skipped'`,
      ),
      untimed: db.prepare<[number, number], { requestId: number }>(
        `SELECT n.request_id AS "requestId" FROM namespaces n WHERE n.request_id > ? AND n.state = 'active' AND n.expires_on IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM lifecycle_timers t WHERE t.request_id = n.request_id AND t.status = 'pending') ORDER BY n.request_id LIMIT ?`,
      ),
      dueTimers: db.prepare<[string, number], Row<LifecycleTimer>>(`${TIMER} WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`),
      pendingTimersOf: db.prepare<[number], Row<LifecycleTimer>>(`${TIMER} WHERE request_id = ? AND status = 'pending' ORDER BY due_at`),
      claimTimer: db.prepare(`UPDATE lifecycle_timers SET status = @status, done_at = @now WHERE id = @id AND status = 'pending'`),
      releaseTimer: db.prepare(
        `UPDATE lifecycle_timers SET status = 'pending', done_at = NULL, attempts = attempts + 1, last_error = @error WHERE id = @id AND status = 'done'`,
      ),
      insertRequest: db.prepare<Record<string, unknown>, { id: number }>(
        `INSERT INTO lifecycle_requests (request_id, kind, requested_by, expires_on, reason, change, created_at)
         VALUES (@requestId, @kind, @requestedBy, @expiresOn, @reason, @change, @now) RETURNING id`,
      ),
      requestById: db.prepare<[number], Row<LifecycleRequestRow>>(`${LIFECYCLE_REQUEST} WHERE id = ?`),
      openRequest: db.prepare<[number, string], Row<LifecycleRequestRow>>(`${LIFECYCLE_REQUEST} WHERE request_id = ? AND kind = ? AND status = 'pending'`),
      lastApproved: db.prepare<[number, string], Row<LifecycleRequestRow>>(
        `${LIFECYCLE_REQUEST} WHERE request_id = ? AND kind = ? AND status = 'approved' ORDER BY id DESC LIMIT 1`,
      ),
      openRequests: db.prepare<[number], Row<LifecycleRequestRow>>(`${LIFECYCLE_REQUEST} WHERE status = 'pending' ORDER BY id LIMIT ?`),
      setRequestMessage: db.prepare('UPDATE lifecycle_requests SET message_channel = ?, message_ts = ? WHERE id = ?'),
      decideRequest: db.prepare(`UPDATE lifecycle_requests SET status = @status, decided_by = @by, decided_at = @now WHERE id = @id AND status = 'pending'`),
      settings: db.prepare<[number], Row<SettingsRow>>(
        `SELECT coalesce(n.tier, r.tier) AS tier, n.expires_on AS "expiresOn", coalesce(n.purpose, r.purpose) AS purpose
         FROM namespaces n JOIN requests r ON r.id = n.request_id WHERE n.request_id = ?`,
      ),
      accessOf: db.prepare<[number], ExtraAccess>('SELECT team, role FROM namespace_access WHERE request_id = ? ORDER BY team'),
      setSettings: db.prepare(
        `UPDATE namespaces SET tier = @tier, purpose = @purpose, expires_on = @expiresOn, updated_at = @now
         WHERE request_id = @requestId AND state = 'active'`,
      ),
      clearAccess: db.prepare('DELETE FROM namespace_access WHERE request_id = ?'),
      insertAccess: db.prepare('INSERT INTO namespace_access (request_id, team, role) VALUES (@requestId, @team, @role)'),
      untoldDeletions: db.prepare<[string], { id: number }>(
        `SELECT r.id FROM runs r WHERE r.kind = 'delete' AND r.status = 'done' AND r.finished_at >= ?
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.request_id AND e.type = 'namespace_deleted' AND e.at >= r.finished_at)
         ORDER BY r.id`,
      ),
    };
  }

  /** Starts the life of a ready namespace; nothing happens if it is already tracked. */
  async track(request: NamespaceRequest, now: Date): Promise<void> {
    await this.stmts.insertNamespace.run({ requestId: request.id, owner: request.requester, expiresOn: request.expiresOn ?? null, now: now.toISOString() });
  }

  async get(requestId: number): Promise<ManagedNamespace | undefined> {
    const row = await this.stmts.byId.get(requestId);
    return row && this.toNamespace(row);
  }

  /** The live namespaces with this name (one per cluster at most). */
  async findByName(namespace: string): Promise<ManagedNamespace[]> {
    return this.toNamespaces(await this.stmts.byName.all(namespace));
  }

  async ownedBy(owner: string, page: Page): Promise<{ namespaces: ManagedNamespace[]; total: number }> {
    return {
      namespaces: await this.toNamespaces(await this.stmts.ownedBy.all(owner, page.limit, page.offset)),
      total: (await this.stmts.countOwnedBy.get(owner))?.count ?? 0,
    };
  }

  async ofTeam(team: string, page: Page): Promise<{ namespaces: ManagedNamespace[]; total: number }> {
    return {
      namespaces: await this.toNamespaces(await this.stmts.ofTeam.all(team, page.limit, page.offset)),
      total: (await this.stmts.countOfTeam.get(team))?.count ?? 0,
    };
  }

  async all(page: Page): Promise<{ namespaces: ManagedNamespace[]; total: number }> {
    return { namespaces: await this.toNamespaces(await this.stmts.all.all(page.limit, page.offset)), total: (await this.stmts.countAll.get())?.count ?? 0 };
  }

  /**
   * Moves the end date and replaces the pending timers with `timers`, in one transaction; an
   * expired namespace in its grace period becomes active again. False when it is being deleted.
   */
  async setExpiry(requestId: number, expiresOn: string | undefined, timers: readonly TimerInput[], now: Date): Promise<boolean> {
    return await this.db.transaction(async () => {
      if ((await this.stmts.setExpiry.run({ requestId, expiresOn: expiresOn ?? null, now: now.toISOString() })).changes !== 1) return false;
      await this.replaceTimers(requestId, timers, now);
      return true;
    });
  }

  /**
   * Replaces the pending timers of a namespace; timers already sent stay sent (never twice), and
   * a pending one given again stays pending.
   */
  async replaceTimers(requestId: number, timers: readonly TimerInput[], now: Date): Promise<void> {
    await this.db.transaction(async () => {
      await this.stmts.skipTimers.run(now.toISOString(), requestId);
      for (const timer of timers) {
        await this.stmts.insertTimer.run({ requestId, kind: timer.kind, daysBefore: timer.daysBefore ?? null, dueAt: timer.dueAt.toISOString() });
      }
    });
  }

  async pendingTimers(requestId: number): Promise<LifecycleTimer[]> {
    return (await this.stmts.pendingTimersOf.all(requestId)).map((row) => present<LifecycleTimer>(row));
  }

  /**
   * Live namespaces with an end date and no pending timer: ready before timers existed (db/0008),
   * or the bot stopped between a namespace becoming ready and its timers being planned. Paged by
   * request id, so a caller moves on even past a namespace that planning leaves without timers.
   */
  async untimed(afterRequestId: number, limit: number): Promise<number[]> {
    return (await this.stmts.untimed.all(afterRequestId, limit)).map((row) => row.requestId);
  }

  /** Pending timers due at `now`, oldest first. Reads only those (see lifecycle_timers_due). */
  async dueTimers(now: Date, limit: number): Promise<LifecycleTimer[]> {
    return (await this.stmts.dueTimers.all(now.toISOString(), limit)).map((row) => present<LifecycleTimer>(row));
  }

  /**
   * Takes a due timer before its message goes out (`done`), or drops it (`skipped`); false when
   * another sweep took it first. A crash after the claim loses the message rather than repeat it.
   */
  async claimTimer(id: number, status: 'done' | 'skipped', now: Date): Promise<boolean> {
    return (await this.stmts.claimTimer.run({ id, status, now: now.toISOString() })).changes === 1;
  }

  /** Gives a claimed timer back after its message could not be sent; the next sweep tries again. */
  async releaseTimer(id: number, error: string): Promise<void> {
    await this.stmts.releaseTimer.run({ id, error });
  }

  /** Compare-and-set of the owner; recorded by the caller as an event. */
  async transfer(requestId: number, from: string, to: string, now: Date): Promise<boolean> {
    return (await this.stmts.setOwner.run({ requestId, from, to, now: now.toISOString() })).changes === 1;
  }

  /** Compare-and-set of the state; `graceUntil` is kept unless given. */
  async transition(requestId: number, from: NamespaceLifeState, to: NamespaceLifeState, now: Date, graceUntil?: Date): Promise<boolean> {
    return (await this.stmts.setState.run({ requestId, from, to, graceUntil: graceUntil?.toISOString() ?? null, now: now.toISOString() })).changes === 1;
  }

  /** The namespace is gone: its state, its name (free for a new request) and its timers, at once. */
  async markDeleted(requestId: number, now: Date): Promise<boolean> {
    return await this.db.transaction(async () => {
      const at = now.toISOString();
      if ((await this.stmts.markDeleted.run({ requestId, now: at })).changes !== 1) return false;
      await this.stmts.freeName.run({ requestId, now: at });
      await this.stmts.skipTimers.run(at, requestId);
      return true;
    });
  }

  /** Opens an extension or deletion request; `created: false` returns the one already open. */
  async openRequest(input: LifecycleRequestInput, now: Date): Promise<{ created: boolean; request: LifecycleRequest }> {
    return await this.db.transaction(async () => {
      const open = await this.stmts.openRequest.get(input.requestId, input.kind);
      if (open) return { created: false, request: toLifecycleRequest(open) };
      const made = await this.stmts.insertRequest.get({
        requestId: input.requestId,
        kind: input.kind,
        requestedBy: input.requestedBy,
        expiresOn: input.expiresOn ?? null,
        reason: input.reason ?? null,
        change: input.change ? JSON.stringify(input.change) : null,
        now: now.toISOString(),
      });
      return { created: true, request: await this.mustGetRequest(Number(made?.id)) };
    });
  }

  async getRequestById(id: number): Promise<LifecycleRequest | undefined> {
    const row = await this.stmts.requestById.get(id);
    return row && toLifecycleRequest(row);
  }

  async openRequestFor(requestId: number, kind: LifecycleRequestKind): Promise<LifecycleRequest | undefined> {
    const row = await this.stmts.openRequest.get(requestId, kind);
    return row && toLifecycleRequest(row);
  }

  /** The latest approved request of this kind for a namespace (a change run applies it). */
  async lastApproved(requestId: number, kind: LifecycleRequestKind): Promise<LifecycleRequest | undefined> {
    const row = await this.stmts.lastApproved.get(requestId, kind);
    return row && toLifecycleRequest(row);
  }

  /** Extension and deletion requests waiting for an approver, oldest first. */
  async openRequests(limit: number): Promise<LifecycleRequest[]> {
    return (await this.stmts.openRequests.all(limit)).map(toLifecycleRequest);
  }

  async setRequestMessage(id: number, message: { channel: string; ts: string }): Promise<void> {
    await this.stmts.setRequestMessage.run(message.channel, message.ts, id);
  }

  /** Records a decision if the request is still open; `decided: false` means someone else was first. */
  async decideRequest(
    id: number,
    status: 'approved' | 'denied' | 'withdrawn',
    by: string,
    now: Date,
  ): Promise<{ decided: boolean; request: LifecycleRequest }> {
    const decided = (await this.stmts.decideRequest.run({ id, status, by, now: now.toISOString() })).changes === 1;
    return { decided, request: await this.mustGetRequest(id) };
  }

  /** A namespace's settings today, as `/platform change` shows and edits them. */
  async settingsOf(requestId: number): Promise<NamespaceSettings | undefined> {
    const row = await this.stmts.settings.get(requestId);
    return row && { ...present<SettingsRow>(row), access: await this.stmts.accessOf.all(requestId) };
  }

  /** Records an applied change; false (nothing written) unless the namespace is active. */
  async applySettings(requestId: number, settings: NamespaceSettings, now: Date): Promise<boolean> {
    return await this.db.transaction(async () => {
      const { tier, purpose, expiresOn } = settings;
      const changed = (await this.stmts.setSettings.run({ requestId, tier, purpose, expiresOn: expiresOn ?? null, now: now.toISOString() })).changes === 1;
      if (!changed) return false;
      await this.stmts.clearAccess.run(requestId);
      for (const access of settings.access) await this.stmts.insertAccess.run({ requestId, team: access.team, role: access.role });
      return true;
    });
  }

  /**
   * Deletion runs finished since `since` whose outcome is not recorded yet: the `namespace_deleted`
   * event is written once the owner was told, so these are the ones a crash cut short.
   */
  async untoldDeletions(since: Date): Promise<number[]> {
    return (await this.stmts.untoldDeletions.all(since.toISOString())).map((row) => row.id);
  }

  private async mustGetRequest(id: number): Promise<LifecycleRequest> {
    const request = await this.getRequestById(id);
    if (!request) throw new Error(`lifecycle request ${id} does not exist`);
    return request;
  }

  private async toNamespaces(rows: Row<NamespaceRow>[]): Promise<ManagedNamespace[]> {
    const namespaces: ManagedNamespace[] = [];
    for (const row of rows) {
      const namespace = await this.toNamespace(row);
      if (namespace) namespaces.push(namespace);
    }
    return namespaces;
  }

  private async toNamespace(row: Row<NamespaceRow>): Promise<ManagedNamespace | undefined> {
    const { requestId, tier, ...rest } = present<NamespaceRow>(row);
    const request = await this.getRequest(requestId);
    // The namespace row has a tier once a change set one; before that it is the request's.
    return request && { request, tier: tier ?? request.tier, ...rest };
  }
}

function toLifecycleRequest(row: Row<LifecycleRequestRow>): LifecycleRequest {
  const change = typeof row.change === 'string' ? settingsFromJson(row.change) : undefined;
  const { messageChannel, messageTs, ...rest } = present<LifecycleRequestRow>(row, { change });
  return { ...rest, message: messageChannel && messageTs ? { channel: messageChannel, ts: messageTs } : undefined };
}

/** Settings as stored in JSON, where an absent end date has no key. */
function settingsFromJson(text: string): NamespaceSettings {
  const { tier, expiresOn, purpose, access } = JSON.parse(text) as NamespaceSettings;
  return { tier, expiresOn, purpose, access };
}
