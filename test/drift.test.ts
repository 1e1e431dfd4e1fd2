import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../src/config.ts';
import { CALLBACK, BLOCK, CHANGE } from '../src/slack/ids.ts';
import { previewReapply, reapplyNamespace } from '../src/workflows/drift/reapply.ts';
import { scanDrift } from '../src/workflows/drift/scan.ts';
import { writeConfig } from './support/bot-process.ts';
import { runCli } from './support/cli.ts';
import { handEdit, outsider } from './support/drift.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from './support/config.ts';
import { APPROVALS, PEOPLE, PLATFORM, readable, startHarness, type Harness } from './support/harness.ts';
import { openedForm, readyNamespace, replies } from './support/lifecycle.ts';

/** The list calls a scan made: GETs of collections across all namespaces. */
function listCalls(h: Harness, from: number): string[] {
  return h.kube.requests
    .slice(from)
    .filter(
      (r) => r.method === 'GET' && !r.path.includes('/namespaces/') && /\/(namespaces|resourcequotas|limitranges|networkpolicies|rolebindings)$/.test(r.path),
    )
    .map((r) => `${r.path}?${r.query.labelSelector ?? ''}`);
}

test('a freshly provisioned namespace has no drift, and the scan lists each kind once per cluster', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  await readyNamespace(h, 'staging');
  const from = h.kube.requests.length;
  const report = await scanDrift(h.slipway.deps);
  assert.deepEqual(report.differences, []);
  assert.equal(report.summary, 'compared 2 namespaces: 0 edited, 0 outdated (0 differences)');
  assert.deepEqual(listCalls(h, from).sort(), [
    '/api/v1/limitranges?app.kubernetes.io/managed-by=slipway',
    '/api/v1/namespaces?app.kubernetes.io/managed-by=slipway',
    '/api/v1/resourcequotas?app.kubernetes.io/managed-by=slipway',
    '/apis/networking.k8s.io/v1/networkpolicies?app.kubernetes.io/managed-by=slipway',
    '/apis/rbac.authorization.k8s.io/v1/rolebindings?app.kubernetes.io/managed-by=slipway',
  ]);
});

test('an outside edit is reported as edited, with the field manager that made it', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  await readyNamespace(h, 'staging');
  const { core, networking } = await outsider(h.kube);
  await handEdit(core, 'payments-dev');
  await networking.deleteNamespacedNetworkPolicy({ name: 'default-deny-ingress', namespace: 'payments-staging' });

  const report = await scanDrift(h.slipway.deps);
  assert.deepEqual(
    report.differences.map((d) => [d.kind, d.namespace, d.object, d.field, d.live, d.expected, d.manager]),
    [
      ['edited', 'payments-dev', 'Namespace/payments-dev', 'metadata.labels[slipway.dev/team]', 'search', 'payments', 'kubectl-edit'],
      ['edited', 'payments-dev', 'ResourceQuota/slipway-quota', 'spec.hard[requests.cpu]', '8', '2', 'kubectl-edit'],
      ['edited', 'payments-staging', 'NetworkPolicy/default-deny-ingress', '(object)', 'missing', 'present', undefined],
    ],
  );
  assert.equal(report.summary, 'compared 2 namespaces: 2 edited, 0 outdated (3 differences)');

  const one = await scanDrift(h.slipway.deps, { namespace: 'payments-staging' });
  assert.deepEqual(
    one.differences.map((d) => d.namespace),
    ['payments-staging'],
  );
});

test('a config change since provisioning is reported as outdated, owned by Slipway', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], ...(h.config.clusters[0] as object) };
  const tiers = doc.tiers as Record<string, { quota: Record<string, string>; limits: Record<string, unknown> }>;
  const small = tiers.small ?? assert.fail('small tier');
  small.quota.pods = '30';
  delete small.quota['services.loadbalancers'];
  small.limits.max = { cpu: '2', memory: '2Gi' };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);

  const report = await scanDrift({ ...h.slipway.deps, config });
  assert.deepEqual(
    report.differences.map((d) => [d.kind, d.object, d.field, d.live, d.expected, d.manager]),
    [
      ['outdated', 'ResourceQuota/slipway-quota', 'spec.hard.pods', '20', '30', 'slipway'],
      ['outdated', 'ResourceQuota/slipway-quota', 'spec.hard[services.loadbalancers]', '0', undefined, 'slipway'],
      [
        'outdated',
        'LimitRange/slipway-limits',
        'spec.limits',
        '[{"default":{"cpu":"500m","memory":"512Mi"},"defaultRequest":{"cpu":"100m","memory":"128Mi"},"max":{"cpu":"1","memory":"2Gi"},"type":"Container"}]',
        '[{"default":{"cpu":"500m","memory":"512Mi"},"defaultRequest":{"cpu":"100m","memory":"128Mi"},"max":{"cpu":"2","memory":"2Gi"},"type":"Container"}]',
        'slipway',
      ],
    ],
  );
  assert.equal(report.outdated, 1);
});

test('a namespace changed through Slipway (a larger tier, read-only access for another team) is as expected: no drift, and Re-apply keeps the change', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  await openedForm(h, CALLBACK.changeNamespace, () => h.command(PEOPLE.dev, 'change payments-dev'));
  await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'medium', [BLOCK.accessView]: ['search'] });
  const thread = () => h.slack.thread(APPROVALS, request.card?.ts ?? '');
  const ask = await h.waitFor('the change in the thread', () => thread().find((m) => m.text.includes('asks to change')));
  await h.click(PEOPLE.alice, ask, CHANGE.approve);
  await h.waitFor('the change applied', () => thread().find((m) => m.text.startsWith('✅ `payments-dev`')));

  const report = await scanDrift(h.slipway.deps);
  assert.deepEqual(report.differences, [], 'what the change applied is what Slipway expects now');
  assert.deepEqual((await previewReapply(h.slipway.deps, request)).changes, [], 'Re-apply would change nothing');
  await reapplyNamespace(h.slipway.deps, request);
  const quota = h.kube.get('resourcequotas', 'payments-dev', 'slipway-quota')?.spec as { hard: Record<string, string> };
  assert.equal(quota.hard['requests.cpu'], '4', 'the medium quota stays');
  assert.ok(h.kube.get('rolebindings', 'payments-dev', 'slipway-access-search'), 'the other team keeps its access');

  // The team taken out of the config since: its binding is outdated, and the scan still works.
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], ...(h.config.clusters[0] as object) };
  doc.teams = (doc.teams as { name: string }[]).filter((team) => team.name !== 'search');
  const withoutSearch = await scanDrift({ ...h.slipway.deps, config: parseConfig(doc, EXAMPLE_CONFIG_PATH) });
  assert.deepEqual(
    withoutSearch.differences.map((d) => [d.kind, d.object, d.field, d.live, d.expected]),
    [['outdated', 'RoleBinding/slipway-access-search', '(object)', 'present', 'absent']],
  );
});

test('slipway drift prints the report from config, database and cluster; one namespace with an argument, JSON with --json', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  await readyNamespace(h, 'staging');
  await handEdit((await outsider(h.kube)).core, 'payments-dev');
  const cluster = h.config.clusters[0];
  assert.ok(cluster?.type === 'kubeconfig');
  const dir = dirname(cluster.path);
  const doc = exampleConfigDocument();
  (doc.clusters as Record<string, unknown>[])[0] = { ...(doc.clusters as Record<string, unknown>[])[0], path: cluster.path, context: cluster.context };
  const env = { SLIPWAY_CONFIG: writeConfig(dir, doc), DATABASE_PATH: join(dir, 'slipway.db') };

  const all = await runCli(['drift'], env);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(
    all.stdout,
    [
      'compared 2 namespaces: 1 edited, 0 outdated (2 differences)',
      'edited\tpayments-dev\tNamespace/payments-dev\tmetadata.labels[slipway.dev/team]\tlive search\texpected payments\tby kubectl-edit',
      'edited\tpayments-dev\tResourceQuota/slipway-quota\tspec.hard[requests.cpu]\tlive 8\texpected 2\tby kubectl-edit',
      '',
    ].join('\n'),
  );
  const one = await runCli(['drift', 'payments-staging', '--json'], env);
  assert.equal(one.code, 0, one.stderr);
  const report = JSON.parse(one.stdout) as { summary: string; differences: unknown[] };
  assert.equal(report.summary, 'compared 1 namespace: 0 edited, 0 outdated (0 differences)');
  assert.deepEqual(report.differences, []);
});

test('/platform drift shows approvers each difference with who made it; others are refused', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  await readyNamespace(h, 'staging');
  await handEdit((await outsider(h.kube)).core, 'payments-dev');

  await h.command(PEOPLE.dev, 'drift');
  const refused = await h.waitFor('the refusal', () => replies(h)[0]);
  assert.match(refused, /^Only approvers can see the drift report \(`\/platform drift`\)\./);

  await h.command(PEOPLE.alice, 'drift');
  const report = await h.waitFor('the report', () => replies(h)[1]);
  assert.equal(
    report,
    [
      'Drift: compared 2 namespaces: 1 edited, 0 outdated (2 differences).',
      '*Drift: compared 2 namespaces: 1 edited, 0 outdated (2 differences).*',
      '`payments-dev`',
      '• *edited* Namespace/payments-dev `metadata.labels[slipway.dev/team]`: `search`, expected `payments` · set by `kubectl-edit`',
      '• *edited* ResourceQuota/slipway-quota `spec.hard[requests.cpu]`: `8`, expected `2` · set by `kubectl-edit`',
      'Re-apply…',
      '*edited*: changed by someone other than Slipway · *outdated*: the config changed since Slipway applied it.',
    ].join('\n'),
  );

  await h.command(PEOPLE.alice, 'drift payments-staging');
  const one = await h.waitFor('the report for one namespace', () => replies(h)[2]);
  assert.match(one, /^Drift: compared 1 namespace: 0 edited, 0 outdated \(0 differences\)\.\n/);
  // Nothing differs: it says so, without the legend of kinds that are not there.
  assert.match(one, /\n✅ As Slipway applied it: nothing to re-apply\.$/);
});

test('the weekly digest carries the drift job’s latest counts, with the way to act on them', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  await readyNamespace(h, 'staging');
  await handEdit((await outsider(h.kube)).core, 'payments-dev');
  const digestDrift = async () => {
    assert.equal((await h.slipway.scheduler.run('digest', 'manual')).status, 'ok');
    const digest =
      h.slack
        .messages(PLATFORM)
        .filter((m) => m.text.startsWith('Platform adoption'))
        .at(-1) ?? assert.fail('no digest');
    return readable(digest)
      .split('\n')
      .find((line) => line.startsWith('🧭'));
  };
  assert.equal(await digestDrift(), undefined, 'no scan yet, no drift line');

  const scan = await h.slipway.scheduler.run('drift', 'manual');
  assert.equal(scan.status, 'ok', scan.error);
  assert.match(
    (await digestDrift()) ?? '',
    /^🧭 \*Drift\* \(scan of .+\): 1 edited by hand, 0 outdated \(of 2 namespaces\) · approvers: `\/platform drift` shows each difference/,
  );
});
