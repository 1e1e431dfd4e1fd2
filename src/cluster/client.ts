import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  VersionApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import { findCluster, type ClusterConfig, type Config } from '../config.ts';
import { ClusterError } from '../errors.ts';
import type { AccessPolicyScope } from './eks/access-entries.ts';
export type { AccessPolicyScope } from './eks/access-entries.ts';
import { EksCluster } from './eks/cluster.ts';
import { requestRef } from '../domain/requests.ts';
import { LABEL, MANAGED_BY } from './manifests.ts';

export const FIELD_MANAGER = 'slipway';

export interface ExistingNamespace {
  name: string;
  labels: Record<string, string>;
}

export interface NamespaceAccessGrant {
  principalArn: string;
  policyArn: string;
  namespace: string;
}

/** What workflows need from a cluster; tests use the real implementation against an emulator. */
export interface Clusters {
  /** The namespace as it stands, or undefined when it does not exist. */
  readNamespace(cluster: string, name: string, options?: { timeoutMs?: number }): Promise<ExistingNamespace | undefined>;
  /**
   * Server-side apply as field manager `slipway`, with `force`: the object holds only the fields
   * Slipway sets, so force takes back those and never touches fields only other managers set.
   * Re-applying the same object changes nothing. With `dryRun`, the server runs the apply
   * (admission included) without storing it. Resolves the object as the server has it (or would).
   */
  apply(cluster: string, object: KubernetesObject, options?: { dryRun?: boolean }): Promise<KubernetesObject>;
  /** One object as it stands (with its managedFields), or undefined when it does not exist. */
  readObject(cluster: string, object: KubernetesObject): Promise<KubernetesObject | undefined>;
  /** EKS only: an access entry for the role, with the policy scoped to (also) this namespace. */
  grantNamespaceAccess(cluster: string, grant: NamespaceAccessGrant): Promise<string>;
  /**
   * EKS only, the reverse of `grantNamespaceAccess`: the namespace leaves the policy's scope; the
   * policy goes when it was the last namespace, and the access entry when nothing is left in it
   * (no policy, no Kubernetes group). What is already gone counts as done. Resolves a sentence
   * saying what changed.
   */
  revokeNamespaceAccess(cluster: string, grant: NamespaceAccessGrant): Promise<string>;
  /**
   * EKS only, read only: the access policies associated with the principal's access entry and
   * their scopes (one ListAssociatedAccessPolicies, paged), undefined when it has no entry.
   */
  readNamespaceAccess(cluster: string, principalArn: string): Promise<AccessPolicyScope[] | undefined>;
  /**
   * Deletes the namespace Slipway made for request `R-<requestId>`. It must be labelled
   * `app.kubernetes.io/managed-by=slipway` and `slipway.dev/request-id=R-<requestId>`; otherwise
   * nothing is deleted and a permanent ClusterError with code `namespace_not_managed` says why.
   * Resolves `deleting` once the API server has accepted the deletion (or it was already
   * Terminating), `already-gone` when there is no such namespace: safe to repeat. The namespace
   * controller then empties and removes it; follow it with `namespaceDeletion`.
   */
  deleteNamespace(cluster: string, name: string, requestId: number): Promise<'deleting' | 'already-gone'>;
  /** Where a namespace's deletion stands: gone, or still there and, in plain words, what holds it. One read. */
  namespaceDeletion(cluster: string, name: string): Promise<NamespaceDeletionStatus>;
  /**
   * The namespaces labelled `app.kubernetes.io/managed-by=slipway` and their running pods: one
   * namespace list and one pod list across all namespaces (paged), never a call per namespace.
   */
  listManaged(cluster: string): Promise<ManagedNamespace[]>;
  /**
   * Every object of one golden-path kind labelled `app.kubernetes.io/managed-by=slipway`, across
   * all namespaces, with its `managedFields`: one paged list per cluster and kind, never a call
   * per namespace.
   */
  listManagedObjects(cluster: string, kind: ManagedKind): Promise<KubernetesObject[]>;
  /**
   * What a namespace's ResourceQuota counts as in use (`status.used`, written by the quota
   * controller), or undefined when there is no such quota. Empty until the controller has counted.
   */
  quotaUsed(cluster: string, namespace: string, name: string, options?: { timeoutMs?: number }): Promise<Record<string, string> | undefined>;
  /** Deletes a RoleBinding; one already gone (404) counts as deleted. Safe to repeat. */
  deleteRoleBinding(cluster: string, namespace: string, name: string): Promise<'deleted' | 'already-gone'>;
}

/** The kinds the golden path applies, by the apiVersion they are listed with. */
export const MANAGED_KINDS = {
  Namespace: 'v1',
  ResourceQuota: 'v1',
  LimitRange: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
} as const;
export type ManagedKind = keyof typeof MANAGED_KINDS;

export interface ManagedNamespace {
  name: string;
  labels: Record<string, string>;
  /** Being deleted (`deletionTimestamp` set): counted as gone. */
  terminating: boolean;
  runningPods: number;
}

/** A namespace's status condition, as the namespace controller reports its deletion. */
export interface NamespaceCondition {
  /** E.g. `NamespaceContentRemaining`, `NamespaceFinalizersRemaining`, `NamespaceDeletionContentFailure`. */
  type: string;
  /** `True` when this is what holds the deletion. */
  status: string;
  reason: string | undefined;
  message: string | undefined;
}

/** What `Clusters.namespaceDeletion` finds. */
export type NamespaceDeletionStatus =
  | { gone: true }
  | {
      gone: false;
      /** `Terminating` once deletion was asked for, `Active` otherwise. */
      phase: string;
      /** When deletion was asked for (metadata.deletionTimestamp). */
      since: Date | undefined;
      /** spec.finalizers, then metadata.finalizers: `kubernetes` is the namespace controller's own. */
      finalizers: string[];
      conditions: NamespaceCondition[];
      /**
       * What holds the deletion, for people: the controller's messages that are True (remaining
       * resources, finalizers on them, failures), and finalizers of other controllers on the
       * namespace itself. Empty when nothing is known to hold it (e.g. the controller has not looked yet).
       */
      heldBy: string[];
    };

export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=slipway';
// kubectl's default chunk size: a page of 500 pods (or golden-path objects) is a few MB, one request for most clusters.
const POD_PAGE_SIZE = 500;

interface ApiClients {
  core: CoreV1Api;
  objects: KubernetesObjectApi;
  version: VersionApi;
  authorization: AuthorizationV1Api;
}

type EksClusterConfig = Extract<ClusterConfig, { type: 'eks' }>;

export interface KubeClustersOptions {
  /** Builds the EKS client for a cluster; tests pass fixed credentials. */
  eks?: (cluster: EksClusterConfig) => EksCluster;
  /** Counts failed API calls by HTTP status (0: network error or timeout). */
  onApiError?: (status: number) => void;
}

/** Kubernetes API access for the clusters in config, one client per cluster, built on first use. */
export class KubeClusters implements Clusters {
  private readonly clients = new Map<string, Promise<ApiClients>>();
  private readonly eksClusters = new Map<string, EksCluster>();

  constructor(
    private readonly config: Config,
    private readonly options: KubeClustersOptions = {},
  ) {}

  private cluster(name: string): ClusterConfig {
    const cluster = findCluster(this.config, name);
    if (!cluster) throw new ClusterError(`There is no cluster named "${name}" in the config.`, { transient: false });
    return cluster;
  }

  private eks(cluster: EksClusterConfig): EksCluster {
    let eks = this.eksClusters.get(cluster.name);
    if (!eks) {
      eks = this.options.eks?.(cluster) ?? new EksCluster({ clusterName: cluster.clusterName, region: cluster.region, roleArn: cluster.roleArn });
      this.eksClusters.set(cluster.name, eks);
    }
    return eks;
  }

  private client(name: string): Promise<ApiClients> {
    let client = this.clients.get(name);
    if (!client) {
      const cluster = this.cluster(name);
      client = (async () => {
        const kc = cluster.type === 'eks' ? await this.eks(cluster).kubeConfig() : loadKubeConfig(cluster);
        return {
          core: kc.makeApiClient(CoreV1Api),
          objects: KubernetesObjectApi.makeApiClient(kc),
          version: kc.makeApiClient(VersionApi),
          authorization: kc.makeApiClient(AuthorizationV1Api),
        };
      })();
      // A failed set-up (EKS unreachable, bad kubeconfig) is tried afresh on the next call.
      client.catch(() => this.clients.delete(name));
      this.clients.set(name, client);
    }
    return client;
  }

  /** After a connection failure or a 401, an EKS endpoint, CA or token may be stale. */
  private forgetOnFailure(name: string, error: ClusterError): void {
    this.options.onApiError?.(error.status ?? 0);
    const cluster = findCluster(this.config, name);
    if (cluster?.type !== 'eks' || (error.status !== undefined && error.status !== 401)) return;
    this.clients.delete(name);
    this.eks(cluster).invalidate();
  }

  async readNamespace(cluster: string, name: string, options: { timeoutMs?: number } = {}) {
    try {
      const api = await withTimeout(this.client(cluster), options.timeoutMs, cluster);
      const ns = await withTimeout(api.core.readNamespace({ name }), options.timeoutMs, cluster);
      return { name, labels: ns.metadata?.labels ?? {} };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      const error = toClusterError(err, { verb: 'get', resource: 'namespaces', name, cluster });
      this.forgetOnFailure(cluster, error);
      throw error;
    }
  }

  async apply(cluster: string, object: KubernetesObject, options: { dryRun?: boolean } = {}): Promise<KubernetesObject> {
    try {
      const timeoutMs = this.config.provisioning.requestTimeoutMs;
      const api = await withTimeout(this.client(cluster), timeoutMs, cluster);
      const dryRun = options.dryRun ? 'All' : undefined;
      return await withTimeout(api.objects.patch(object, undefined, dryRun, FIELD_MANAGER, true, PatchStrategy.ServerSideApply), timeoutMs, cluster);
    } catch (err) {
      const error = toClusterError(err, {
        verb: 'apply',
        resource: object.kind ?? 'object',
        name: object.metadata?.name,
        namespace: object.metadata?.namespace,
        roleRef: roleRefName(object),
        cluster,
      });
      this.forgetOnFailure(cluster, error);
      throw error;
    }
  }

  async readObject(cluster: string, object: KubernetesObject): Promise<KubernetesObject | undefined> {
    const { name = '', namespace } = object.metadata ?? {};
    const ref = { apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', metadata: { name, ...(namespace ? { namespace } : {}) } };
    return this.requestOrMissing(cluster, { verb: 'get', resource: object.kind ?? 'object', name, namespace }, (api) => api.objects.read(ref));
  }

  async listManaged(cluster: string): Promise<ManagedNamespace[]> {
    let resource = 'namespaces';
    try {
      const timeoutMs = this.config.provisioning.requestTimeoutMs;
      const api = await withTimeout(this.client(cluster), timeoutMs, cluster);
      const namespaces = await withTimeout(api.core.listNamespace({ labelSelector: MANAGED_SELECTOR }), timeoutMs, cluster);
      resource = 'pods';
      const running = new Map<string, number>();
      let page: string | undefined;
      do {
        const pods = await withTimeout(
          api.core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running', limit: POD_PAGE_SIZE, _continue: page }),
          timeoutMs,
          cluster,
        );
        for (const pod of pods.items) {
          const ns = pod.metadata?.namespace;
          if (ns) running.set(ns, (running.get(ns) ?? 0) + 1);
        }
        page = pods.metadata?._continue || undefined;
      } while (page);
      return namespaces.items.map((ns) => {
        const name = ns.metadata?.name ?? '';
        return {
          name,
          labels: ns.metadata?.labels ?? {},
          terminating: ns.metadata?.deletionTimestamp !== undefined || ns.status?.phase === 'Terminating',
          runningPods: running.get(name) ?? 0,
        };
      });
    } catch (err) {
      const error = toClusterError(err, { verb: 'list', resource, cluster });
      this.forgetOnFailure(cluster, error);
      throw error;
    }
  }

  async listManagedObjects(cluster: string, kind: ManagedKind): Promise<KubernetesObject[]> {
    try {
      const timeoutMs = this.config.provisioning.requestTimeoutMs;
      const api = await withTimeout(this.client(cluster), timeoutMs, cluster);
      const items: KubernetesObject[] = [];
      let page: string | undefined;
      do {
        const list = await withTimeout(
          api.objects.list(MANAGED_KINDS[kind], kind, undefined, undefined, undefined, undefined, undefined, MANAGED_SELECTOR, POD_PAGE_SIZE, page),
          timeoutMs,
          cluster,
        );
        // List items carry no kind; the comparison keys objects by it.
        for (const item of list.items) items.push({ ...item, apiVersion: MANAGED_KINDS[kind], kind });
        page = list.metadata?._continue || undefined;
      } while (page);
      return items;
    } catch (err) {
      const error = toClusterError(err, { verb: 'list', resource: kind, cluster });
      this.forgetOnFailure(cluster, error);
      throw error;
    }
  }

  /**
   * One call with the provisioning request timeout. A 404 resolves undefined; any other failure
   * becomes a ClusterError (and may reset an EKS client, see `forgetOnFailure`).
   */
  private async requestOrMissing<T>(cluster: string, ctx: Omit<CallContext, 'cluster'>, call: (api: ApiClients) => Promise<T>): Promise<T | undefined> {
    const timeoutMs = this.config.provisioning.requestTimeoutMs;
    try {
      const api = await withTimeout(this.client(cluster), timeoutMs, cluster);
      return await withTimeout(call(api), timeoutMs, cluster);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      const error = toClusterError(err, { ...ctx, cluster });
      this.forgetOnFailure(cluster, error);
      throw error;
    }
  }

  async quotaUsed(cluster: string, namespace: string, name: string, options: { timeoutMs?: number } = {}): Promise<Record<string, string> | undefined> {
    try {
      const api = await withTimeout(this.client(cluster), options.timeoutMs, cluster);
      const quota = await withTimeout(api.core.readNamespacedResourceQuota({ name, namespace }), options.timeoutMs, cluster);
      return { ...(quota.status?.used ?? {}) };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      const error = toClusterError(err, { verb: 'get', resource: 'resourcequotas', name, namespace, cluster });
      this.forgetOnFailure(cluster, error);
      throw error;
    }
  }

  async deleteRoleBinding(cluster: string, namespace: string, name: string): Promise<'deleted' | 'already-gone'> {
    const body = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace } };
    const deleted = await this.requestOrMissing(cluster, { verb: 'delete', resource: 'rolebindings', name, namespace }, (api) => api.objects.delete(body));
    return deleted ? 'deleted' : 'already-gone';
  }

  async deleteNamespace(cluster: string, name: string, requestId: number): Promise<'deleting' | 'already-gone'> {
    const ctx = { resource: 'namespaces', name };
    const ns = await this.requestOrMissing(cluster, { ...ctx, verb: 'get' }, (api) => api.core.readNamespace({ name }));
    if (!ns) return 'already-gone';
    refuseUnlessOwn(cluster, name, ns.metadata?.labels ?? {}, requestId);
    if (ns.metadata?.deletionTimestamp) return 'deleting';
    // The preconditions make the server delete exactly the namespace checked above: not one
    // relabelled or deleted and made again since (409 Conflict, transient: the retry checks again).
    const preconditions = { uid: ns.metadata?.uid, resourceVersion: ns.metadata?.resourceVersion };
    const deleted = await this.requestOrMissing(cluster, { ...ctx, verb: 'delete' }, (api) => api.core.deleteNamespace({ name, body: { preconditions } }));
    return deleted ? 'deleting' : 'already-gone';
  }

  async namespaceDeletion(cluster: string, name: string): Promise<NamespaceDeletionStatus> {
    const ns = await this.requestOrMissing(cluster, { verb: 'get', resource: 'namespaces', name }, (api) => api.core.readNamespace({ name }));
    return ns ? deletionStatus(ns) : { gone: true };
  }

  /** The API server's version (e.g. `v1.30.2`): proves it answers. */
  async serverVersion(cluster: string, options: { timeoutMs?: number } = {}): Promise<string> {
    try {
      const api = await withTimeout(this.client(cluster), options.timeoutMs, cluster);
      const info = await withTimeout(api.version.getCode(), options.timeoutMs, cluster);
      return info.gitVersion;
    } catch (err) {
      throw toClusterError(err, { verb: 'get', resource: 'version', cluster });
    }
  }

  /**
   * A server-side dry run of creating `name` as a Slipway namespace: authorization and admission
   * run as for a real write and nothing is stored. Resolves when the server would accept it.
   */
  async dryRunCreateNamespace(cluster: string, name: string, options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      const api = await withTimeout(this.client(cluster), options.timeoutMs, cluster);
      const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...MANAGED_BY } } };
      await withTimeout(api.core.createNamespace({ body, dryRun: 'All', fieldManager: FIELD_MANAGER }), options.timeoutMs, cluster);
    } catch (err) {
      throw toClusterError(err, { verb: 'create', resource: 'namespaces', name, cluster });
    }
  }

  /** Asks the API server (SelfSubjectAccessReview) whether Slipway's identity may do this. */
  async canI(cluster: string, permission: { verb: string; resource: string; group: string; name?: string | undefined }): Promise<boolean> {
    try {
      const api = await this.client(cluster);
      const review = await api.authorization.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: permission.verb,
              resource: permission.resource,
              group: permission.group,
              ...(permission.name ? { name: permission.name } : {}),
            },
          },
        },
      });
      return review.status?.allowed === true;
    } catch (err) {
      throw toClusterError(err, { verb: 'create', resource: 'selfsubjectaccessreviews', cluster });
    }
  }

  /** The EKS cluster behind a `type: eks` entry, for checks that talk to AWS. */
  eksCluster(name: string): EksCluster | undefined {
    const cluster = this.cluster(name);
    return cluster.type === 'eks' ? this.eks(cluster) : undefined;
  }

  async grantNamespaceAccess(name: string, grant: NamespaceAccessGrant): Promise<string> {
    return (await this.accessEntries(name).grantNamespaceAccess(grant)).summary;
  }

  async revokeNamespaceAccess(name: string, grant: NamespaceAccessGrant): Promise<string> {
    return (await this.accessEntries(name).revokeNamespaceAccess(grant)).summary;
  }

  readNamespaceAccess(name: string, principalArn: string): Promise<AccessPolicyScope[] | undefined> {
    return this.accessEntries(name).accessPolicies(principalArn);
  }

  private accessEntries(name: string): EksCluster {
    const cluster = this.cluster(name);
    if (cluster.type !== 'eks') {
      throw new ClusterError(`Cluster "${name}" is not an EKS cluster, so it has no access entries.`, { transient: false });
    }
    return this.eks(cluster);
  }
}

export function loadKubeConfig(cluster: Extract<ClusterConfig, { type: 'kubeconfig' }>): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(cluster.path);
  } catch (err) {
    throw new ClusterError(`Cannot read the kubeconfig for cluster "${cluster.name}" at ${cluster.path}.`, {
      transient: false,
      cause: err,
    });
  }
  if (!kc.getContexts().some((c) => c.name === cluster.context)) {
    throw new ClusterError(`The kubeconfig ${cluster.path} has no context "${cluster.context}" (cluster "${cluster.name}").`, { transient: false });
  }
  kc.setCurrentContext(cluster.context);
  return kc;
}

/** Slipway deletes only what it made for this very request, and says why it will not. */
function refuseUnlessOwn(cluster: string, name: string, labels: Record<string, string>, requestId: number): void {
  const managedBy = labels['app.kubernetes.io/managed-by'];
  const owner = labels[LABEL.requestId];
  const wanted = requestRef(requestId);
  let why: string | undefined;
  if (managedBy !== MANAGED_BY['app.kubernetes.io/managed-by']) {
    why = `it is not labelled ${MANAGED_SELECTOR}${managedBy ? ` (it says "${managedBy}")` : ''}, so Slipway did not make it`;
  } else if (!owner) why = `it has no ${LABEL.requestId} label, so no Slipway request made it`;
  else if (owner !== wanted) why = `it belongs to request ${owner}, not ${wanted}`;
  if (why) {
    throw new ClusterError(`Slipway will not delete namespace "${name}" on cluster "${cluster}": ${why}.`, { transient: false, code: 'namespace_not_managed' });
  }
}

function deletionStatus(ns: V1Namespace): NamespaceDeletionStatus {
  const conditions: NamespaceCondition[] = (ns.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  const finalizers = [...(ns.spec?.finalizers ?? []), ...(ns.metadata?.finalizers ?? [])];
  const others = finalizers.filter((f) => f !== 'kubernetes');
  const heldBy = [
    ...conditions.filter((c) => c.status === 'True').map((c) => c.message ?? `${c.type}: ${c.reason ?? 'no reason given'}`),
    ...(others.length > 0 ? [`The namespace still has finalizers of other controllers: ${others.join(', ')}`] : []),
  ];
  return {
    gone: false,
    phase: ns.status?.phase ?? 'Active',
    since: ns.metadata?.deletionTimestamp,
    finalizers,
    conditions,
    heldBy,
  };
}

function roleRefName(object: KubernetesObject): string | undefined {
  const roleRef: unknown = (object as { roleRef?: unknown }).roleRef;
  return roleRef && typeof roleRef === 'object' && 'name' in roleRef && typeof roleRef.name === 'string' ? roleRef.name : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number | undefined, cluster: string): Promise<T> {
  if (!ms) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterError(`Cluster "${cluster}" did not answer within ${ms} ms.`, { transient: true })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface CallContext {
  /** For RoleBindings: the ClusterRole bound, named in an escalation refusal. */
  roleRef?: string | undefined;
  verb: string;
  resource: string;
  name?: string | undefined;
  namespace?: string | undefined;
  cluster: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

function parseStatus(body: unknown): StatusBody {
  if (typeof body !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as StatusBody) : {};
  } catch {
    return {};
  }
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Turns a client-node failure into a plain-words error that says whether a retry may help. */
export function toClusterError(err: unknown, ctx: CallContext): ClusterError {
  if (err instanceof ClusterError) return err;
  const target = `${ctx.resource}${ctx.name ? ` "${ctx.name}"` : ''}${ctx.namespace ? ` in namespace "${ctx.namespace}"` : ''}`;
  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    const detail = status.message ?? `HTTP ${err.code}`;
    const code = err.code;
    if (code === 401) {
      return new ClusterError(`Cluster "${ctx.cluster}" rejected Slipway's credentials (401 Unauthorized). Check the kubeconfig user for this cluster.`, {
        status: code,
        transient: false,
        cause: err,
      });
    }
    if (code === 403 && detail.includes('attempting to grant RBAC permissions not currently held')) {
      // The escalation check lists every rule of the role; the fix is one line of RBAC.
      const role = typeof ctx.roleRef === 'string' ? `ClusterRole "${ctx.roleRef}"` : 'the ClusterRole it refers to';
      return new ClusterError(
        `Cluster "${ctx.cluster}" refused ${target}: binding ${role} would grant permissions Slipway does not hold. Give Slipway \`bind\` on ${role} (see deploy/rbac.yaml), or hold those permissions.`,
        { status: code, transient: false, cause: err },
      );
    }
    if (code === 403) {
      return new ClusterError(
        `Slipway is not allowed to ${ctx.verb} ${target} on cluster "${ctx.cluster}": ${detail}. Grant the bot this permission (see deploy/ for its ClusterRole).`,
        { status: code, transient: false, cause: err },
      );
    }
    const transient = code === 429 || code === 409 || code >= 500;
    return new ClusterError(`Cluster "${ctx.cluster}" refused to ${ctx.verb} ${target}: ${detail}.`, {
      status: code,
      transient,
      retryAfterMs: retryAfterMs(err.headers),
      cause: err,
    });
  }
  const code = findErrorCode(err);
  const transient = code !== undefined && TRANSIENT_CODES.has(code);
  const reason = err instanceof Error ? err.message : String(err);
  return new ClusterError(`Could not reach cluster "${ctx.cluster}" to ${ctx.verb} ${target}: ${reason}.`, {
    transient: transient || code === undefined,
    cause: err,
  });
}

function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  const value = headers?.['retry-after'] ?? headers?.['Retry-After'];
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function findErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}
