import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { READINESS_CACHE_MS } from '../src/workflows/ops/readiness.ts';
import { APPROVALS, PEOPLE, startHarness } from './support/harness.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition format; throws on a line that is not valid. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line);
    // Prometheus parses values with Go's ParseFloat, which accepts NaN in any case.
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

async function readyz(baseUrl: string) {
  const res = await fetch(`${baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: { name: string; ok: boolean; detail: string }[] } };
}

/** A clock the test moves forward, to step past the readiness cache. */
function movableClock() {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
}

test('/readyz turns unready when the cluster stops answering, and ready when it is back', async (t) => {
  const clock = movableClock();
  const h = await startHarness(t, { clock });
  const ok = await readyz(h.metricsUrl);
  assert.equal(ok.status, 200);
  assert.deepEqual(
    ok.body.checks.map((c) => [c.name, c.ok]),
    [
      ['database', true],
      ['slack', true],
      ['cluster:dev-eu', true],
    ],
  );

  const stall = h.kube.setLatency(5000);
  clock.advance(READINESS_CACHE_MS);
  const down = await readyz(h.metricsUrl);
  assert.equal(down.status, 503);
  assert.equal(down.body.status, 'not ready');
  const cluster = down.body.checks.find((c) => c.name === 'cluster:dev-eu');
  assert.equal(cluster?.ok, false);
  assert.match(cluster.detail, /did not answer within 2000 ms/);
  assert.ok(down.body.checks.filter((c) => c.name !== 'cluster:dev-eu').every((c) => c.ok));

  stall();
  clock.advance(READINESS_CACHE_MS);
  assert.equal((await readyz(h.metricsUrl)).status, 200);
  for (const base of [h.baseUrl, h.metricsUrl]) {
    const live = await fetch(`${base}/healthz`);
    assert.equal(live.status, 200, 'liveness does not depend on the cluster, on either port');
  }
});

test('/readyz and /metrics are served on METRICS_PORT, not on the port Slack reaches', async (t) => {
  const h = await startHarness(t);
  assert.notEqual(h.metricsUrl, h.baseUrl);
  for (const path of ['/readyz', '/metrics']) {
    assert.equal((await fetch(`${h.baseUrl}${path}`)).status, 404, `${path} on the Slack port`);
    assert.equal((await fetch(`${h.metricsUrl}${path}`)).status, 200, `${path} on METRICS_PORT`);
  }
  assert.equal((await fetch(`${h.baseUrl}/healthz`)).status, 200);
  assert.equal((await fetch(`${h.metricsUrl}/slack/events`, { method: 'POST', body: '{}' })).status, 404, 'Slack events only on PORT');
});

test('/readyz says why a cluster is unready without naming the kubeconfig path', async (t) => {
  const secretDir = '/etc/very-secret-dir-7f3a';
  const h = await startHarness(t, {
    configure: (doc) => {
      const clusters = doc.clusters as Record<string, unknown>[];
      clusters.push({ ...clusters[0], name: 'prod-us', displayName: 'prod (us)', path: `${secretDir}/kubeconfig.yaml` });
    },
  });
  const res = await fetch(`${h.metricsUrl}/readyz`);
  assert.equal(res.status, 503);
  const text = await res.text();
  const body = JSON.parse(text) as { checks: { name: string; ok: boolean; detail: string }[] };
  const broken = body.checks.find((c) => c.name === 'cluster:prod-us');
  assert.equal(broken?.ok, false);
  assert.match(broken.detail, /not reachable with the configured credentials/);
  assert.ok(!text.includes('very-secret-dir') && !text.includes('kubeconfig.yaml'), text);
});

test('concurrent /readyz probes within the cache window make one call to the cluster', async (t) => {
  const clock = movableClock();
  const h = await startHarness(t, { clock });
  const probes = () => h.kube.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/default').length;
  // A slow cluster keeps the first check running while the other probes arrive.
  const slow = h.kube.setLatency(300, { path: /^\/api\/v1\/namespaces\/default$/ });
  const answers = await Promise.all(Array.from({ length: 20 }, () => readyz(h.metricsUrl)));
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(probes(), 1, 'probes in flight share one check');
  slow();

  assert.equal((await readyz(h.metricsUrl)).status, 200);
  assert.equal(probes(), 1, 'a probe within the cache window is answered from the last check');
  clock.advance(READINESS_CACHE_MS);
  assert.equal((await readyz(h.metricsUrl)).status, 200);
  assert.equal(probes(), 2, 'after the window, a fresh check');
});

test('/metrics serves Prometheus text whose counters move after a journey', async (t) => {
  const h = await startHarness(t);
  const before = parsePrometheus(await (await fetch(`${h.metricsUrl}/metrics`)).text());
  assert.equal(value(before, 'slipway_requests_total'), 0);

  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the form', () => h.slack.views[0]);
  await h.submit(PEOPLE.dev, {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: 'staging',
    [BLOCK.cluster]: 'dev-eu',
    [BLOCK.tier]: 'medium',
    [BLOCK.purpose]: 'Metrics check',
  });
  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
  h.kube.injectFault({ method: 'PATCH', path: /\/limitranges\//, status: 503, times: 1 });
  await h.click(PEOPLE.alice, card, ACTION.approve);
  await h.waitFor('the ready DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('🎉')));
  await h.command(PEOPLE.dev, 'help');

  const res = await fetch(`${h.metricsUrl}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  const after = parsePrometheus(text);
  assert.equal(value(after, 'slipway_requests_total', { outcome: 'submitted' }), 1);
  assert.equal(value(after, 'slipway_requests_total', { outcome: 'approved' }), 1);
  assert.equal(value(after, 'slipway_requests_total', { outcome: 'ready' }), 1);
  assert.equal(value(after, 'slipway_command_ack_seconds_count', { subcommand: 'new-namespace' }), 1);
  assert.equal(value(after, 'slipway_command_ack_seconds_count', { subcommand: 'help' }), 1);
  assert.equal(value(after, 'slipway_step_duration_seconds_count'), 5);
  assert.equal(value(after, 'slipway_step_failures_total', { step: 'limit-range', cause: '503' }), 1);
  assert.equal(value(after, 'slipway_kubernetes_api_errors_total', { status: '503' }), 1);
  assert.ok(value(after, 'slipway_process_resident_memory_bytes') > 0);
  for (const secret of [h.slack.token, 'test-signing-secret', 'Metrics check', PEOPLE.dev]) {
    assert.ok(!text.includes(secret), `no secret or user data in metrics: ${secret}`);
  }
});
