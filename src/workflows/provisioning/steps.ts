import type { KubernetesObject } from '@kubernetes/client-node';
import type { Clusters } from '../../cluster/client.ts';
import { LABEL, MANAGED_BY, OBJECT_NAMES, type GoldenPath } from '../../cluster/manifests.ts';
import { requestRef } from '../../domain/requests.ts';
import { ClusterError } from '../../errors.ts';

/** What a step works on: the rendered golden path for one request on one cluster. */
export interface StepInput {
  cluster: string;
  requestId: number | undefined;
  path: GoldenPath;
  /** On EKS, when the team has an IAM role: the access entry and the namespace-scoped policy. */
  access: { principalArn: string; policyArn: string } | undefined;
}

/**
 * A declared provisioning step. `apply` is idempotent: running it again after success changes
 * nothing, so a retried or resumed run can repeat it safely. `describe` is the sentence shown
 * in the thread, on the card and by `slipway render`.
 */
export interface Step {
  name: string;
  /** Steps that must be done first; steps whose dependencies are met run concurrently. */
  after?: readonly string[];
  /** Whether the step belongs in a run for this input; most always do. */
  appliesTo?(input: StepInput): boolean;
  describe(input: StepInput): string;
  objects(input: StepInput): KubernetesObject[];
  apply(input: StepInput, clusters: Clusters): Promise<void>;
}

const join = (record: Record<string, string> | undefined) =>
  Object.entries(record ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** The objects of one step do not depend on each other, so they are applied concurrently. */
async function applyAll(input: StepInput, clusters: Clusters, objects: KubernetesObject[]) {
  await Promise.all(objects.map((object) => clusters.apply(input.cluster, object)));
}

/** Everything inside a namespace needs the namespace, and nothing else. */
const IN_NAMESPACE = ['namespace'] as const;

function step(
  name: string,
  objects: (input: StepInput) => KubernetesObject[],
  describe: (input: StepInput) => string,
  before?: (input: StepInput, clusters: Clusters) => Promise<void>,
): Step {
  return {
    name,
    ...(name === 'namespace' ? {} : { after: IN_NAMESPACE }),
    describe,
    objects,
    async apply(input, clusters) {
      await before?.(input, clusters);
      await applyAll(input, clusters, objects(input));
    },
  };
}

/**
 * Refuses to take over a namespace that Slipway did not create for this request: server-side
 * apply would otherwise quietly add our labels to someone else's namespace.
 */
async function guardNamespace(input: StepInput, clusters: Clusters): Promise<void> {
  const name = input.path.namespace.metadata?.name ?? '';
  const existing = await clusters.readNamespace(input.cluster, name);
  if (!existing) return;
  const ours =
    existing.labels[Object.keys(MANAGED_BY)[0] ?? ''] === 'slipway' &&
    (input.requestId === undefined || existing.labels[LABEL.requestId] === requestRef(input.requestId));
  if (!ours) {
    throw new ClusterError(
      `Namespace "${name}" already exists on cluster "${input.cluster}" and was not created by this request, so Slipway leaves it alone. Deny this request or ask the requester for another name.`,
      { transient: false },
    );
  }
}

function describeNetworkPolicies(path: GoldenPath): string {
  const names = path.networkPolicies.map((p) => p.metadata?.name);
  const from = path.networkPolicies
    .find((p) => p.metadata?.name === OBJECT_NAMES.fromNamespaces)
    ?.spec?.ingress?.[0]?._from?.map((peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']);
  const ingress = `ingress only from the namespace itself${from?.length ? ` and ${from.join(', ')}` : ''}`;
  const egress = names.includes(OBJECT_NAMES.openEgress) ? 'egress open' : 'egress only to DNS and the namespace itself';
  return `NetworkPolicies: ${ingress}; ${egress} (${names.join(', ')})`;
}

export const STEPS: readonly Step[] = [
  step(
    'namespace',
    ({ path }) => [path.namespace],
    ({ path }) => {
      const labels = path.namespace.metadata?.labels ?? {};
      return `Namespace \`${path.namespace.metadata?.name}\` labelled team, environment, cost center and request; Pod Security enforce=${labels['pod-security.kubernetes.io/enforce']}, warn/audit=restricted`;
    },
    guardNamespace,
  ),
  step(
    'resource-quota',
    ({ path }) => [path.quota],
    ({ path }) => `ResourceQuota: ${join(path.quota.spec?.hard)}`,
  ),
  step(
    'limit-range',
    ({ path }) => [path.limitRange],
    ({ path }) => {
      const limits = path.limitRange.spec?.limits[0];
      return `LimitRange: containers default to requests ${join(limits?.defaultRequest)} and limits ${join(limits?._default)}${limits?.max ? `, at most ${join(limits.max)}` : ''}`;
    },
  ),
  step(
    'network-policies',
    ({ path }) => path.networkPolicies,
    ({ path }) => describeNetworkPolicies(path),
  ),
  step(
    'role-binding',
    // Other teams' bindings (from a change) are applied with the team's own when a namespace is re-applied.
    ({ path }) => [path.roleBinding, ...path.accessBindings],
    ({ path }) => `RoleBinding: group \`${path.roleBinding.subjects?.[0]?.name}\` gets ClusterRole \`${path.roleBinding.roleRef.name}\``,
  ),
  {
    name: 'eks-access',
    after: IN_NAMESPACE,
    appliesTo: (input) => input.access !== undefined,
    describe: ({ access, path }) =>
      `EKS access entry for \`${access?.principalArn}\` with \`${access?.policyArn.split('/').pop()}\` scoped to namespace \`${path.namespace.metadata?.name}\` (added to its existing namespaces)`,
    objects: () => [],
    async apply(input, clusters) {
      if (!input.access) return;
      await clusters.grantNamespaceAccess(input.cluster, { ...input.access, namespace: input.path.namespace.metadata?.name ?? '' });
    },
  },
];

/** The steps a run for this input consists of, in order. */
export function stepsFor(input: StepInput): Step[] {
  return STEPS.filter((s) => !s.appliesTo || s.appliesTo(input));
}

export function findStep(name: string): Step | undefined {
  return STEPS.find((s) => s.name === name);
}
