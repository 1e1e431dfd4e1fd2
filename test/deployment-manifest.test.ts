/**
 * deploy/: the Kustomize overlays as `kubectl kustomize` renders them (deploy/overlays/single and
 * deploy/overlays/ha on deploy/base), and the cluster-side files beside them (rbac.yaml,
 * admission-policy.yaml). KUBECTL=/path/to/kubectl renders with another kubectl, e.g. Debian's
 * kubernetes-client (kubectl 1.20, kustomize v2.0.3).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { LEADER_ELECTION_DEFAULTS, loadConfig, type Config } from '../src/config.ts';
import { readEnv } from '../src/env.ts';
import { EXAMPLE_CONFIG_PATH } from './support/config.ts';
import { OVERLAYS, renderOverlay, type KubeObject, type Overlay } from './support/kustomize.ts';

const ROOT = new URL('..', import.meta.url).pathname;

interface Port {
  name?: string;
  port?: number;
  containerPort?: number;
  targetPort?: number | string;
  protocol?: string;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

interface Container {
  name: string;
  ports: Port[];
  env?: EnvVar[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    minReadySeconds?: number;
    strategy: { type: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        containers: Container[];
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }[];
        affinity?: {
          podAntiAffinity?: {
            preferredDuringSchedulingIgnoredDuringExecution?: {
              podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } };
            }[];
          };
        };
      };
    };
  };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const renders = new Map<Overlay, KubeObject[]>(OVERLAYS.map((overlay) => [overlay, renderOverlay(overlay)]));

function rendered(overlay: Overlay): KubeObject[] {
  const objects = renders.get(overlay);
  assert.ok(objects, overlay);
  return objects;
}

function the<T extends KubeObject>(objects: KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as T;
}

const deploymentOf = (overlay: Overlay) => the<Deployment>(rendered(overlay), 'Deployment');
const containerOf = (overlay: Overlay) => {
  const container = deploymentOf(overlay).spec.template.spec.containers[0];
  assert.ok(container);
  return container;
};
const envOf = (overlay: Overlay, name: string) => containerOf(overlay).env?.find((e) => e.name === name);

/** The ConfigMap the operator makes from their own file (deploy/base/slipway.yaml); the example config stands in for it. */
const OPERATORS_CONFIG_MAP = 'slipway-config';

/**
 * The config a pod of `overlay` starts with: each file SLIPWAY_CONFIG lists, read from the
 * ConfigMap mounted at its directory (the overlay's own from the render), loaded as Slipway loads it.
 */
function podConfig(overlay: Overlay): Config {
  const container = containerOf(overlay);
  const volumes = deploymentOf(overlay).spec.template.spec.volumes ?? [];
  const dir = mkdtempSync(join(tmpdir(), `slipway-${overlay}-config-`));
  const listed = envOf(overlay, 'SLIPWAY_CONFIG')?.value;
  assert.ok(listed, 'SLIPWAY_CONFIG is set');
  const files = listed.split(':').map((path, i) => {
    const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
    const configMap = volumes.find((v) => v.name === mount?.name)?.configMap?.name;
    assert.ok(mount && configMap, `${path} is in a mounted ConfigMap`);
    const key = path.slice(mount.mountPath.length + 1);
    const data = rendered(overlay).find((o) => o.kind === 'ConfigMap' && o.metadata.name === configMap)?.data as Record<string, string> | undefined;
    const text = configMap === OPERATORS_CONFIG_MAP ? readFileSync(EXAMPLE_CONFIG_PATH, 'utf8') : data?.[key];
    assert.ok(text !== undefined, `ConfigMap ${configMap} has ${key}`);
    mkdirSync(join(dir, String(i)));
    const file = join(dir, String(i), basename(key));
    writeFileSync(file, text);
    return file;
  });
  return loadConfig(files.join(':'));
}

/** The cluster-side files (applied with -f on every cluster Slipway manages), with their objects. */
function clusterSideObjects(): { file: string; object: Record<string, unknown> }[] {
  const dir = join(ROOT, 'deploy');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((d) => d.toJS() as Record<string, unknown> | null)
        .filter((object): object is Record<string, unknown> => object !== null)
        .map((object) => ({ file, object })),
    );
}

/** Each `ports` list in an object (containers, init containers, Services), with where it is. */
function portLists(node: unknown, path = ''): { path: string; ports: Port[] }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => portLists(item, `${path}[${i}]`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'ports' && Array.isArray(value) ? [{ path: `${path}.ports`, ports: value as Port[] }] : portLists(value, `${path}.${key}`),
  );
}

test('every port in deploy/ names its protocol, so server-side apply works on 1.20 clusters too', async () => {
  const objects = [...OVERLAYS.flatMap((overlay) => rendered(overlay).map((object) => ({ file: `overlays/${overlay}`, object }))), ...clusterSideObjects()];
  const lists = objects.flatMap(({ file, object }) => portLists(object).map((l) => ({ ...l, where: `${file} ${String(object.kind)}` })));
  assert.ok(lists.length >= 4, 'the Deployment and the Service of each overlay have ports');
  for (const { where, path, ports } of lists) {
    ports.forEach((port, i) => assert.equal(port.protocol, 'TCP', `${where} ${path}[${i}] (${port.name ?? ''}) omits protocol`));
  }
});

for (const overlay of OVERLAYS) {
  test(`deploy/overlays/${overlay} probes readiness and scrapes metrics on METRICS_PORT, which the Service does not expose`, () => {
    const { metricsPort, port } = readEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
    const deployment = deploymentOf(overlay);
    const container = containerOf(overlay);
    const portNamed = (name: string) => container.ports.find((p) => p.name === name)?.containerPort;
    assert.ok(container.readinessProbe && container.livenessProbe);
    assert.equal(portNamed(container.readinessProbe.httpGet.port), metricsPort);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.ok(!container.env?.some((e) => e.name === 'METRICS_PORT' || e.name === 'PORT'), 'the defaults are what the manifest assumes');
    assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], String(metricsPort));
    assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/path'], '/metrics');

    const service = the<KubeObject & { spec: { ports: Port[]; selector: Record<string, string> } }>(rendered(overlay), 'Service');
    const exposed = service.spec.ports.map((p) => (typeof p.targetPort === 'string' ? portNamed(p.targetPort) : p.targetPort));
    assert.deepEqual(exposed, [port], 'the Service exposes the Slack port only');
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), new RegExp(`^EXPOSE .*\\b${metricsPort}\\b`, 'm'));
  });
}

test('the single overlay is one replica on SQLite: Recreate, the database on a ReadWriteOnce volume, no Lease', async () => {
  const objects = rendered('single');
  const deployment = deploymentOf('single');
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.strategy.type, 'Recreate');
  const databasePath = envOf('single', 'DATABASE_PATH')?.value;
  assert.ok(databasePath, 'DATABASE_PATH is set');
  const mount = containerOf('single').volumeMounts?.find((m) => databasePath.startsWith(`${m.mountPath}/`));
  assert.ok(mount, 'the database is on a mounted volume');
  const claim = deployment.spec.template.spec.volumes?.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName;
  const pvc = the<KubeObject & { spec: { accessModes: string[] } }>(objects, 'PersistentVolumeClaim');
  assert.equal(claim, pvc.metadata.name);
  assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
  assert.equal(envOf('single', 'DATABASE_URL'), undefined);
  assert.deepEqual(
    objects.filter((o) => ['PodDisruptionBudget', 'Role', 'RoleBinding'].includes(o.kind)),
    [],
    'no PodDisruptionBudget (one replica) and no Lease RBAC (no leader election)',
  );
});

test('the ha overlay: three replicas rolled one at a time behind readiness, a PDB, anti-affinity, DATABASE_URL from a secret', async () => {
  const objects = rendered('ha');
  const deployment = deploymentOf('ha');
  const podLabels = deployment.spec.template.metadata.labels;
  assert.equal(deployment.spec.replicas, 3);
  assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
  assert.equal(deployment.spec.strategy.rollingUpdate?.maxUnavailable, 0, 'an old pod stops only once a new one is ready');
  assert.ok(Number(deployment.spec.strategy.rollingUpdate?.maxSurge) >= 1, 'maxUnavailable 0 needs a surge to make progress');
  assert.ok((deployment.spec.minReadySeconds ?? 0) > 0, 'a new pod is ready for a while before an old one goes');
  assert.equal(containerOf('ha').readinessProbe?.httpGet.path, '/readyz');

  const pdb = the<KubeObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget');
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.equal(pdb.metadata.namespace, deployment.metadata.namespace);
  assert.deepEqual(pdb.spec.selector.matchLabels, podLabels);
  assert.ok(pdb.spec.minAvailable >= 2 && pdb.spec.minAvailable < deployment.spec.replicas, 'a drain keeps two serving and can still evict one');

  const terms = deployment.spec.template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const spread = terms.find((t) => t.podAffinityTerm.topologyKey === 'kubernetes.io/hostname');
  assert.ok(spread, 'replicas spread over nodes');
  assert.deepEqual(spread.podAffinityTerm.labelSelector.matchLabels, podLabels);

  assert.deepEqual(envOf('ha', 'DATABASE_URL')?.valueFrom?.secretKeyRef, { name: 'slipway-postgres', key: 'DATABASE_URL' });
  assert.equal(envOf('ha', 'DATABASE_PATH'), undefined, 'no SQLite file');
  assert.ok(!objects.some((o) => o.kind === 'PersistentVolumeClaim'), 'no ReadWriteOnce volume shared by three pods');
  assert.equal(envOf('ha', 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
  assert.equal(envOf('ha', 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
});

test("the ha overlay lets Slipway's ServiceAccount get, create and update its Lease, in its own namespace only", async () => {
  const objects = rendered('ha');
  const deployment = deploymentOf('ha');
  const namespace = deployment.metadata.namespace;
  const role = the<KubeObject & { rules: Rule[] }>(objects, 'Role');
  const binding = the<KubeObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] }>(
    objects,
    'RoleBinding',
  );
  assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'no cluster-wide grant');
  assert.equal(role.metadata.namespace, namespace);
  assert.equal(binding.metadata.namespace, namespace);
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace }]);
  for (const rule of role.rules) {
    assert.deepEqual([rule.apiGroups, rule.resources], [['coordination.k8s.io'], ['leases']], 'leases only');
  }
  const granted = (verb: string, name: string) =>
    role.rules.some((r) => r.verbs.includes(verb) && (r.resourceNames === undefined || r.resourceNames.includes(name)));
  for (const verb of ['get', 'create', 'update']) assert.ok(granted(verb, LEADER_ELECTION_DEFAULTS.leaseName), `${verb} on the Lease`);
  assert.ok(!granted('get', 'another-lease') && !granted('update', 'another-lease'), 'no other Lease can be read or taken over');
  assert.deepEqual([...new Set(role.rules.flatMap((r) => r.verbs))].sort(), ['create', 'get', 'update']);
});

test("the ha overlay turns leader election on through its own config file, over the operator's; single leaves it off", async () => {
  const ha = podConfig('ha').leaderElection;
  assert.equal(ha.enabled, true, 'no hand edit of slipway.config.yaml (whose example says enabled: false)');
  assert.equal(ha.cluster, undefined, 'the Lease is on the cluster the pods run in');
  assert.equal(ha.namespace, undefined, "in the pods' own namespace");
  const role = the<KubeObject & { rules: Rule[] }>(rendered('ha'), 'Role');
  assert.equal(role.metadata.namespace, deploymentOf('ha').metadata.namespace);
  assert.ok(
    role.rules.some((r) => r.verbs.includes('update') && r.resourceNames?.includes(ha.leaseName)),
    `the Role lets the replicas renew the Lease they elect on (${ha.leaseName})`,
  );
  assert.deepEqual(
    [ha.leaseDurationSeconds, ha.renewDeadlineSeconds, ha.retryPeriodSeconds],
    [LEADER_ELECTION_DEFAULTS.leaseDurationSeconds, LEADER_ELECTION_DEFAULTS.renewDeadlineSeconds, LEADER_ELECTION_DEFAULTS.retryPeriodSeconds],
  );
  assert.equal(podConfig('single').leaderElection.enabled, false);
});

test('both overlays share the base: the same Namespace, ServiceAccount and Service', async () => {
  const shared = (overlay: Overlay) => rendered(overlay).filter((o) => ['Namespace', 'ServiceAccount', 'Service'].includes(o.kind));
  assert.equal(shared('single').length, 3);
  assert.deepEqual(shared('ha'), shared('single'));
});
