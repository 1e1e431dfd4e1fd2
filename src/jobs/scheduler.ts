import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Deps } from '../deps.ts';
import { errorMessage, SlipwayError } from '../errors.ts';
import type { JobReason, JobRun } from '../store/adoption.ts';
import { JOBS, type Job } from './jobs.ts';
import { schedule, type Schedule } from '../lib/schedule.ts';
import type { JobSteps } from '../domain/jobs.ts';
import type { Logger } from '../log.ts';
import { claimNow, heartbeatMs, keepClaim, lapsedBefore } from '../workflows/runs/claims.ts';

/**
 * Runs the jobs on their node-cron schedules in the configured time zone (node-cron's `timezone` option), and
 * adds what node-cron leaves out:
 * - every run is recorded in `job_runs` (scheduled, caught up, or by hand), with its outcome;
 * - a slot missed while the bot was down runs once at start-up if it is within
 *   `schedule.missedRunGraceMinutes` (node-cron never replays missed runs);
 * - a job never overlaps itself, in this process or another one (`slipway digest` beside the
 *   bot): the run is claimed in the database, a busy job's run is recorded as `skipped`;
 * - a schedule slot runs once (job_slots): a second scheduled or catch-up run of a slot, by a
 *   second leader of a moment or this one, does nothing;
 * - a job that throws or times out is logged and recorded as failed; the other jobs go on;
 * - a run's replica renews its claim while it runs; a leader takes over a run whose claim lapsed
 *   (its leader died) and finishes it, skipping the steps the run recorded (src/domain/jobs.ts).
 * Time comes from `deps.clock`; node-cron only says when a slot is due.
 */

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MISSED_LOOKBACK_MS = 31 * 86_400_000;

export interface JobOutcome {
  /** The recorded run; undefined when none could be recorded (an unknown job, a database error). */
  run: JobRun | undefined;
  status: 'ok' | 'failed' | 'skipped';
  summary: string | undefined;
  error: string | undefined;
}

export interface JobStatus {
  name: string;
  description: string;
  /** The cron expression, or false when turned off in config. */
  schedule: string | false;
  timeZone: string;
  lastRun: JobRun | undefined;
  nextRun: Date | undefined;
}

export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly jobs: readonly Job[];
  private started = false;
  /** While leading: looks for job runs to take over every heartbeat interval. */
  private watch: NodeJS.Timeout | undefined;
  private takingOver: Promise<void> | undefined;

  constructor(
    private readonly deps: Deps,
    jobs: readonly Job[] = JOBS,
  ) {
    this.jobs = jobs;
  }

  private get timeZone(): string {
    return this.deps.config.schedule.timezone;
  }

  private scheduleOf(job: Job): Schedule | undefined {
    const expression = job.schedule(this.deps.config);
    return expression === false ? undefined : schedule(expression, this.timeZone);
  }

  /** Catches up runs missed while the bot was down, then starts every schedule. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.deps.clock.now();
    const graceMs = this.deps.config.schedule.missedRunGraceMinutes * 60_000;
    // Runs a dead leader left are finished first, and watched for while this replica leads.
    const tookOver = this.takeOverLapsed();
    this.watch = setInterval(() => void this.takeOverLapsed(), heartbeatMs(this.deps));
    for (const job of this.jobs) {
      const expression = job.schedule(this.deps.config);
      if (expression === false) continue;
      // Tracked as in flight, so `idle()` also waits for the check and the run it may start.
      const catchUp = tookOver
        .then(() => this.catchUp(job, schedule(expression, this.timeZone), now, graceMs))
        .catch((err: unknown) => this.deps.log.error({ err, job: job.name }, 'could not check for a missed run'));
      this.inFlight.add(catchUp);
      void catchUp.finally(() => this.inFlight.delete(catchUp));
      const task = cron.createTask(expression, (ctx) => this.run(job.name, 'scheduled', ctx.date), {
        name: `slipway:${job.name}`,
        timezone: this.timeZone,
        noOverlap: true,
        logger: this.cronLogger(job.name),
      });
      this.tasks.push(task);
      void task.start();
    }
    this.deps.log.info(
      { timeZone: this.timeZone, jobs: this.jobs.map((j) => ({ name: j.name, schedule: j.schedule(this.deps.config) })) },
      'job scheduler started',
    );
  }

  /** node-cron's own messages (an overlap skipped, a timer that woke late) go to our log, as JSON. */
  private cronLogger(job: string): CronLogger {
    const log = this.deps.log.child({ component: 'node-cron', job });
    const text = (m: string | Error) => (m instanceof Error ? m.message : m);
    return {
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m, err) => log.error({ err: err ?? (m instanceof Error ? m : undefined) }, text(m)),
      debug: (m) => log.debug(text(m)),
    };
  }

  private async catchUp(job: Job, slots: Schedule, now: Date, graceMs: number): Promise<void> {
    const adoption = this.deps.store.adoption;
    // A job that never ran has missed nothing: a fresh install waits for its first slot.
    if (!(await adoption.lastJobRun(job.name, { includeSkipped: true }))) return;
    const missed = slots.previous(now, MISSED_LOOKBACK_MS);
    if (!missed || (await adoption.jobRanSince(job.name, missed))) return;
    const lateMs = now.getTime() - missed.getTime();
    if (lateMs > graceMs) {
      this.deps.log.info(
        { job: job.name, slot: missed.toISOString(), lateMinutes: Math.round(lateMs / 60_000) },
        'missed run is older than the grace period; waiting for the next slot',
      );
      return;
    }
    this.deps.log.info({ job: job.name, slot: missed.toISOString() }, 'catching up a run missed while the bot was down');
    await this.run(job.name, 'catch-up', missed);
  }

  /**
   * Runs a job now and records it. Resolves with the outcome; never rejects for a job's failure.
   * `scheduledFor` is the slot a scheduled or catch-up run is for.
   */
  run(name: string, reason: JobReason, scheduledFor?: Date): Promise<JobOutcome> {
    return this.track(this.execute(name, reason, scheduledFor), name, reason);
  }

  /** A run in flight: counted, tracked for `idle()` and `stop()`, never rejecting. */
  private track(run: Promise<JobOutcome>, name: string, reason?: JobReason): Promise<JobOutcome> {
    const promise = run
      .catch((err: unknown): JobOutcome => {
        // Not even recorded (the database is gone?): say so, and keep the scheduler alive.
        this.deps.log.error({ err, job: name, reason }, 'job could not run');
        return { run: undefined, status: 'failed', summary: undefined, error: errorMessage(err) };
      })
      .then((outcome) => {
        this.deps.metrics.jobRuns.inc({ job: name, outcome: outcome.status });
        return outcome;
      });
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
    return promise;
  }

  private async execute(name: string, reason: JobReason, scheduledFor: Date | undefined): Promise<JobOutcome> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new SlipwayError('unknown_job', `There is no job "${name}" (jobs: ${this.jobs.map((j) => j.name).join(', ')}).`);
    const adoption = this.deps.store.adoption;
    const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = this.deps.clock.now();
    const log = this.deps.log.child({ job: name, reason, ...(scheduledFor ? { slot: scheduledFor.toISOString() } : {}) });
    const claim = await adoption.claimJobRun({
      job: name,
      reason,
      scheduledFor,
      now: started,
      staleBefore: new Date(started.getTime() - 2 * timeoutMs),
      claim: claimNow(this.deps),
    });
    if (!claim.claimed && claim.why === 'slot-taken') {
      // Another leader of a moment (or an earlier start) ran this slot: nothing to do, nothing recorded.
      log.info({ run: claim.run.id, status: claim.run.status }, 'this slot has a run already; nothing to do');
      return { run: claim.run, status: 'skipped', summary: undefined, error: undefined };
    }
    if (!claim.claimed) {
      log.warn({ error: claim.run.error }, 'job is still running; this run is skipped');
      return { run: claim.run, status: 'skipped', summary: undefined, error: claim.run.error };
    }
    log.info('job started');
    return await this.perform(job, claim.run, started, log);
  }

  /**
   * Runs a claimed job run to its end and records the outcome, renewing the claim meanwhile. Its
   * durable steps are recorded on the run, so a leader that takes the run over skips them.
   */
  private async perform(job: Job, run: JobRun, started: Date, log: Logger): Promise<JobOutcome> {
    const adoption = this.deps.store.adoption;
    const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const claim = keepClaim(
      this.deps,
      () => adoption.heartbeatJobRun(run.id, claimNow(this.deps)),
      () => log.warn('another replica took this job run over'),
    );
    const takenOver = () => new SlipwayError('job_taken_over', 'another replica took the run over while it was running');
    let progress = run.progress;
    const steps: JobSteps = {
      step: async (name, fn) => {
        const done = progress[name];
        if (done !== undefined) return done;
        if (claim.lost) throw takenOver();
        const value = await fn();
        progress = { ...progress, [name]: value };
        if (!(await adoption.recordJobProgress(run.id, this.deps.engine.identity, progress))) throw takenOver();
        return value;
      },
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const summary = await Promise.race([
        job.run(this.deps, started, steps),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new SlipwayError('job_timeout', `did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
        }),
      ]);
      const finished = this.deps.clock.now();
      await adoption.finishJobRun(run.id, { status: 'ok', summary }, finished);
      log.info({ ms: finished.getTime() - started.getTime(), summary }, 'job finished');
      return { run: { ...run, status: 'ok', summary }, status: 'ok', summary, error: undefined };
    } catch (err) {
      const error = errorMessage(err);
      if (claim.lost) {
        // The replica that took the run over records how it ends.
        log.warn({ error }, 'job run left to the replica that took it over');
        return { run, status: 'skipped', summary: undefined, error };
      }
      await adoption.finishJobRun(run.id, { status: 'failed', error }, this.deps.clock.now());
      // Conditions an operator can fix (no channel, clusters down) are warnings; the rest is a bug.
      if (err instanceof SlipwayError) log.warn({ err }, `job failed: ${error}`);
      else log.error({ err }, 'job failed');
      return { run: { ...run, status: 'failed', error }, status: 'failed', summary: undefined, error };
    } finally {
      clearTimeout(timer);
      claim.stop();
    }
  }

  /**
   * Takes over the job runs whose replica stopped renewing its claim (a leader that died mid-run)
   * and finishes each here, as of the time it started (the digest reports the same week), skipping
   * the steps it recorded. Compare-and-set on the claim read: of two leaders of a moment, one wins.
   */
  private takeOverLapsed(): Promise<void> {
    if (this.takingOver) return this.takingOver;
    const scan = this.takeOver()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'could not look for job runs to take over'))
      .finally(() => (this.takingOver = undefined));
    this.takingOver = scan;
    return scan;
  }

  async takeOver(): Promise<void> {
    const adoption = this.deps.store.adoption;
    for (const run of await adoption.lapsedJobRuns(lapsedBefore(this.deps))) {
      if (!(await adoption.takeOverJobRun(run, claimNow(this.deps)))) continue;
      const log = this.deps.log.child({ job: run.job, reason: run.reason, takenOver: run.id, ...(run.scheduledFor ? { slot: run.scheduledFor } : {}) });
      const job = this.jobs.find((j) => j.name === run.job);
      if (!job) {
        log.warn('a job run of a job this version does not have was left running; it is closed as failed');
        await adoption.finishJobRun(run.id, { status: 'failed', error: 'abandoned: this version of Slipway has no such job' }, this.deps.clock.now());
        continue;
      }
      log.info({ steps: Object.keys(run.progress) }, 'taking over a job run whose replica stopped renewing its claim');
      void this.track(this.perform(job, { ...run, holder: this.deps.engine.identity }, new Date(run.startedAt), log), job.name, run.reason);
    }
  }

  /** Each job with its schedule, last run and next slot after `now`. */
  async list(now: Date): Promise<JobStatus[]> {
    const statuses: JobStatus[] = [];
    for (const job of this.jobs) {
      statuses.push({
        name: job.name,
        description: job.description,
        schedule: job.schedule(this.deps.config),
        timeZone: this.timeZone,
        lastRun: await this.deps.store.adoption.lastJobRun(job.name, { includeSkipped: true }),
        nextRun: this.scheduleOf(job)?.next(now),
      });
    }
    return statuses;
  }

  /** Resolves when no run is in flight (catch-ups included). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops the schedules and waits (at most `timeoutMs`) for runs in flight. */
  async stop(timeoutMs = 15_000): Promise<boolean> {
    for (const task of this.tasks.splice(0)) await task.destroy();
    clearInterval(this.watch);
    this.started = false;
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished) this.deps.log.warn('jobs still running at shutdown; their runs are closed as abandoned by a later run');
    return finished;
  }
}
