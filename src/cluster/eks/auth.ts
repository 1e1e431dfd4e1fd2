import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Clock, EksTokenCache } from './token.ts';

/** Signing in to EKS: the IAM credentials, and a kubeconfig whose user signs each request with a fresh token. */

export const systemClock: Clock = { now: () => new Date() };

/** The kubeconfig auth-provider name that routes a user to our authenticator. */
const AUTH_PROVIDER_NAME = 'slipway-eks';
/** The EKS client and the token signer share credentials; refresh them this long before expiry. */
const CREDENTIAL_REFRESH_MS = 5 * 60_000;

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
    const fresh = current && (!current.expiration || current.expiration.getTime() - clock.now().getTime() > CREDENTIAL_REFRESH_MS);
    if (current && fresh) return current;
    pending ??= provider()
      .then((c) => (current = c))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/**
 * A kubeconfig for an EKS endpoint whose user has no static token: a static `token` would win
 * over the authenticator (client-node 1.4.0 `config.js` `applyAuthorizationHeader` sets it last).
 * The authenticator runs before every request, so the cache decides when to sign a new token.
 */
export function buildEksKubeConfig(clusterName: string, info: { endpoint: string; caData: string }, tokens: Pick<EksTokenCache, 'get'>): KubeConfig {
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
  return name === AUTH_PROVIDER_NAME && typeof config === 'object' && config !== null && (config as { clusterName?: unknown }).clusterName === clusterName;
}
