import { findCluster } from '../../config.ts';
import type { Deps } from '../../deps.ts';
import type { Upgrade } from '../../domain/drift.ts';
import type { Click } from '../../domain/requests.ts';
import { errorMessage } from '../../errors.ts';
import { coalesce } from '../../lib/coalesce.ts';
import { driftActionRefused } from '../../slack/drift/reapply.ts';
import {
  upgradeBusy,
  upgradeFinished,
  upgradeNothing,
  upgradeNotStopped,
  upgradeProgress,
  upgradeResumed,
  upgradeScanFailed,
  upgradeStarted,
  upgradeStopped,
} from '../../slack/drift/upgrade.ts';
import { notifier } from '../../slack/io/notifier.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { PAUSED, withRetries } from '../runs/engine.ts';
import { reapplicable, reapplyNamespace } from './reapply.ts';
import { outdatedRequests, scanDrift } from './scan.ts';

/**
 * Fleet upgrades: *Upgrade all N outdated* re-applies the golden path to every outdated namespace
 * of a cluster, `drift.upgrade.concurrency` at a time. The batch lives in the store (db/0011): each
 * namespace is claimed by compare-and-set, retried with the run engine's backoff while its failure
 * may pass, and the first permanent failure stops the batch (the namespaces in flight finish).
 * Its progress is one message in the approvals channel, redrawn as it goes, with a reply when it
 * stops (and a Resume button) or finishes. A restart resumes a running batch where it was.
 */

async function redraw(deps: Deps, id: number): Promise<void> {
  const upgrade = await deps.store.drift.get(id);
  if (!upgrade?.threadTs) return Promise.resolve();
  return notifier(deps)
    .update(upgrade.channel, upgrade.threadTs, await progressOf(deps, upgrade))
    .then(() => undefined);
}

async function progressOf(deps: Deps, upgrade: Upgrade): Promise<SlackMessage> {
  return upgradeProgress({
    cluster: upgrade.cluster,
    status: upgrade.status,
    startedBy: upgrade.startedBy,
    concurrency: deps.config.drift.upgrade.concurrency,
    counts: await deps.store.drift.counts(upgrade.id),
  });
}

/** Runs (or continues) an upgrade until it is done, stops at a failure, or shutdown pauses it. */
export function executeUpgrade(deps: Deps, id: number): Promise<void> {
  return deps.engine.runs.track(runUpgrade(deps, id));
}

interface Stop {
  requestId: number;
  namespace: string;
  error: unknown;
}

async function runUpgrade(deps: Deps, id: number): Promise<void> {
  const upgrade = await deps.store.drift.get(id);
  if (upgrade?.status !== 'running') return;
  const log = deps.log.child({ upgradeId: id, cluster: upgrade.cluster });
  const progress = coalesce(
    () => redraw(deps, id),
    deps.engine.progressIntervalMs,
    (err) => log.warn({ err }, 'could not update the upgrade message'),
  );
  try {
    let stop: Stop | undefined;

    const worker = async (): Promise<void> => {
      while (!deps.engine.runs.draining && !stop) {
        const requestId = await deps.store.drift.claim(id);
        if (requestId === undefined) return;
        progress.poke();
        const request = await reapplicable(deps, requestId);
        if (!request) {
          // Deleted or on its way out since the scan: nothing to upgrade.
          await deps.store.drift.finishItem(id, requestId, 'done', 'skipped: no longer a ready namespace', deps.clock.now());
          continue;
        }
        let lastError = '';
        const outcome = await withRetries(deps, () => reapplyNamespace(deps, request), {
          started: async (attempt) => {
            if (attempt > 1) await deps.store.drift.retryItem(id, requestId, lastError);
          },
          succeeded: () => undefined,
          failed: (err) => {
            lastError = errorMessage(err);
            log.warn({ requestId, err: lastError }, 'upgrade: re-applying a namespace failed');
          },
          paused: () => undefined,
        });
        // Paused for shutdown: the namespace stays claimed and is released at the next start.
        if (outcome === PAUSED) return;
        const now = deps.clock.now();
        if (outcome !== undefined) {
          await deps.store.drift.finishItem(id, requestId, 'failed', errorMessage(outcome), now);
          await deps.store.appendEvent({
            type: 'drift_upgrade_failed',
            at: now,
            team: request.team,
            requestId,
            data: { upgradeId: id, error: errorMessage(outcome) },
          });
          stop ??= { requestId, namespace: request.namespace, error: outcome };
        } else {
          await deps.store.drift.finishItem(id, requestId, 'done', undefined, now);
          await deps.store.appendEvent({
            type: 'drift_reapplied',
            at: now,
            team: request.team,
            requestId,
            data: { upgradeId: id, namespace: request.namespace },
          });
        }
        progress.poke();
      }
    };

    await Promise.all(Array.from({ length: deps.config.drift.upgrade.concurrency }, worker));
    const slack = notifier(deps);
    const thread = (message: SlackMessage) => (upgrade.threadTs ? slack.post(upgrade.channel, message, upgrade.threadTs) : Promise.resolve(undefined));
    if (stop) {
      const stopped = await deps.store.drift.finish(id, 'failed', deps.clock.now());
      progress.poke();
      await progress.flush();
      if (!stopped) return;
      log.warn({ requestId: stop.requestId, err: errorMessage(stop.error) }, 'upgrade stopped at a permanent failure');
      await deps.store.appendEvent({ type: 'drift_upgrade_stopped', at: deps.clock.now(), requestId: stop.requestId, data: { upgradeId: id } });
      const counts = await deps.store.drift.counts(id);
      await thread(upgradeStopped({ upgradeId: id, namespace: stop.namespace, error: errorMessage(stop.error), counts }));
      return;
    }
    const counts = await deps.store.drift.counts(id);
    if (deps.engine.runs.draining || counts.pending + counts.running > 0) {
      log.info({ left: counts.pending + counts.running }, 'upgrade paused for shutdown');
      await progress.flush();
      return;
    }
    if (!(await deps.store.drift.finish(id, 'done', deps.clock.now()))) return;
    await deps.store.appendEvent({
      type: 'drift_upgrade_done',
      at: deps.clock.now(),
      actor: upgrade.startedBy,
      data: { upgradeId: id, namespaces: counts.done },
    });
    log.info({ namespaces: counts.done }, 'upgrade finished');
    progress.poke();
    await progress.flush();
    await thread(upgradeFinished(counts.done));
  } finally {
    await progress.close();
  }
}

/**
 * Starts an upgrade of these requests' namespaces on `cluster`: recorded, announced in the
 * approvals channel (the thread), then run; `execution` settles when it ends or pauses.
 * Undefined when the cluster has a running upgrade.
 */
export async function startUpgrade(
  deps: Deps,
  input: { cluster: string; by: string; requestIds: readonly number[] },
): Promise<{ upgrade: Upgrade; execution: Promise<void> } | undefined> {
  const channel = deps.config.slack.approvalsChannel;
  const upgrade = await deps.store.drift.startUpgrade({ ...input, channel }, deps.clock.now());
  if (!upgrade) return undefined;
  await deps.store.appendEvent({
    type: 'drift_upgrade_started',
    at: deps.clock.now(),
    actor: input.by,
    data: { upgradeId: upgrade.id, cluster: input.cluster, namespaces: input.requestIds.length },
  });
  const ts = await notifier(deps).post(channel, await progressOf(deps, upgrade));
  if (ts) await deps.store.drift.setThread(upgrade.id, ts);
  const execution = executeUpgrade(deps, upgrade.id).catch((err: unknown) => deps.log.error({ err, upgradeId: upgrade.id }, 'upgrade failed unexpectedly'));
  return { upgrade: (await deps.store.drift.get(upgrade.id)) ?? upgrade, execution };
}

/** *Upgrade all N outdated*: approvers only; scans the cluster again and upgrades what is outdated now. */
export async function upgradeFromClick(deps: Deps, cluster: string | undefined, click: Click): Promise<SlackMessage> {
  if (!(await isApprover(deps, click.user))) return driftActionRefused;
  const name = cluster && findCluster(deps.config, cluster)?.name;
  if (!name) return upgradeNothing(cluster ?? '?');
  if (await deps.store.drift.runningOn(name)) return upgradeBusy(name);
  const report = await scanDrift(deps, { cluster: name });
  const error = report.clusters[0]?.error;
  if (error !== undefined) return upgradeScanFailed(name, error);
  const requestIds = outdatedRequests(report, name);
  if (requestIds.length === 0) return upgradeNothing(name);
  const started = await startUpgrade(deps, { cluster: name, by: click.user, requestIds });
  return started ? upgradeStarted(requestIds.length, name, started.upgrade.channel) : upgradeBusy(name);
}

/** *Resume* in a stopped upgrade's thread: approvers only; the failed and remaining namespaces run again. */
export async function resumeFromClick(deps: Deps, id: number | undefined, click: Click): Promise<SlackMessage | undefined> {
  if (!(await isApprover(deps, click.user))) return driftActionRefused;
  const upgrade = id === undefined ? undefined : await deps.store.drift.get(id);
  if (!upgrade || !(await deps.store.drift.reopen(upgrade.id))) return upgradeNotStopped;
  await deps.store.appendEvent({ type: 'drift_upgrade_resumed', at: deps.clock.now(), actor: click.user, data: { upgradeId: upgrade.id } });
  const counts = await deps.store.drift.counts(upgrade.id);
  if (upgrade.threadTs) await notifier(deps).post(upgrade.channel, upgradeResumed(click.user, counts.pending), upgrade.threadTs);
  void executeUpgrade(deps, upgrade.id).catch((err: unknown) => deps.log.error({ err, upgradeId: upgrade.id }, 'upgrade failed unexpectedly'));
  return undefined;
}

/** At start-up: upgrades left running by the last process continue; what it had claimed is pending again. */
export async function resumeUpgrades(deps: Deps): Promise<void> {
  const running = await deps.store.drift.running();
  if (running.length > 0) deps.log.info({ upgrades: running.map((u) => u.id) }, 'resuming upgrades');
  await Promise.all(
    running.map(async (u) => {
      await deps.store.drift.release(u.id, ['running']);
      return executeUpgrade(deps, u.id);
    }),
  );
}
