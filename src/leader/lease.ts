import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiException, AuthorizationV1Api, CoordinationV1Api, KubeConfig, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { findCluster, type Config, type LeaderElectionConfig } from '../config.ts';
import { loadKubeConfig } from '../cluster/client.ts';
import { EksCluster } from '../cluster/eks/cluster.ts';
import type { RuntimeEnv } from '../env.ts';
import { LeaseConflict, type LeaseClient, type LeaseRecord } from './elector.ts';

/** Where a pod finds its own namespace when POD_NAMESPACE is not set. */
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Where this replica runs, from the environment (src/env.ts). */
export type PodEnv = Pick<RuntimeEnv, 'podName' | 'podNamespace'>;

/** This process's holder identity: the pod name (or host name) and a random part, as client-go's callers make it. */
export function holderIdentity(env: PodEnv): string {
  return `${env.podName ?? hostname()}_${randomUUID()}`;
}

/** The Lease's namespace: from config, else the pod's own (POD_NAMESPACE, its ServiceAccount's), else default. */
export function leaseNamespace(config: LeaderElectionConfig, env: PodEnv): string {
  if (config.namespace) return config.namespace;
  if (env.podNamespace) return env.podNamespace;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

/** The API server of the cluster named in leaderElection.cluster, or of the cluster the pod runs in. */
async function kubeConfigFor(config: Config): Promise<KubeConfig> {
  const name = config.leaderElection.cluster;
  const cluster = name === undefined ? undefined : findCluster(config, name);
  if (cluster?.type === 'kubeconfig') return loadKubeConfig(cluster);
  if (cluster?.type === 'eks') return new EksCluster({ clusterName: cluster.clusterName, region: cluster.region, roleArn: cluster.roleArn }).kubeConfig();
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kc;
}

/**
 * client-node sends a V1MicroTime with the six fractional digits the API server requires (a Date
 * would send three, and the server answers 400), but hands the field back as the string it read.
 */
function time(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function toRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: time(spec.acquireTime ?? 0),
    renewTime: time(spec.renewTime ?? 0),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function toSpec(record: LeaseRecord): V1Lease['spec'] {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: new V1MicroTime(record.acquireTime.getTime()),
    renewTime: new V1MicroTime(record.renewTime.getTime()),
    leaseTransitions: record.leaseTransitions,
  };
}

async function conflictAware(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException && err.code === 409) throw new LeaseConflict('another candidate wrote the Lease first');
    throw err;
  }
}

/** The Lease of leaderElection, through client-node's CoordinationV1Api. */
export function coordinationLease(api: CoordinationV1Api, namespace: string, name: string): LeaseClient {
  return {
    description: `${namespace}/${name}`,
    async get() {
      try {
        const lease = await api.readNamespacedLease({ namespace, name });
        return { record: toRecord(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    create: (record) => conflictAware(api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(record) } })),
    update: (record, resourceVersion) =>
      conflictAware(api.replaceNamespacedLease({ namespace, name, body: { metadata: { name, namespace, resourceVersion }, spec: toSpec(record) } })),
  };
}

/** The Lease leaderElection in config points at, on its cluster. */
export async function leaseFromConfig(config: Config, env: PodEnv): Promise<LeaseClient> {
  const kc = await kubeConfigFor(config);
  return coordinationLease(kc.makeApiClient(CoordinationV1Api), leaseNamespace(config.leaderElection, env), config.leaderElection.leaseName);
}

/** A question about Leases in one namespace, as a SelfSubjectAccessReview asks it; `name` narrows it to one Lease. */
export interface LeaseAccessQuestion {
  verb: string;
  namespace: string;
  name?: string | undefined;
}

/**
 * Asks the Lease's cluster (leaderElection.cluster, or the one the pod runs in) whether this
 * process's identity may do something with Leases: what `slipway doctor` checks before a replica
 * needs it.
 */
export async function leaseAccessReview(config: Config): Promise<(question: LeaseAccessQuestion) => Promise<boolean>> {
  const api = (await kubeConfigFor(config)).makeApiClient(AuthorizationV1Api);
  return async ({ verb, namespace, name }) => {
    const review = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, group: 'coordination.k8s.io', resource: 'leases', namespace, ...(name ? { name } : {}) } },
      },
    });
    return review.status?.allowed === true;
  };
}
