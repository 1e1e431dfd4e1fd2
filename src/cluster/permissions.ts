import type { Config } from '../config.ts';
import { accessBindingName, OBJECT_NAMES } from './manifests.ts';

/** One Kubernetes permission the bot needs, as a SelfSubjectAccessReview asks about it. */
export interface Permission {
  verb: string;
  resource: string;
  group: string;
  /** The object's name where RBAC grants it by name; for `bind`, the ClusterRole. */
  name?: string | undefined;
  why: string;
}

/**
 * Exactly what the workflows do with the cluster, kept in step with deploy/rbac.yaml (a test
 * checks that the ClusterRole there grants each of these). Server-side apply is authorized as
 * `patch`, and also as `create` when the object does not exist yet, both with the object's name,
 * so the objects inside a namespace are granted by name (`resourceNames`) and checked by name:
 * RBAC answers "no" to a question without a name when it grants only named objects.
 */
export function requiredPermissions(config: Config): Permission[] {
  const apply = (resource: string, group: string, what: string, names: readonly (string | undefined)[]): Permission[] =>
    names.flatMap((name) => [
      { verb: 'get', resource, group, name, why: `read ${what}` },
      { verb: 'create', resource, group, name, why: `create ${what} (server-side apply)` },
      { verb: 'patch', resource, group, name, why: `update ${what} (server-side apply)` },
    ]);
  // Another team's access (`/platform change`) binds the owning team's role or the read-only `view`.
  const roles = [...new Set([config.namespaces.clusterRole, ...config.teams.flatMap((t) => (t.clusterRole ? [t.clusterRole] : [])), 'view'])];
  const accessBindings = config.teams.map((t) => accessBindingName(t.name));
  const networkPolicies = [OBJECT_NAMES.denyIngress, OBJECT_NAMES.sameNamespace, OBJECT_NAMES.fromNamespaces, OBJECT_NAMES.dnsEgress, OBJECT_NAMES.openEgress];
  return [
    // Namespace names come from requests, so RBAC cannot name them; deploy/admission-policy.yaml
    // limits these to Slipway's labelled namespaces on Kubernetes 1.30 and later.
    ...apply('namespaces', '', 'namespaces', [undefined]),
    ...apply('resourcequotas', '', 'the resource quota', [OBJECT_NAMES.quota]),
    ...apply('limitranges', '', 'the limit range', [OBJECT_NAMES.limits]),
    ...apply('networkpolicies', 'networking.k8s.io', 'network policies', networkPolicies),
    ...apply('rolebindings', 'rbac.authorization.k8s.io', 'the team role binding', [OBJECT_NAMES.teamAccess]),
    ...apply('rolebindings', 'rbac.authorization.k8s.io', "another team's role binding", accessBindings),
    // A change that takes another team's access back deletes its binding (and only those).
    ...accessBindings.map((name) => ({
      verb: 'delete',
      resource: 'rolebindings',
      group: 'rbac.authorization.k8s.io',
      name,
      why: "take another team's access back (/platform change)",
    })),
    ...roles.map((name) => ({
      verb: 'bind',
      resource: 'clusterroles',
      group: 'rbac.authorization.k8s.io',
      name,
      why: `bind teams to ClusterRole ${name}`,
    })),
    { verb: 'list', resource: 'namespaces', group: '', why: 'find the namespaces Slipway manages' },
    // Only namespaces labelled with the request's id are deleted (src/cluster/client.ts); the
    // namespace controller, not Slipway, then deletes what is inside.
    { verb: 'delete', resource: 'namespaces', group: '', why: 'delete the namespaces Slipway made, when they are no longer wanted' },
    { verb: 'list', resource: 'pods', group: '', why: 'see which namespaces run workloads' },
    // The drift scan lists each golden-path kind once across namespaces (label selector
    // managed-by slipway); a list cannot be limited by name, so these are granted unnamed.
    { verb: 'list', resource: 'resourcequotas', group: '', why: 'compare quotas with the golden path (drift)' },
    { verb: 'list', resource: 'limitranges', group: '', why: 'compare limit ranges with the golden path (drift)' },
    { verb: 'list', resource: 'networkpolicies', group: 'networking.k8s.io', why: 'compare network policies with the golden path (drift)' },
    { verb: 'list', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', why: 'compare role bindings with the golden path (drift)' },
  ];
}

export function describePermission(p: Permission): string {
  const resource = p.group ? `${p.resource}.${p.group}` : p.resource;
  return `${p.verb} ${resource}${p.name ? ` "${p.name}"` : ''}`;
}
