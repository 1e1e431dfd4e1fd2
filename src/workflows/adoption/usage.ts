import type { ManagedNamespace } from '../../cluster/client.ts';
import { LABEL } from '../../cluster/manifests.ts';
import type { Deps } from '../../deps.ts';
import { parseRequestRef } from '../../domain/requests.ts';
import { errorMessage, SlipwayError } from '../../errors.ts';
import type { NamespaceState, UsageSnapshotInput } from '../../store/adoption.ts';

/** How far back a namespace that became ready but was never seen by a refresh is looked for. */
const UNSEEN_READY_LOOKBACK_MS = 30 * 86_400_000;

export interface ClusterUsage {
  cluster: string;
  /** Undefined when the cluster answered. */
  error: string | undefined;
  namespaces: number;
  running: number;
  pods: number;
}

export interface DeletedNamespace {
  cluster: string;
  namespace: string;
  team: string | undefined;
  requestId: number | undefined;
}

export interface UsageRefresh {
  clusters: ClusterUsage[];
  /** Snapshot rows written (changes since the previous refresh). */
  changes: number;
  deleted: DeletedNamespace[];
  /** One line for `slipway jobs` and the logs. */
  summary: string;
}

const key = (cluster: string, namespace: string) => `${cluster}/${namespace}`;

/**
 * The usage refresh job: lists, per cluster, the namespaces Slipway manages and their running pods
 * (one namespace list and one pod list per cluster), and records what changed since the last
 * refresh as usage snapshots. A namespace that was there and is gone (or is terminating) was
 * deleted outside Slipway: that becomes a `namespace_deleted` event. A cluster that does not
 * answer is skipped, so its namespaces are never taken for deleted; if none answers, the job fails.
 */
export async function refreshUsage(deps: Pick<Deps, 'config' | 'store' | 'clusters' | 'log'>, now: Date): Promise<UsageRefresh> {
  const adoption = deps.store.adoption;
  const listed = await Promise.all(
    deps.config.clusters.map(async (cluster) => {
      try {
        return { cluster: cluster.name, namespaces: await deps.clusters.listManaged(cluster.name), error: undefined };
      } catch (err) {
        deps.log.warn({ err, cluster: cluster.name }, 'usage refresh: cluster did not answer; its namespaces keep their last state');
        return { cluster: cluster.name, namespaces: [] as ManagedNamespace[], error: errorMessage(err) };
      }
    }),
  );
  const answered = new Set(listed.filter((l) => l.error === undefined).map((l) => l.cluster));
  if (answered.size === 0) {
    throw new SlipwayError('usage_refresh_failed', `No cluster answered the usage refresh: ${listed.map((l) => `${l.cluster}: ${l.error}`).join('; ')}`);
  }

  // Read after listing: a namespace that became ready meanwhile is not taken for deleted.
  const previous = new Map<string, NamespaceState>();
  for (const state of await adoption.latestStates(now)) previous.set(key(state.cluster, state.namespace), state);
  const unseenReady = await adoption.readyWithoutSnapshot(new Date(now.getTime() - UNSEEN_READY_LOOKBACK_MS), now);

  const rows: UsageSnapshotInput[] = [];
  const deleted: DeletedNamespace[] = [];
  const clusters: ClusterUsage[] = [];
  for (const { cluster, namespaces, error } of listed) {
    const usage: ClusterUsage = { cluster, error, namespaces: 0, running: 0, pods: 0 };
    clusters.push(usage);
    if (error !== undefined) continue;
    const here = new Set<string>();
    for (const ns of namespaces) {
      if (ns.terminating) continue;
      here.add(ns.name);
      usage.namespaces += 1;
      usage.pods += ns.runningPods;
      if (ns.runningPods > 0) usage.running += 1;
      const requestId = parseRequestRef(ns.labels[LABEL.requestId] ?? '');
      const team = ns.labels[LABEL.team];
      const before = previous.get(key(cluster, ns.name));
      const changed = !before || !before.present || before.runningPods > 0 !== ns.runningPods > 0 || before.requestId !== requestId;
      if (changed) rows.push({ at: now, cluster, namespace: ns.name, team, requestId, present: true, runningPods: ns.runningPods });
    }
    const gone = async ({ namespace, team, requestId }: DeletedNamespace) => {
      if (here.has(namespace) || rows.some((r) => r.cluster === cluster && r.namespace === namespace && !r.present)) return;
      // A namespace Slipway is deleting (or deleted) is gone, but not outside Slipway.
      const bySlipway = requestId !== undefined && ['deleting', 'deleted'].includes((await deps.store.lifecycle.get(requestId))?.state ?? '');
      if (!bySlipway) deleted.push({ cluster, namespace, team, requestId });
      rows.push({ at: now, cluster, namespace, team, requestId, present: false, runningPods: 0 });
    };
    for (const state of previous.values()) {
      if (state.cluster === cluster && state.present) await gone(state);
    }
    for (const ready of unseenReady) {
      if (ready.cluster === cluster && !previous.has(key(cluster, ready.namespace))) await gone(ready);
    }
  }

  await adoption.insertSnapshots(rows);
  for (const ns of deleted) {
    await deps.store.appendEvent({
      type: 'namespace_deleted',
      at: now,
      team: ns.team,
      requestId: ns.requestId,
      data: { namespace: ns.namespace, cluster: ns.cluster, outsideSlipway: true },
    });
    deps.log.warn({ cluster: ns.cluster, namespace: ns.namespace, requestId: ns.requestId }, 'namespace deleted outside Slipway');
  }

  const parts = clusters.map((c) =>
    c.error !== undefined ? `${c.cluster}: did not answer (${c.error})` : `${c.cluster}: ${c.namespaces} namespaces, ${c.running} running ${c.pods} pods`,
  );
  if (deleted.length > 0) parts.push(`${deleted.length} deleted outside Slipway`);
  parts.push(`${rows.length} change${rows.length === 1 ? '' : 's'} recorded`);
  return { clusters, changes: rows.length, deleted, summary: parts.join('; ') };
}
