/**
 * Amazon EKS: one cluster's API server, its kubeconfig (auth.ts) and access entries
 * (access-entries.ts), with AWS errors translated (errors.ts).
 * API: https://docs.aws.amazon.com/eks/latest/APIReference/
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.ts';
import { EksTokenCache } from './token.ts';
import {
  ensureAccessEntry,
  grantNamespaceAccess,
  readAccessPolicies,
  type AccessPolicyScope,
  revokeNamespaceAccess,
  type EnsureAccessEntryInput,
  type EnsureAccessEntryResult,
  type GrantNamespaceAccessInput,
  type GrantNamespaceAccessResult,
  type RevokeNamespaceAccessInput,
  type RevokeNamespaceAccessResult,
} from './access-entries.ts';
import { buildEksKubeConfig, eksCredentials, systemClock, type EksCredentialsOptions } from './auth.ts';
import { regionOf, toEksClusterError } from './errors.ts';

export interface EksClusterInfo {
  /** The API server URL, `https://….eks.amazonaws.com`. */
  endpoint: string;
  /** Base64 PEM of the cluster CA, as client-node's `caData` expects. */
  caData: string;
  /** `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`; access entries need one of the first two. */
  authenticationMode: string | undefined;
}

export interface EksClusterOptions extends EksCredentialsOptions {
  clusterName: string;
  /** Make a new bearer token this long before the current one expires. Default 60 s. */
  tokenRefreshBeforeMs?: number | undefined;
}

/**
 * One EKS cluster: its API server (DescribeCluster, cached), a kubeconfig whose user signs in
 * with a fresh IAM token on every request, and its access entries.
 */
export class EksCluster {
  readonly clusterName: string;
  readonly region: string;
  readonly client: EKSClient;
  readonly tokens: EksTokenCache;
  private info: Promise<EksClusterInfo> | undefined;
  private kc: Promise<KubeConfig> | undefined;
  /** Access changes for one principal run one after another; see `oneAtATime`. */
  private readonly accessChanges = new Map<string, Promise<unknown>>();

  constructor(options: EksClusterOptions) {
    this.clusterName = options.clusterName;
    this.region = options.region;
    const clock = options.clock ?? systemClock;
    const credentials = eksCredentials({ ...options, clock });
    this.client = new EKSClient({ region: options.region, credentials });
    this.tokens = new EksTokenCache({
      clusterName: options.clusterName,
      region: options.region,
      credentials,
      clock,
      refreshBeforeMs: options.tokenRefreshBeforeMs,
    });
  }

  /** The API server endpoint and CA, fetched once; concurrent callers share one request. */
  describe(): Promise<EksClusterInfo> {
    if (this.info) return this.info;
    const info = describeEksCluster(this.client, this.clusterName).catch((err: unknown) => {
      if (this.info === info) this.info = undefined; // a failure is not remembered
      throw err;
    });
    this.info = info;
    return info;
  }

  /**
   * Forgets the endpoint, CA, kubeconfig and token. Call it after a connection or TLS failure
   * (the endpoint or CA may have changed) or a 401 (the token may be stale).
   */
  invalidate(): void {
    this.info = undefined;
    this.kc = undefined;
    this.tokens.invalidate();
  }

  /** A kubeconfig for this cluster; the same object until `invalidate()`. */
  kubeConfig(): Promise<KubeConfig> {
    if (this.kc) return this.kc;
    const kc = this.describe()
      .then((info) => buildEksKubeConfig(this.clusterName, info, this.tokens))
      .catch((err: unknown) => {
        if (this.kc === kc) this.kc = undefined;
        throw err;
      });
    this.kc = kc;
    return kc;
  }

  ensureAccessEntry(input: Omit<EnsureAccessEntryInput, 'clusterName'>): Promise<EnsureAccessEntryResult> {
    return this.oneAtATime(input.principalArn, () => ensureAccessEntry(this.client, { ...input, clusterName: this.clusterName }));
  }

  /**
   * The access entry for the principal (kept when it exists), with `namespace` added to its access
   * scope.
   */
  grantNamespaceAccess(input: Omit<GrantNamespaceAccessInput, 'clusterName'>): Promise<GrantNamespaceAccessResult> {
    return this.oneAtATime(input.principalArn, async () => {
      await ensureAccessEntry(this.client, { principalArn: input.principalArn, clusterName: this.clusterName });
      return grantNamespaceAccess(this.client, { ...input, clusterName: this.clusterName });
    });
  }

  /** The principal's associated access policies (read only), undefined without an access entry. */
  accessPolicies(principalArn: string): Promise<AccessPolicyScope[] | undefined> {
    return readAccessPolicies(this.client, this.clusterName, principalArn);
  }

  /** `namespace` out of the principal's access scope; the policy and the entry go when nothing is left. */
  revokeNamespaceAccess(input: Omit<RevokeNamespaceAccessInput, 'clusterName'>): Promise<RevokeNamespaceAccessResult> {
    return this.oneAtATime(input.principalArn, () => revokeNamespaceAccess(this.client, { ...input, clusterName: this.clusterName }));
  }

  /**
   * The EKS API has no compare-and-set: two changes racing would each write "what I read + mine"
   * and one would be lost, and a revoke could delete the access entry a grant is about to use.
   * Within this process the changes for one principal are queued; another writer (the console,
   * Terraform) can still race, so each change reads just before it writes to keep that window small.
   */
  private oneAtATime<T>(principalArn: string, change: () => Promise<T>): Promise<T> {
    const previous = this.accessChanges.get(principalArn) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(change);
    this.accessChanges.set(principalArn, run);
    void run
      .finally(() => {
        if (this.accessChanges.get(principalArn) === run) this.accessChanges.delete(principalArn);
      })
      .catch(() => undefined);
    return run;
  }
}

/** DescribeCluster → the endpoint and CA; a cluster still being created has neither yet. */
export async function describeEksCluster(client: EKSClient, clusterName: string): Promise<EksClusterInfo> {
  let cluster;
  try {
    ({ cluster } = await client.send(new DescribeClusterCommand({ name: clusterName })));
  } catch (err) {
    throw await toEksClusterError(err, client, { action: 'DescribeCluster', clusterName });
  }
  const endpoint = cluster?.endpoint;
  const caData = cluster?.certificateAuthority?.data;
  if (!endpoint || !caData) {
    const status = cluster?.status ?? 'unknown';
    const starting = status === 'CREATING' || status === 'PENDING';
    throw new ClusterError(
      `EKS cluster "${clusterName}" in ${await regionOf(client)} has no API endpoint yet (status ${status}).${starting ? ' Try again when it is ACTIVE.' : ''}`,
      { transient: starting },
    );
  }
  return { endpoint, caData, authenticationMode: cluster?.accessConfig?.authenticationMode };
}
