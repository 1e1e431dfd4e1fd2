import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK } from '../src/slack/ids.ts';
import { adoptionReport } from '../src/workflows/adoption/metrics.ts';
import { refreshUsage } from '../src/workflows/adoption/usage.ts';
import { PEOPLE, startHarness, type Harness } from './support/harness.ts';

/** A developer gets `payments-dev` through the golden path (dev + small: approved by policy). */
async function provision(h: Harness): Promise<void> {
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').some((c) => c.ok));
  await h.submit(PEOPLE.dev, {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: 'dev',
    [BLOCK.cluster]: 'dev-eu',
    [BLOCK.tier]: 'small',
    [BLOCK.name]: null,
    [BLOCK.purpose]: 'Checkout service',
    [BLOCK.expiry]: null,
  });
  await h.waitFor('the namespace to be ready', async () => (await h.slipway.deps.store.getRequest(1))?.status === 'ready');
}

/** Creates, deletes and lists objects through the emulator's HTTP API, as kubectl would. */
async function kube(h: Harness, method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${h.kube.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res;
}

const pod = (namespace: string, name: string, phase: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { containers: [{ name: 'app', image: 'nginx' }] },
  status: { phase },
});

test('usage refresh: pods appear and go away, and a namespace deleted outside Slipway is noticed', async (t) => {
  const h = await startHarness(t);
  await provision(h);
  const store = h.slipway.deps.store;
  // Not Slipway's: pods there never count.
  await kube(h, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other-team' } });
  await kube(h, 'POST', '/api/v1/namespaces/other-team/pods', pod('other-team', 'web', 'Running'));

  const podLists = () => h.kube.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/pods').length;
  const namespaceLists = () => h.kube.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces').length;
  const day = (n: number) => new Date(Date.parse('2026-11-02T10:00:00Z') + n * 86_400_000);

  // 1. The new namespace, no workload yet.
  const first = await refreshUsage(h.slipway.deps, day(0));
  assert.equal(podLists(), 1, 'one pod list for the cluster, not one per namespace');
  assert.equal(namespaceLists(), 1);
  assert.match(h.kube.requests.find((r) => r.path === '/api/v1/pods')?.query.fieldSelector ?? '', /status\.phase=Running/);
  assert.deepEqual(first.clusters, [{ cluster: 'dev-eu', error: undefined, namespaces: 1, running: 0, pods: 0 }]);
  assert.equal(first.changes, 1);

  // 2. Pods start (a pending one does not count).
  await kube(h, 'POST', '/api/v1/namespaces/payments-dev/pods', pod('payments-dev', 'api-1', 'Running'));
  await kube(h, 'POST', '/api/v1/namespaces/payments-dev/pods', pod('payments-dev', 'api-2', 'Running'));
  await kube(h, 'POST', '/api/v1/namespaces/payments-dev/pods', pod('payments-dev', 'job-1', 'Pending'));
  const running = await refreshUsage(h.slipway.deps, day(1));
  assert.deepEqual(running.clusters[0], { cluster: 'dev-eu', error: undefined, namespaces: 1, running: 1, pods: 2 });
  assert.equal(running.changes, 1);
  assert.equal(podLists(), 2);

  // Nothing changed: nothing is written.
  assert.equal((await refreshUsage(h.slipway.deps, day(2))).changes, 0);

  // 3. The pods go away.
  await kube(h, 'DELETE', '/api/v1/namespaces/payments-dev/pods/api-1');
  await kube(h, 'DELETE', '/api/v1/namespaces/payments-dev/pods/api-2');
  const stopped = await refreshUsage(h.slipway.deps, day(3));
  assert.deepEqual(stopped.clusters[0], { cluster: 'dev-eu', error: undefined, namespaces: 1, running: 0, pods: 0 });
  assert.equal(stopped.changes, 1);

  // A cluster that does not answer is not taken for an empty one.
  const outage = h.kube.injectFault({ method: 'GET', path: '/api/v1/namespaces', status: 503, times: 1 });
  await assert.rejects(refreshUsage(h.slipway.deps, day(4)), /No cluster answered the usage refresh: dev-eu/);
  assert.equal(outage.hits, 1);
  assert.ok(!(await store.eventsFor(1)).some((e) => e.type === 'namespace_deleted'));

  // 4. Someone deletes the namespace with kubectl.
  await kube(h, 'DELETE', '/api/v1/namespaces/payments-dev');
  const gone = await refreshUsage(h.slipway.deps, day(5));
  assert.deepEqual(gone.deleted, [{ cluster: 'dev-eu', namespace: 'payments-dev', team: 'payments', requestId: 1 }]);
  assert.match(gone.summary, /1 deleted outside Slipway/);
  const deleted = (await store.eventsFor(1)).filter((e) => e.type === 'namespace_deleted');
  assert.equal(deleted.length, 1);
  assert.deepEqual(deleted[0]?.data, { namespace: 'payments-dev', cluster: 'dev-eu', outsideSlipway: true });
  assert.equal(deleted[0]?.team, 'payments');
  // Noticed once.
  assert.equal((await refreshUsage(h.slipway.deps, day(6))).deleted.length, 0);

  // What the snapshots say, as the metrics read them.
  const states = (await store.adoption.snapshotsBetween(day(-1), day(7))).map((s) => [s.at.slice(0, 10), s.present, s.runningPods]);
  assert.deepEqual(states, [
    ['2026-11-02', true, 0],
    ['2026-11-03', true, 2],
    ['2026-11-05', true, 0],
    ['2026-11-07', false, 0],
  ]);
  const report = await adoptionReport(h.slipway.deps, new Date('2026-11-09T09:00:00Z'));
  assert.equal(report.current.activeNamespaces, 1, 'it ran pods in the week');
  assert.equal(report.current.timeToFirstWorkload.count, 1);
});

test('usage refresh: a managed namespace the event log does not know is tracked by its labels', async (t) => {
  const h = await startHarness(t);
  h.kube.seed([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'legacy-ns', labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/team': 'search', 'slipway.dev/request-id': 'R-77' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'legacy-ns' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Running' },
    },
  ]);
  const result = await refreshUsage(h.slipway.deps, new Date('2026-11-02T10:00:00Z'));
  assert.deepEqual(result.clusters[0], { cluster: 'dev-eu', error: undefined, namespaces: 1, running: 1, pods: 1 });
  const [row] = await h.slipway.deps.store.adoption.presentAt(new Date('2026-11-03T00:00:00Z'));
  assert.deepEqual(row && [row.namespace, row.team, row.requestId, row.runningPods], ['legacy-ns', 'search', 77, 1]);
});

test('usage refresh: a namespace deleted before any refresh saw it is still noticed', async (t) => {
  const h = await startHarness(t);
  await provision(h);
  await kube(h, 'DELETE', '/api/v1/namespaces/payments-dev');
  const result = await refreshUsage(h.slipway.deps, new Date(Date.now() + 60_000));
  assert.deepEqual(result.deleted, [{ cluster: 'dev-eu', namespace: 'payments-dev', team: 'payments', requestId: 1 }]);
  assert.equal((await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type === 'namespace_deleted').length, 1);
});
