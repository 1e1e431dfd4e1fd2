/**
 * The cluster pane's content: per configured cluster, the namespaces Slipway manages and the
 * objects it applied in each, read through the Kubernetes API (the embedded cluster or a real one,
 * whichever the demo's kubeconfig points at), each with its YAML.
 */
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { loadKubeConfig } from '../cluster/client.ts';
import { MANAGED_BY } from '../cluster/manifests.ts';
import type { Config } from '../config.ts';
import { errorMessage } from '../errors.ts';

export interface ClusterObject {
  readonly kind: string;
  readonly name: string;
  readonly yaml: string;
}

export interface NamespaceView {
  readonly name: string;
  readonly phase: string;
  readonly objects: readonly ClusterObject[];
}

export interface ClusterView {
  readonly cluster: string;
  readonly namespaces: readonly NamespaceView[];
  readonly error?: string;
}

/** The kinds of the golden path, besides the Namespace itself (src/cluster/manifests.ts). */
const NAMESPACED_KINDS: readonly (readonly [string, string])[] = [
  ['v1', 'ResourceQuota'],
  ['v1', 'LimitRange'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
];
const SELECTOR = Object.entries(MANAGED_BY)
  .map(([key, value]) => `${key}=${value}`)
  .join(',');

/** Strips what makes YAML long and says nothing to a reader (managedFields). */
function readableYaml(object: KubernetesObject): string {
  const meta = { ...object.metadata };
  delete meta.managedFields;
  return stringify({ apiVersion: object.apiVersion, kind: object.kind, ...object, metadata: meta });
}

function objectOf(object: KubernetesObject, kind: string): ClusterObject {
  return { kind, name: object.metadata?.name ?? '', yaml: readableYaml({ ...object, kind, apiVersion: object.apiVersion }) };
}

async function viewCluster(config: Config['clusters'][number]): Promise<ClusterView> {
  if (config.type !== 'kubeconfig') return { cluster: config.name, namespaces: [], error: 'only kubeconfig clusters are shown here' };
  try {
    const api = KubernetesObjectApi.makeApiClient(loadKubeConfig(config));
    const namespaces = await api.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, SELECTOR);
    const views = await Promise.all(
      namespaces.items.map(async (ns): Promise<NamespaceView> => {
        const name = ns.metadata?.name ?? '';
        const lists = await Promise.all(
          NAMESPACED_KINDS.map(async ([apiVersion, kind]) => {
            const list = await api.list(apiVersion, kind, name, undefined, undefined, undefined, undefined, SELECTOR);
            return list.items.map((item) => objectOf({ ...item, apiVersion }, kind));
          }),
        );
        const phase = (ns as { status?: { phase?: string } }).status?.phase ?? '';
        return { name, phase, objects: [objectOf({ ...ns, apiVersion: 'v1' }, 'Namespace'), ...lists.flat()] };
      }),
    );
    return { cluster: config.name, namespaces: views.sort((a, b) => a.name.localeCompare(b.name)) };
  } catch (err) {
    return { cluster: config.name, namespaces: [], error: errorMessage(err) };
  }
}

export function viewClusters(config: Config): Promise<ClusterView[]> {
  return Promise.all(config.clusters.map(viewCluster));
}
