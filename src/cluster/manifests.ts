import { dumpYaml } from '@kubernetes/client-node';
import type { KubernetesObject, V1LimitRange, V1Namespace, V1NetworkPolicy, V1ResourceQuota, V1RoleBinding } from '@kubernetes/client-node';
import { findTeam, type Config } from '../config.ts';
import type { ExtraAccess } from '../domain/lifecycle.ts';
import { requestRef } from '../domain/requests.ts';

/** What a namespace is built from; the workflow and `slipway render` fill it the same way. */
export interface GoldenPathInput {
  namespace: string;
  team: string;
  environment: string;
  tier: string;
  requestId?: number | undefined;
  requester?: string | undefined;
  purpose?: string | undefined;
  expiresOn?: string | undefined;
  /** Other teams' access, given by a change since the request (none at provisioning). */
  access?: readonly ExtraAccess[] | undefined;
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'slipway' } as const;
export const LABEL = {
  team: 'slipway.dev/team',
  environment: 'slipway.dev/environment',
  costCenter: 'slipway.dev/cost-center',
  requester: 'slipway.dev/requester',
  requestId: 'slipway.dev/request-id',
} as const;
export const ANNOTATION = {
  purpose: 'slipway.dev/purpose',
  expiresOn: 'slipway.dev/expires-on',
} as const;

export const OBJECT_NAMES = {
  quota: 'slipway-quota',
  limits: 'slipway-limits',
  denyIngress: 'default-deny-ingress',
  sameNamespace: 'allow-same-namespace',
  fromNamespaces: 'allow-from-platform-namespaces',
  dnsEgress: 'allow-dns-egress',
  openEgress: 'allow-all-egress',
  teamAccess: 'slipway-team-access',
} as const;

/** Everything the golden path applies, grouped by the provisioning step that applies it. */
export interface GoldenPath {
  namespace: V1Namespace;
  quota: V1ResourceQuota;
  limitRange: V1LimitRange;
  networkPolicies: V1NetworkPolicy[];
  roleBinding: V1RoleBinding;
  /** One RoleBinding per other team with access (`buildAccessBindings`). */
  accessBindings: V1RoleBinding[];
}

export class UnknownSettingError extends Error {}

/** A config entry by key; only the record's own keys count, never `constructor` or `__proto__`. */
function pick<T>(record: Readonly<Record<string, T>>, key: string, what: string): T {
  const value = Object.hasOwn(record, key) ? record[key] : undefined;
  if (value === undefined) {
    throw new UnknownSettingError(`unknown ${what} "${key}" (known: ${Object.keys(record).join(', ')})`);
  }
  return value;
}

export function buildGoldenPath(config: Config, input: GoldenPathInput): GoldenPath {
  const team = findTeam(config, input.team);
  if (!team) {
    throw new UnknownSettingError(`unknown team "${input.team}" (known: ${config.teams.map((t) => t.name).join(', ')})`);
  }
  const env = pick(config.environments, input.environment, 'environment');
  const tier = pick(config.tiers, input.tier, 'tier');
  const ns = input.namespace;

  const labels: Record<string, string> = {
    ...MANAGED_BY,
    [LABEL.team]: team.name,
    [LABEL.environment]: input.environment,
    [LABEL.costCenter]: team.costCenter,
  };
  if (input.requester) labels[LABEL.requester] = input.requester;
  if (input.requestId !== undefined) labels[LABEL.requestId] = requestRef(input.requestId);
  const objectMeta = (name: string) => ({ name, namespace: ns, labels: { ...MANAGED_BY } });

  const annotations: Record<string, string> = {};
  if (input.purpose) annotations[ANNOTATION.purpose] = input.purpose;
  if (input.expiresOn) annotations[ANNOTATION.expiresOn] = input.expiresOn;

  const psaVersion = config.namespaces.podSecurityVersion;
  const namespace: V1Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        ...labels,
        // Enforce the environment's level; audit and warn at restricted so teams see what
        // would break before an environment is tightened.
        'pod-security.kubernetes.io/enforce': env.podSecurity,
        'pod-security.kubernetes.io/enforce-version': psaVersion,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': psaVersion,
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': psaVersion,
      },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
  };

  const quota: V1ResourceQuota = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: objectMeta(OBJECT_NAMES.quota),
    spec: { hard: { ...tier.quota } },
  };

  const limitRange: V1LimitRange = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: objectMeta(OBJECT_NAMES.limits),
    spec: {
      limits: [
        {
          type: 'Container',
          defaultRequest: { ...tier.limits.defaultRequest },
          _default: { ...tier.limits.default },
          ...(tier.limits.max ? { max: { ...tier.limits.max } } : {}),
        },
      ],
    },
  };

  const networkPolicies = buildNetworkPolicies(config, ns, env.egress, objectMeta);

  const roleBinding: V1RoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: objectMeta(OBJECT_NAMES.teamAccess),
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: team.clusterRole ?? config.namespaces.clusterRole,
    },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: team.group }],
  };

  const accessBindings = buildAccessBindings(config, ns, team.name, input.access ?? []);
  return { namespace, quota, limitRange, networkPolicies, roleBinding, accessBindings };
}

function buildNetworkPolicies(
  config: Config,
  ns: string,
  egress: 'open' | 'restricted',
  objectMeta: (name: string) => V1NetworkPolicy['metadata'],
): V1NetworkPolicy[] {
  const policy = (name: string, spec: NonNullable<V1NetworkPolicy['spec']>): V1NetworkPolicy => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMeta(name),
    spec,
  });
  const allPods = {};
  const byName = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

  const policies = [
    policy(OBJECT_NAMES.denyIngress, { podSelector: allPods, policyTypes: ['Ingress'] }),
    policy(OBJECT_NAMES.sameNamespace, {
      podSelector: allPods,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ _from: [{ podSelector: allPods }] }],
      egress: [{ to: [{ podSelector: allPods }] }],
    }),
  ];
  const allowed = config.namespaces.allowFromNamespaces;
  if (allowed.length > 0) {
    policies.push(
      policy(OBJECT_NAMES.fromNamespaces, {
        podSelector: allPods,
        policyTypes: ['Ingress'],
        ingress: [{ _from: allowed.map((name) => ({ namespaceSelector: byName(name) })) }],
      }),
    );
  }
  // Any policy with an Egress type isolates egress for the pods it selects, so DNS is allowed
  // explicitly and "open" environments get an explicit allow-all next to it.
  policies.push(
    policy(OBJECT_NAMES.dnsEgress, {
      podSelector: allPods,
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: byName('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
  );
  if (egress === 'open') {
    policies.push(policy(OBJECT_NAMES.openEgress, { podSelector: allPods, policyTypes: ['Egress'], egress: [{}] }));
  }
  return policies;
}

/** The RoleBinding that gives another team access to a namespace: one per team, named after it. */
export function accessBindingName(team: string): string {
  return `slipway-access-${team}`;
}

/**
 * Extra access to `namespace`, owned by `owningTeam`, for other configured teams: each team's
 * group bound with the owning team's ClusterRole (`edit`: the same access the team has) or with
 * the read-only `view` ClusterRole.
 */
export function buildAccessBindings(config: Config, namespace: string, owningTeam: string, access: readonly ExtraAccess[]): V1RoleBinding[] {
  const owner = findTeam(config, owningTeam);
  if (!owner) throw new UnknownSettingError(`unknown team "${owningTeam}"`);
  return access.map((grant) => {
    const team = findTeam(config, grant.team);
    if (!team) throw new UnknownSettingError(`unknown team "${grant.team}" (known: ${config.teams.map((t) => t.name).join(', ')})`);
    return {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: accessBindingName(team.name), namespace, labels: { ...MANAGED_BY, [LABEL.team]: team.name } },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: grant.role === 'view' ? 'view' : (owner.clusterRole ?? config.namespaces.clusterRole),
      },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: team.group }],
    };
  });
}

/** The manifests in apply order. */
export function goldenPathObjects(path: GoldenPath): KubernetesObject[] {
  return [path.namespace, path.quota, path.limitRange, ...path.networkPolicies, path.roleBinding, ...path.accessBindings];
}

/**
 * Multi-document YAML of the manifests, as the API server receives them. client-node's model
 * types rename fields that clash with keywords (`_default`, `_from`); `dumpYaml` serializes
 * through the same model mapping that the apply request uses.
 */
export function renderYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((obj) => dumpYaml(obj, { noRefs: true, lineWidth: -1 })).join('---\n');
}
