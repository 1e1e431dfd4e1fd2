import type { Db, Statement } from './db.ts';
import { insertedId, isUniqueViolation, present, type Row } from './rows.ts';
import type { LifecycleStore } from './lifecycle.ts';
import type { RequestStore } from './requests.ts';
import type { Run, RunKind, RunStep } from '../domain/requests.ts';

/**
 * The SQL behind durable runs and their steps (db/0001_init.sql; `kind` since db/0008), reached
 * through `store` itself (`store.startRun`). A run and what it did to its request or namespace
 * change together, in one transaction.
 */

type RunRow = Omit<Run, 'steps'>;

// The columns of each domain type, named as its fields.
const RUN = 'SELECT id, request_id AS "requestId", kind, status, progress_ts AS "progressTs" FROM runs';
const STEP = 'SELECT position, name, status, attempts, last_error AS "lastError" FROM run_steps';

/** A replica's claim on a run: its identity, and when it last said it is alive (wall-clock time). */
export interface RunClaim {
  holder: string;
  at: Date;
}

export interface RunClaimState {
  status: Run['status'];
  holder: string | undefined;
  heartbeatAt: string | undefined;
}

/**
 * Every replica's look for runs to take over, every heartbeat: running runs nobody holds, or whose
 * holder's heartbeat is older than `?`. It reads only the partial index runs_running
 * (db/0014_timed_looks.sql), which holds the running runs.
 */
export const CLAIMABLE_RUNS = `SELECT id FROM runs WHERE status = 'running' AND (claimed_by IS NULL OR heartbeat_at IS NULL OR heartbeat_at < ?) ORDER BY id`;

function claimStatements(db: Db) {
  return {
    setClaim: db.prepare<[string | null, string | null, number]>('UPDATE runs SET claimed_by = ?, heartbeat_at = ? WHERE id = ?'),
    claimOf: db.prepare<[number], { status: Run['status']; holder: string | null; heartbeatAt: string | null }>(
      'SELECT status, claimed_by AS "holder", heartbeat_at AS "heartbeatAt" FROM runs WHERE id = ?',
    ),
    casClaim: db.prepare<[string, string, number, string | null, string | null]>(
      `UPDATE runs SET claimed_by = ?, heartbeat_at = ?
       WHERE id = ? AND status = 'running' AND claimed_by IS NOT DISTINCT FROM CAST(? AS TEXT) AND heartbeat_at IS NOT DISTINCT FROM CAST(? AS TEXT)`,
    ),
    heartbeat: db.prepare<[string, number, string]>(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND claimed_by = ? AND status = 'running'`),
    release: db.prepare<[number, string]>('UPDATE runs SET claimed_by = NULL, heartbeat_at = NULL WHERE id = ? AND claimed_by = ?'),
    claimable: db.prepare<[string], { id: number }>(CLAIMABLE_RUNS),
  };
}

export class RunStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly requests: Pick<RequestStore, 'transition' | 'getRequest'>,
    private readonly lifecycle: () => Pick<LifecycleStore, 'track' | 'markDeleted'>,
  ) {
    this.stmts = {
      insertRun: db.prepare<[number, RunKind, string, string | null, string | null], { id: number }>(
        `INSERT INTO runs (request_id, kind, status, started_at, claimed_by, heartbeat_at) VALUES (?, ?, 'running', ?, ?, ?) RETURNING id`,
      ),
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
      ...claimStatements(db),
    };
  }

  /**
   * Starts a run with its steps; undefined when the request already has an active run. Two writes
   * and no read: the run as it was made is known without reading it back.
   */
  async startRun(requestId: number, stepNames: readonly string[], now: Date, kind: RunKind = 'provision', claim?: RunClaim): Promise<Run | undefined> {
    try {
      // One active run per request is the unique index runs_one_active: no read needs a snapshot.
      return await this.db.transaction(async () => {
        // Claimed as it is made: no other replica sees it free before its starter executes it.
        const runId = await insertedId(this.stmts.insertRun, requestId, kind, now.toISOString(), claim?.holder ?? null, claim?.at.toISOString() ?? null);
        if (stepNames.length > 0) await this.insertSteps(stepNames.length).run(...stepNames.flatMap((name, position) => [runId, position, name]));
        const steps = stepNames.map((name, position): RunStep => ({ position, name, status: 'pending', attempts: 0, lastError: undefined }));
        return { id: runId, requestId, kind, status: 'running', progressTs: undefined, steps };
      }, 'read committed');
    } catch (err) {
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  private readonly stepInserts = new Map<number, Statement>();

  /** One INSERT of `count` steps (run_id, position, name for each), prepared once per count. */
  private insertSteps(count: number): Statement {
    let insert = this.stepInserts.get(count);
    if (!insert) {
      insert = this.db.prepare(`INSERT INTO run_steps (run_id, position, name) VALUES ${Array.from({ length: count }, () => '(?, ?, ?)').join(', ')}`);
      this.stepInserts.set(count, insert);
    }
    return insert;
  }

  /**
   * Reopens a failed run so it continues from its failed step, and a failed provisioning's
   * request with it; false if the run was not failed (another Retry got there first).
   */
  async reopenRun(runId: number, now: Date): Promise<boolean> {
    return await this.db.transaction(async () => {
      const run = await this.stmts.runById.get(runId);
      if (!run || (await this.stmts.reopenRun.run(runId)).changes !== 1) return false;
      await this.stmts.resetFailedSteps.run(runId);
      // Nobody executes a failed run: free to claim by whoever executes it now.
      await this.stmts.setClaim.run(null, null, runId);
      if (run.kind === 'provision') await this.requests.transition(run.requestId, 'failed', 'approved', now);
      return true;
    });
  }

  async getRun(id: number): Promise<Run | undefined> {
    const row = await this.stmts.runById.get(id);
    return row && (await this.toRun(row));
  }

  private async mustGetRun(id: number): Promise<Run> {
    const run = await this.getRun(id);
    if (!run) throw new Error(`run ${id} does not exist`);
    return run;
  }

  async latestRun(requestId: number): Promise<Run | undefined> {
    const row = await this.stmts.latestRun.get(requestId);
    return row && (await this.toRun(row));
  }

  async activeRuns(): Promise<Run[]> {
    const runs: Run[] = [];
    for (const row of await this.stmts.activeRuns.all()) runs.push(await this.toRun(row));
    return runs;
  }

  async startStep(runId: number, position: number, now: Date): Promise<void> {
    await this.stmts.startStep.run(now.toISOString(), runId, position);
  }

  /** Ends an attempt: `pending` when the step will be tried again at the next start. */
  async finishStep(runId: number, position: number, status: 'done' | 'failed' | 'pending', error: string | undefined, now: Date): Promise<void> {
    await this.stmts.finishStep.run(status, error ?? null, now.toISOString(), runId, position);
  }

  async finishRun(runId: number, status: 'done' | 'failed', now: Date): Promise<boolean> {
    return (await this.stmts.finishRun.run(status, now.toISOString(), runId)).changes === 1;
  }

  /**
   * Ends a run and records what it did in one transaction, so the two never disagree after a
   * crash: a provisioning moves its request to `ready` (its namespace's life begins, owned by the
   * requester) or `failed`; a deletion that is done marks the namespace deleted (a failed one
   * leaves it `deleting`, to be retried). False when the run was not running (someone else
   * finished it).
   */
  async completeRun(runId: number, requestId: number, outcome: 'done' | 'failed', now: Date): Promise<boolean> {
    // The run's end and its request's move are compare-and-set; its kind never changes.
    return await this.db.transaction(async () => {
      const run = await this.stmts.runById.get(runId);
      if (!run || !(await this.finishRun(runId, outcome, now))) return false;
      if (run.kind === 'delete') {
        if (outcome === 'done') await this.lifecycle().markDeleted(requestId, now);
        return true;
      }
      await this.requests.transition(requestId, 'approved', outcome === 'done' ? 'ready' : 'failed', now);
      const request = outcome === 'done' ? await this.requests.getRequest(requestId) : undefined;
      if (request) await this.lifecycle().track(request, now);
      return true;
    }, 'read committed');
  }

  async setRunProgressTs(runId: number, ts: string): Promise<void> {
    await this.stmts.setProgressTs.run(ts, runId);
  }

  // ------------------------------------------------------------------ claims (db/0013)

  /** Who executes the run and since when they last said so; undefined when there is no such run. */
  async runClaim(runId: number): Promise<RunClaimState | undefined> {
    const row = await this.stmts.claimOf.get(runId);
    return row && { status: row.status, holder: row.holder ?? undefined, heartbeatAt: row.heartbeatAt ?? undefined };
  }

  /**
   * Compare-and-set on the run's claim: `claim` replaces `expected` (what the caller read) only
   * while the run is running and nobody changed the claim since; false when someone did.
   */
  async claimRun(runId: number, claim: RunClaim, expected: Pick<RunClaimState, 'holder' | 'heartbeatAt'>): Promise<boolean> {
    const info = await this.stmts.casClaim.run(claim.holder, claim.at.toISOString(), runId, expected.holder ?? null, expected.heartbeatAt ?? null);
    return info.changes === 1;
  }

  /** Renews the holder's claim; false when the run is no longer running or another replica took it. */
  async heartbeatRun(runId: number, claim: RunClaim): Promise<boolean> {
    return (await this.stmts.heartbeat.run(claim.at.toISOString(), runId, claim.holder)).changes === 1;
  }

  /** Gives the claim up (shutdown paused the run), so another replica takes the run at once. */
  async releaseRun(runId: number, holder: string): Promise<void> {
    await this.stmts.release.run(runId, holder);
  }

  /** Running runs nobody holds, or whose holder's heartbeat is older than `lapsedBefore`. */
  async claimableRuns(lapsedBefore: Date): Promise<number[]> {
    return (await this.stmts.claimable.all(lapsedBefore.toISOString())).map((r) => r.id);
  }

  private async toRun(row: Row<RunRow>): Promise<Run> {
    return { ...present<RunRow>(row), steps: (await this.stmts.stepsOf.all(row.id)).map((step) => present<RunStep>(step)) };
  }
}
