import type Database from 'better-sqlite3';

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

export interface TimedDuration {
  at: string;
  ms: number;
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
});

// The latest row of each namespace before a cut-off; SQLite takes the bare columns from the row
// that holds the MAX (https://sqlite.org/lang_select.html#bareagg).
const STATE_BEFORE = `SELECT cluster, namespace, team, request_id, present, running_pods, MAX(at) AS at
  FROM usage_snapshots WHERE at < @before GROUP BY cluster, namespace`;

const MS_BETWEEN = (later: string, earlier: string) => `ROUND((julianday(${later}) - julianday(${earlier})) * 86400000.0)`;

export class AdoptionStore {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      eventCounts: db.prepare<{ from: string; to: string }, { type: string; n: number; auto: number }>(
        `SELECT type, COUNT(*) AS n,
                SUM(CASE WHEN type = 'request_approved' AND json_extract(data, '$.auto') THEN 1 ELSE 0 END) AS auto
         FROM events
         WHERE type IN ('request_submitted', 'request_approved', 'request_denied', 'namespace_ready', 'run_failed')
           AND at >= @from AND at < @to
         GROUP BY type`,
      ),
      countRequests: db.prepare<{ from: string; to: string }, { n: number }>(
        `SELECT COUNT(*) AS n FROM events WHERE type = 'request_submitted' AND at >= @from AND at < @to`,
      ),
      readyDurations: db.prepare<{ from: string; to: string }, { at: string; ms: number }>(
        `SELECT r.at AS at, ${MS_BETWEEN('r.at', 's.at')} AS ms
         FROM events r JOIN events s ON s.request_id = r.request_id AND s.type = 'request_submitted'
         WHERE r.type = 'namespace_ready' AND r.at >= @from AND r.at < @to`,
      ),
      approvalWaits: db.prepare<{ from: string; to: string }, { at: string; ms: number }>(
        `SELECT d.at AS at, ${MS_BETWEEN('d.at', 's.at')} AS ms
         FROM events d JOIN events s ON s.request_id = d.request_id AND s.type = 'request_submitted'
         WHERE d.type IN ('request_approved', 'request_denied') AND d.at >= @from AND d.at < @to
           AND NOT coalesce(json_extract(d.data, '$.auto'), 0)`,
      ),
      teamsWithRequests: db.prepare<{ from: string; to: string }, { team: string }>(
        `SELECT DISTINCT team FROM events
         WHERE type = 'request_submitted' AND at >= @from AND at < @to AND team IS NOT NULL`,
      ),
      newTeams: db.prepare<{ from: string; to: string }, { team: string; first_request: string; first_ready: string | null }>(
        `SELECT e.team AS team, MIN(e.at) AS first_request,
                (SELECT MIN(r.at) FROM events r WHERE r.type = 'namespace_ready' AND r.team = e.team AND r.at >= @from) AS first_ready
         FROM events e
         WHERE e.type = 'request_submitted' AND e.at >= @from AND e.at < @to AND e.team IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM events p WHERE p.type = 'request_submitted' AND p.team = e.team AND p.at < @from)
         GROUP BY e.team
         ORDER BY first_request`,
      ),
      requester: db.prepare<[number], { actor: string | null }>(
        `SELECT actor FROM events WHERE request_id = ? AND type = 'request_submitted' LIMIT 1`,
      ),
      presentAt: db.prepare<{ before: string }, StateRow>(`SELECT * FROM (${STATE_BEFORE}) WHERE present = 1`),
      snapshotsBetween: db.prepare<{ from: string; to: string }, StateRow>(
        `SELECT cluster, namespace, team, request_id, present, running_pods, at
         FROM usage_snapshots WHERE at >= @from AND at < @to ORDER BY at, id`,
      ),
      lastRunningBefore: db.prepare<{ cluster: string; namespace: string; requestId: number | null; before: string }, { at: string }>(
        `SELECT at FROM usage_snapshots
         WHERE cluster = @cluster AND namespace = @namespace AND request_id IS @requestId AND running_pods > 0 AND at < @before
         ORDER BY at DESC LIMIT 1`,
      ),
      firstWorkloads: db.prepare<{ from: string; to: string }, { at: string; ms: number }>(
        // CROSS JOIN keeps the week's snapshots as the outer loop (SQLite would rather scan every
        // namespace_ready event); the ready event is then one seek in events_request_type.
        `SELECT u.at AS at, ${MS_BETWEEN('u.at', 'r.at')} AS ms
         FROM usage_snapshots u
         CROSS JOIN events r ON r.request_id = u.request_id AND r.type = 'namespace_ready'
         WHERE u.at >= @from AND u.at < @to AND u.running_pods > 0
           AND NOT EXISTS (
             SELECT 1 FROM usage_snapshots p
             WHERE p.cluster = u.cluster AND p.namespace = u.namespace AND p.request_id IS u.request_id
               AND p.running_pods > 0 AND p.at < u.at)`,
      ),
      latestStates: db.prepare<{ before: string }, StateRow>(STATE_BEFORE),
      readyWithoutSnapshot: db.prepare<{ from: string; to: string }, { request_id: number; team: string | null; cluster: string | null; namespace: string | null; at: string }>(
        `SELECT r.request_id, r.team, json_extract(r.data, '$.cluster') AS cluster, json_extract(r.data, '$.namespace') AS namespace, r.at
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
      insertJobRun: db.prepare(
        `INSERT INTO job_runs (job, reason, scheduled_for, started_at, finished_at, status, summary, error)
         VALUES (@job, @reason, @scheduledFor, @startedAt, @finishedAt, @status, @summary, @error)`,
      ),
      finishJobRun: db.prepare(
        `UPDATE job_runs SET status = @status, finished_at = @finishedAt, summary = @summary, error = @error
         WHERE id = @id AND status = 'running'`,
      ),
      lastJobRun: db.prepare<[string], JobRunRow>(`SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1`),
      lastCompletedJobRun: db.prepare<[string], JobRunRow>(
        `SELECT * FROM job_runs WHERE job = ? AND status <> 'skipped' ORDER BY id DESC LIMIT 1`,
      ),
      ranSince: db.prepare<{ job: string; since: string }, { n: number }>(
        `SELECT COUNT(*) AS n FROM job_runs
         WHERE job = @job AND status <> 'skipped' AND (started_at >= @since OR scheduled_for >= @since)`,
      ),
      jobRuns: db.prepare<[string, number], JobRunRow>(`SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT ?`),
    };
  }

  // ------------------------------------------------------------------ events

  eventCounts(from: Date, to: Date): EventCounts {
    const counts: EventCounts = { requests: 0, approved: 0, autoApproved: 0, denied: 0, ready: 0, runsFailed: 0 };
    for (const row of this.stmts.eventCounts.all(window(from, to))) {
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

  countRequests(from: Date, to: Date): number {
    return this.stmts.countRequests.get(window(from, to))?.n ?? 0;
  }

  /** Request submitted → namespace ready, for namespaces that became ready in the window. */
  readyDurations(from: Date, to: Date): TimedDuration[] {
    return this.stmts.readyDurations.all(window(from, to));
  }

  /** Request submitted → a person's decision, for decisions in the window (auto-approvals excluded). */
  approvalWaits(from: Date, to: Date): TimedDuration[] {
    return this.stmts.approvalWaits.all(window(from, to));
  }

  teamsWithRequests(from: Date, to: Date): string[] {
    return this.stmts.teamsWithRequests.all(window(from, to)).map((r) => r.team);
  }

  /** Teams whose first request ever was in the window, with their first ready namespace (any time after). */
  newTeams(from: Date, to: Date): NewTeam[] {
    return this.stmts.newTeams.all(window(from, to)).map((r) => ({
      team: r.team,
      firstRequestAt: r.first_request,
      firstReadyAt: r.first_ready ?? undefined,
    }));
  }

  requester(requestId: number): string | undefined {
    return this.stmts.requester.get(requestId)?.actor ?? undefined;
  }

  // ------------------------------------------------------------------ usage

  /** The namespaces present at `at`: each one's latest snapshot before it, if that says present. */
  presentAt(at: Date): NamespaceState[] {
    return this.stmts.presentAt.all({ before: at.toISOString() }).map(toState);
  }

  /** Snapshot rows written in the window, oldest first. */
  snapshotsBetween(from: Date, to: Date): NamespaceState[] {
    return this.stmts.snapshotsBetween.all(window(from, to)).map(toState);
  }

  /** When a namespace (this incarnation of it) last had running pods before `before`. */
  lastRunning(state: Pick<NamespaceState, 'cluster' | 'namespace' | 'requestId'>, before: Date): string | undefined {
    return this.stmts.lastRunningBefore.get({ ...key(state), before: before.toISOString() })?.at;
  }

  /** Namespace ready → first running pods seen, for first workloads seen in the window. */
  firstWorkloads(from: Date, to: Date): TimedDuration[] {
    return this.stmts.firstWorkloads.all(window(from, to));
  }

  /** Every namespace's latest snapshot before `before`. */
  latestStates(before: Date): NamespaceState[] {
    return this.stmts.latestStates.all({ before: before.toISOString() }).map(toState);
  }

  /** Namespaces that became ready in the window and that no refresh has seen yet. */
  readyWithoutSnapshot(from: Date, to: Date): ReadyNamespace[] {
    return this.stmts.readyWithoutSnapshot
      .all(window(from, to))
      .filter((r) => r.cluster !== null && r.namespace !== null)
      .map((r) => ({ requestId: r.request_id, team: r.team ?? undefined, cluster: r.cluster ?? '', namespace: r.namespace ?? '', at: r.at }));
  }

  insertSnapshots(rows: readonly UsageSnapshotInput[]): void {
    this.db.transaction(() => {
      for (const row of rows) {
        this.stmts.insertSnapshot.run({
          at: row.at.toISOString(),
          cluster: row.cluster,
          namespace: row.namespace,
          team: row.team ?? null,
          requestId: row.requestId ?? null,
          present: row.present ? 1 : 0,
          runningPods: row.runningPods,
        });
      }
    })();
  }

  snapshotCount(): number {
    return this.stmts.snapshotCount.get()?.n ?? 0;
  }

  // ------------------------------------------------------------------ job runs

  /**
   * Records the start of a job run unless the job is already running (in any process): then the
   * attempt is recorded as `skipped` and returned with `claimed: false`. A `running` row older
   * than `staleBefore` was left by a process that stopped mid-run; it is closed as failed.
   */
  claimJobRun(input: { job: string; reason: JobReason; scheduledFor: Date | undefined; now: Date; staleBefore: Date }): { claimed: boolean; run: JobRun } {
    return this.db.transaction(() => {
      const now = input.now.toISOString();
      let busy: JobRunRow | undefined;
      for (const row of this.stmts.activeJobRun.all(input.job)) {
        if (row.started_at < input.staleBefore.toISOString()) {
          this.stmts.finishJobRun.run({ id: row.id, status: 'failed', finishedAt: now, summary: null, error: 'abandoned: the process stopped while the job ran' });
        } else {
          busy ??= row;
        }
      }
      const base = { job: input.job, reason: input.reason, scheduledFor: input.scheduledFor?.toISOString() ?? null, startedAt: now };
      if (busy) {
        const error = `still running since ${busy.started_at} (run ${busy.id})`;
        const info = this.stmts.insertJobRun.run({ ...base, finishedAt: now, status: 'skipped', summary: null, error });
        return { claimed: false, run: this.mustGetRun(input.job, Number(info.lastInsertRowid)) };
      }
      const info = this.stmts.insertJobRun.run({ ...base, finishedAt: null, status: 'running', summary: null, error: null });
      return { claimed: true, run: this.mustGetRun(input.job, Number(info.lastInsertRowid)) };
    }).immediate();
  }

  finishJobRun(id: number, outcome: { status: 'ok' | 'failed'; summary?: string | undefined; error?: string | undefined }, now: Date): void {
    this.stmts.finishJobRun.run({ id, status: outcome.status, finishedAt: now.toISOString(), summary: outcome.summary ?? null, error: outcome.error ?? null });
  }

  lastJobRun(job: string, options: { includeSkipped?: boolean } = {}): JobRun | undefined {
    const row = options.includeSkipped ? this.stmts.lastJobRun.get(job) : this.stmts.lastCompletedJobRun.get(job);
    return row && toJobRun(row);
  }

  /** Whether the job ran (or started) at or after `since`, or ran for a slot at or after it. */
  jobRanSince(job: string, since: Date): boolean {
    return (this.stmts.ranSince.get({ job, since: since.toISOString() })?.n ?? 0) > 0;
  }

  jobRuns(job: string, limit = 20): JobRun[] {
    return this.stmts.jobRuns.all(job, limit).map(toJobRun);
  }

  private mustGetRun(job: string, id: number): JobRun {
    const run = this.stmts.jobRuns.all(job, 5).find((r) => r.id === id);
    if (!run) throw new Error(`job run ${id} does not exist`);
    return toJobRun(run);
  }
}

function window(from: Date, to: Date): { from: string; to: string } {
  return { from: from.toISOString(), to: to.toISOString() };
}

function key(state: Pick<NamespaceState, 'cluster' | 'namespace' | 'requestId'>) {
  return { cluster: state.cluster, namespace: state.namespace, requestId: state.requestId ?? null };
}
