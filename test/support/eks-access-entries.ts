/**
 * The access entries of one EKS cluster, kept as the EKS API keeps them and served to the real
 * `EKSClient` through aws-sdk-client-mock (EKS has no local emulator). Tests set up the state,
 * run Slipway, and read the state back, instead of scripting each answer.
 *
 * As documented in the EKS API reference: one entry per principal (a second CreateAccessEntry is
 * ResourceInUseException, 409); ListAssociatedAccessPolicies, DescribeAccessEntry,
 * AssociateAccessPolicy, DisassociateAccessPolicy and DeleteAccessEntry on a principal without an
 * entry are ResourceNotFoundException (404), worded as EKS words it ("The specified principalArn
 * could not be found…", terraform-provider-aws matches that text). AssociateAccessPolicy answers
 * with the association it stored. Assumptions, not documented: re-associating a policy replaces
 * its scope (`associateMerges: true` makes it merge instead), and disassociating a policy that is
 * not associated is a ResourceNotFoundException.
 */
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DisassociateAccessPolicyCommand,
  ListAssociatedAccessPoliciesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type AccessScope,
  type EKSClient,
} from '@aws-sdk/client-eks';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export interface AccessEntryState {
  kubernetesGroups: string[];
  /** Policy ARN → its scope. */
  policies: Map<string, AccessScope>;
}

interface PrincipalInput {
  clusterName: string;
  principalArn: string;
}

export class FakeAccessEntries {
  /** Principal ARN → its access entry. */
  readonly entries = new Map<string, AccessEntryState>();

  constructor(
    stub: AwsClientStub<EKSClient>,
    private readonly options: { associateMerges?: boolean } = {},
  ) {
    stub.on(CreateAccessEntryCommand).callsFake((input: PrincipalInput & { kubernetesGroups?: string[] }) => {
      if (this.entries.has(input.principalArn)) {
        throw new ResourceInUseException({
          message: 'The specified access entry resource is already in use on this cluster.',
          $metadata: { httpStatusCode: 409 },
        });
      }
      this.entries.set(input.principalArn, { kubernetesGroups: input.kubernetesGroups ?? [], policies: new Map() });
      return { accessEntry: this.describe(input) };
    });
    stub.on(DescribeAccessEntryCommand).callsFake((input: PrincipalInput) => ({ accessEntry: this.describe(input) }));
    stub.on(ListAssociatedAccessPoliciesCommand).callsFake((input: PrincipalInput) => ({
      clusterName: input.clusterName,
      principalArn: input.principalArn,
      associatedAccessPolicies: [...this.entry(input).policies].map(([policyArn, accessScope]) => ({ policyArn, accessScope })),
    }));
    stub.on(AssociateAccessPolicyCommand).callsFake((input: PrincipalInput & { policyArn: string; accessScope: AccessScope }) => {
      const { policies } = this.entry(input);
      const before = policies.get(input.policyArn);
      const merged = this.options.associateMerges && before?.type === 'namespace' && input.accessScope.type === 'namespace';
      const scope = merged
        ? { type: 'namespace' as const, namespaces: [...new Set([...(before.namespaces ?? []), ...(input.accessScope.namespaces ?? [])])] }
        : input.accessScope;
      policies.set(input.policyArn, scope);
      return { clusterName: input.clusterName, principalArn: input.principalArn, associatedAccessPolicy: { policyArn: input.policyArn, accessScope: scope } };
    });
    stub.on(DisassociateAccessPolicyCommand).callsFake((input: PrincipalInput & { policyArn: string }) => {
      if (!this.entry(input).policies.delete(input.policyArn))
        throw notFound(`The specified policyArn ${input.policyArn} is not associated with the access entry.`);
      return {};
    });
    stub.on(DeleteAccessEntryCommand).callsFake((input: PrincipalInput) => {
      this.entry(input);
      this.entries.delete(input.principalArn);
      return {};
    });
  }

  /** Puts an entry in place as if made earlier: `policies` maps a policy ARN to its namespaces, or to 'cluster'. */
  seed(principalArn: string, policies: Record<string, string[] | 'cluster'>, kubernetesGroups: string[] = []): void {
    const scopes = Object.entries(policies).map(([arn, scope]): [string, AccessScope] => [
      arn,
      scope === 'cluster' ? { type: 'cluster' } : { type: 'namespace', namespaces: scope },
    ]);
    this.entries.set(principalArn, { kubernetesGroups, policies: new Map(scopes) });
  }

  /** The namespaces a policy is scoped to now, 'cluster', or undefined when it is not associated. */
  scope(principalArn: string, policyArn: string): string[] | 'cluster' | undefined {
    const scope = this.entries.get(principalArn)?.policies.get(policyArn);
    return scope?.type === 'cluster' ? 'cluster' : scope?.namespaces;
  }

  private entry(input: PrincipalInput): AccessEntryState {
    const entry = this.entries.get(input.principalArn);
    if (!entry) throw notFound(`The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`);
    return entry;
  }

  private describe(input: PrincipalInput) {
    const entry = this.entry(input);
    return { clusterName: input.clusterName, principalArn: input.principalArn, kubernetesGroups: entry.kubernetesGroups, type: 'STANDARD' };
  }
}

function notFound(message: string): ResourceNotFoundException {
  return new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 404 } });
}
