import type { NamespaceUsage } from '../domain/lifecycle.ts';
import type { Db } from './db.ts';
import { insertedId, window, type Window } from './rows.ts';
import type { RunClaim } from './runs.ts';

/**
 * The SQL behind adoption metrics, usage snapshots and job runs (db/0003_adoption.sql). Reached
 * through `store.adoption`; statements are prepared once. Times are ISO strings, as in `events`,
 * so string order is time order. Windows are half-open: `from <= at < to`.
 */

export interface UsageSnapshotInput {
  at: Date;
  cluster: string;
  namespace: string;
  team: string | undefined;
  requestId: number | undefined;
  present: boolean;
  runningPods: number;
}

/** The latest snapshot of a namespace, as stored (`at` an ISO string). */
export type NamespaceState = Omit<UsageSnapshotInput, 'at'> & { at: string };

export interface ReadyNamespace {
  requestId: number;
  team: string | undefined;
  cluster: string;
  namespace: string;
  at: string;
}

export interface EventCounts {
  requests: number;
  approved: number;
  autoApproved: number;
  denied: number;
  ready: number;
  runsFailed: number;
}

export interface NewTeam {
  team: string;
  firstRequestAt: string;
  firstReadyAt: string | undefined;
}

export type JobReason = 'scheduled' | 'catch-up' | 'manual';
export type JobStatus = 'running' | 'ok' | 'failed' | 'skipped';

export interface JobRun {
  id: number;
  job: string;
  reason: JobReason;
  scheduledFor: string | undefined;
  startedAt: string;
  finishedAt: string | undefined;
  status: JobStatus;
  summary: string | undefined;
  error: string | undefined;
  /** The replica executing a running run and its last heartbeat (db/0013), and the steps it recorded. */
  holder: string | undefined;
  heartbeatAt: string | undefined;
  progress: JobProgress;
}

/** What a job run has done so far: named steps and what each left (e.g. the digest's message ts). */
export type JobProgress = Readonly<Record<string, string>>;

/** Day-2 counts of a week (docs/metrics.md, "Lifecycle"). */
export interface LifecycleCounts {
  /** Distinct namespaces deleted in the week, with their tier (from the request's `request_submitted`) when known. */
  deleted: { requestId: number | undefined; cluster: string | undefined; namespace: string | undefined; tier: string | undefined; reclaimed: boolean }[];
  expired: number;
  extended: number;
}

interface StateRow {
  cluster: string;
  namespace: string;
  team: string | null;
  request_id: number | null;
  present: number;
  running_pods: number;
  at: string;
}

interface JobRunInput {
  job: string;
  reason: JobReason;
  scheduledFor: string | null;
  startedAt: string;
  finishedAt: string | null;
  status: JobStatus;
  summary: string | null;
  error: string | null;
}

interface JobRunRow {
  id: number;
  job: string;
  reason: JobReason;
  scheduled_for: string | null;
  started_at: string;
  finished_at: string | null;
  status: JobStatus;
  summary: string | null;
  error: string | null;
  claimed_by: string | null;
  heartbeat_at: string | null;
  progress: string | null;
}

const toState = (r: StateRow): NamespaceState => ({
  cluster: r.cluster,
  namespace: r.namespace,
  team: r.team ?? undefined,
  requestId: r.request_id ?? undefined,
  present: r.present === 1,
  runningPods: r.running_pods,
  at: r.at,
});

const toJobRun = (r: JobRunRow): JobRun => ({
  id: r.id,
  job: r.job,
  reason: r.reason,
  scheduledFor: r.scheduled_for ?? undefined,
  startedAt: r.started_at,
  finishedAt: r.finished_at ?? undefined,
  status: r.status,
  summary: r.summary ?? undefined,
  error: r.error ?? undefined,
  holder: r.claimed_by ?? undefined,
  heartbeatAt: r.heartbeat_at ?? undefined,
  progress: r.progress ? (JSON.parse(r.progress) as JobProgress) : {},
});

/**
 * The leader's look for job runs to take over, every heartbeat: running job runs whose holder's
 * heartbeat is older than `?`. It reads only the partial index job_runs_running
 * (db/0014_timed_looks.sql), which holds the running job runs.
 */
export const LAPSED_JOB_RUNS = `SELECT * FROM job_runs WHERE status = 'running' AND heartbeat_at IS NOT NULL AND heartbeat_at < ? ORDER BY id`;

/** Job-run claims and progress (db/0013, src/workflows/runs/claims.ts). */
function jobClaimStatements(db: Db) {
  return {
    setJobClaim: db.prepare<[string, string, number]>('UPDATE job_runs SET claimed_by = ?, heartbeat_at = ? WHERE id = ?'),
    jobRunById: db.prepare<[number], JobRunRow>('SELECT * FROM job_runs WHERE id = ?'),
    lapsedJobRuns: db.prepare<[string], JobRunRow>(LAPSED_JOB_RUNS),
    casJobClaim: db.prepare<[string, string, number, string | null, string | null]>(
      `UPDATE job_runs SET claimed_by = ?, heartbeat_at = ?
       WHERE id = ? AND status = 'running' AND claimed_by IS NOT DISTINCT FROM CAST(? AS TEXT) AND heartbeat_at IS NOT DISTINCT FROM CAST(? AS TEXT)`,
    ),
    heartbeatJobRun: db.prepare<[string, number, string]>(`UPDATE job_runs SET heartbeat_at = ? WHERE id = ? AND claimed_by = ? AND status = 'running'`),
    setJobProgress: db.prepare<[string, number, string]>(`UPDATE job_runs SET progress = ? WHERE id = ? AND claimed_by = ? AND status = 'running'`),
  };
}

// The latest row of each namespace before a cut-off (of two at the same moment, the one written
// later), by a pass over the snapshots before it.
const STATE_BEFORE = `SELECT cluster, namespace, team, request_id, present, running_pods, at FROM (
    SELECT cluster, namespace, team, request_id, present, running_pods, at,
           ROW_NUMBER() OVER (PARTITION BY cluster, namespace ORDER BY at DESC, id DESC) AS latest
    FROM usage_snapshots WHERE at < @before) ranked
  WHERE latest = 1`;

// The namespaces present without running pods through a window [@from, @to): the states without
// pods open at its start (see presentAt) that no snapshot in the window ends, by pods, deletion or
// another request id. A state whose next snapshot comes after the window (or none yet) lasts
// through it; only the others are looked up in usage_snapshots_namespace.
const IDLE = `
  SELECT cluster, namespace, team, request_id, at FROM usage_states
  WHERE next_at IS NULL AND at < @from AND running_pods = 0
  UNION ALL
  SELECT cluster, namespace, team, request_id, at FROM usage_states
  WHERE next_at >= @to AND at < @from AND running_pods = 0
  UNION ALL
  SELECT s.cluster, s.namespace, s.team, s.request_id, s.at FROM usage_states s
  WHERE s.next_at >= @from AND s.next_at < @to AND s.at < @from AND s.running_pods = 0
    AND NOT EXISTS (
      SELECT 1 FROM usage_snapshots u
      WHERE u.cluster = s.cluster AND u.namespace = s.namespace AND u.at >= @from AND u.at < @to
        AND (u.running_pods > 0 OR u.present = 0 OR u.request_id IS DISTINCT FROM s.request_id))`;

/** SQLite's BINARY collation: code unit order, as `<` compares strings. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class AdoptionStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    const sql = db.dialect;
    // Policy approvals are counted from their own partial index (events_auto_approved), not from
    // each approval's data. SQLite's planner, left alone, takes events_type_at and reads the data;
    // PostgreSQL picks the partial index by itself (and has no INDEXED BY).
    const autoApprovedIndex = db.engine === 'sqlite' ? 'INDEXED BY events_auto_approved' : '';
    this.stmts = {
      eventCounts: db.prepare<{ from: string; to: string }, { type: string; n: number; auto: number }>(
        `SELECT type, COUNT(*) AS n,
                (SELECT COUNT(*) FROM events a ${autoApprovedIndex}
                 WHERE a.type = 'request_approved' AND ${sql.jsonTrue('a.data', 'auto')} AND a.at >= @from AND a.at < @to) AS auto
         FROM events
         WHERE type IN ('request_submitted', 'request_approved', 'request_denied', 'namespace_ready', 'run_failed')
           AND at >= @from AND at < @to
         GROUP BY type`,
      ),
      countRequests: db.prepare<{ from: string; to: string }, { n: number }>(
        `SELECT COUNT(*) AS n FROM events WHERE type = 'request_submitted' AND at >= @from AND at < @to`,
      ),
      // Durations are written with their events (db/0006_metric_rows.sql): a window of them is one
      // range of an index, however long the history.
      readyMs: db.prepare<Window, number>(`SELECT ms FROM metric_durations WHERE kind = 'ready' AND at >= @from AND at < @to`).pluck(),
      approvalWaitMs: db.prepare<Window, number>(`SELECT ms FROM metric_durations WHERE kind = 'approval_wait' AND at >= @from AND at < @to`).pluck(),
      teamsWithRequests: db
        .prepare<Window, string>(
          `SELECT DISTINCT team FROM events
           WHERE type = 'request_submitted' AND at >= @from AND at < @to AND team IS NOT NULL`,
        )
        .pluck(),
      newTeams: db.prepare<{ from: string; to: string }, { team: string; first_request: string; first_ready: string | null }>(
        `SELECT f.team AS team, f.at AS first_request,
                (SELECT MIN(r.at) FROM events r WHERE r.type = 'namespace_ready' AND r.team = f.team AND r.at >= @from) AS first_ready
         FROM team_first_requests f
         WHERE f.at >= @from AND f.at < @to
         ORDER BY f.at, f.team`,
      ),
      requester: db.prepare<[number], { actor: string | null }>(`SELECT actor FROM events WHERE request_id = ? AND type = 'request_submitted' LIMIT 1`),
      // Ranges of usage_states_running and usage_states_stopped; sorted by the caller, since an
      // ORDER BY here makes SQLite walk the whole table in namespace order instead.
      presentAt: db.prepare<{ before: string }, StateRow>(
        [
          'next_at >= @before AND running_pods > 0',
          'next_at IS NULL AND running_pods > 0',
          'next_at >= @before AND running_pods = 0',
          'next_at IS NULL AND running_pods = 0',
        ]
          .map(
            (open) => `SELECT cluster, namespace, team, request_id, 1 AS present, running_pods, at
                       FROM usage_states WHERE ${open} AND at < @before`,
          )
          .join(' UNION ALL '),
      ),
      snapshotsBetween: db.prepare<{ from: string; to: string }, StateRow>(
        `SELECT cluster, namespace, team, request_id, present, running_pods, at
         FROM usage_snapshots WHERE at >= @from AND at < @to ORDER BY at, id`,
      ),
      lastRunningBefore: db.prepare<{ cluster: string; namespace: string; requestId: number | null; before: string }, { at: string }>(
        `SELECT at FROM usage_snapshots
         WHERE cluster = @cluster AND namespace = @namespace AND request_id IS NOT DISTINCT FROM @requestId AND running_pods > 0 AND at < @before
         ORDER BY at DESC LIMIT 1`,
      ),
      firstWorkloadMs: db
        .prepare<Window, number>(
          // CROSS JOIN keeps the week's first workloads as the outer loop in SQLite; the ready event
          // is then one seek in events_request_type. (The join condition is in WHERE: PostgreSQL's
          // CROSS JOIN takes no ON.)
          `SELECT ${sql.msBetween('f.at', 'r.at')} AS ms
           FROM first_workloads f
           CROSS JOIN events r
           WHERE r.request_id = f.request_id AND r.type = 'namespace_ready' AND f.at >= @from AND f.at < @to`,
        )
        .pluck(),
      // The namespaces that ran pods at some moment of the window, by team: each namespace's
      // latest state with pods begun before the window's end, if it had not ended before the
      // window's start. A state that lasts past the window's end is its namespace's latest; one
      // that ended inside the window is unless a later one with pods follows.
      activeByTeam: db.prepare<Window, { team: string | null; n: number }>(
        `SELECT team, COUNT(*) AS n FROM (
           SELECT team FROM usage_states WHERE next_at IS NULL AND at < @to AND running_pods > 0
           UNION ALL
           SELECT team FROM usage_states WHERE next_at >= @to AND at < @to AND running_pods > 0
           UNION ALL
           SELECT s.team FROM usage_states s
           WHERE s.next_at >= @from AND s.next_at < @to AND s.at < @to AND s.running_pods > 0
             AND NOT EXISTS (
               SELECT 1 FROM usage_states l
               WHERE l.cluster = s.cluster AND l.namespace = s.namespace AND l.at >= s.at AND l.at < @to AND l.running_pods > 0
                 AND (l.at > s.at OR l.snapshot_id > s.snapshot_id))) active
         GROUP BY team`,
      ),
      idleCount: db.prepare<Window, { n: number }>(`SELECT COUNT(*) AS n FROM (${IDLE}) idle`),
      idleOldest: db.prepare<Window & { limit: number }, StateRow & { total: number }>(
        `SELECT cluster, namespace, team, request_id, 1 AS present, 0 AS running_pods, at, COUNT(*) OVER () AS total
         FROM (${IDLE}) idle
         ORDER BY at, namespace, cluster LIMIT @limit`,
      ),
      latestStates: db.prepare<{ before: string }, StateRow>(STATE_BEFORE),
      // Each request's latest snapshot (of two at the same moment, the one written later): a few
      // seeks per request in usage_snapshots_request. The ids come as one JSON array so the
      // statement is prepared once whatever their number.
      usageOf: db.prepare<[string], { request_id: number; running_pods: number; at: string; last_running: string | null }>(
        `SELECT u.request_id, u.running_pods, u.at,
                (SELECT MAX(r.at) FROM usage_snapshots r WHERE r.request_id = u.request_id AND r.running_pods > 0) AS last_running
         FROM usage_snapshots u
         WHERE u.request_id IN (${sql.jsonArray('?', 'integer')})
           AND NOT EXISTS (SELECT 1 FROM usage_snapshots l WHERE l.request_id = u.request_id AND (l.at > u.at OR (l.at = u.at AND l.id > u.id)))`,
      ),
      deletedIn: db.prepare<Window, { request_id: number | null; cluster: string | null; namespace: string | null; tier: string | null; reclaimed: number }>(
        `SELECT d.request_id, ${sql.jsonText('d.data', 'cluster')} AS cluster, ${sql.jsonText('d.data', 'namespace')} AS namespace,
                (SELECT ${sql.jsonText('s.data', 'tier')} FROM events s
                 WHERE s.request_id = d.request_id AND s.type = 'request_submitted' LIMIT 1) AS tier,
                CASE WHEN EXISTS (SELECT 1 FROM events i WHERE i.request_id = d.request_id AND i.type = 'idle_asked' AND i.at <= d.at)
                     THEN 1 ELSE 0 END AS reclaimed
         FROM events d WHERE d.type = 'namespace_deleted' AND d.at >= @from AND d.at < @to ORDER BY d.at, d.id`,
      ),
      lifecycleCounts: db.prepare<Window, { type: string; n: number }>(
        // Namespaces that reached their end date count once each; every extension counts.
        `SELECT type, COUNT(DISTINCT CASE WHEN type = 'expiring' THEN coalesce(request_id, -id) ELSE id END) AS n FROM events
         WHERE type IN ('expiring', 'extended') AND at >= @from AND at < @to GROUP BY type`,
      ),
      readyWithoutSnapshot: db.prepare<
        { from: string; to: string },
        { request_id: number; team: string | null; cluster: string | null; namespace: string | null; at: string }
      >(
        `SELECT r.request_id, r.team, ${sql.jsonText('r.data', 'cluster')} AS cluster, ${sql.jsonText('r.data', 'namespace')} AS namespace, r.at
         FROM events r
         WHERE r.type = 'namespace_ready' AND r.at >= @from AND r.at < @to AND r.request_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM usage_snapshots u WHERE u.request_id = r.request_id)`,
      ),
      insertSnapshot: db.prepare(
        `INSERT INTO usage_snapshots (at, cluster, namespace, team, request_id, present, running_pods)
         VALUES (@at, @cluster, @namespace, @team, @requestId, @present, @runningPods)`,
      ),
      snapshotCount: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM usage_snapshots'),
      activeJobRun: db.prepare<[string], JobRunRow>(`SELECT * FROM job_runs WHERE job = ? AND status = 'running' ORDER BY id DESC`),
      insertJobRun: db.prepare<JobRunInput, { id: number }>(
        `INSERT INTO job_runs (job, reason, scheduled_for, started_at, finished_at, status, summary, error)
         VALUES (@job, @reason, @scheduledFor, @startedAt, @finishedAt, @status, @summary, @error) RETURNING id`,
      ),
      claimSlot: db.prepare<{ job: string; scheduledFor: string; runId: number }>(
        `INSERT INTO job_slots (job, scheduled_for, run_id) VALUES (@job, @scheduledFor, @runId)`,
      ),
      slotRun: db.prepare<{ job: string; scheduledFor: string }, JobRunRow>(
        `SELECT r.* FROM job_slots s JOIN job_runs r ON r.id = s.run_id WHERE s.job = @job AND s.scheduled_for = @scheduledFor`,
      ),
      finishJobRun: db.prepare(
        `UPDATE job_runs SET status = @status, finished_at = @finishedAt, summary = @summary, error = @error
         WHERE id = @id AND status = 'running'`,
      ),
      lastJobRun: db.prepare<[string], JobRunRow>(`SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1`),
      lastCompletedJobRun: db.prepare<[string], JobRunRow>(`SELECT * FROM job_runs WHERE job = ? AND status <> 'skipped' ORDER BY id DESC LIMIT 1`),
      ranSince: db.prepare<{ job: string; since: string }, { n: number }>(
        `SELECT COUNT(*) AS n FROM job_runs
         WHERE job = @job AND status <> 'skipped' AND (started_at >= @since OR scheduled_for >= @since)`,
      ),
      jobRuns: db.prepare<[string, number], JobRunRow>(`SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT ?`),
      ...jobClaimStatements(db),
    };
  }

  // ------------------------------------------------------------------ events

  async eventCounts(from: Date, to: Date): Promise<EventCounts> {
    const counts: EventCounts = { requests: 0, approved: 0, autoApproved: 0, denied: 0, ready: 0, runsFailed: 0 };
    for (const row of await this.stmts.eventCounts.all(window(from, to))) {
      if (row.type === 'request_submitted') counts.requests = row.n;
      if (row.type === 'request_approved') {
        counts.approved = row.n;
        counts.autoApproved = row.auto;
      }
      if (row.type === 'request_denied') counts.denied = row.n;
      if (row.type === 'namespace_ready') counts.ready = row.n;
      if (row.type === 'run_failed') counts.runsFailed = row.n;
    }
    return counts;
  }

  async countRequests(from: Date, to: Date): Promise<number> {
    return (await this.stmts.countRequests.get(window(from, to)))?.n ?? 0;
  }

  /** Request submitted → namespace ready, ms, for namespaces that became ready in the window. */
  async readyMs(from: Date, to: Date): Promise<number[]> {
    return await this.stmts.readyMs.all(window(from, to));
  }

  /** Request submitted → a person's decision, ms, for decisions in the window (auto-approvals excluded). */
  async approvalWaitMs(from: Date, to: Date): Promise<number[]> {
    return await this.stmts.approvalWaitMs.all(window(from, to));
  }

  async teamsWithRequests(from: Date, to: Date): Promise<string[]> {
    return await this.stmts.teamsWithRequests.all(window(from, to));
  }

  /** Teams whose first request ever was in the window, with their first ready namespace (any time after). */
  async newTeams(from: Date, to: Date): Promise<NewTeam[]> {
    return (await this.stmts.newTeams.all(window(from, to))).map((r) => ({
      team: r.team,
      firstRequestAt: r.first_request,
      firstReadyAt: r.first_ready ?? undefined,
    }));
  }

  async requester(requestId: number): Promise<string | undefined> {
    return (await this.stmts.requester.get(requestId))?.actor ?? undefined;
  }

  // ------------------------------------------------------------------ usage

  /**
   * The namespaces present at `at`: each one's latest snapshot before it, if that says present.
   * Read from the states open at `at` (usage_states), so it costs the namespaces there, not the
   * snapshots before.
   */
  async presentAt(at: Date): Promise<NamespaceState[]> {
    // By cluster, then namespace, in SQLite's BINARY order (as the snapshots are indexed).
    return (await this.stmts.presentAt.all({ before: at.toISOString() }))
      .sort((a, b) => compareText(a.cluster, b.cluster) || compareText(a.namespace, b.namespace))
      .map(toState);
  }

  /** Snapshot rows written in the window, oldest first. */
  async snapshotsBetween(from: Date, to: Date): Promise<NamespaceState[]> {
    return (await this.stmts.snapshotsBetween.all(window(from, to))).map(toState);
  }

  /** When a namespace (this incarnation of it) last had running pods before `before`. */
  async lastRunning(state: Pick<NamespaceState, 'cluster' | 'namespace' | 'requestId'>, before: Date): Promise<string | undefined> {
    return (await this.stmts.lastRunningBefore.get({ ...key(state), before: before.toISOString() }))?.at;
  }

  /** Namespace ready → first running pods seen, ms, for first workloads seen in the window. */
  async firstWorkloadMs(from: Date, to: Date): Promise<number[]> {
    return await this.stmts.firstWorkloadMs.all(window(from, to));
  }

  /**
   * Namespaces with running pods at some moment of the window: running at its start (each one's
   * latest snapshot before it) or in a snapshot inside it. Counted per team, each namespace under
   * the team of its latest such snapshot.
   */
  async activeByTeam(from: Date, to: Date): Promise<{ team: string | undefined; namespaces: number }[]> {
    return (await this.stmts.activeByTeam.all(window(from, to))).map((r) => ({ team: r.team ?? undefined, namespaces: r.n }));
  }

  /** How many namespaces were present through the whole window (same incarnation) without a running pod. */
  async idleCount(from: Date, to: Date): Promise<number> {
    return (await this.stmts.idleCount.get(window(from, to)))?.n ?? 0;
  }

  /**
   * The namespaces idle through the window (as idleCount counts them), how many, and the ones
   * idle longest: oldest state first, then by name (namespace names are DNS labels, whose
   * code-unit order is their alphabetical order), at most `limit`.
   */
  async idleNamespaces(from: Date, to: Date, limit: number): Promise<{ total: number; oldest: NamespaceState[] }> {
    if (limit <= 0) return { total: await this.idleCount(from, to), oldest: [] };
    const rows = await this.stmts.idleOldest.all({ ...window(from, to), limit });
    return { total: rows[0]?.total ?? 0, oldest: rows.map(toState) };
  }

  /** Every namespace's latest snapshot before `before`. */
  async latestStates(before: Date): Promise<NamespaceState[]> {
    return (await this.stmts.latestStates.all({ before: before.toISOString() })).map(toState);
  }

  /** Namespaces that became ready in the window and that no refresh has seen yet. */
  /** The usage of these requests' namespaces, from their snapshots; none for a namespace never seen. */
  async usageOf(requestIds: readonly number[]): Promise<Map<number, NamespaceUsage>> {
    const usage = new Map<number, NamespaceUsage>();
    if (requestIds.length === 0) return usage;
    for (const row of await this.stmts.usageOf.all(JSON.stringify(requestIds))) {
      usage.set(row.request_id, { requestId: row.request_id, runningPods: row.running_pods, since: row.at, lastRunningAt: row.last_running ?? undefined });
    }
    return usage;
  }

  /**
   * Deleted namespaces (each once, however many `namespace_deleted` events it has), namespaces
   * that reached their end date (`expiring`) and extensions (`extended`) in [from, to).
   */
  async lifecycleCounts(from: Date, to: Date): Promise<LifecycleCounts> {
    const window = { from: from.toISOString(), to: to.toISOString() };
    const seen = new Set<string>();
    const deleted: LifecycleCounts['deleted'] = [];
    for (const row of await this.stmts.deletedIn.all(window)) {
      const key = row.request_id !== null ? `#${row.request_id}` : `${row.cluster ?? ''}/${row.namespace ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      deleted.push({
        requestId: row.request_id ?? undefined,
        cluster: row.cluster ?? undefined,
        namespace: row.namespace ?? undefined,
        tier: row.tier ?? undefined,
        // Asked about as idle before it went (src/workflows/lifecycle/idle.ts): reclaimed.
        reclaimed: row.reclaimed === 1,
      });
    }
    const counts = new Map((await this.stmts.lifecycleCounts.all(window)).map((row) => [row.type, row.n]));
    return { deleted, expired: counts.get('expiring') ?? 0, extended: counts.get('extended') ?? 0 };
  }

  async readyWithoutSnapshot(from: Date, to: Date): Promise<ReadyNamespace[]> {
    return (await this.stmts.readyWithoutSnapshot.all(window(from, to)))
      .filter((r) => r.cluster !== null && r.namespace !== null)
      .map((r) => ({ requestId: r.request_id, team: r.team ?? undefined, cluster: r.cluster ?? '', namespace: r.namespace ?? '', at: r.at }));
  }

  async insertSnapshots(rows: readonly UsageSnapshotInput[]): Promise<void> {
    await this.db.transaction(async () => {
      for (const row of rows) {
        await this.stmts.insertSnapshot.run({
          at: row.at.toISOString(),
          cluster: row.cluster,
          namespace: row.namespace,
          team: row.team ?? null,
          requestId: row.requestId ?? null,
          present: row.present ? 1 : 0,
          runningPods: row.runningPods,
        });
      }
    });
  }

  async snapshotCount(): Promise<number> {
    return (await this.stmts.snapshotCount.get())?.n ?? 0;
  }

  // ------------------------------------------------------------------ job runs

  /**
   * Records the start of a job run unless the job is already running (in any process): then the
   * attempt is recorded as `skipped` and returned with `claimed: false`. A `running` row older
   * than `staleBefore` was left by a process that stopped mid-run; it is closed as failed.
   */
  /**
   * Claims a run of the job: `slot-taken` when its schedule slot has a run already (no row is
   * written), `busy` when another run of the job is still going (recorded as skipped).
   */
  async claimJobRun(input: { job: string; reason: JobReason; scheduledFor: Date | undefined; now: Date; staleBefore: Date; claim?: RunClaim }): Promise<{
    claimed: boolean;
    run: JobRun;
    why?: 'slot-taken' | 'busy';
  }> {
    return await this.db.transaction(async () => {
      const now = input.now.toISOString();
      const slot = input.reason === 'manual' ? undefined : input.scheduledFor?.toISOString();
      const taken = slot === undefined ? undefined : await this.stmts.slotRun.get({ job: input.job, scheduledFor: slot });
      if (taken) return { claimed: false, run: toJobRun(taken), why: 'slot-taken' as const };
      let busy: JobRunRow | undefined;
      for (const row of await this.stmts.activeJobRun.all(input.job)) {
        // A run with a heartbeat is busy until it ends: once its heartbeat lapses, the leader
        // takes it over and finishes it (takeOverJobRun). Runs from before heartbeats go stale.
        if (row.heartbeat_at === null && row.started_at < input.staleBefore.toISOString()) {
          await this.stmts.finishJobRun.run({
            id: row.id,
            status: 'failed',
            finishedAt: now,
            summary: null,
            error: 'abandoned: the process stopped while the job ran',
          });
        } else {
          busy ??= row;
        }
      }
      const base = { job: input.job, reason: input.reason, scheduledFor: input.scheduledFor?.toISOString() ?? null, startedAt: now };
      if (busy) {
        const error = `still running since ${busy.started_at} (run ${busy.id})`;
        const skipped = await insertedId(this.stmts.insertJobRun, { ...base, finishedAt: now, status: 'skipped', summary: null, error });
        return { claimed: false, run: await this.mustGetRun(input.job, skipped), why: 'busy' as const };
      }
      const runId = await insertedId(this.stmts.insertJobRun, { ...base, finishedAt: null, status: 'running', summary: null, error: null });
      if (input.claim) await this.stmts.setJobClaim.run(input.claim.holder, input.claim.at.toISOString(), runId);
      // In this immediate transaction the read above has seen every claim; should a claim get
      // past it (an engine without such a transaction), the primary key refuses it and the whole
      // claim rolls back.
      if (slot !== undefined) await this.stmts.claimSlot.run({ job: input.job, scheduledFor: slot, runId });
      return { claimed: true, run: await this.mustGetRun(input.job, runId) };
    });
  }

  async finishJobRun(id: number, outcome: { status: 'ok' | 'failed'; summary?: string | undefined; error?: string | undefined }, now: Date): Promise<void> {
    await this.stmts.finishJobRun.run({
      id,
      status: outcome.status,
      finishedAt: now.toISOString(),
      summary: outcome.summary ?? null,
      error: outcome.error ?? null,
    });
  }

  async lastJobRun(job: string, options: { includeSkipped?: boolean } = {}): Promise<JobRun | undefined> {
    const row = options.includeSkipped ? await this.stmts.lastJobRun.get(job) : await this.stmts.lastCompletedJobRun.get(job);
    return row && toJobRun(row);
  }

  /** Whether the job ran (or started) at or after `since`, or ran for a slot at or after it. */
  async jobRanSince(job: string, since: Date): Promise<boolean> {
    return ((await this.stmts.ranSince.get({ job, since: since.toISOString() }))?.n ?? 0) > 0;
  }

  async jobRuns(job: string, limit = 20): Promise<JobRun[]> {
    return (await this.stmts.jobRuns.all(job, limit)).map(toJobRun);
  }

  // ------------------------------------------------------------------ job-run claims (db/0013)

  /** Running job runs whose holder's heartbeat is older than `lapsedBefore`. */
  async lapsedJobRuns(lapsedBefore: Date): Promise<JobRun[]> {
    return (await this.stmts.lapsedJobRuns.all(lapsedBefore.toISOString())).map(toJobRun);
  }

  /** Compare-and-set: `claim` replaces the claim read in `run`; false when someone changed it since. */
  async takeOverJobRun(run: Pick<JobRun, 'id' | 'holder' | 'heartbeatAt'>, claim: RunClaim): Promise<boolean> {
    const info = await this.stmts.casJobClaim.run(claim.holder, claim.at.toISOString(), run.id, run.holder ?? null, run.heartbeatAt ?? null);
    return info.changes === 1;
  }

  /** Renews the holder's claim; false when the run ended or another replica took it over. */
  async heartbeatJobRun(id: number, claim: RunClaim): Promise<boolean> {
    return (await this.stmts.heartbeatJobRun.run(claim.at.toISOString(), id, claim.holder)).changes === 1;
  }

  /** Records the run's progress while `holder` holds it; false when it no longer does. */
  async recordJobProgress(id: number, holder: string, progress: JobProgress): Promise<boolean> {
    return (await this.stmts.setJobProgress.run(JSON.stringify(progress), id, holder)).changes === 1;
  }

  async getJobRun(id: number): Promise<JobRun | undefined> {
    const row = await this.stmts.jobRunById.get(id);
    return row && toJobRun(row);
  }

  private async mustGetRun(job: string, id: number): Promise<JobRun> {
    const run = (await this.stmts.jobRuns.all(job, 5)).find((r) => r.id === id);
    if (!run) throw new Error(`job run ${id} does not exist`);
    return toJobRun(run);
  }
}

function key(state: Pick<NamespaceState, 'cluster' | 'namespace' | 'requestId'>) {
  return { cluster: state.cluster, namespace: state.namespace, requestId: state.requestId ?? null };
}
