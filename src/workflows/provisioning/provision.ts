import { findCluster, connectCommand } from '../../config.ts';
import type { NamespaceRequest, RunStep } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { ClusterError, errorMessage } from '../../errors.ts';
import { namespaceReady, requesterRunFailed, runFailed, runProgress } from '../../slack/provisioning/messages.ts';
import { coalesce } from '../../lib/coalesce.ts';
import { clusterName, refreshCard, stepDescriber, stepInput } from './present.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { findStep, stepsFor } from './steps.ts';

const BACKOFF_CAP_MS = 30_000;

/** What `runStep` returns when shutdown stopped a step that may still pass: not a failure. */
const PAUSED = Symbol('paused for shutdown');

/** Exponential backoff with full jitter, never shorter than the server's Retry-After. */
export function backoffMs(attempt: number, baseMs: number, retryAfterMs: number | undefined, random = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, baseMs * 2 ** (attempt - 1));
  return Math.max(retryAfterMs ?? 0, Math.round(ceiling * random()));
}

/**
 * Starts provisioning an approved request; does nothing if a run is already active. Slack
 * messages about the decision may still be on their way (`announced`): the cluster work does not
 * wait for them, only the first progress message does, so the thread reads in order.
 */
export async function startProvisioning(deps: Deps, request: NamespaceRequest, announced?: Promise<unknown>): Promise<void> {
  const steps = stepsFor(stepInput(deps, request)).map((s) => s.name);
  const run = deps.store.startRun(request.id, steps, deps.clock.now());
  if (!run) {
    deps.log.info({ requestId: request.id }, 'provisioning already running');
    return;
  }
  deps.store.appendEvent({ type: 'run_started', at: deps.clock.now(), team: request.team, requestId: request.id, data: { runId: run.id } });
  await executeRun(deps, run.id, announced);
}

/** Runs the steps of a run that are not done yet, recording each before and after it runs. */
export function executeRun(deps: Deps, runId: number, announced?: Promise<unknown>): Promise<void> {
  return deps.engine.runs.track(runSteps(deps, runId, announced));
}

async function runSteps(deps: Deps, runId: number, announced: Promise<unknown> | undefined): Promise<void> {
  const initial = deps.store.getRun(runId);
  const request = initial && deps.store.getRequest(initial.requestId);
  if (!initial || !request || initial.status !== 'running') return;
  const log = deps.log.child({ requestId: request.id, runId });
  const progress = progressReporter(deps, request, runId, announced);
  const input = stepInput(deps, request);

  progress.poke();
  const done = new Set(initial.steps.filter((s) => s.status === 'done').map((s) => s.name));
  let remaining = initial.steps.filter((s) => s.status !== 'done');
  while (remaining.length > 0) {
    if (deps.engine.runs.draining) {
      // Shutting down: the run stays `running` and continues from here at the next start.
      log.info({ steps: remaining.map((s) => s.name) }, 'run paused for shutdown');
      await progress.flush();
      return;
    }
    // Every step whose dependencies are done runs now, side by side.
    const wave = remaining.filter((s) => (findStep(s.name)?.after ?? []).every((d) => done.has(d) || !remaining.some((r) => r.name === d)));
    const results = await Promise.all(
      wave.map(async (step) => {
        const started = Date.now();
        const failure = await runStep(deps, runId, step, progress.poke, async () => {
          const def = findStep(step.name);
          if (!def) throw new ClusterError(`Slipway does not know the step "${step.name}".`, { transient: false });
          await def.apply(input, deps.clusters);
        });
        if (!failure) {
          deps.metrics.stepDuration.observe({ step: step.name }, (Date.now() - started) / 1000);
          done.add(step.name);
          deps.store.appendEvent({
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
      // it failed, and the step is tried again at the next start (as the README promises).
      log.info({ steps: results.filter((r) => r.failure === PAUSED).map((r) => r.step.name) }, 'run paused for shutdown during retries');
      await progress.flush();
      return;
    }
    if (failed) {
      log.warn({ step: failed.step.name, err: failed.failure }, 'provisioning step failed');
      if (!deps.store.completeRun(runId, request.id, 'failed', deps.clock.now())) return;
      deps.metrics.requests.inc({ outcome: 'failed' });
      deps.store.appendEvent({
        type: 'run_failed',
        at: deps.clock.now(),
        team: request.team,
        requestId: request.id,
        data: {
          runId,
          step: failed.step.name,
          error: errorMessage(failed.failure),
          status: failed.failure instanceof ClusterError ? failed.failure.status : undefined,
        },
      });
      progress.poke();
      await progress.flush();
      await announceOutcome(deps, request.id);
      return;
    }
    remaining = remaining.filter((s) => !done.has(s.name));
  }

  if (!deps.store.completeRun(runId, request.id, 'done', deps.clock.now())) return;
  deps.metrics.requests.inc({ outcome: 'ready' });
  deps.store.appendEvent({
    type: 'namespace_ready',
    at: deps.clock.now(),
    team: request.team,
    requestId: request.id,
    data: { runId, namespace: request.namespace, cluster: request.cluster },
  });
  log.info('namespace ready');
  progress.poke();
  await progress.flush();
  await announceOutcome(deps, request.id);
}

/**
 * Runs one step, retrying failures that may pass with backoff; returns the error that stopped
 * it, if any, or PAUSED when shutdown began while it could still pass. Every attempt is
 * recorded before it starts and after it ends.
 */
async function runStep(deps: Deps, runId: number, step: RunStep, onChange: () => void, apply: () => Promise<void>): Promise<unknown> {
  const { maxAttempts, backoffBaseMs } = deps.config.provisioning;
  for (let attempt = 1; ; attempt++) {
    deps.store.startStep(runId, step.position, deps.clock.now());
    onChange();
    try {
      await apply();
      deps.store.finishStep(runId, step.position, 'done', undefined, deps.clock.now());
      onChange();
      return undefined;
    } catch (err) {
      deps.store.finishStep(runId, step.position, 'failed', errorMessage(err), deps.clock.now());
      deps.metrics.stepFailures.inc({ step: step.name, cause: failureCause(err) });
      onChange();
      const transient = !(err instanceof ClusterError) || err.transient;
      if (!transient || attempt >= maxAttempts) return err;
      if (!deps.engine.runs.draining) {
        const retryAfter = err instanceof ClusterError ? err.retryAfterMs : undefined;
        await Promise.race([deps.engine.sleep(backoffMs(attempt, backoffBaseMs, retryAfter)), deps.engine.runs.stopped]);
      }
      if (deps.engine.runs.draining) {
        deps.store.finishStep(runId, step.position, 'pending', errorMessage(err), deps.clock.now());
        onChange();
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
 * One progress message in the card's thread, updated at most once per interval. The card is
 * redrawn when the run starts and when it ends, not per step: many runs at once (a team
 * onboarding) would otherwise spend the channel's Slack rate limit on intermediate states.
 */
function progressReporter(deps: Deps, request: NamespaceRequest, runId: number, announced: Promise<unknown> | undefined) {
  const describe = stepDescriber(deps, request);
  const slack = notifier(deps);
  let cardShown = false;
  return coalesce(async () => {
    await announced;
    const run = deps.store.getRun(runId);
    // The card may have been posted after the run started (auto-approval), so read it now.
    const card = deps.store.getRequest(request.id)?.card;
    if (!run || !card) return;
    const message = runProgress(request, clusterName(deps, request.cluster), run, describe);
    if (run.progressTs) {
      await slack.update(card.channel, run.progressTs, message);
    } else {
      const ts = await slack.post(card.channel, message, card.ts);
      if (ts) deps.store.setRunProgressTs(runId, ts);
    }
    if (!cardShown || run.status !== 'running') await refreshCard(deps, request.id);
    cardShown = true;
  }, deps.engine.progressIntervalMs);
}

/**
 * Tells the thread and the requester how provisioning ended, once: the outcome is marked as
 * told only after the requester's message went out, and untold outcomes are sent at start-up.
 */
export async function announceOutcome(deps: Deps, requestId: number): Promise<void> {
  const request = deps.store.getRequest(requestId);
  if (!request || (request.status !== 'ready' && request.status !== 'failed')) return;
  const slack = notifier(deps);
  const run = deps.store.latestRun(requestId);
  if (request.status === 'ready') {
    const cluster = findCluster(deps.config, request.cluster);
    // Other features may add to the ready DM (the survey asks its question there).
    const ready = deps.hooks.onNamespaceReady(
      deps,
      request,
      namespaceReady(request, {
        clusterName: clusterName(deps, request.cluster),
        connectCommand: cluster ? connectCommand(cluster) : `kubectl config use-context ${request.cluster}`,
      }),
    );
    const sent = await slack.dm(request.requester, ready.message);
    if (!sent) return;
    ready.delivered(sent);
    deps.store.markNotified(requestId, 'ready');
    return;
  }
  const failed = run?.steps.find((s) => s.status === 'failed');
  const sent = await slack.dm(request.requester, requesterRunFailed(request));
  if (!sent) return;
  deps.store.markNotified(requestId, 'failed');
  if (request.card && run && failed) {
    await slack.post(request.card.channel, runFailed(failed.name, failed.lastError ?? 'unknown error', run), request.card.ts);
  }
}

/** At start-up: continues every run that was in progress and sends outcomes not yet told. */
export async function resumeRuns(deps: Deps): Promise<void> {
  const runs = deps.store.activeRuns();
  if (runs.length > 0) deps.log.info({ runs: runs.map((r) => r.id) }, 'resuming provisioning runs');
  await Promise.all(runs.map((run) => executeRun(deps, run.id)));
  for (const request of deps.store.pendingOutcomes()) await announceOutcome(deps, request.id);
}
