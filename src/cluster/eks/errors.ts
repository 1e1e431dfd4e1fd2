import type { EKSClient } from '@aws-sdk/client-eks';
import { ClusterError } from '../../errors.ts';

/** AWS errors from the EKS API, translated into ClusterErrors that say what to fix. */

export interface EksCallContext {
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
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

export function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function isNotFound(name: string | undefined): boolean {
  return name === 'ResourceNotFoundException' || name === 'NotFoundException';
}

/** EKS found no such cluster, access entry or association. */
export function isAwsNotFound(err: unknown): boolean {
  return isNotFound(awsErrorName(err));
}

/**
 * The same exception covers a missing cluster and a missing access entry; EKS says which ("The
 * specified principalArn could not be found…" against "No cluster found for name: …").
 */
function namesMissingCluster(message: string): boolean {
  return /cluster/i.test(message) && !/access ?entry|principal/i.test(message);
}

/** The principal has no access entry on a cluster that exists. */
export function isMissingAccessEntry(err: unknown): boolean {
  return err instanceof Error && isNotFound(err.name) && !namesMissingCluster(err.message);
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

export async function regionOf(client: EKSClient): Promise<string> {
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
  if (isNotFound(e.name)) {
    const clusterMissing = ctx.action === 'DescribeCluster' || ctx.action === 'CreateAccessEntry' || !ctx.principalArn || namesMissingCluster(e.message);
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
  const transient = THROTTLING.has(e.name) || e.fault === 'server' || e.status === 429 || (e.status !== undefined && e.status >= 500);
  if (transient) {
    return new ClusterError(
      `The EKS API in ${region} is busy or failing (eks:${ctx.action}${ctx.clusterName ? ` on "${ctx.clusterName}"` : ''}, ${e.name}); Slipway can try again.${said}`,
      opts(true),
    );
  }
  return new ClusterError(`EKS refused eks:${ctx.action} on ${cluster} (${e.name}).${said}`, opts(false));
}
