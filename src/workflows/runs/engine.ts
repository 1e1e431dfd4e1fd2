import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { NamespaceRequest, Run, RunKind, RunStep } from '../../domain/requests.ts';
import type { Deps, PreparedRun, RunEngine, RunKindHandlers } from '../../deps.ts';
import { ClusterError, errorMessage } from '../../errors.ts';
import { coalesce } from '../../lib/coalesce.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { RunTracker } from './run-tracker.ts';
import { claimNow, claimRun, keepClaim, watchForLapsedRuns, type Heartbeat } from './claims.ts';

/**
 * Durable runs: a list of named steps recorded in the store before and after each attempt, so a
 * run survives a restart (it resumes at the step it was on), a failed step can be retried by an
 * approver, and steps whose dependencies are done run side by side. Provisioning and deletion are
 * kinds of run (`RunKindHandlers`), registered where Deps is built (src/hooks.ts).
 */

export interface RunEngineOptions {
  sleep?: (ms: number) => Promise<void>;
  progressIntervalMs?: number;
  /** This replica's name on its run claims; default one of its own. */
  identity?: string;
}

export function createRunEngine(options: RunEngineOptions = {}): RunEngine {
  return {
    runs: new RunTracker(),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    progressIntervalMs: options.progressIntervalMs ?? 1000,
    identity: options.identity ?? `${hostname()}_${randomUUID()}`,
  };
}

const BACKOFF_CAP_MS = 30_000;

/** What `runStep` returns when shutdown stopped a step that may still pass: not a failure. */
export const PAUSED = Symbol('paused for shutdown');

/** Exponential backoff with full jitter, never shorter than the server's Retry-After. */
export function backoffMs(attempt: number, baseMs: number, retryAfterMs: number | undefined, random = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, baseMs * 2 ** (attempt - 1));
  return Math.max(retryAfterMs ?? 0, Math.round(ceiling * random()));
}

/**
 * Starts a run of `kind` with `steps` and executes it; false (and nothing runs) when the request
 * already has an active run. `announced`: Slack messages about the decision still on their way,
 * which only the first progress message waits for, so the thread reads in order.
 */
export async function startRun(deps: Deps, request: NamespaceRequest, kind: RunKind, steps: readonly string[], announced?: Promise<unknown>): Promise<boolean> {
  const runId = await recordRun(deps, request, kind, steps);
  if (runId === undefined) return false;
  await executeRun(deps, runId, announced);
  return true;
}

/**
 * Records a run of `kind` with `steps` (not executed yet: `executeRun`); undefined when the
 * request already has an active run. Inside a transaction it commits with the decision that
 * called for it, so no decision is ever recorded without its run.
 */
export async function recordRun(deps: Deps, request: NamespaceRequest, kind: RunKind, steps: readonly string[]): Promise<number | undefined> {
  const run = await deps.store.startRun(request.id, steps, deps.clock.now(), kind, claimNow(deps));
  if (!run) {
    deps.log.info({ requestId: request.id, kind }, 'a run is already active for this request');
    return undefined;
  }
  await deps.store.appendEvent({ type: 'run_started', at: deps.clock.now(), team: request.team, requestId: request.id, data: { runId: run.id, kind } });
  return run.id;
}

/**
 * Runs the steps of a run that are not done yet, recording each before and after it runs, once
 * this replica holds the run's claim (src/workflows/runs/claims.ts); nothing happens when another
 * replica holds it. `anyHolder`: take the claim whoever holds it (a single replica's start).
 */
export async function executeRun(deps: Deps, runId: number, announced?: Promise<unknown>, anyHolder = false): Promise<void> {
  if (!(await claimRun(deps, runId, anyHolder))) return;
  await deps.engine.runs.trackRun(runId, async () => {
    const heartbeat = keepClaim(deps, () => deps.store.heartbeatRun(runId, claimNow(deps)));
    try {
      if ((await runSteps(deps, runId, announced, heartbeat)) === 'paused') {
        // Handed back, so another replica continues it now rather than after the heartbeat lapses.
        await deps.store.releaseRun(runId, deps.engine.identity);
      }
    } finally {
      heartbeat.stop();
    }
  });
}

/**
 * Continues every run that was in progress, of every kind, and whose replica is gone: at start,
 * `anyHolder` when this is the only replica (no leader election), so an earlier process's claim
 * does not hold the run up until its heartbeat lapses.
 */
export async function resumeActiveRuns(deps: Deps, anyHolder = false): Promise<void> {
  const runs = await deps.store.activeRuns();
  if (runs.length > 0) deps.log.info({ runs: runs.map((r) => r.id) }, 'resuming runs');
  await Promise.all(runs.map((run) => executeRun(deps, run.id, undefined, anyHolder)));
}

/**
 * While the bot runs, on every replica: a run whose replica died (its heartbeat lapsed) is taken
 * over and continues at its step. Returns a function that stops watching.
 */
export function takeOverLapsedRuns(deps: Deps): () => Promise<void> {
  return watchForLapsedRuns(deps, async (runId) => {
    deps.log.info({ runId }, 'taking over a run whose replica stopped renewing its claim');
    await executeRun(deps, runId);
  });
}

async function runSteps(deps: Deps, runId: number, announced: Promise<unknown> | undefined, claim: Heartbeat): Promise<'paused' | undefined> {
  const initial = await deps.store.getRun(runId);
  const request = initial && (await deps.store.getRequest(initial.requestId));
  if (!initial || !request || initial.status !== 'running') return;
  const kind = deps.hooks.runKinds[initial.kind];
  const log = deps.log.child({ requestId: request.id, runId, kind: initial.kind });
  if (!kind) {
    log.error('this version of Slipway cannot execute runs of this kind; the run is left as it is');
    return;
  }
  const prepared = await kind.prepare(deps, request);
  const progress = progressReporter(deps, kind, prepared, request, runId, announced);

  try {
    progress.poke();
    const done = new Set(initial.steps.filter((s) => s.status === 'done').map((s) => s.name));
    let remaining = initial.steps.filter((s) => s.status !== 'done');
    while (remaining.length > 0) {
      if (deps.engine.runs.draining) {
        // Shutting down: the run stays `running` and continues from here at the next start.
        log.info({ steps: remaining.map((s) => s.name) }, 'run paused for shutdown');
        await progress.flush();
        return 'paused';
      }
      if (claim.lost) {
        // This replica was cut off longer than the lapse, and another one executes the run now.
        log.warn({ steps: remaining.map((s) => s.name) }, 'another replica took this run over; leaving it to them');
        return;
      }
      // Every step whose dependencies are done runs now, side by side.
      const after = (name: string) => prepared.step(name)?.after ?? [];
      const wave = remaining.filter((s) => after(s.name).every((d) => done.has(d) || !remaining.some((r) => r.name === d)));
      const results = await Promise.all(
        wave.map(async (step) => {
          const started = Date.now();
          const failure = await runStep(deps, runId, step, progress.poke, async () => {
            const bound = prepared.step(step.name);
            if (!bound) throw new ClusterError(`Slipway does not know the step "${step.name}".`, { transient: false });
            await bound.apply();
          });
          if (!failure) {
            deps.metrics.stepDuration.observe({ step: step.name }, (Date.now() - started) / 1000);
            done.add(step.name);
            await deps.store.appendEvent({
              type: 'step_done',
              at: deps.clock.now(),
              team: request.team,
              requestId: request.id,
              data: { runId, step: step.name, ms: Date.now() - started },
            });
            log.info({ step: step.name }, 'step applied');
          }
          return { step, failure };
        }),
      );
      const failed = results.find((r) => r.failure !== undefined && r.failure !== PAUSED);
      if (!failed && results.some((r) => r.failure === PAUSED)) {
        // A step was between attempts when shutdown began: the run stays `running`, nobody is told
        // it failed, and the step is tried again at the next start.
        log.info({ steps: results.filter((r) => r.failure === PAUSED).map((r) => r.step.name) }, 'run paused for shutdown during retries');
        await progress.flush();
        return 'paused';
      }
      if (failed) {
        log.warn({ step: failed.step.name, err: failed.failure }, 'step failed');
        if (!(await deps.store.completeRun(runId, request.id, 'failed', deps.clock.now()))) return;
        progress.poke();
        await progress.flush();
        await kind.failed(deps, request, await mustGetRun(deps, runId), failed.step.name, failed.failure);
        return;
      }
      remaining = remaining.filter((s) => !done.has(s.name));
    }

    if (!(await deps.store.completeRun(runId, request.id, 'done', deps.clock.now()))) return;
    progress.poke();
    await progress.flush();
    await kind.done(deps, request, await mustGetRun(deps, runId));
  } finally {
    // A run left to another replica (or given up) may still have an update pending: drop it.
    await progress.close();
  }
}

async function mustGetRun(deps: Deps, runId: number): Promise<Run> {
  const run = await deps.store.getRun(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  return run;
}

/**
 * Runs one step, retrying failures that may pass with backoff; returns the error that stopped
 * it, if any, or PAUSED when shutdown began while it could still pass. Every attempt is
 * recorded before it starts and after it ends.
 */
function runStep(deps: Deps, runId: number, step: RunStep, onChange: () => void, apply: () => Promise<void>): Promise<unknown> {
  return withRetries(deps, apply, {
    started: async () => {
      await deps.store.startStep(runId, step.position, deps.clock.now());
      onChange();
    },
    succeeded: async () => {
      await deps.store.finishStep(runId, step.position, 'done', undefined, deps.clock.now());
      onChange();
    },
    failed: async (err) => {
      await deps.store.finishStep(runId, step.position, 'failed', errorMessage(err), deps.clock.now());
      deps.metrics.stepFailures.inc({ step: step.name, cause: failureCause(err) });
      onChange();
    },
    paused: async (err) => {
      await deps.store.finishStep(runId, step.position, 'pending', errorMessage(err), deps.clock.now());
      onChange();
    },
  });
}

/** What `withRetries` tells its caller about each attempt, to record it. */
export interface AttemptHooks {
  started(attempt: number): void;
  succeeded(): void;
  failed(err: unknown, attempt: number): void;
  /** Shutdown began between attempts: the work is left to the next start. */
  paused(err: unknown): void;
}

/**
 * The engine's retry policy, for a run's step or any other durable unit of work (a fleet
 * upgrade's namespace): failures that may pass (not a permanent ClusterError) are retried up to
 * `provisioning.maxAttempts` with backoff; resolves undefined on success, the error that stopped
 * it, or PAUSED when shutdown began while it could still pass.
 */
export async function withRetries(deps: Deps, apply: () => Promise<void>, hooks: AttemptHooks): Promise<unknown> {
  const { maxAttempts, backoffBaseMs } = deps.config.provisioning;
  for (let attempt = 1; ; attempt++) {
    hooks.started(attempt);
    try {
      await apply();
      hooks.succeeded();
      return undefined;
    } catch (err) {
      hooks.failed(err, attempt);
      const transient = !(err instanceof ClusterError) || err.transient;
      if (!transient || attempt >= maxAttempts) return err;
      if (!deps.engine.runs.draining) {
        const retryAfter = err instanceof ClusterError ? err.retryAfterMs : undefined;
        await Promise.race([deps.engine.sleep(backoffMs(attempt, backoffBaseMs, retryAfter)), deps.engine.runs.stopped]);
      }
      if (deps.engine.runs.draining) {
        hooks.paused(err);
        return PAUSED;
      }
    }
  }
}

/** A label for why an attempt failed: the HTTP status, or timeout / network / other. */
function failureCause(err: unknown): string {
  if (err instanceof ClusterError) {
    if (err.status !== undefined) return String(err.status);
    return /did not answer within/.test(err.userMessage) ? 'timeout' : 'network';
  }
  return 'other';
}

/**
 * One progress message in the request's thread, updated at most once per interval. Many runs at
 * once (a team onboarding) would otherwise spend the channel's Slack rate limit on intermediate
 * states.
 */
function progressReporter(
  deps: Deps,
  kind: RunKindHandlers,
  prepared: PreparedRun,
  request: NamespaceRequest,
  runId: number,
  announced: Promise<unknown> | undefined,
) {
  const slack = notifier(deps);
  let first = true;
  return coalesce(
    async () => {
      await announced;
      const run = await deps.store.getRun(runId);
      // The card may have been posted after the run started (auto-approval), so read it now.
      const card = (await deps.store.getRequest(request.id))?.card;
      if (!run || !card) return;
      const message = prepared.progress(run);
      if (run.progressTs) {
        await slack.update(card.channel, run.progressTs, message);
      } else {
        const ts = await slack.post(card.channel, message, card.ts);
        if (ts) await deps.store.setRunProgressTs(runId, ts);
      }
      await kind.afterProgress?.(deps, request, run, first);
      first = false;
    },
    deps.engine.progressIntervalMs,
    (err) => deps.log.warn({ err, requestId: request.id, runId }, 'could not update the progress message'),
  );
}
