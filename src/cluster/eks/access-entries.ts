import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  paginateListAssociatedAccessPolicies,
  type AssociatedAccessPolicy,
  type EKSClient,
} from '@aws-sdk/client-eks';
import { ClusterError } from '../../errors.ts';
import { awsErrorName, toEksClusterError } from './errors.ts';

/** EKS access entries: a team's IAM role gets namespace-scoped rights (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html). */

/** Edit rights (no RBAC changes) in the namespaces of the access scope. */
export const DEFAULT_ACCESS_POLICY_ARN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';

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
export async function grantNamespaceAccess(client: EKSClient, input: GrantNamespaceAccessInput): Promise<GrantNamespaceAccessResult> {
  const policyArn = input.policyArn ?? DEFAULT_ACCESS_POLICY_ARN;
  const { clusterName, principalArn, namespace } = input;
  rejectSessionArn(principalArn, clusterName);
  const policyName = policyArn.split('/').pop() ?? policyArn;

  const existing = (await listAssociatedAccessPolicies(client, clusterName, principalArn)).find((p) => p.policyArn === policyArn);
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

async function listAssociatedAccessPolicies(client: EKSClient, clusterName: string, principalArn: string): Promise<AssociatedAccessPolicy[]> {
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
