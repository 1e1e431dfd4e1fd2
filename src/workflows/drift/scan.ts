import { FIELD_MANAGER, MANAGED_KINDS, type AccessPolicyScope, type ManagedKind } from '../../cluster/client.ts';
import { LABEL } from '../../cluster/manifests.ts';
import type { Deps } from '../../deps.ts';
import { parseRequestRef, type NamespaceRequest } from '../../domain/requests.ts';
import { errorMessage, SlipwayError } from '../../errors.ts';
import { plural } from '../../slack/text.ts';
import { currentStepInput } from '../provisioning/present.ts';
import type { StepInput } from '../provisioning/steps.ts';
import { compareAccess } from './access.ts';
import { compareNamespace, type Difference, type LiveObject } from './compare.ts';

export interface ClusterDrift {
  cluster: string;
  /** Undefined when the cluster answered. */
  error: string | undefined;
  /** Managed namespaces compared (those with a Slipway request behind them). */
  namespaces: number;
  /** Managed namespaces whose request label points at no request Slipway knows. */
  unknown: string[];
}

/** A difference as the scan reports it: with the cluster and the request behind the namespace. */
export interface ScanDifference extends Difference {
  cluster: string;
  requestId: number;
}

export interface DriftReport {
  clusters: ClusterDrift[];
  differences: ScanDifference[];
  /** Namespaces with at least one difference, by kind. */
  edited: number;
  outdated: number;
  /** One line for `slipway jobs` and the logs. */
  summary: string;
}

const KINDS = Object.keys(MANAGED_KINDS) as ManagedKind[];

/** The live objects of one cluster, grouped by namespace: one list per kind, never per namespace. */
async function liveByNamespace(deps: Pick<Deps, 'clusters'>, cluster: string): Promise<Map<string, LiveObject[]>> {
  const lists = await Promise.all(KINDS.map((kind) => deps.clusters.listManagedObjects(cluster, kind)));
  const out = new Map<string, LiveObject[]>();
  for (const obj of lists.flat()) {
    const ns = obj.kind === 'Namespace' ? obj.metadata?.name : obj.metadata?.namespace;
    if (!ns) continue;
    const group = out.get(ns) ?? [];
    group.push(obj as LiveObject);
    out.set(ns, group);
  }
  return out;
}

function namespaceOf(objects: readonly LiveObject[]): LiveObject | undefined {
  return objects.find((o) => o.kind === 'Namespace');
}

async function scanCluster(
  deps: Pick<Deps, 'config' | 'store' | 'clusters'>,
  cluster: string,
  only: string | undefined,
): Promise<{ drift: ClusterDrift; differences: ScanDifference[] }> {
  const live = await liveByNamespace(deps, cluster);
  const compared: { request: NamespaceRequest; objects: LiveObject[] }[] = [];
  const unknown: string[] = [];
  for (const [name, objects] of [...live.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (only !== undefined && name !== only) continue;
    const ns = namespaceOf(objects);
    // Objects labelled managed-by slipway in a namespace Slipway did not make are not its to judge.
    if (!ns || ns.metadata?.deletionTimestamp) continue;
    const id = parseRequestRef(ns.metadata?.labels?.[LABEL.requestId] ?? '');
    const request = id === undefined ? undefined : await deps.store.getRequest(id);
    if (!request || request.cluster !== cluster || request.namespace !== name) {
      unknown.push(name);
      continue;
    }
    compared.push({ request, objects });
  }
  const inputs: { request: NamespaceRequest; objects: LiveObject[]; input: StepInput }[] = [];
  for (const { request, objects } of compared) inputs.push({ request, objects, input: await currentStepInput(deps, request) });
  const access = await accessByPrincipal(
    deps,
    cluster,
    inputs.map(({ input }) => input),
  );
  const differences: ScanDifference[] = [];
  for (const { request, objects, input } of inputs) {
    const found = [...compareNamespace(input.path, objects, FIELD_MANAGER)];
    if (input.access) found.push(...compareAccess(request.namespace, input.access, access.get(input.access.principalArn)));
    for (const d of found) differences.push({ ...d, cluster, requestId: request.id });
  }
  return { drift: { cluster, error: undefined, namespaces: compared.length, unknown }, differences };
}

/**
 * On EKS, each principal's associated access policies: one ListAssociatedAccessPolicies per
 * principal (a team's role), however many of its namespaces are compared. A failure fails the
 * cluster's scan like a list that fails.
 */
async function accessByPrincipal(
  deps: Pick<Deps, 'clusters'>,
  cluster: string,
  inputs: readonly StepInput[],
): Promise<Map<string, AccessPolicyScope[] | undefined>> {
  const principals = [...new Set(inputs.flatMap((i) => (i.access ? [i.access.principalArn] : [])))];
  const read = await Promise.all(principals.map((p) => deps.clusters.readNamespaceAccess(cluster, p)));
  return new Map(principals.map((p, i) => [p, read[i]]));
}

function countNamespaces(differences: readonly Difference[], kind: Difference['kind']): number {
  return new Set(differences.filter((d) => d.kind === kind).map((d) => d.namespace)).size;
}

/**
 * The drift scan: on every cluster, lists each golden-path kind once (label selector managed-by
 * slipway, all namespaces) and compares every managed namespace with what its request, as
 * changed since, renders today; on EKS, also whether each namespace is in its team role's access
 * scope (one ListAssociatedAccessPolicies per role and cluster, see access.ts). A cluster that
 * does not answer (its API server, or on EKS the EKS API) is reported and skipped; if none
 * answers, the scan fails.
 * With `namespace`, only that namespace is compared (the lists stay per cluster and kind); with
 * `cluster`, only that cluster.
 */
export async function scanDrift(
  deps: Pick<Deps, 'config' | 'store' | 'clusters' | 'log'>,
  options: { namespace?: string | undefined; cluster?: string | undefined } = {},
): Promise<DriftReport> {
  const clusterList = deps.config.clusters.filter((c) => options.cluster === undefined || c.name === options.cluster);
  const results = await Promise.all(
    clusterList.map(async (cluster) => {
      try {
        return await scanCluster(deps, cluster.name, options.namespace);
      } catch (err) {
        deps.log.warn({ err, cluster: cluster.name }, 'drift: cluster did not answer');
        const drift: ClusterDrift = { cluster: cluster.name, error: errorMessage(err), namespaces: 0, unknown: [] };
        return { drift, differences: [] as ScanDifference[] };
      }
    }),
  );
  const clusters = results.map((r) => r.drift);
  if (clusters.length > 0 && clusters.every((c) => c.error !== undefined)) {
    throw new SlipwayError('drift_scan_failed', `No cluster answered the drift scan: ${clusters.map((c) => `${c.cluster}: ${c.error}`).join('; ')}`);
  }
  const differences = results.flatMap((r) => r.differences);
  const edited = countNamespaces(differences, 'edited');
  const outdated = countNamespaces(differences, 'outdated');
  const compared = clusters.reduce((n, c) => n + c.namespaces, 0);
  const failed = clusters.filter((c) => c.error !== undefined).map((c) => c.cluster);
  const summary =
    `compared ${plural(compared, 'namespace')}: ${edited} edited, ${outdated} outdated (${plural(differences.length, 'difference')})` +
    (failed.length > 0 ? `; no answer from ${failed.join(', ')}` : '');
  return { clusters, differences, edited, outdated, summary };
}

/** The `drift` job: a scan of every cluster, its counts kept for the weekly digest. */
export async function driftJob(deps: Pick<Deps, 'config' | 'store' | 'clusters' | 'log'>, now: Date): Promise<string> {
  const report = await scanDrift(deps);
  const namespaces = report.clusters.reduce((n, c) => n + c.namespaces, 0);
  await deps.store.drift.recordScan({ at: now.toISOString(), namespaces, edited: report.edited, outdated: report.outdated, summary: report.summary });
  return report.summary;
}

/** The request ids of a cluster's namespaces with at least one outdated difference, in name order. */
export function outdatedRequests(report: Pick<DriftReport, 'differences'>, cluster: string): number[] {
  return [...new Set(report.differences.filter((d) => d.cluster === cluster && d.kind === 'outdated').map((d) => d.requestId))];
}

/** The report as plain lines, for the CLI and the logs. */
export function driftLines(report: DriftReport): string[] {
  const lines = [report.summary];
  for (const c of report.clusters) {
    if (c.error !== undefined) lines.push(`${c.cluster}: no answer (${c.error})`);
    if (c.unknown.length > 0) lines.push(`${c.cluster}: not compared, no Slipway request behind them: ${c.unknown.join(', ')}`);
  }
  for (const d of report.differences) {
    lines.push(
      `${d.kind}\t${d.namespace}\t${d.object}\t${d.field}\tlive ${d.live ?? '(none)'}\texpected ${d.expected ?? '(none)'}\tby ${d.manager ?? '(unknown)'}`,
    );
  }
  return lines;
}
