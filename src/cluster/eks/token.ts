/**
 * EKS bearer tokens made in-process, without the aws CLI or aws-iam-authenticator.
 *
 * A token is `k8s-aws-v1.` + unpadded base64url of a presigned STS GetCallerIdentity URL whose
 * signed headers include `x-k8s-aws-id: <cluster name>`. The API server's authenticator replays
 * the URL against STS to learn who is calling. Sources: aws-cli
 * `awscli/customizations/eks/get_token.py` and kubernetes-sigs/aws-iam-authenticator
 * `pkg/token/token.go`.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * Resolved AWS credentials. Structurally the same as `AwsCredentialIdentity` in `@smithy/types`,
 * declared here so that Slipway does not import a package it does not list as a dependency.
 */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** Matches `AwsCredentialIdentityProvider`; what `fromNodeProviderChain()` returns. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

export interface Clock {
  now(): Date;
}

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header that binds a token to one cluster; the server rejects tokens that do not sign it. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** What the aws CLI presigns with. STS ignores it: the token is good for 15 min after X-Amz-Date. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** The CLI reports 14 min, one minute short of the server's 15, to leave room for clock skew. */
const TOKEN_LIFETIME_MS = 14 * 60_000;

export interface EksToken {
  token: string;
  /** When to stop using the token: 14 min after signing, or earlier if the credentials expire first. */
  expiresAt: Date;
}

export interface PresignEksTokenInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The signing time; a fixed value gives a fixed token. Defaults to the current time. */
  now?: Date;
}

/** The regional STS host, which is what aws-iam-authenticator expects when a region is set. */
export function stsHostname(region: string): string {
  return `sts.${region}.amazonaws.com`;
}

/** Presigns STS GetCallerIdentity for `clusterName` and wraps it as an EKS bearer token. */
export async function presignEksToken(input: PresignEksTokenInput): Promise<EksToken> {
  const credentials = typeof input.credentials === 'function' ? await input.credentials() : input.credentials;
  const signingDate = input.now ?? new Date();
  const hostname = stsHostname(input.region);
  const signer = new SignatureV4({ credentials, region: input.region, service: 'sts', sha256: Sha256 });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      headers: { host: hostname, [CLUSTER_ID_HEADER]: input.clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    }),
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const url = `https://${hostname}/?${formatQuery(presigned.query ?? {})}`;
  // base64url already omits '=' padding, which the token format requires.
  const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
  // X-Amz-Date has whole seconds, and the server counts from it.
  let expiresAt = Math.floor(signingDate.getTime() / 1000) * 1000 + TOKEN_LIFETIME_MS;
  // A URL signed with temporary credentials stops working when their session ends.
  if (credentials.expiration) expiresAt = Math.min(expiresAt, credentials.expiration.getTime());
  return { token, expiresAt: new Date(expiresAt) };
}

/**
 * RFC 3986 query string, keys in code-point order. STS checks the signature against its own
 * canonical form, so the order here only has to be stable (a fixed clock gives a fixed token).
 */
function formatQuery(query: Record<string, string | string[] | null>): string {
  return Object.keys(query)
    .sort()
    .flatMap((key) => {
      const value = query[key];
      const values = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
      return values.map((v) => `${rfc3986(key)}=${rfc3986(v)}`);
    })
    .join('&');
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface EksTokenCacheOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  clock: Clock;
  /** Make a new token this long before the current one expires. Default 60 s. */
  refreshBeforeMs?: number;
}

/**
 * One cluster's token, reused until `refreshBeforeMs` before it expires. The Kubernetes client
 * asks for it on every request, so concurrent callers share one in-flight generation instead of
 * each resolving credentials and signing.
 */
export class EksTokenCache {
  private current: EksToken | undefined;
  private pending: Promise<EksToken> | undefined;
  private readonly refreshBeforeMs: number;

  constructor(private readonly options: EksTokenCacheOptions) {
    this.refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  }

  async get(): Promise<string> {
    const now = this.options.clock.now().getTime();
    if (this.current && now < this.current.expiresAt.getTime() - this.refreshBeforeMs) return this.current.token;
    this.pending ??= this.generate().finally(() => {
      this.pending = undefined;
    });
    return (await this.pending).token;
  }

  /** Drops the cached token, e.g. after the API server answered 401. */
  invalidate(): void {
    this.current = undefined;
  }

  private async generate(): Promise<EksToken> {
    const credentials = await this.options.credentials();
    const token = await presignEksToken({
      clusterName: this.options.clusterName,
      region: this.options.region,
      credentials,
      now: this.options.clock.now(),
    });
    this.current = token;
    return token;
  }
}
