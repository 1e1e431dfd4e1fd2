/**
 * Amazon EKS: finding a cluster's API server, a kubeconfig that signs in with short-lived IAM
 * tokens, and access entries that give a team's IAM role namespace-scoped rights.
 * API: https://docs.aws.amazon.com/eks/latest/APIReference/ and, for access entries,
 * https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
 */
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DescribeClusterCommand,
  EKSClient,
  paginateListAssociatedAccessPolicies,
  type AssociatedAccessPolicy,
} from '@aws-sdk/client-eks';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { ClusterError } from '../../errors.ts';
import {
  EksTokenCache,
  type AwsCredentialIdentity,
  type AwsCredentialIdentityProvider,
  type Clock,
} from './token.ts';

/** Edit rights (no RBAC changes) in the namespaces of the access scope. */
export const DEFAULT_ACCESS_POLICY_ARN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';

/** The kubeconfig auth-provider name that routes a user to our authenticator. */
const AUTH_PROVIDER_NAME = 'slipway-eks';
/** The EKS client and the token signer share credentials; refresh them this long before expiry. */
const CREDENTIAL_REFRESH_MS = 5 * 60_000;
const systemClock: Clock = { now: () => new Date() };

export interface EksClusterInfo {
  /** The API server URL, `https://….eks.amazonaws.com`. */
  endpoint: string;
  /** Base64 PEM of the cluster CA, as client-node's `caData` expects. */
  caData: string;
  /** `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`; access entries need one of the first two. */
  authenticationMode: string | undefined;
}

export interface EksCredentialsOptions {
  region: string;
  /** An IAM role to assume (STS AssumeRole) on top of the base credentials. */
  roleArn?: string | undefined;
  /** Base credentials; default the Node provider chain (env, IRSA, Pod Identity, profile, IMDS). */
  credentials?: AwsCredentialIdentityProvider | undefined;
  clock?: Clock | undefined;
}

/**
 * The credentials Slipway uses for one EKS cluster, shared by the EKS client and the token
 * signer. `fromTemporaryCredentials` calls AssumeRole on every invocation (it does not cache;
 * see `@aws-sdk/credential-providers` `fromTemporaryCredentials.base.js`), hence the memo here.
 */
export function eksCredentials(options: EksCredentialsOptions): AwsCredentialIdentityProvider {
  const base = options.credentials ?? fromNodeProviderChain();
  if (!options.roleArn) return base;
  const assumed = fromTemporaryCredentials({
    masterCredentials: base,
    params: { RoleArn: options.roleArn, RoleSessionName: 'slipway' },
    clientConfig: { region: options.region },
  });
  return memoizeCredentials(assumed, options.clock ?? systemClock);
}

/** Reuses credentials until they are within five minutes of expiring; one refresh at a time. */
export function memoizeCredentials(provider: AwsCredentialIdentityProvider, clock: Clock): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const fresh =
      current && (!current.expiration || current.expiration.getTime() - clock.now().getTime() > CREDENTIAL_REFRESH_MS);
    if (current && fresh) return current;
    pending ??= provider()
      .then((c) => (current = c))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

export interface EksClusterOptions extends EksCredentialsOptions {
  clusterName: string;
  /** Make a new bearer token this long before the current one expires. Default 60 s. */
  tokenRefreshBeforeMs?: number | undefined;
}

export interface EnsureAccessEntryInput {
  clusterName: string;
  /** An IAM role or user ARN; not an assumed-role session ARN. */
  principalArn: string;
  kubernetesGroups?: string[] | undefined;
}

export interface EnsureAccessEntryResult {
  /** False when the principal already had an access entry, which is left as it is. */
  created: boolean;
}

export interface GrantNamespaceAccessInput {
  clusterName: string;
  principalArn: string;
  /** Default `AmazonEKSEditPolicy`. */
  policyArn?: string | undefined;
  namespace: string;
}

export type GrantNamespaceAccessResult =
  /** AssociateAccessPolicy was sent; `namespaces` is the full scope now in place. */
  | { outcome: 'associated'; namespaces: string[]; summary: string }
  /** The namespace was already in the policy's namespace scope; nothing was sent. */
  | { outcome: 'already-granted'; namespaces: string[]; summary: string }
  /** The policy is associated cluster-wide, which covers the namespace; left alone. */
  | { outcome: 'cluster-scoped'; namespaces: []; summary: string };

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
  /** Grants for one principal and policy run one after another; see `grantNamespaceAccess`. */
  private readonly grants = new Map<string, Promise<unknown>>();

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
    return ensureAccessEntry(this.client, { ...input, clusterName: this.clusterName });
  }

  /**
   * Adds `namespace` to the principal's access scope. The EKS API has no compare-and-set, so two
   * grants racing would each write "what I read + mine" and one would be lost: within this
   * process they are queued per principal and policy. Another writer (the console, Terraform)
   * can still race; the read happens just before the write to keep that window small.
   */
  grantNamespaceAccess(input: Omit<GrantNamespaceAccessInput, 'clusterName'>): Promise<GrantNamespaceAccessResult> {
    const key = `${input.principalArn}\n${input.policyArn ?? DEFAULT_ACCESS_POLICY_ARN}`;
    const previous = this.grants.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => grantNamespaceAccess(this.client, { ...input, clusterName: this.clusterName }));
    this.grants.set(key, run);
    void run
      .finally(() => {
        if (this.grants.get(key) === run) this.grants.delete(key);
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

/**
 * A kubeconfig for an EKS endpoint whose user has no static token: a static `token` would win
 * over the authenticator (client-node 1.4.0 `config.js` `applyAuthorizationHeader` sets it last).
 * The authenticator runs before every request, so the cache decides when to sign a new token.
 */
export function buildEksKubeConfig(
  clusterName: string,
  info: Pick<EksClusterInfo, 'endpoint' | 'caData'>,
  tokens: Pick<EksTokenCache, 'get'>,
): KubeConfig {
  const kc = new KubeConfig();
  // client-node does not export its `Authenticator` interface; take it from the method.
  const authenticator: Parameters<KubeConfig['addAuthenticator']>[0] = {
    isAuthProvider: (user) => isOurUser(user, clusterName),
    applyAuthentication: async (_user, opts) => {
      const token = await tokens.get();
      opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
    },
  };
  kc.addAuthenticator(authenticator);
  const name = `eks-${clusterName}`;
  kc.loadFromOptions({
    clusters: [{ name, server: info.endpoint, caData: info.caData, skipTLSVerify: false }],
    users: [{ name, authProvider: { name: AUTH_PROVIDER_NAME, config: { clusterName } } }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return kc;
}

function isOurUser(user: User, clusterName: string): boolean {
  // `User.authProvider` is typed `any` in client-node; read it as unknown.
  const provider: unknown = user.authProvider;
  if (typeof provider !== 'object' || provider === null) return false;
  const { name, config } = provider as { name?: unknown; config?: unknown };
  return (
    name === AUTH_PROVIDER_NAME &&
    typeof config === 'object' &&
    config !== null &&
    (config as { clusterName?: unknown }).clusterName === clusterName
  );
}

/** Creates a STANDARD access entry; one that already exists (ResourceInUseException) is kept. */
export async function ensureAccessEntry(client: EKSClient, input: EnsureAccessEntryInput): Promise<EnsureAccessEntryResult> {
  rejectSessionArn(input.principalArn, input.clusterName);
  try {
    await client.send(
      new CreateAccessEntryCommand({
        clusterName: input.clusterName,
        principalArn: input.principalArn,
        type: 'STANDARD',
        ...(input.kubernetesGroups?.length ? { kubernetesGroups: input.kubernetesGroups } : {}),
      }),
    );
    return { created: true };
  } catch (err) {
    // "The specified access entry resource is already in use on this cluster." (HTTP 409)
    if (awsErrorName(err) === 'ResourceInUseException') return { created: false };
    throw await toEksClusterError(err, client, {
      action: 'CreateAccessEntry',
      clusterName: input.clusterName,
      principalArn: input.principalArn,
    });
  }
}

/**
 * Adds `namespace` to the namespace scope of `policyArn` for the principal, keeping the
 * namespaces already there. Whether AssociateAccessPolicy merges or replaces the list is not
 * documented, so the full list is always sent.
 */
export async function grantNamespaceAccess(
  client: EKSClient,
  input: GrantNamespaceAccessInput,
): Promise<GrantNamespaceAccessResult> {
  const policyArn = input.policyArn ?? DEFAULT_ACCESS_POLICY_ARN;
  const { clusterName, principalArn, namespace } = input;
  rejectSessionArn(principalArn, clusterName);
  const policyName = policyArn.split('/').pop() ?? policyArn;

  const existing = (await listAssociatedAccessPolicies(client, clusterName, principalArn)).find(
    (p) => p.policyArn === policyArn,
  );
  if (existing?.accessScope?.type === 'cluster') {
    return {
      outcome: 'cluster-scoped',
      namespaces: [],
      summary: `${principalArn} already has ${policyName} on all of cluster "${clusterName}", which covers namespace "${namespace}"; left unchanged.`,
    };
  }
  const current = existing?.accessScope?.namespaces ?? [];
  if (current.includes(namespace)) {
    return {
      outcome: 'already-granted',
      namespaces: [...current],
      summary: `${principalArn} already has ${policyName} in namespace "${namespace}" on cluster "${clusterName}".`,
    };
  }
  const namespaces = [...current, namespace];
  try {
    await client.send(
      new AssociateAccessPolicyCommand({
        clusterName,
        principalArn,
        policyArn,
        accessScope: { type: 'namespace', namespaces },
      }),
    );
  } catch (err) {
    throw await toEksClusterError(err, client, { action: 'AssociateAccessPolicy', clusterName, principalArn });
  }
  return {
    outcome: 'associated',
    namespaces,
    summary: `Gave ${principalArn} ${policyName} in namespace "${namespace}" on cluster "${clusterName}" (scope now: ${namespaces.join(', ')}).`,
  };
}

async function listAssociatedAccessPolicies(
  client: EKSClient,
  clusterName: string,
  principalArn: string,
): Promise<AssociatedAccessPolicy[]> {
  const policies: AssociatedAccessPolicy[] = [];
  try {
    for await (const page of paginateListAssociatedAccessPolicies({ client }, { clusterName, principalArn })) {
      policies.push(...(page.associatedAccessPolicies ?? []));
    }
  } catch (err) {
    throw await toEksClusterError(err, client, { action: 'ListAssociatedAccessPolicies', clusterName, principalArn });
  }
  return policies;
}

/**
 * Access entries take the IAM role ARN; an `sts::…:assumed-role/…` session ARN is refused by EKS
 * with a less helpful message (https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html).
 */
function rejectSessionArn(principalArn: string, clusterName: string): void {
  const match = /^arn:(aws[a-z-]*):sts::(\d+):assumed-role\/([^/]+)\//.exec(principalArn);
  if (match) {
    throw new ClusterError(
      `${principalArn} is an assumed-role session, which EKS access entries on cluster "${clusterName}" do not accept. Use the role itself: arn:${match[1]}:iam::${match[2]}:role/${match[3]}.`,
      { transient: false },
    );
  }
}

interface EksCallContext {
  /** The EKS API operation; the IAM action is `eks:<action>`. */
  action: string;
  clusterName?: string | undefined;
  principalArn?: string | undefined;
}

interface AwsErrorShape {
  name: string;
  message: string;
  status: number | undefined;
  fault: string | undefined;
  code: string | undefined;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServerException',
  'ServiceUnavailableException',
  'InternalFailure',
]);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function awsError(err: unknown): AwsErrorShape {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), status: undefined, fault: undefined, code: undefined };
  const extra = err as Error & { $metadata?: { httpStatusCode?: unknown }; $fault?: unknown; code?: unknown; cause?: unknown };
  const status = typeof extra.$metadata?.httpStatusCode === 'number' ? extra.$metadata.httpStatusCode : undefined;
  let code: string | undefined;
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if ('code' in e && typeof e.code === 'string') {
      code = e.code;
      break;
    }
    e = 'cause' in e ? e.cause : undefined;
  }
  return {
    name: err.name,
    message: err.message,
    status,
    fault: typeof extra.$fault === 'string' ? extra.$fault : undefined,
    code,
  };
}

async function regionOf(client: EKSClient): Promise<string> {
  try {
    return await client.config.region();
  } catch {
    return 'the configured region';
  }
}

/** Turns an EKS SDK failure into plain words that say what to fix and whether a retry may help. */
export async function toEksClusterError(err: unknown, client: EKSClient, ctx: EksCallContext): Promise<ClusterError> {
  if (err instanceof ClusterError) return err;
  const e = awsError(err);
  const region = await regionOf(client);
  const cluster = ctx.clusterName ? `cluster "${ctx.clusterName}" in ${region}` : `region ${region}`;
  const said = e.message ? ` AWS said: ${e.message}` : '';
  const opts = (transient: boolean) => ({ status: e.status, transient, cause: err });

  if (e.name === 'AccessDeniedException' || e.name === 'AccessDenied') {
    return new ClusterError(
      `Slipway's AWS identity is not allowed to call eks:${ctx.action} on ${cluster}${ctx.principalArn ? ` (for ${ctx.principalArn})` : ''}. Add eks:${ctx.action} to the bot's IAM policy.${said}`,
      opts(false),
    );
  }
  if (BAD_CREDENTIALS.has(e.name)) {
    return new ClusterError(
      `AWS rejected Slipway's credentials when calling eks:${ctx.action} on ${cluster} (${e.name}). Check the bot's IAM role or AWS_* settings.${said}`,
      opts(false),
    );
  }
  if (e.name === 'CredentialsProviderError') {
    return new ClusterError(
      `Slipway found no usable AWS credentials to call eks:${ctx.action} on ${cluster}. Give the pod an IAM role (IRSA or EKS Pod Identity) or set AWS_PROFILE / AWS_ACCESS_KEY_ID.${said}`,
      { transient: false, cause: err },
    );
  }
  if (e.name === 'ResourceNotFoundException' || e.name === 'NotFoundException') {
    // The same exception covers a missing cluster and a missing access entry; EKS says which.
    const clusterMissing =
      ctx.action === 'DescribeCluster' ||
      ctx.action === 'CreateAccessEntry' ||
      !ctx.principalArn ||
      (/cluster/i.test(e.message) && !/access ?entry|principal/i.test(e.message));
    const message = clusterMissing
      ? `EKS cluster "${ctx.clusterName ?? '?'}" not found in ${region}. Check the cluster name and region in the config.`
      : `There is no access entry for ${ctx.principalArn ?? 'the principal'} on ${cluster}, so eks:${ctx.action} cannot run. Create the access entry first.`;
    return new ClusterError(message + said, opts(false));
  }
  // A service error always carries `$fault`; without one the request got no answer at all.
  const answered = e.fault !== undefined || e.status !== undefined;
  if (!answered) {
    const network = e.name === 'TimeoutError' || (e.code !== undefined && NETWORK_CODES.has(e.code));
    // Anything else that never reached AWS (a missing region, a bad endpoint) will fail the same way again.
    return new ClusterError(
      network
        ? `Could not reach the EKS API in ${region} for eks:${ctx.action}${ctx.clusterName ? ` on "${ctx.clusterName}"` : ''}: ${e.message}. Slipway can try again.`
        : `Slipway could not call eks:${ctx.action} on ${cluster}: ${e.message}.`,
      opts(network),
    );
  }
  const transient =
    THROTTLING.has(e.name) ||
    e.fault === 'server' ||
    e.status === 429 ||
    (e.status !== undefined && e.status >= 500);
  if (transient) {
    return new ClusterError(
      `The EKS API in ${region} is busy or failing (eks:${ctx.action}${ctx.clusterName ? ` on "${ctx.clusterName}"` : ''}, ${e.name}); Slipway can try again.${said}`,
      opts(true),
    );
  }
  return new ClusterError(`EKS refused eks:${ctx.action} on ${cluster} (${e.name}).${said}`, opts(false));
}
