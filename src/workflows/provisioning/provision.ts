import { findCluster, connectCommand } from '../../config.ts';
import type { NamespaceRequest } from '../../domain/requests.ts';
import { namespaceChanged, type Deps, type RunKindHandlers } from '../../deps.ts';
import { ClusterError, errorMessage } from '../../errors.ts';
import { namespaceReady, requesterRunFailed, runFailed, runProgress } from '../../slack/provisioning/messages.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { recordRun, resumeActiveRuns, startRun } from '../runs/engine.ts';
import { clusterName, refreshCard, stepDescriber, stepInput } from './present.ts';
import { findStep, stepsFor } from './steps.ts';

/**
 * Starts provisioning an approved request; does nothing if a run is already active. Slack
 * messages about the decision may still be on their way (`announced`): the cluster work does not
 * wait for them, only the first progress message does, so the thread reads in order.
 */
export async function startProvisioning(deps: Deps, request: NamespaceRequest, announced?: Promise<unknown>): Promise<void> {
  const steps = stepsFor(stepInput(deps, request)).map((s) => s.name);
  await startRun(deps, request, 'provision', steps, announced);
}

/** Records the provisioning run of an approved request without executing it (`recordRun`). */
export function recordProvisioning(deps: Deps, request: NamespaceRequest): Promise<number | undefined> {
  return recordRun(
    deps,
    request,
    'provision',
    stepsFor(stepInput(deps, request)).map((s) => s.name),
  );
}

/** Provisioning as a kind of durable run (src/workflows/runs/engine.ts). */
export const provisioningRuns: RunKindHandlers = {
  prepare(deps, request) {
    // The golden path is rendered once per execution, for every step and every progress redraw.
    const input = stepInput(deps, request);
    const describe = stepDescriber(input);
    const cluster = clusterName(deps, request.cluster);
    return {
      step(name) {
        const step = findStep(name);
        return step && { after: step.after, apply: () => step.apply(input, deps.clusters) };
      },
      progress: (run) => runProgress(request, cluster, run, describe),
    };
  },
  // The card is redrawn when the run starts and when it ends, not per step.
  async afterProgress(deps, request, run, first) {
    if (first || run.status !== 'running') await refreshCard(deps, request.id);
  },
  async done(deps, request, run) {
    deps.metrics.requests.inc({ outcome: 'ready' });
    await deps.store.appendEvent({
      type: 'namespace_ready',
      at: deps.clock.now(),
      team: request.team,
      requestId: request.id,
      data: { runId: run.id, namespace: request.namespace, cluster: request.cluster },
    });
    deps.log.info({ requestId: request.id, runId: run.id }, 'namespace ready');
    await namespaceChanged(deps, request.id);
    await announceOutcome(deps, request.id);
  },
  async failed(deps, request, run, step, error) {
    deps.metrics.requests.inc({ outcome: 'failed' });
    await deps.store.appendEvent({
      type: 'run_failed',
      at: deps.clock.now(),
      team: request.team,
      requestId: request.id,
      data: { runId: run.id, step, error: errorMessage(error), status: error instanceof ClusterError ? error.status : undefined },
    });
    await announceOutcome(deps, request.id);
  },
};

/** The metadata of the requester's outcome DM: which request, which outcome (Slack message metadata). */
const OUTCOME_EVENT = 'slipway_outcome';

/**
 * Tells the thread and the requester how provisioning ended, once. Telling is recorded as started
 * before the requester's message goes out and as done after; outcomes not told are told by the
 * replica that runs scheduled work (`recoverOrphans`). When a telling had started (its replica
 * died after sending, perhaps), the DM is looked for first by its metadata, and only sent when
 * Slack does not have it or cannot say: a second message rather than none.
 */
export async function announceOutcome(deps: Deps, requestId: number): Promise<void> {
  const request = await deps.store.getRequest(requestId);
  if (!request || (request.status !== 'ready' && request.status !== 'failed')) return;
  const { status } = request;
  const telling = await deps.store.startTelling(requestId, status, deps.clock.now());
  if (telling === 'told') return;
  const slack = notifier(deps);
  const metadata = { event_type: OUTCOME_EVENT, event_payload: { request_id: requestId, status } };
  const earlier = telling === 'interrupted' ? await slack.findDm(request.requester, metadata) : undefined;
  if (earlier) deps.log.info({ requestId, status }, 'the requester was told before the outcome was taken over; not telling them again');
  if (status === 'ready') {
    if (!earlier) {
      const cluster = findCluster(deps.config, request.cluster);
      // Other features may add to the ready DM (the survey asks its question there).
      const ready = await deps.hooks.onNamespaceReady(
        deps,
        request,
        namespaceReady(request, {
          clusterName: clusterName(deps, request.cluster),
          connectCommand: cluster ? connectCommand(cluster) : `kubectl config use-context ${request.cluster}`,
        }),
      );
      const sent = await slack.dm(request.requester, ready.message, metadata);
      if (!sent) return;
      ready.delivered(sent);
    }
    await deps.store.markNotified(requestId, 'ready');
    return;
  }
  const run = await deps.store.latestRun(requestId);
  const failed = run?.steps.find((s) => s.status === 'failed');
  if (!earlier && !(await slack.dm(request.requester, requesterRunFailed(request), metadata))) return;
  await deps.store.markNotified(requestId, 'failed');
  if (request.card && run && failed) {
    await slack.post(request.card.channel, runFailed(failed.name, failed.lastError ?? 'unknown error', run), request.card.ts);
  }
}

/**
 * At start-up: continues every run that was in progress (`anyHolder`: see resumeActiveRuns);
 * outcomes not yet told are told by `recoverOrphans`.
 */
export async function resumeRuns(deps: Deps, anyHolder = false): Promise<void> {
  await resumeActiveRuns(deps, anyHolder);
}
