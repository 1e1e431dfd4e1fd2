import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { AdoptionStore } from './adoption.ts';
import { LifecycleStore } from './lifecycle.ts';
import { loadSurveyKey, surveyKeyCreatedMessage } from './survey-key.ts';
import { present, type Row } from './rows.ts';
import { SurveyStore } from './surveys.ts';
import type { NamespaceRequest, RequestInput, RequestStatus, Run, RunKind, RunStep } from '../domain/requests.ts';

type RunRow = Omit<Run, 'steps'>;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'db');

// The columns of each domain type, named as its fields.
const REQUEST = `SELECT id, namespace, cluster, team, environment, tier, purpose, expires_on AS expiresOn, requester, status,
  auto_approved AS autoApproved, decided_by AS decidedBy, decided_at AS decidedAt, decision_reason AS decisionReason,
  CASE WHEN card_channel IS NOT NULL AND card_ts IS NOT NULL THEN json_object('channel', card_channel, 'ts', card_ts) END AS card,
  created_at AS createdAt FROM requests`;
const RUN = 'SELECT id, request_id AS requestId, kind, status, progress_ts AS progressTs FROM runs';
const STEP = 'SELECT position, name, status, attempts, last_error AS lastError FROM run_steps';
const EVENT = 'SELECT id, at, type, actor, team, request_id AS requestId, data FROM events';

export interface EventInput {
  type: string;
  at: Date;
  actor?: string | undefined;
  team?: string | undefined;
  requestId?: number | undefined;
  data?: Record<string, unknown>;
}

export interface StoredEvent {
  id: number;
  at: string;
  type: string;
  actor: string | undefined;
  team: string | undefined;
  requestId: number | undefined;
  data: Record<string, unknown>;
}

export type InsertResult =
  { created: true; request: NamespaceRequest } | { created: false; reason: 'duplicate_submission' | 'name_taken'; request: NamespaceRequest };

export type Decision = { status: 'approved' | 'denied'; by: string; reason?: string | undefined; auto?: boolean };

function toRequest(row: Row<NamespaceRequest>): NamespaceRequest {
  const card = row.card === null ? undefined : (JSON.parse(row.card) as NamespaceRequest['card']);
  return present<NamespaceRequest>(row, { autoApproved: row.autoApproved === 1, card });
}

/**
 * The only place with SQL. Statements are prepared once; rows become domain types here.
 * State changes are compare-and-set, so concurrent clicks resolve in the database.
 */
export class Store {
  readonly db: Database.Database;
  private readonly stmts;
  private adoptionStore: AdoptionStore | undefined;
  private surveyStore: SurveyStore | undefined;
  private lifecycleStore: LifecycleStore | undefined;
  /** The survey key, read once on first use (see `open`). */
  private surveyKey: () => Buffer = () => {
    throw new Error('the survey key is not configured');
  };

  private constructor(db: Database.Database) {
    this.db = db;
    this.stmts = {
      insertRequest: db.prepare(
        `INSERT INTO requests (namespace, cluster, team, environment, tier, purpose, expires_on, requester, source_view_id, created_at, updated_at)
         VALUES (@namespace, @cluster, @team, @environment, @tier, @purpose, @expiresOn, @requester, @sourceViewId, @now, @now)`,
      ),
      requestById: db.prepare<[number], Row<NamespaceRequest>>(`${REQUEST} WHERE id = ?`),
      requestBySourceView: db.prepare<[string], Row<NamespaceRequest>>(`${REQUEST} WHERE source_view_id = ?`),
      liveRequestByName: db.prepare<[string, string], Row<NamespaceRequest>>(
        `${REQUEST} WHERE cluster = ? AND namespace = ? AND status <> 'denied' AND deleted_at IS NULL`,
      ),
      latestRequestByNamespace: db.prepare<[string], Row<NamespaceRequest>>(`${REQUEST} WHERE namespace = ? ORDER BY id DESC LIMIT 1`),
      lastRequestBy: db.prepare<[string], Row<NamespaceRequest>>(`${REQUEST} WHERE requester = ? ORDER BY id DESC LIMIT 1`),
      openRequestsBy: db.prepare<[string, number], Row<NamespaceRequest>>(
        `${REQUEST} WHERE requester = ? AND status IN ('pending', 'approved', 'failed') ORDER BY id DESC LIMIT ?`,
      ),
      pendingRequests: db.prepare<[number], Row<NamespaceRequest>>(`${REQUEST} WHERE status = 'pending' ORDER BY id LIMIT ?`),
      countPending: db.prepare<[], { count: number }>(`SELECT count(*) AS count FROM requests WHERE status = 'pending'`),
      setCard: db.prepare('UPDATE requests SET card_channel = ?, card_ts = ?, updated_at = ? WHERE id = ?'),
      decide: db.prepare(
        `UPDATE requests SET status = @status, decided_by = @by, decision_reason = @reason, auto_approved = @auto,
                decided_at = @now, updated_at = @now
         WHERE id = @id AND status = 'pending'`,
      ),
      setStatus: db.prepare('UPDATE requests SET status = ?, updated_at = ? WHERE id = ? AND status = ?'),
      insertRun: db.prepare(`INSERT INTO runs (request_id, kind, status, started_at) VALUES (?, ?, 'running', ?)`),
      insertStep: db.prepare('INSERT INTO run_steps (run_id, position, name) VALUES (?, ?, ?)'),
      runById: db.prepare<[number], Row<RunRow>>(`${RUN} WHERE id = ?`),
      latestRun: db.prepare<[number], Row<RunRow>>(`${RUN} WHERE request_id = ? ORDER BY id DESC LIMIT 1`),
      activeRuns: db.prepare<[], Row<RunRow>>(`${RUN} WHERE status = 'running' ORDER BY id`),
      stepsOf: db.prepare<[number], Row<RunStep>>(`${STEP} WHERE run_id = ? ORDER BY position`),
      startStep: db.prepare(
        `UPDATE run_steps SET status = 'running', attempts = attempts + 1, started_at = ?, finished_at = NULL
         WHERE run_id = ? AND position = ?`,
      ),
      finishStep: db.prepare('UPDATE run_steps SET status = ?, last_error = ?, finished_at = ? WHERE run_id = ? AND position = ?'),
      resetFailedSteps: db.prepare(`UPDATE run_steps SET status = 'pending' WHERE run_id = ? AND status IN ('failed', 'running')`),
      finishRun: db.prepare(`UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'`),
      reopenRun: db.prepare(`UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ? AND status = 'failed'`),
      setProgressTs: db.prepare('UPDATE runs SET progress_ts = ? WHERE id = ?'),
      pendingOutcomes: db.prepare<[], Row<NamespaceRequest>>(`${REQUEST} WHERE status IN ('ready', 'failed') AND notified_status IS NOT status ORDER BY id`),
      markNotified: db.prepare('UPDATE requests SET notified_status = ? WHERE id = ? AND status = ?'),
      insertEvent: db.prepare('INSERT INTO events (at, type, actor, team, request_id, data) VALUES (@at, @type, @actor, @team, @requestId, @data)'),
      eventsOf: db.prepare<[number], Row<StoredEvent>>(`${EVENT} WHERE request_id = ? ORDER BY id`),
    };
  }

  /**
   * Opens (creating the directory if needed) and migrates the database. `surveyKey`: the key kept
   * outside the database (src/store/survey-key.ts); without it, it is read (or made) on first use
   * from SLIPWAY_SURVEY_KEY or the key file, as the bot itself does.
   */
  static open(path: string, options: { surveyKey?: Buffer } = {}): Store {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // Erased values (pulse key material, authors) are overwritten on disk, not left in free pages.
    db.pragma('secure_delete = ON');
    migrate(db);
    const store = new Store(db);
    store.surveyKey = options.surveyKey
      ? () => options.surveyKey as Buffer
      : () => {
          const loaded = loadSurveyKey({ databasePath: path, key: process.env.SLIPWAY_SURVEY_KEY, file: process.env.SLIPWAY_SURVEY_KEY_FILE });
          if (loaded.created) process.stderr.write(`slipway: ${surveyKeyCreatedMessage(loaded.source)}\n`);
          return loaded.key;
        };
    return store;
  }

  close(): void {
    this.db.close();
  }

  /** Adoption metrics, usage snapshots and job runs (src/store/adoption.ts). */
  get adoption(): AdoptionStore {
    return (this.adoptionStore ??= new AdoptionStore(this.db));
  }

  /** Pulse surveys, the question after provisioning, feedback and mutes (src/store/surveys.ts). */
  get surveys(): SurveyStore {
    return (this.surveyStore ??= new SurveyStore(this.db, this.surveyKey));
  }

  /** Day 2: namespaces' owners, end dates and states, timers, extension and deletion requests (src/store/lifecycle.ts). */
  get lifecycle(): LifecycleStore {
    return (this.lifecycleStore ??= new LifecycleStore(this.db, (id) => this.getRequest(id)));
  }

  /** Whether the database is open and every migration in `db/` has been applied. */
  isReady(): boolean {
    if (!this.db.open) return false;
    return pendingMigrations(this.db).length === 0;
  }

  insertRequest(input: RequestInput & { sourceViewId?: string | undefined }, now: Date): InsertResult {
    return this.db
      .transaction((): InsertResult => {
        if (input.sourceViewId) {
          const existing = this.stmts.requestBySourceView.get(input.sourceViewId);
          if (existing) return { created: false, reason: 'duplicate_submission', request: toRequest(existing) };
        }
        const taken = this.stmts.liveRequestByName.get(input.cluster, input.namespace);
        if (taken) return { created: false, reason: 'name_taken', request: toRequest(taken) };
        const info = this.stmts.insertRequest.run({
          ...input,
          expiresOn: input.expiresOn ?? null,
          sourceViewId: input.sourceViewId ?? null,
          now: now.toISOString(),
        });
        return { created: true, request: this.mustGetRequest(Number(info.lastInsertRowid)) };
      })
      .immediate();
  }

  getRequest(id: number): NamespaceRequest | undefined {
    const row = this.stmts.requestById.get(id);
    return row && toRequest(row);
  }

  private mustGetRequest(id: number): NamespaceRequest {
    const request = this.getRequest(id);
    if (!request) throw new Error(`request ${id} does not exist`);
    return request;
  }

  findLiveRequest(cluster: string, namespace: string): NamespaceRequest | undefined {
    const row = this.stmts.liveRequestByName.get(cluster, namespace);
    return row && toRequest(row);
  }

  findLatestRequestForNamespace(namespace: string): NamespaceRequest | undefined {
    const row = this.stmts.latestRequestByNamespace.get(namespace);
    return row && toRequest(row);
  }

  lastRequestBy(user: string): NamespaceRequest | undefined {
    const row = this.stmts.lastRequestBy.get(user);
    return row && toRequest(row);
  }

  /** A person's requests that are not settled yet (waiting, provisioning, failed), newest first. */
  openRequestsBy(user: string, limit: number): NamespaceRequest[] {
    return this.stmts.openRequestsBy.all(user, limit).map(toRequest);
  }

  /** Requests waiting for an approver, oldest first, and how many there are in all. */
  pendingRequests(limit: number): { requests: NamespaceRequest[]; total: number } {
    return { requests: this.stmts.pendingRequests.all(limit).map(toRequest), total: this.stmts.countPending.get()?.count ?? 0 };
  }

  setCard(id: number, card: { channel: string; ts: string }, now: Date): void {
    this.stmts.setCard.run(card.channel, card.ts, now.toISOString(), id);
  }

  /**
   * Records a decision if the request is still pending. Returns the request as it now stands and
   * whether this call made the decision; `decided: false` means someone else decided first.
   */
  decide(id: number, decision: Decision, now: Date): { decided: boolean; request: NamespaceRequest } {
    const info = this.stmts.decide.run({
      id,
      status: decision.status,
      by: decision.by,
      reason: decision.reason ?? null,
      auto: decision.auto ? 1 : 0,
      now: now.toISOString(),
    });
    return { decided: info.changes === 1, request: this.mustGetRequest(id) };
  }

  /** Compare-and-set of the request status; false when it was not `from`. */
  transition(id: number, from: RequestStatus, to: RequestStatus, now: Date): boolean {
    return this.stmts.setStatus.run(to, now.toISOString(), id, from).changes === 1;
  }

  /** Starts a run with its steps; undefined when the request already has an active run. */
  startRun(requestId: number, stepNames: readonly string[], now: Date, kind: RunKind = 'provision'): Run | undefined {
    try {
      return this.db
        .transaction(() => {
          const info = this.stmts.insertRun.run(requestId, kind, now.toISOString());
          const runId = Number(info.lastInsertRowid);
          stepNames.forEach((name, position) => this.stmts.insertStep.run(runId, position, name));
          return this.mustGetRun(runId);
        })
        .immediate();
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  /**
   * Reopens a failed run so it continues from its failed step, and a failed provisioning's
   * request with it; false if the run was not failed (another Retry got there first).
   */
  reopenRun(runId: number, now: Date): boolean {
    return this.db
      .transaction(() => {
        const run = this.stmts.runById.get(runId);
        if (!run || this.stmts.reopenRun.run(runId).changes !== 1) return false;
        this.stmts.resetFailedSteps.run(runId);
        if (run.kind === 'provision') this.transition(run.requestId, 'failed', 'approved', now);
        return true;
      })
      .immediate();
  }

  getRun(id: number): Run | undefined {
    const row = this.stmts.runById.get(id);
    return row && this.toRun(row);
  }

  private mustGetRun(id: number): Run {
    const run = this.getRun(id);
    if (!run) throw new Error(`run ${id} does not exist`);
    return run;
  }

  latestRun(requestId: number): Run | undefined {
    const row = this.stmts.latestRun.get(requestId);
    return row && this.toRun(row);
  }

  activeRuns(): Run[] {
    return this.stmts.activeRuns.all().map((row) => this.toRun(row));
  }

  startStep(runId: number, position: number, now: Date): void {
    this.stmts.startStep.run(now.toISOString(), runId, position);
  }

  /** Ends an attempt: `pending` when the step will be tried again at the next start. */
  finishStep(runId: number, position: number, status: 'done' | 'failed' | 'pending', error: string | undefined, now: Date): void {
    this.stmts.finishStep.run(status, error ?? null, now.toISOString(), runId, position);
  }

  finishRun(runId: number, status: 'done' | 'failed', now: Date): boolean {
    return this.stmts.finishRun.run(status, now.toISOString(), runId).changes === 1;
  }

  /**
   * Ends a run and records what it did in one transaction, so the two never disagree after a
   * crash: a provisioning moves its request to `ready` or `failed`, a deletion that is done marks
   * the namespace deleted (a failed one leaves it `deleting`, to be retried). False when the run
   * was not running (someone else finished it).
   */
  completeRun(runId: number, requestId: number, outcome: 'done' | 'failed', now: Date): boolean {
    return this.db
      .transaction(() => {
        const run = this.stmts.runById.get(runId);
        if (!run || !this.finishRun(runId, outcome, now)) return false;
        if (run.kind === 'delete') {
          if (outcome === 'done') this.lifecycle.markDeleted(requestId, now);
          return true;
        }
        this.transition(requestId, 'approved', outcome === 'done' ? 'ready' : 'failed', now);
        // A ready namespace begins its life with its requester as owner (src/store/lifecycle.ts).
        if (outcome === 'done') this.lifecycle.track(this.mustGetRequest(requestId), now);
        return true;
      })
      .immediate();
  }

  /** Requests whose outcome the requester has not been told about yet. */
  pendingOutcomes(): NamespaceRequest[] {
    return this.stmts.pendingOutcomes.all().map(toRequest);
  }

  /** Records that the requester was told about this outcome. */
  markNotified(requestId: number, status: 'ready' | 'failed'): void {
    this.stmts.markNotified.run(status, requestId, status);
  }

  setRunProgressTs(runId: number, ts: string): void {
    this.stmts.setProgressTs.run(ts, runId);
  }

  appendEvent(event: EventInput): void {
    this.stmts.insertEvent.run({
      at: event.at.toISOString(),
      type: event.type,
      actor: event.actor ?? null,
      team: event.team ?? null,
      requestId: event.requestId ?? null,
      data: event.data ? JSON.stringify(event.data) : null,
    });
  }

  eventsFor(requestId: number): StoredEvent[] {
    return this.stmts.eventsOf
      .all(requestId)
      .map((row) => present<StoredEvent>(row, { data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {} }));
  }

  private toRun(row: Row<RunRow>): Run {
    return { ...present<RunRow>(row), steps: this.stmts.stepsOf.all(row.id).map((step) => present<RunStep>(step)) };
  }
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function pendingMigrations(db: Database.Database, dir = MIGRATIONS_DIR): string[] {
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
