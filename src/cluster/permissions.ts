import type { Config } from '../config.ts';

/** One Kubernetes permission the bot needs, as a SelfSubjectAccessReview asks about it. */
export interface Permission {
  verb: string;
  resource: string;
  group: string;
  /** For `bind`: the ClusterRole it is needed on. */
  name?: string;
  why: string;
}

/**
 * Exactly what the workflows do with the cluster, kept in step with deploy/rbac.yaml (a test
 * checks that the ClusterRole there grants each of these). Server-side apply is authorized as
 * `patch`, and also as `create` when the object does not exist yet.
 */
export function requiredPermissions(config: Config): Permission[] {
  const apply = (resource: string, group: string, what: string): Permission[] => [
    { verb: 'get', resource, group, why: `read ${what}` },
    { verb: 'create', resource, group, why: `create ${what} (server-side apply)` },
    { verb: 'patch', resource, group, why: `update ${what} (server-side apply)` },
  ];
  const roles = [...new Set([config.namespaces.clusterRole, ...config.teams.flatMap((t) => (t.clusterRole ? [t.clusterRole] : []))])];
  return [
    ...apply('namespaces', '', 'namespaces'),
    ...apply('resourcequotas', '', 'resource quotas'),
    ...apply('limitranges', '', 'limit ranges'),
    ...apply('networkpolicies', 'networking.k8s.io', 'network policies'),
    ...apply('rolebindings', 'rbac.authorization.k8s.io', 'team role bindings'),
    ...roles.map((name) => ({
      verb: 'bind',
      resource: 'clusterroles',
      group: 'rbac.authorization.k8s.io',
      name,
      why: `bind teams to ClusterRole ${name}`,
    })),
    { verb: 'list', resource: 'namespaces', group: '', why: 'find the namespaces Slipway manages' },
    { verb: 'list', resource: 'pods', group: '', why: 'see which namespaces run workloads' },
  ];
}

export function describePermission(p: Permission): string {
  const resource = p.group ? `${p.resource}.${p.group}` : p.resource;
  return `${p.verb} ${resource}${p.name ? ` "${p.name}"` : ''}`;
}
