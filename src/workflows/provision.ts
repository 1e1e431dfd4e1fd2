import { connectCommand } from '../config.ts';
import type { NamespaceRequest, Run, RunStep } from '../domain.ts';
import type { Deps } from '../deps.ts';
import { ClusterError, errorMessage } from '../errors.ts';
import {
  namespaceReady,
  readyPosted,
  requesterRunFailed,
  runFailed,
  runProgress,
} from '../slack/messages.ts';
import { clusterName, notifier, refreshCard, stepDescriber, stepInput } from './present.ts';
import { findStep, stepsFor } from './steps.ts';

/** Attempts per step for failures that may pass (5xx, 429, 409, timeouts, resets). */
export const MAX_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15_000;

/** Exponential backoff with full jitter, never shorter than the server's Retry-After. */
export function backoffMs(attempt: number, retryAfterMs: number | undefined, random = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return Math.max(retryAfterMs ?? 0, Math.round(ceiling * random()));
}

/** Starts provisioning an approved request; does nothing if a run is already active. */
export async function startProvisioning(deps: Deps, request: NamespaceRequest): Promise<void> {
  const steps = stepsFor(stepInput(deps, request)).map((s) => s.name);
  const run = deps.store.startRun(request.id, steps, deps.clock.now());
  if (!run) {
    deps.log.info({ requestId: request.id }, 'provisioning already running');
    return;
  }
  deps.store.appendEvent({ type: 'run_started', at: deps.clock.now(), team: request.team, requestId: request.id, data: { runId: run.id } });
  await executeRun(deps, run.id);
}

/** Runs the steps of a run that are not done yet, recording each before and after it runs. */
export async function executeRun(deps: Deps, runId: number): Promise<void> {
  const initial = deps.store.getRun(runId);
  const request = initial && deps.store.getRequest(initial.requestId);
  if (!initial || !request || initial.status !== 'running') return;
  const log = deps.log.child({ requestId: request.id, runId });
  const progress = progressReporter(deps, request, runId);
  const input = stepInput(deps, request);

  await progress.show();
  for (const step of initial.steps) {
    if (step.status === 'done') continue;
    const failure = await runStep(deps, runId, step, async () => {
      const def = findStep(step.name);
      if (!def) throw new ClusterError(`Slipway does not know the step "${step.name}".`, { transient: false });
      await def.apply(input, deps.clusters);
    }, () => progress.show());
    if (failure) {
      log.warn({ step: step.name, err: failure }, 'provisioning step failed');
      deps.store.finishRun(runId, 'failed', deps.clock.now());
      deps.store.transition(request.id, 'approved', 'failed', deps.clock.now());
      deps.store.appendEvent({ type: 'run_failed', at: deps.clock.now(), team: request.team, requestId: request.id, data: { runId, step: step.name, error: errorMessage(failure) } });
      await progress.show();
      await refreshCard(deps, request.id);
      const run = deps.store.getRun(runId);
      const slack = notifier(deps);
      if (request.card && run) await slack.post(request.card.channel, runFailed(step.name, errorMessage(failure), run), request.card.ts);
      await slack.dm(request.requester, requesterRunFailed(request));
      return;
    }
    log.info({ step: step.name }, 'step applied');
  }

  deps.store.finishRun(runId, 'done', deps.clock.now());
  deps.store.transition(request.id, 'approved', 'ready', deps.clock.now());
  deps.store.appendEvent({ type: 'namespace_ready', at: deps.clock.now(), team: request.team, requestId: request.id, data: { runId, namespace: request.namespace, cluster: request.cluster } });
  log.info('namespace ready');
  await progress.show();
  await refreshCard(deps, request.id);
  const ready = deps.store.getRequest(request.id) ?? request;
  const cluster = deps.config.clusters.find((c) => c.name === request.cluster);
  const slack = notifier(deps);
  if (ready.card) await slack.post(ready.card.channel, readyPosted(ready), ready.card.ts);
  await slack.dm(ready.requester, namespaceReady(ready, {
    clusterName: clusterName(deps, request.cluster),
    connectCommand: cluster ? connectCommand(cluster) : `kubectl config use-context ${request.cluster}`,
  }));
}

/** Runs one step with retries for transient failures; returns the error that stopped it, if any. */
async function runStep(
  deps: Deps,
  runId: number,
  step: RunStep,
  apply: () => Promise<void>,
  onChange: () => Promise<void>,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    deps.store.startStep(runId, step.position, deps.clock.now());
    await onChange();
    try {
      await apply();
      deps.store.finishStep(runId, step.position, 'done', undefined, deps.clock.now());
      return undefined;
    } catch (err) {
      deps.store.finishStep(runId, step.position, 'failed', errorMessage(err), deps.clock.now());
      const transient = !(err instanceof ClusterError) || err.transient;
      if (!transient || attempt >= MAX_ATTEMPTS) return err;
      const retryAfter = err instanceof ClusterError ? err.retryAfterMs : undefined;
      await deps.sleep(backoffMs(attempt, retryAfter));
    }
  }
}

/** Keeps one progress message in the card's thread up to date instead of posting per step. */
function progressReporter(deps: Deps, request: NamespaceRequest, runId: number) {
  const describe = stepDescriber(deps, request);
  const slack = notifier(deps);
  return {
    async show(): Promise<void> {
      const run: Run | undefined = deps.store.getRun(runId);
      if (!run || !request.card) return;
      const message = runProgress(request, clusterName(deps, request.cluster), run, describe);
      if (run.progressTs) {
        await slack.update(request.card.channel, run.progressTs, message);
      } else {
        const ts = await slack.post(request.card.channel, message, request.card.ts);
        if (ts) deps.store.setRunProgressTs(runId, ts);
      }
    },
  };
}

/** Continues every run that was in progress when the bot stopped. */
export async function resumeRuns(deps: Deps): Promise<void> {
  const runs = deps.store.activeRuns();
  if (runs.length > 0) deps.log.info({ runs: runs.map((r) => r.id) }, 'resuming provisioning runs');
  await Promise.all(runs.map((run) => executeRun(deps, run.id)));
}
