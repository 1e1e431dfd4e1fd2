import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '@kubernetes/client-node';
import { canonicalQuantity, KubeApiEmulator, writeKubeconfig } from '../../src/playground/kube-api.ts';
import type { KubeApiEmulatorOptions } from '../../src/playground/kube-api.ts';
import { handEdit } from '../support/drift.ts';

const TOKEN = 'test-token';
const RBAC = 'rbac.authorization.k8s.io';

interface StatusBody {
  kind: string;
  status: string;
  message: string;
  reason?: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

function isStatusBody(value: unknown): value is StatusBody {
  return typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'Status';
}

/** Runs a call that must fail with an ApiException; returns its code and parsed Status body. */
async function failure(call: Promise<unknown>): Promise<{ code: number; status: StatusBody | undefined; headers: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = error.body;
    const parsed: unknown = typeof body === 'string' && body !== '' ? JSON.parse(body) : body;
    return { code: error.code, status: isStatusBody(parsed) ? parsed : undefined, headers: error.headers };
  }
  assert.fail('expected the call to fail');
}

interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  rbac: RbacAuthorizationV1Api;
  authz: AuthorizationV1Api;
  objects: KubernetesObjectApi;
}

async function clientsFor(emulator: KubeApiEmulator, dir: string, token?: string): Promise<Clients> {
  const path = join(dir, `kubeconfig-${token ?? 'default'}.yaml`);
  await writeKubeconfig(emulator, path, { context: 'emulator', token });
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    networking: kc.makeApiClient(NetworkingV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    authz: kc.makeApiClient(AuthorizationV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

function quota(hard: Record<string, string>, namespace = 'team-a', name = 'team-quota'): KubernetesObject & { spec: { hard: Record<string, string> } } {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace }, spec: { hard } };
}

/** One emulator per suite, reset before each test. */
function useEmulator(options: KubeApiEmulatorOptions = {}): { emulator: () => KubeApiEmulator; clients: () => Clients; dir: () => string } {
  let emulator: KubeApiEmulator | undefined;
  let clients: Clients | undefined;
  let dir = '';
  before(async () => {
    emulator = await KubeApiEmulator.start({ token: TOKEN, ...options });
    dir = await mkdtemp(join(tmpdir(), 'kube-emulator-'));
    clients = await clientsFor(emulator, dir);
  });
  beforeEach(() => emulator?.reset());
  after(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    emulator: () => emulator ?? assert.fail('emulator not started'),
    clients: () => clients ?? assert.fail('clients not built'),
    dir: () => dir,
  };
}

/** A settable clock, so timestamps (and managedFields times) are under the test's control. */
function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): { now: () => Date; advance: (ms: number) => void } {
  let current = start;
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
  };
}

describe('kube-api emulator through @kubernetes/client-node', () => {
  const clock = fakeClock();
  const { emulator, clients, dir } = useEmulator({ now: clock.now });

  it('writes a kubeconfig that client-node loads, with the bearer token and context', async () => {
    const text = await readFile(join(dir(), 'kubeconfig-default.yaml'), 'utf8');
    assert.match(text, /insecure-skip-tls-verify: true/);
    const { kc } = clients();
    assert.equal(kc.getCurrentContext(), 'emulator');
    assert.equal(kc.getCurrentCluster()?.server, emulator().url);
    assert.equal(kc.getCurrentUser()?.token, TOKEN);
  });

  it('serves the discovery KubernetesObjectApi resolves kinds with', async () => {
    const { objects } = clients();
    const listed = await objects.list('networking.k8s.io/v1', 'NetworkPolicy', 'default');
    assert.deepEqual(listed.items, []);
    const discovery = emulator().requests.find((r) => r.path === '/apis/networking.k8s.io/v1');
    assert.equal(discovery?.status, 200);

    const response = await fetch(`${emulator().url}/api/v1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const body: unknown = await response.json();
    const resources = typeof body === 'object' && body !== null && 'resources' in body && Array.isArray(body.resources) ? body.resources : [];
    assert.deepEqual(
      resources.find((r: { name?: string }) => r.name === 'namespaces'),
      {
        name: 'namespaces',
        singularName: 'namespace',
        namespaced: false,
        kind: 'Namespace',
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['ns'],
      },
    );
  });

  it('creates a namespace with server fields and the kubernetes.io/metadata.name label, then lists it by label', async () => {
    const { core } = clients();
    const created = await core.createNamespace({ body: { metadata: { name: 'team-a', labels: { team: 'a' } } } });
    assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.equal(created.status?.phase, 'Active');
    assert.deepEqual(created.metadata?.labels, { team: 'a', 'kubernetes.io/metadata.name': 'team-a' });
    await core.createNamespace({ body: { metadata: { name: 'team-b', labels: { team: 'b' } } } });

    const read = await core.readNamespace({ name: 'team-a' });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    const names = async (labelSelector: string): Promise<string[]> => (await core.listNamespace({ labelSelector })).items.map((ns) => ns.metadata?.name ?? '');
    assert.deepEqual(await names('team=a'), ['team-a']);
    assert.deepEqual(await names('team in (a,b)'), ['team-a', 'team-b']);
    assert.deepEqual(await names('team,team!=a'), ['team-b']);
    assert.deepEqual(await names('!team'), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('answers 404, 409 and 422 with the real server Status bodies', async () => {
    const { core } = clients();
    const missing = await failure(core.readNamespace({ name: 'nope' }));
    assert.equal(missing.code, 404);
    assert.deepEqual(missing.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'namespaces "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'namespaces' },
      code: 404,
    });

    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const twice = await failure(core.createNamespace({ body: { metadata: { name: 'team-a' } } }));
    assert.equal(twice.code, 409);
    assert.equal(twice.status?.message, 'namespaces "team-a" already exists');
    assert.equal(twice.status?.reason, 'AlreadyExists');

    const bad = await failure(core.createNamespace({ body: { metadata: { name: 'Bad_Name' } } }));
    assert.equal(bad.code, 422);
    assert.equal(bad.status?.reason, 'Invalid');
    assert.equal(
      bad.status?.message,
      `Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    );
    assert.deepEqual(
      bad.status?.details?.causes?.map((c) => [c.reason, c.field]),
      [['FieldValueInvalid', 'metadata.name']],
    );
  });

  it('refuses an e-mail address as a label value, as Slipway must put it in an annotation', async () => {
    const { core } = clients();
    const bad = await failure(core.createNamespace({ body: { metadata: { name: 'team-a', labels: { owner: 'ana@example.com' } } } }));
    assert.equal(bad.code, 422);
    assert.match(
      bad.status?.message ?? '',
      /^Namespace "team-a" is invalid: metadata\.labels: Invalid value: "ana@example\.com": a valid label must be an empty string/,
    );
  });

  it("refuses a namespaced object in a missing namespace with that namespace's 404", async () => {
    const { core, objects } = clients();
    const typed = await failure(core.createNamespacedResourceQuota({ namespace: 'ghost', body: quota({ pods: '5' }, 'ghost') }));
    assert.equal(typed.code, 404);
    assert.equal(typed.status?.message, 'namespaces "ghost" not found');
    assert.deepEqual(typed.status?.details, { name: 'ghost', kind: 'namespaces' });
    const applied = await failure(objects.patch(quota({ pods: '5' }, 'ghost'), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply));
    assert.equal(applied.status?.message, 'namespaces "ghost" not found');
  });

  it('creates with server-side apply (201), and re-applying the same object is a no-op that keeps the resourceVersion', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const first = await objects.patch(quota({ pods: '50', 'requests.cpu': '4' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    clock.advance(60_000); // a later apply must not even move the manager's timestamp
    const second = await objects.patch(quota({ pods: '50', 'requests.cpu': '4' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);

    const applies = emulator().requests.filter((r) => r.method === 'PATCH');
    assert.deepEqual(
      applies.map((r) => [r.status, r.contentType, r.query.fieldManager, r.query.force]),
      [
        [201, 'application/apply-patch+yaml', 'slipway', 'true'],
        [200, 'application/apply-patch+yaml', 'slipway', 'true'],
      ],
    );
    const stored = emulator().get('resourcequotas', 'team-a', 'team-quota');
    assert.deepEqual(
      stored?.metadata?.managedFields?.map((m) => [m.manager, m.operation, m.apiVersion, m.fieldsType]),
      [['slipway', 'Apply', 'v1', 'FieldsV1']],
    );
    assert.deepEqual(stored?.metadata?.managedFields?.[0]?.fieldsV1, { 'f:spec': { 'f:hard': { 'f:pods': {}, 'f:requests.cpu': {} } } });
  });

  it('bumps the resourceVersion on every re-apply of a non-canonical quantity, as a real server does', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const applyAndAdvance = async (memory: string): Promise<string | undefined> => {
      const result = await objects.patch(quota({ 'requests.memory': memory }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
      clock.advance(1000);
      return result.metadata?.resourceVersion;
    };
    const created = await applyAndAdvance('1.5Gi');
    assert.deepEqual(emulator().get('resourcequotas', 'team-a', 'team-quota')?.spec, { hard: { 'requests.memory': '1536Mi' } });
    const again = await applyAndAdvance('1.5Gi');
    assert.notEqual(again, created);
    const canonical = await applyAndAdvance('1536Mi');
    assert.equal(await applyAndAdvance('1536Mi'), canonical);
  });

  it("rejects an apply that changes another manager's field with 409, and force takes the field over", async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await objects.patch(quota({ pods: '5' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);

    const refused = await failure(objects.patch(quota({ pods: '9' }), undefined, undefined, 'other-manager', false, PatchStrategy.ServerSideApply));
    assert.equal(refused.code, 409);
    assert.deepEqual(refused.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "slipway": .spec.hard.pods',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "slipway"', field: '.spec.hard.pods' }] },
      code: 409,
    });

    const forced = await objects.patch(quota({ pods: '9' }), undefined, undefined, 'other-manager', true, PatchStrategy.ServerSideApply);
    assert.deepEqual((forced as ReturnType<typeof quota>).spec.hard, { pods: '9' });
    const owners = emulator()
      .get('resourcequotas', 'team-a', 'team-quota')
      ?.metadata?.managedFields?.map((m) => m.manager);
    assert.deepEqual(owners, ['other-manager']);
  });

  it('removes a field its manager stops applying when nobody else owns it', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const apply = (hard: Record<string, string>): Promise<KubernetesObject> =>
      objects.patch(quota(hard), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    await apply({ pods: '5', 'requests.cpu': '4' });
    await apply({ pods: '5' });
    const read = await core.readNamespacedResourceQuota({ name: 'team-quota', namespace: 'team-a' });
    assert.deepEqual(read.spec?.hard, { pods: '5' });
  });

  it('answers an apply without fieldManager with the real 422', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const missing = await failure(objects.patch(quota({ pods: '5' }), undefined, undefined, undefined, undefined, PatchStrategy.ServerSideApply));
    assert.equal(missing.code, 422);
    assert.equal(missing.status?.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });

  it('refuses a PUT with a stale resourceVersion with 409 Conflict', async () => {
    const { core } = clients();
    const created = await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.patchNamespace({ name: 'team-a', body: { metadata: { labels: { x: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const stale = await failure(core.replaceNamespace({ name: 'team-a', body: created }));
    assert.equal(stale.code, 409);
    assert.equal(
      stale.status?.message,
      'Operation cannot be fulfilled on namespaces "team-a": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('creates network policies and role bindings through the typed APIs', async () => {
    const { core, networking, rbac } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const policy = await networking.createNamespacedNetworkPolicy({
      namespace: 'team-a',
      body: { metadata: { name: 'default-deny' }, spec: { podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] } },
    });
    assert.equal(policy.metadata?.generation, 1);
    assert.deepEqual(policy.spec?.policyTypes, ['Ingress', 'Egress']);
    const binding = await rbac.createNamespacedRoleBinding({
      namespace: 'team-a',
      body: {
        metadata: { name: 'team-a-edit' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' },
        subjects: [{ kind: 'Group', name: 'team-a-devs' }],
      },
    });
    assert.equal(binding.subjects?.[0]?.apiGroup, RBAC);
    const changed = await failure(
      rbac.patchNamespacedRoleBinding(
        { name: 'team-a-edit', namespace: 'team-a', body: { roleRef: { name: 'view' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    assert.equal(changed.code, 422);
    assert.match(
      changed.status?.message ?? '',
      /roleRef: Invalid value: rbac\.RoleRef\{APIGroup:"rbac\.authorization\.k8s\.io", Kind:"ClusterRole", Name:"view"\}: cannot change roleRef$/,
    );
  });

  it("keeps pods' phases and lists them across namespaces by status.phase", async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.createNamespace({ body: { metadata: { name: 'team-b' } } });
    const pod = (name: string, namespace: string, phase: string) =>
      core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] }, status: { phase } } });
    await pod('web', 'team-a', 'Running');
    await pod('job', 'team-a', 'Succeeded');
    await pod('api', 'team-b', 'Running');
    const running = await core.listPodForAllNamespaces({ fieldSelector: 'status.phase=Running' });
    assert.deepEqual(
      running.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
      ['team-a/web', 'team-b/api'],
    );
    const unsupported = await failure(core.listPodForAllNamespaces({ fieldSelector: 'spec.foo=x' }));
    assert.deepEqual([unsupported.code, unsupported.status?.message], [400, 'field label not supported: spec.foo']);
  });

  it('honours dryRun=All without storing anything', async () => {
    const { core } = clients();
    const dry = await core.createNamespace({ body: { metadata: { name: 'dry' } }, dryRun: 'All' });
    assert.equal(dry.metadata?.name, 'dry');
    assert.equal(emulator().get('namespaces', 'dry'), undefined);
  });

  it('deletes a namespace with everything in it', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await objects.patch(quota({ pods: '5' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    await core.deleteNamespace({ name: 'team-a' });
    const gone = await failure(core.readNamespace({ name: 'team-a' }));
    assert.equal(gone.code, 404);
    assert.deepEqual(emulator().list('resourcequotas', 'team-a'), []);
    assert.equal(emulator().requests.find((r) => r.method === 'DELETE')?.status, 200);
  });

  it('fails one request with 503 and then lets the retry through', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const fault = emulator().injectFault({ method: 'GET', path: '/api/v1/namespaces/team-a', status: 503, times: 1 });
    const unavailable = await failure(core.readNamespace({ name: 'team-a' }));
    assert.equal(unavailable.code, 503);
    assert.equal(unavailable.status?.reason, 'ServiceUnavailable');
    const retried = await core.readNamespace({ name: 'team-a' });
    assert.equal(retried.metadata?.name, 'team-a');
    assert.equal(fault.hits, 1);
    assert.deepEqual(
      emulator()
        .requests.slice(-2)
        .map((r) => [r.status, r.fault]),
      [
        [503, 'status'],
        [200, undefined],
      ],
    );
  });

  it('answers 429 with Retry-After, and can reset the connection instead of answering', async () => {
    const { core } = clients();
    emulator().injectFault({ path: /^\/api\/v1\/namespaces$/, status: 429, retryAfterSeconds: 3, times: 1 });
    const limited = await failure(core.listNamespace());
    assert.equal(limited.code, 429);
    assert.equal(limited.headers['retry-after'], '3');

    emulator().injectFault({ path: '/api/v1/namespaces', reset: true, times: 1 });
    await assert.rejects(core.listNamespace(), (error: unknown) => !(error instanceof ApiException));
    assert.equal(emulator().requests.at(-1)?.fault, 'reset');
    assert.ok((await core.listNamespace()).items.length > 0);
  });

  it('drops in-flight connections on resetConnections()', async () => {
    const { core } = clients();
    emulator().setLatency(500);
    const pending = core.listNamespace();
    await new Promise((resolve) => setTimeout(resolve, 100));
    emulator().resetConnections();
    await assert.rejects(pending, (error: unknown) => !(error instanceof ApiException));
  });

  it('can apply a write and still fail its response, for idempotency tests', async () => {
    const { core } = clients();
    emulator().injectFault({ method: 'POST', status: 500, times: 1, afterHandling: true });
    const lost = await failure(core.createNamespace({ body: { metadata: { name: 'team-a' } } }));
    assert.equal(lost.code, 500);
    assert.equal(lost.status?.message, 'Internal error occurred: injected fault');
    assert.ok(emulator().get('namespaces', 'team-a'));
  });

  it('delays responses by the configured latency', async () => {
    const { core } = clients();
    emulator().setLatency(120, { path: '/api/v1/namespaces' });
    const started = performance.now();
    await core.listNamespace();
    assert.ok(performance.now() - started >= 100);
  });

  it('denies with the real Forbidden wording, and SelfSubjectAccessReview agrees', async () => {
    const { core, rbac, authz } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    emulator().deny({ verb: 'create', resource: 'rolebindings', group: RBAC, namespace: 'team-a' });
    const denied = await failure(
      rbac.createNamespacedRoleBinding({
        namespace: 'team-a',
        body: { metadata: { name: 'rb' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'devs' }] },
      }),
    );
    assert.equal(denied.code, 403);
    assert.deepEqual(denied.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'rolebindings.rbac.authorization.k8s.io is forbidden: User "slipway" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team-a"',
      reason: 'Forbidden',
      details: { group: RBAC, kind: 'rolebindings' },
      code: 403,
    });

    const review = (verb: string) =>
      authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { namespace: 'team-a', verb, group: RBAC, resource: 'rolebindings' } } },
      });
    assert.equal((await review('create')).status?.allowed, false);
    assert.equal((await review('get')).status?.allowed, true);
  });

  it('answers a SelfSubjectAccessReview about one object by name, echoing it without empty fields', async () => {
    const { authz } = clients();
    emulator().deny({ verb: 'patch', resource: 'resourcequotas', group: '', name: 'other-quota' });
    const review = (name: string) =>
      authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'patch', resource: 'resourcequotas', group: '', name } },
        },
      });
    const denied = await review('other-quota');
    assert.equal(denied.status?.allowed, false);
    assert.equal((await review('slipway-quota')).status?.allowed, true);
    // As v1.20.2 answers: the core group's "" is omitted from the echo and from managedFields.
    const response = await fetch(`${emulator().url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'patch', resource: 'resourcequotas', group: '', name: 'other-quota' } },
      }),
    });
    const body = (await response.json()) as { spec: unknown; metadata: { managedFields: { fieldsV1: unknown }[] } };
    assert.deepEqual(body.spec, { resourceAttributes: { verb: 'patch', resource: 'resourcequotas', name: 'other-quota' } });
    assert.deepEqual(body.metadata.managedFields[0]?.fieldsV1, {
      'f:spec': { 'f:resourceAttributes': { '.': {}, 'f:name': {}, 'f:resource': {}, 'f:verb': {} } },
    });
  });

  it('authorizes a server-side apply that creates for create as well as patch', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const undo = emulator().deny({ verb: 'create', resource: 'resourcequotas' });
    const denied = await failure(objects.patch(quota({ pods: '5' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply));
    assert.equal(denied.code, 403);
    // The real server's message really ends with ": " (the create check carries no reason).
    assert.equal(denied.status?.message, 'resourcequotas "team-quota" is forbidden: ');
    undo();
    await objects.patch(quota({ pods: '5' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    emulator().deny({ verb: 'create', resource: 'resourcequotas' });
    const updated = await objects.patch(quota({ pods: '6' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    assert.deepEqual((updated as ReturnType<typeof quota>).spec.hard, { pods: '6' });
  });

  it('answers a wrong bearer token with 401 Unauthorized', async () => {
    const { core } = await clientsFor(emulator(), dir(), 'wrong-token');
    const rejected = await failure(core.listNamespace());
    assert.equal(rejected.code, 401);
    assert.equal(emulator().requests.at(-1)?.status, 401);
  });

  it('preloads objects with seed(), owned by kubectl-create unless told otherwise', async () => {
    const { objects } = clients();
    emulator().seed([
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'team-quota', namespace: 'legacy' }, spec: { hard: { pods: '10' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy', labels: { owner: 'ops' } } },
    ]);
    assert.equal(emulator().get('Namespace', 'legacy')?.metadata?.labels?.owner, 'ops');
    const refused = await failure(objects.patch(quota({ pods: '50' }, 'legacy'), undefined, undefined, 'slipway', false, PatchStrategy.ServerSideApply));
    assert.equal(refused.status?.message, 'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .spec.hard.pods');
  });
});

/** A request as kubectl or curl sends it, for the exact status code and body. */
async function call(emulator: KubeApiEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const HOLD = 'example.com/hold';

/** A config map that keeps its namespace Terminating until its finalizer is taken off. */
function heldConfigMap(namespace: string, name = 'held') {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, finalizers: [HOLD] }, data: { a: 'b' } };
}

/** status.conditions as the real namespace controller sets them, without the times. */
function conditionsOf(ns: { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }) {
  return (ns.status?.conditions ?? []).map(({ type, status, reason, message }) => ({ type, status, reason, message }));
}

/** What kube-controller-manager v1.20.2 reported for a namespace whose content is gone (checked on realk8s). */
const ALL_CLEAR = [
  { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  {
    type: 'NamespaceDeletionContentFailure',
    status: 'False',
    reason: 'ContentDeleted',
    message: 'All content successfully deleted, may be waiting on finalization',
  },
  { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
  { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
];

describe('kube-api emulator namespace termination', () => {
  const { emulator, clients } = useEmulator({ namespaceDeletion: 'manual' });

  it('keeps a deleted namespace Terminating, refusing new content, until it is finalized', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.deleteNamespace({ name: 'team-a' });
    const terminating = await core.readNamespace({ name: 'team-a' });
    assert.equal(terminating.status?.phase, 'Terminating');
    assert.ok(terminating.metadata?.deletionTimestamp);

    const refused = await failure(objects.patch(quota({ pods: '5' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply));
    assert.equal(refused.code, 403);
    assert.equal(
      refused.status?.message,
      'resourcequotas "team-quota" is forbidden: unable to create new content in namespace team-a because it is being terminated',
    );
    const again = await failure(core.createNamespace({ body: { metadata: { name: 'team-a' } } }));
    assert.equal(again.status?.message, 'object is being deleted: namespaces "team-a" already exists');

    assert.equal(emulator().finalizeNamespace('team-a'), true);
    assert.equal((await failure(core.readNamespace({ name: 'team-a' }))).code, 404);
  });

  it('refuses to delete the default namespace', async () => {
    const { core } = clients();
    const refused = await failure(core.deleteNamespace({ name: 'default' }));
    assert.deepEqual([refused.code, refused.status?.message], [403, 'namespaces "default" is forbidden: this namespace may not be deleted']);
  });

  it('answers DELETE with 200 and the Terminating Namespace, and a second DELETE the same', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'slipway' } } } });
    const first = await call(emulator(), 'DELETE', '/api/v1/namespaces/team-a');
    assert.equal(first.status, 200);
    const ns = first.body as { kind: string; metadata: { deletionTimestamp?: string }; spec: unknown; status: unknown };
    assert.equal(ns.kind, 'Namespace');
    assert.ok(ns.metadata.deletionTimestamp);
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Terminating' });
    const second = await call(emulator(), 'DELETE', '/api/v1/namespaces/team-a');
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body, 'unchanged, resourceVersion included');
    const creating = await call(emulator(), 'POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'late' } });
    assert.equal(creating.status, 403);
    assert.deepEqual(creating.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "late" is forbidden: unable to create new content in namespace team-a because it is being terminated',
      reason: 'Forbidden',
      details: {
        name: 'late',
        kind: 'configmaps',
        causes: [{ reason: 'NamespaceTerminating', message: 'namespace team-a is being terminated', field: 'metadata.namespace' }],
      },
      code: 403,
    });
  });

  it('checks delete preconditions as the namespace registry does', async () => {
    const { core } = clients();
    const created = await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const uid = created.metadata?.uid ?? '';
    const wrongUid = await failure(core.deleteNamespace({ name: 'team-a', body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } }));
    assert.equal(wrongUid.code, 409);
    assert.equal(wrongUid.status?.reason, 'Conflict');
    assert.equal(
      wrongUid.status?.message,
      `Operation cannot be fulfilled on namespaces "team-a": Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: ${uid}`,
    );
    const stale = await failure(core.deleteNamespace({ name: 'team-a', body: { preconditions: { uid, resourceVersion: '1' } } }));
    assert.match(
      stale.status?.message ?? '',
      /^Operation cannot be fulfilled on namespaces "team-a": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: \d+$/,
    );
    assert.equal((await core.readNamespace({ name: 'team-a' })).status?.phase, 'Active', 'a refused delete changes nothing');
    await core.deleteNamespace({ name: 'team-a', body: { preconditions: { uid, resourceVersion: created.metadata?.resourceVersion ?? '' } } });
    assert.equal((await core.readNamespace({ name: 'team-a' })).status?.phase, 'Terminating');
  });

  it('a namespace finalizer of another controller holds it, with every condition clear, until …/finalize takes it off', async () => {
    const { core } = clients();
    const created = await core.createNamespace({ body: { metadata: { name: 'team-a' }, spec: { finalizers: ['example.com/ns-hold'] } } });
    assert.deepEqual(created.spec?.finalizers, ['example.com/ns-hold', 'kubernetes']);
    await core.deleteNamespace({ name: 'team-a' });
    assert.equal(emulator().finalizeNamespace('team-a'), false);
    const held = await core.readNamespace({ name: 'team-a' });
    assert.deepEqual(held.spec?.finalizers, ['example.com/ns-hold'], 'the controller took its own finalizer off');
    assert.deepEqual(conditionsOf(held), ALL_CLEAR);
    assert.equal(emulator().get('serviceaccounts', 'team-a', 'default'), undefined, 'the content is gone');
    const finalize = await call(emulator(), 'PUT', '/api/v1/namespaces/team-a/finalize', { ...held, spec: { finalizers: [] } });
    assert.equal(finalize.status, 200);
    assert.equal((await failure(core.readNamespace({ name: 'team-a' }))).code, 404);
  });

  it('deletion of the namespace can be refused by RBAC like any other verb', async () => {
    const { core, authz } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    emulator().deny({ verb: 'delete', resource: 'namespaces' });
    const refused = await failure(core.deleteNamespace({ name: 'team-a' }));
    assert.equal(refused.code, 403);
    // As v1.20.2 words it for its bot user (there "slack-bot").
    assert.equal(
      refused.status?.message,
      'namespaces "team-a" is forbidden: User "slipway" cannot delete resource "namespaces" in API group "" in the namespace "team-a"',
    );
    assert.deepEqual(refused.status?.details, { name: 'team-a', kind: 'namespaces' });
    const review = await authz.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'delete', resource: 'namespaces', name: 'team-a' } },
      },
    });
    assert.equal(review.status?.allowed, false);
    assert.equal((await core.readNamespace({ name: 'team-a' })).status?.phase, 'Active');
  });
});

describe('kube-api emulator namespace controller', () => {
  const clock = fakeClock();
  const { emulator, clients } = useEmulator({ now: clock.now });

  it('empties and removes a deleted namespace, then answers 404 NotFound', async () => {
    const { core, objects } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await objects.patch(quota({ pods: '5' }), undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    await core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'settings' }, data: { a: 'b' } } });
    await core.deleteNamespace({ name: 'team-a' });
    const gone = await failure(core.readNamespace({ name: 'team-a' }));
    assert.equal(gone.code, 404);
    assert.deepEqual(
      { message: gone.status?.message, reason: gone.status?.reason, details: gone.status?.details },
      { message: 'namespaces "team-a" not found', reason: 'NotFound', details: { name: 'team-a', kind: 'namespaces' } },
    );
    for (const resource of ['configmaps', 'resourcequotas', 'serviceaccounts'])
      assert.deepEqual(emulator().list(resource, 'team-a'), [], `${resource} are gone`);
    assert.equal((await failure(core.deleteNamespace({ name: 'team-a' }))).code, 404);
  });

  it('an object with a finalizer holds the namespace Terminating, reported in its conditions, until the finalizer is off', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.createNamespacedConfigMap({ namespace: 'team-a', body: heldConfigMap('team-a') });
    await core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'plain' } } });
    const deletedAt = clock.now().toISOString().replace('.000Z', 'Z');
    await core.deleteNamespace({ name: 'team-a' });

    const held = await core.readNamespace({ name: 'team-a' });
    assert.equal(held.status?.phase, 'Terminating');
    assert.deepEqual(held.spec?.finalizers, ['kubernetes']);
    const expected = ALL_CLEAR.map((c) => ({ ...c }));
    expected[3] = {
      type: 'NamespaceContentRemaining',
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: configmaps. has 1 resource instances',
    };
    expected[4] = {
      type: 'NamespaceFinalizersRemaining',
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    };
    assert.deepEqual(conditionsOf(held), expected);
    assert.ok(held.status?.conditions?.every((c) => c.lastTransitionTime?.toISOString().replace('.000Z', 'Z') === deletedAt));
    const controller = held.metadata?.managedFields?.find((m) => m.manager === 'kube-controller-manager');
    assert.ok(controller?.fieldsV1 && 'f:status' in controller.fieldsV1, 'the controller owns the conditions it wrote');
    const configMap = emulator().get('configmaps', 'team-a', 'held');
    assert.equal(configMap?.metadata?.deletionTimestamp, deletedAt);
    assert.equal(configMap?.metadata?.deletionGracePeriodSeconds, 0);
    assert.equal(emulator().get('configmaps', 'team-a', 'plain'), undefined, 'content without finalizers is gone');

    // Another pass an hour later reports the same, with the same transition times.
    clock.advance(3_600_000);
    assert.equal(emulator().finalizeNamespace('team-a'), false);
    assert.deepEqual((await core.readNamespace({ name: 'team-a' })).status?.conditions, held.status?.conditions);

    // The finalizer's controller is done: the config map goes, and with it the namespace.
    await core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'team-a', body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(emulator().get('configmaps', 'team-a', 'held'), undefined);
    assert.equal((await failure(core.readNamespace({ name: 'team-a' }))).code, 404);
  });

  it('removeFinalizers releases what holds a namespace, as the finalizer controllers would', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' }, spec: { finalizers: ['example.com/ns-hold'] } } });
    await core.createNamespacedConfigMap({ namespace: 'team-a', body: heldConfigMap('team-a') });
    await core.deleteNamespace({ name: 'team-a' });
    assert.equal(emulator().removeFinalizers('configmaps', 'team-a', 'held'), true);
    const waiting = await core.readNamespace({ name: 'team-a' });
    assert.deepEqual(waiting.spec?.finalizers, ['example.com/ns-hold']);
    assert.deepEqual(conditionsOf(waiting), ALL_CLEAR);
    assert.equal(emulator().removeFinalizers('namespaces', 'team-a'), true);
    assert.equal(emulator().get('namespaces', 'team-a'), undefined);
    assert.equal(emulator().removeFinalizers('namespaces', 'team-a'), false);
  });

  it('deleting an object with a finalizer marks it, and taking the finalizer off deletes it', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.createNamespacedConfigMap({ namespace: 'team-a', body: heldConfigMap('team-a') });
    const first = await call(emulator(), 'DELETE', '/api/v1/namespaces/team-a/configmaps/held');
    assert.equal(first.status, 200);
    const marked = first.body as { kind: string; metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number; finalizers?: string[] } };
    assert.equal(marked.kind, 'ConfigMap', 'the object, not a Status, while it waits');
    assert.ok(marked.metadata.deletionTimestamp);
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 0);
    assert.deepEqual(marked.metadata.finalizers, [HOLD]);
    assert.deepEqual((await call(emulator(), 'DELETE', '/api/v1/namespaces/team-a/configmaps/held')).body, first.body);
    assert.ok(emulator().get('configmaps', 'team-a', 'held'));

    const wrongUid = await call(emulator(), 'DELETE', '/api/v1/namespaces/team-a/configmaps/held', { preconditions: { uid: 'nope' } });
    assert.equal(wrongUid.status, 409);
    assert.match(
      String(wrongUid.body.message),
      /^Operation cannot be fulfilled on ConfigMap "held": the UID in the precondition \(nope\) does not match the UID in record \([0-9a-f-]+\)\. The object might have been deleted and then recreated$/,
    );

    await core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'team-a', body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal((await failure(core.readNamespacedConfigMap({ name: 'held', namespace: 'team-a' }))).code, 404);
    assert.equal((await core.readNamespace({ name: 'team-a' })).status?.phase, 'Active', 'its namespace is untouched');

    await core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'plain' } } });
    const plain = await call(emulator(), 'DELETE', '/api/v1/namespaces/team-a/configmaps/plain');
    assert.deepEqual([plain.status, plain.body.kind, plain.body.status], [200, 'Status', 'Success']);
  });
});

describe('kube-api emulator namespace controller after a delay', () => {
  const { clients } = useEmulator({ namespaceDeletion: { afterMs: 20 } });

  it('removes the namespace once the delay has passed', async () => {
    const { core } = clients();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await core.deleteNamespace({ name: 'team-a' });
    for (;;) {
      const status = await core.readNamespace({ name: 'team-a' }).then(
        (ns) => ns.status?.phase,
        (error: unknown) => (error instanceof ApiException ? error.code : error),
      );
      if (status === 404) break;
      assert.equal(status, 'Terminating');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
});

describe('kube-api emulator Leases (coordination.k8s.io/v1), as leader election uses them', () => {
  const { clients } = useEmulator();
  const coordination = () => clients().kc.makeApiClient(CoordinationV1Api);
  const lease = (holderIdentity: string, resourceVersion?: string): V1Lease => ({
    metadata: { name: 'leader', namespace: 'default', ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { holderIdentity, leaseDurationSeconds: 15, renewTime: new V1MicroTime('2026-01-01T00:00:00.5Z') },
  });

  it('creates, reads and lists a Lease, and refuses a second create with 409 AlreadyExists', async () => {
    const api = coordination();
    const created = await api.createNamespacedLease({ namespace: 'default', body: lease('a') });
    assert.equal(created.spec?.holderIdentity, 'a');
    // client-node sends a V1MicroTime with six fractional digits and hands the string back as it came.
    assert.equal(String(created.spec?.renewTime), '2026-01-01T00:00:00.500000Z');
    assert.equal((await api.readNamespacedLease({ namespace: 'default', name: 'leader' })).metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.deepEqual(
      (await api.listNamespacedLease({ namespace: 'default' })).items.map((l) => l.metadata?.name),
      ['leader'],
    );
    const again = await failure(api.createNamespacedLease({ namespace: 'default', body: lease('b') }));
    assert.equal(again.code, 409);
    assert.equal(again.status?.reason, 'AlreadyExists');
  });

  it('updates with the resourceVersion read; a stale one is 409 Conflict, none is 422', async () => {
    const api = coordination();
    const created = await api.createNamespacedLease({ namespace: 'default', body: lease('a') });
    const version = created.metadata?.resourceVersion;
    const taken = await api.replaceNamespacedLease({ namespace: 'default', name: 'leader', body: lease('b', version) });
    assert.equal(taken.spec?.holderIdentity, 'b');
    assert.notEqual(taken.metadata?.resourceVersion, version);
    const stale = await failure(api.replaceNamespacedLease({ namespace: 'default', name: 'leader', body: lease('c', version) }));
    assert.equal(stale.code, 409);
    assert.equal(stale.status?.reason, 'Conflict');
    const unconditional = await failure(api.replaceNamespacedLease({ namespace: 'default', name: 'leader', body: lease('c') }));
    assert.equal(unconditional.code, 422);
    assert.equal(unconditional.status?.details?.causes?.[0]?.field, 'metadata.resourceVersion');
    assert.equal((await api.readNamespacedLease({ namespace: 'default', name: 'leader' })).spec?.holderIdentity, 'b');
  });

  it('refuses a time that is not a MicroTime (a Date sends three fractional digits) and an invalid duration', async () => {
    const api = coordination();
    const body = { ...lease('a'), spec: { holderIdentity: 'a', renewTime: new Date('2026-01-01T00:00:00Z') as V1MicroTime } };
    const badTime = await failure(api.createNamespacedLease({ namespace: 'default', body }));
    assert.equal(badTime.code, 400);
    const badDuration = await failure(api.createNamespacedLease({ namespace: 'default', body: { ...lease('a'), spec: { leaseDurationSeconds: 0 } } }));
    assert.equal(badDuration.code, 422);
    assert.equal(badDuration.status?.details?.causes?.[0]?.field, 'spec.leaseDurationSeconds');
  });
});

describe('canonicalQuantity', () => {
  it('canonicalizes as kube-apiserver v1.20.2 stored these ResourceQuota values', () => {
    const seen: [string, string][] = [
      ['1000', '1k'],
      ['1000m', '1'],
      ['0.5', '500m'],
      ['1.5Gi', '1536Mi'],
      ['50', '50'],
      ['2048', '2048'],
      ['1024Ki', '1Mi'],
      ['0.1', '100m'],
      ['12345678m', '12345678m'],
      ['1.5', '1500m'],
      ['0', '0'],
      ['1000k', '1M'],
      ['1000Ki', '1000Ki'],
      ['0.0001', '1m'],
      ['1048576Ki', '1Gi'],
      ['5e6', '5e6'],
      ['10e2', '1e3'],
      ['4.0', '4'],
      ['1000000000', '1G'],
      ['0.5Gi', '512Mi'],
      ['1.5k', '1500'],
      ['100000m', '100'],
      ['1e-3', '1e-3'],
    ];
    for (const [input, stored] of seen) assert.equal(canonicalQuantity(input), stored, input);
    assert.equal(canonicalQuantity('lots'), undefined);
  });
});

describe('kube-api emulator: managedFields after an outside edit, as kube-apiserver v1.20 records them', () => {
  const clock = fakeClock(Date.parse('2026-12-04T22:17:38Z'));
  const { emulator, clients } = useEmulator({ now: clock.now });

  it("moves a field patched by another manager into that manager's Update entry and leaves the applier the rest", async () => {
    const { objects, core } = clients();
    const ssa = (obj: KubernetesObject) => objects.patch(obj, undefined, undefined, 'slipway', true, PatchStrategy.ServerSideApply);
    await ssa({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'drift-probe',
        labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/team': 'payments' },
        annotations: { 'slipway.dev/purpose': 'probe' },
      },
    });
    await ssa({
      ...quota({ 'requests.cpu': '2', pods: '20' }, 'drift-probe', 'slipway-quota'),
      metadata: { name: 'slipway-quota', namespace: 'drift-probe', labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
    });
    await handEdit(core, 'drift-probe');

    // What `kubectl get -o json --show-managed-fields` printed for the same steps against v1.20.
    const time = '2026-12-04T22:17:38Z';
    const entries = (kind: string, ns: string, name: string) =>
      emulator()
        .get(kind, ns, name)
        ?.metadata?.managedFields?.filter((m) => m.manager !== 'kube-controller-manager');
    assert.deepEqual(entries('resourcequotas', 'drift-probe', 'slipway-quota'), [
      {
        manager: 'slipway',
        operation: 'Apply',
        apiVersion: 'v1',
        time,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/managed-by': {} } }, 'f:spec': { 'f:hard': { 'f:pods': {} } } },
      },
      {
        manager: 'kubectl-edit',
        operation: 'Update',
        apiVersion: 'v1',
        time,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:hard': { 'f:requests.cpu': {} } } },
      },
    ]);
    assert.deepEqual(entries('namespaces', '', 'drift-probe'), [
      {
        manager: 'slipway',
        operation: 'Apply',
        apiVersion: 'v1',
        time,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:slipway.dev/purpose': {} }, 'f:labels': { 'f:app.kubernetes.io/managed-by': {} } } },
      },
      {
        manager: 'kubectl-edit',
        operation: 'Update',
        apiVersion: 'v1',
        time,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:extra': {}, 'f:slipway.dev/team': {} } } },
      },
    ]);
  });
});
