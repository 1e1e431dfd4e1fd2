import type { AccessPolicyScope } from '../../cluster/client.ts';
import type { StepInput } from '../provisioning/steps.ts';
import type { Difference } from './compare.ts';

/**
 * Drift of EKS access: whether a namespace is in the namespace scope of the access policy its
 * team's IAM role gets (`teams[].iamRoleArn`, `accessPolicyArn`). Pure: the scan reads each
 * principal's associated policies once per cluster, this module compares one namespace with them.
 *
 * EKS keeps no field managers and no history, so the manager is always unknown, and the kind is
 * `outdated` only when EKS itself shows the config changed: the namespace sits in the scope of
 * another policy of the same principal (the team's `accessPolicyArn` changed since provisioning).
 * Otherwise `edited`: a namespace taken out of the scope, a policy disassociated, an entry deleted
 * or widened to the whole cluster by hand (a changed `iamRoleArn` also looks like this: the new
 * role never had the namespace, and nothing in EKS says the old one was Slipway's).
 */

type Access = NonNullable<StepInput['access']>;

export const accessObject = (principalArn: string) => `EKS access entry ${principalArn}`;

/**
 * The differences of one namespace's EKS access: `live` as ListAssociatedAccessPolicies returned
 * it for the principal (undefined: no access entry), `expected` what today's config grants.
 */
export function compareAccess(namespace: string, expected: Access, live: readonly AccessPolicyScope[] | undefined): Difference[] {
  const base = { namespace, object: accessObject(expected.principalArn), manager: undefined };
  const wanted = `namespace scope with ${namespace}`;
  if (live === undefined) return [{ ...base, field: '(object)', live: 'missing', expected: 'present', kind: 'edited' }];
  const policy = live.find((p) => p.policyArn === expected.policyArn);
  if (!policy) {
    const elsewhere = live.filter((p) => p.scope !== 'cluster' && p.scope.includes(namespace)).map((p) => p.policyArn);
    const found = elsewhere.length > 0 ? ` (the namespace is in the scope of ${elsewhere.join(', ')})` : '';
    return [{ ...base, field: expected.policyArn, live: `not associated${found}`, expected: wanted, kind: elsewhere.length > 0 ? 'outdated' : 'edited' }];
  }
  if (policy.scope === 'cluster') return [{ ...base, field: 'accessScope.type', live: 'cluster', expected: 'namespace', kind: 'edited' }];
  if (policy.scope.includes(namespace)) return [];
  return [
    { ...base, field: 'accessScope.namespaces', live: JSON.stringify(policy.scope), expected: JSON.stringify([...policy.scope, namespace]), kind: 'edited' },
  ];
}
