/**
 * Deleting a namespace through `KubeClusters` (the real client-node) against the kube emulator,
 * whose DELETE and namespace controller follow kube-apiserver v1.20.2 (npm run check:realk8s).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { KubeClusters } from '../src/cluster/client.ts';
import { ClusterError } from '../src/errors.ts';
import { KubeApiEmulator, writeKubeconfig, type KubeApiEmulatorOptions, type KubeObject } from '../src/playground/kube-api.ts';
import { exampleConfig } from './support/config.ts';

const CLUSTER = 'dev-eu';

async function setUp(t: TestContext, options: KubeApiEmulatorOptions = {}) {
  const kube = await KubeApiEmulator.start({ token: 'bot-token', ...options });
  const dir = await mkdtemp(join(tmpdir(), 'slipway-delete-'));
  t.after(async () => {
    await kube.close();
    await rm(dir, { recursive: true, force: true });
  });
  const path = join(dir, 'kubeconfig.yaml');
  await writeKubeconfig(kube, path, { context: CLUSTER, token: 'bot-token' });
  return { kube, clusters: new KubeClusters(exampleConfig({ path, context: CLUSTER })) };
}

/** A namespace as Slipway labels it for request `R-<id>` (src/cluster/manifests.ts). */
function slipwayNamespace(name: string, requestId: number, extra: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/request-id': `R-${requestId}`, ...extra } },
  };
}

const heldConfigMap = (namespace: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'held', namespace, finalizers: ['example.com/backup'] },
});

/** Asserts a permanent refusal whose plain-words reason matches. */
function refusal(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ClusterError, `expected a ClusterError, got ${String(err)}`);
    assert.equal(err.transient, false);
    assert.equal(err.code, 'namespace_not_managed');
    assert.match(err.userMessage, pattern);
    return true;
  };
}

test("deleteNamespace deletes the request's own namespace, checked and sent with preconditions, and it goes", async (t) => {
  const { kube, clusters } = await setUp(t);
  kube.seed([slipwayNamespace('payments-dev', 7)]);
  const { uid, resourceVersion } = kube.get('namespaces', 'payments-dev')?.metadata ?? {};

  assert.equal(await clusters.deleteNamespace(CLUSTER, 'payments-dev', 7), 'deleting');

  const deletes = kube.requests.filter((r) => r.method === 'DELETE');
  assert.deepEqual(
    deletes.map((r) => [r.path, r.body]),
    [['/api/v1/namespaces/payments-dev', { preconditions: { uid, resourceVersion } }]],
    'the namespace deleted is the one whose labels were checked, unchanged since',
  );
  assert.deepEqual(await clusters.namespaceDeletion(CLUSTER, 'payments-dev'), { gone: true });
  assert.equal(await clusters.deleteNamespace(CLUSTER, 'payments-dev', 7), 'already-gone', 'a repeated run finds it gone');
});

test('deleteNamespace refuses a namespace Slipway did not make, or made for another request, and deletes nothing', async (t) => {
  const { kube, clusters } = await setUp(t);
  kube.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'observability' } },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'helm-app', labels: { 'app.kubernetes.io/managed-by': 'Helm', 'slipway.dev/request-id': 'R-7' } },
    },
    slipwayNamespace('payments-dev', 7),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rendered', labels: { 'app.kubernetes.io/managed-by': 'slipway' } } },
  ]);

  await assert.rejects(
    clusters.deleteNamespace(CLUSTER, 'observability', 7),
    refusal(/^Slipway will not delete namespace "observability" on cluster "dev-eu": it is not labelled app\.kubernetes\.io\/managed-by=slipway/),
  );
  await assert.rejects(clusters.deleteNamespace(CLUSTER, 'helm-app', 7), refusal(/not labelled app\.kubernetes\.io\/managed-by=slipway \(it says "Helm"\)/));
  await assert.rejects(
    clusters.deleteNamespace(CLUSTER, 'payments-dev', 8),
    refusal(/^Slipway will not delete namespace "payments-dev" on cluster "dev-eu": it belongs to request R-7, not R-8\.$/),
  );
  await assert.rejects(clusters.deleteNamespace(CLUSTER, 'rendered', 7), refusal(/has no slipway\.dev\/request-id label/));

  assert.deepEqual(
    kube.requests.filter((r) => r.method === 'DELETE'),
    [],
  );
  for (const name of ['observability', 'helm-app', 'payments-dev', 'rendered']) {
    const status = await clusters.namespaceDeletion(CLUSTER, name);
    assert.equal(status.gone ? 'gone' : status.phase, 'Active', name);
  }
});

test('a namespace held by a finalizer is reported Terminating with what holds it, and gone once released', async (t) => {
  const { kube, clusters } = await setUp(t);
  kube.seed([slipwayNamespace('payments-dev', 7), heldConfigMap('payments-dev')]);

  assert.equal(await clusters.deleteNamespace(CLUSTER, 'payments-dev', 7), 'deleting');
  const held = await clusters.namespaceDeletion(CLUSTER, 'payments-dev');
  assert.ok(!held.gone);
  assert.equal(held.phase, 'Terminating');
  assert.ok(held.since instanceof Date);
  assert.equal(held.since.toISOString().replace('.000Z', 'Z'), kube.get('namespaces', 'payments-dev')?.metadata?.deletionTimestamp);
  assert.deepEqual(held.finalizers, ['kubernetes']);
  assert.deepEqual(held.heldBy, [
    'Some resources are remaining: configmaps. has 1 resource instances',
    'Some content in the namespace has finalizers remaining: example.com/backup in 1 resource instances',
  ]);
  assert.deepEqual(
    held.conditions.filter((c) => c.status === 'True').map((c) => [c.type, c.reason]),
    [
      ['NamespaceContentRemaining', 'SomeResourcesRemain'],
      ['NamespaceFinalizersRemaining', 'SomeFinalizersRemain'],
    ],
  );

  // Deleting again while it terminates sends nothing and changes nothing.
  const deletesBefore = kube.requests.filter((r) => r.method === 'DELETE').length;
  assert.equal(await clusters.deleteNamespace(CLUSTER, 'payments-dev', 7), 'deleting');
  assert.equal(kube.requests.filter((r) => r.method === 'DELETE').length, deletesBefore);

  kube.removeFinalizers('configmaps', 'payments-dev', 'held');
  assert.deepEqual(await clusters.namespaceDeletion(CLUSTER, 'payments-dev'), { gone: true });
});

test('a namespace finalizer of another controller is named as what holds the deletion', async (t) => {
  const { kube, clusters } = await setUp(t, { namespaceDeletion: 'manual' });
  kube.seed([{ ...slipwayNamespace('payments-dev', 7), spec: { finalizers: ['example.com/ns-hold'] } }]);
  await clusters.deleteNamespace(CLUSTER, 'payments-dev', 7);

  const asked = await clusters.namespaceDeletion(CLUSTER, 'payments-dev');
  assert.ok(!asked.gone);
  assert.deepEqual(
    [asked.phase, asked.finalizers, asked.conditions],
    ['Terminating', ['example.com/ns-hold', 'kubernetes'], []],
    'the controller has not looked yet',
  );

  kube.finalizeNamespace('payments-dev');
  const held = await clusters.namespaceDeletion(CLUSTER, 'payments-dev');
  assert.ok(!held.gone);
  assert.deepEqual(held.finalizers, ['example.com/ns-hold']);
  assert.deepEqual(held.heldBy, ['The namespace still has finalizers of other controllers: example.com/ns-hold']);
  assert.equal(held.conditions.length, 5);
});

test('a namespace nobody asked to delete is reported Active', async (t) => {
  const { kube, clusters } = await setUp(t);
  kube.seed([slipwayNamespace('payments-dev', 7)]);
  const status = await clusters.namespaceDeletion(CLUSTER, 'payments-dev');
  assert.deepEqual(status, { gone: false, phase: 'Active', since: undefined, finalizers: ['kubernetes'], conditions: [], heldBy: [] });
});

test('deleteNamespace without the RBAC grant fails permanently, naming the missing permission; a 409 is transient', async (t) => {
  const { kube, clusters } = await setUp(t);
  kube.seed([slipwayNamespace('payments-dev', 7)]);
  kube.deny({ verb: 'delete', resource: 'namespaces' });
  await assert.rejects(clusters.deleteNamespace(CLUSTER, 'payments-dev', 7), (err: unknown) => {
    assert.ok(err instanceof ClusterError);
    assert.deepEqual([err.status, err.transient, err.code], [403, false, 'cluster_error']);
    assert.match(err.userMessage, /^Slipway is not allowed to delete namespaces "payments-dev" on cluster "dev-eu": .*cannot delete resource "namespaces"/);
    return true;
  });
  kube.reset();
  kube.seed([slipwayNamespace('payments-dev', 7)]);
  // The namespace changed between the check and the delete (here: the server says so).
  kube.injectFault({ method: 'DELETE', status: 409, times: 1 });
  await assert.rejects(
    clusters.deleteNamespace(CLUSTER, 'payments-dev', 7),
    (err: unknown) => err instanceof ClusterError && err.transient && err.status === 409,
  );
  assert.equal(await clusters.deleteNamespace(CLUSTER, 'payments-dev', 7), 'deleting', 'a retry reads it again and deletes it');
});
