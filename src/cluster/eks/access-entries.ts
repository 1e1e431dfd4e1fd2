import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DisassociateAccessPolicyCommand,
  paginateListAssociatedAccessPolicies,
  type AssociatedAccessPolicy,
  type EKSClient,
} from '@aws-sdk/client-eks';
import { ClusterError } from '../../errors.ts';
import { awsErrorName, isAwsNotFound, isMissingAccessEntry, toEksClusterError, type EksCallContext } from './errors.ts';

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

export type RevokeNamespaceAccessInput = GrantNamespaceAccessInput;

export interface RevokeNamespaceAccessResult {
  /**
   * `narrowed`: the namespace left the policy's scope, others stay; `disassociated`: it was the
   * last one, so the policy went, while the access entry stays (other policies or Kubernetes
   * groups still use it); `entry-deleted`: the access entry went too, nothing was left in it;
   * `not-granted`: there was nothing to take away (or an earlier run already did);
   * `cluster-scoped`: the policy is associated cluster-wide, which Slipway never does: left alone.
   */
  outcome: 'narrowed' | 'disassociated' | 'entry-deleted' | 'not-granted' | 'cluster-scoped';
  /** The namespaces still in the policy's scope. */
  namespaces: string[];
  summary: string;
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

/**
 * Takes `namespace` out of the principal's access: out of the namespace scope of `policyArn`
 * (AssociateAccessPolicy with the namespaces that stay); when it was the last namespace, the
 * policy goes (DisassociateAccessPolicy); when the access entry then has no policy and no
 * Kubernetes group left, it goes too (DeleteAccessEntry). Slipway creates entries without groups,
 * so an entry with groups was made by someone else for more than Slipway's namespaces, and stays.
 * What is already gone counts as done, so a repeated run finishes what an interrupted one began.
 */
export async function revokeNamespaceAccess(client: EKSClient, input: RevokeNamespaceAccessInput): Promise<RevokeNamespaceAccessResult> {
  const policyArn = input.policyArn ?? DEFAULT_ACCESS_POLICY_ARN;
  const { clusterName, principalArn, namespace } = input;
  rejectSessionArn(principalArn, clusterName);
  const policyName = policyArn.split('/').pop() ?? policyArn;
  const ctx = { clusterName, principalArn };

  const policies = await listAssociatedAccessPolicies(client, clusterName, principalArn, { missingEntry: 'empty' });
  if (!policies) {
    return { outcome: 'not-granted', namespaces: [], summary: `${principalArn} has no access entry on cluster "${clusterName}": nothing to revoke.` };
  }
  const existing = policies.find((p) => p.policyArn === policyArn);
  if (existing?.accessScope?.type === 'cluster') {
    return {
      outcome: 'cluster-scoped',
      namespaces: [],
      summary: `${principalArn} has ${policyName} on all of cluster "${clusterName}", which Slipway did not grant; left unchanged.`,
    };
  }
  const current = existing?.accessScope?.namespaces ?? [];
  const staying = current.filter((n) => n !== namespace);
  if (existing && staying.length === current.length) {
    return {
      outcome: 'not-granted',
      namespaces: current,
      summary: `${principalArn} has no ${policyName} in namespace "${namespace}" on cluster "${clusterName}": nothing to revoke.`,
    };
  }
  if (staying.length > 0) {
    await narrowScope(client, { ...ctx, policyArn, namespace, staying });
    return {
      outcome: 'narrowed',
      namespaces: staying,
      summary: `Took namespace "${namespace}" out of ${principalArn}'s ${policyName} on cluster "${clusterName}" (scope now: ${staying.join(', ')}).`,
    };
  }
  const removed = existing ? `Took ${policyName} (namespace "${namespace}" was its last) from ${principalArn} on cluster "${clusterName}"` : undefined;
  if (existing) {
    await eksCall(
      client,
      { action: 'DisassociateAccessPolicy', ...ctx },
      () => client.send(new DisassociateAccessPolicyCommand({ ...ctx, policyArn })),
      isAwsNotFound,
    );
  }
  const kept = (why: string): RevokeNamespaceAccessResult => ({
    outcome: existing ? 'disassociated' : 'not-granted',
    namespaces: [],
    summary: `${removed ?? `${principalArn} has no ${policyName} on cluster "${clusterName}"`}; its access entry stays: ${why}.`,
  });
  const otherPolicies = policies.filter((p) => p !== existing).map((p) => p.policyArn?.split('/').pop() ?? '?');
  if (otherPolicies.length > 0) return kept(`it still has ${otherPolicies.join(', ')}`);
  const described = await eksCall(
    client,
    { action: 'DescribeAccessEntry', ...ctx },
    () => client.send(new DescribeAccessEntryCommand(ctx)),
    isMissingAccessEntry,
  );
  const groups = described?.accessEntry?.kubernetesGroups ?? [];
  if (groups.length > 0) return kept(`it has Kubernetes groups (${groups.join(', ')}), which Slipway does not give`);
  if (described) await eksCall(client, { action: 'DeleteAccessEntry', ...ctx }, () => client.send(new DeleteAccessEntryCommand(ctx)), isAwsNotFound);
  return {
    outcome: 'entry-deleted',
    namespaces: [],
    summary: `${removed ?? `${principalArn} had no ${policyName} on cluster "${clusterName}"`}, and deleted its access entry, which had nothing left.`,
  };
}

/**
 * Re-associates the policy with the namespaces that stay. AWS's own EKS controller changes a scope
 * this way (aws-controllers-k8s/eks-controller, access_entry/hooks.go), but the API reference does
 * not say that the new scope replaces the old one, so the answer is checked: when EKS kept the
 * namespace, the policy is taken off and associated again with the namespaces that stay.
 */
async function narrowScope(
  client: EKSClient,
  input: { clusterName: string; principalArn: string; policyArn: string; namespace: string; staying: string[] },
): Promise<void> {
  const { clusterName, principalArn, policyArn, namespace, staying } = input;
  const ctx = { clusterName, principalArn };
  const associate = () =>
    eksCall(client, { action: 'AssociateAccessPolicy', ...ctx }, () =>
      client.send(new AssociateAccessPolicyCommand({ ...ctx, policyArn, accessScope: { type: 'namespace', namespaces: staying } })),
    );
  const answer = await associate();
  if (!answer?.associatedAccessPolicy?.accessScope?.namespaces?.includes(namespace)) return;
  await eksCall(
    client,
    { action: 'DisassociateAccessPolicy', ...ctx },
    () => client.send(new DisassociateAccessPolicyCommand({ ...ctx, policyArn })),
    isAwsNotFound,
  );
  await associate();
}

/**
 * One EKS call; a failure becomes a ClusterError that says what to fix, except one `gone` accepts
 * (e.g. "not found" for a removal: already removed), which resolves undefined.
 */
async function eksCall<T>(client: EKSClient, ctx: EksCallContext, run: () => Promise<T>, gone?: (err: unknown) => boolean): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (gone?.(err)) return undefined;
    throw await toEksClusterError(err, client, ctx);
  }
}

async function listAssociatedAccessPolicies(client: EKSClient, clusterName: string, principalArn: string): Promise<AssociatedAccessPolicy[]>;
async function listAssociatedAccessPolicies(
  client: EKSClient,
  clusterName: string,
  principalArn: string,
  options: { missingEntry: 'empty' },
): Promise<AssociatedAccessPolicy[] | undefined>;
/** Every page; with `missingEntry: 'empty'`, undefined when the principal has no access entry. */
async function listAssociatedAccessPolicies(
  client: EKSClient,
  clusterName: string,
  principalArn: string,
  options?: { missingEntry: 'empty' },
): Promise<AssociatedAccessPolicy[] | undefined> {
  const policies: AssociatedAccessPolicy[] = [];
  try {
    for await (const page of paginateListAssociatedAccessPolicies({ client }, { clusterName, principalArn })) {
      policies.push(...(page.associatedAccessPolicies ?? []));
    }
  } catch (err) {
    if (options && isMissingAccessEntry(err)) return undefined;
    throw await toEksClusterError(err, client, { action: 'ListAssociatedAccessPolicies', clusterName, principalArn });
  }
  return policies;
}

/** One access policy associated with a principal: its ARN and scope (`cluster`, or its namespaces). */
export interface AccessPolicyScope {
  policyArn: string;
  scope: 'cluster' | string[];
}

/**
 * The access policies associated with a principal, every page of one ListAssociatedAccessPolicies;
 * undefined when the principal has no access entry on the cluster.
 */
export async function readAccessPolicies(client: EKSClient, clusterName: string, principalArn: string): Promise<AccessPolicyScope[] | undefined> {
  const policies = await listAssociatedAccessPolicies(client, clusterName, principalArn, { missingEntry: 'empty' });
  return policies?.map((p) => ({
    policyArn: p.policyArn ?? '',
    scope: p.accessScope?.type === 'cluster' ? 'cluster' : [...(p.accessScope?.namespaces ?? [])],
  }));
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
