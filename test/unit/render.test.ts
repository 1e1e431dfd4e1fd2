import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument, MEDIUM_QUOTA } from '../support/config.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
}

function render(...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/slipway.js', 'render', '--config', EXAMPLE_CONFIG_PATH, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function objects(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

test('render prints the golden path for a prod namespace as YAML', async () => {
  const out = render('--team', 'payments', '--env', 'prod', '--tier', 'medium', '--name', 'payments-prod');
  assert.equal(out.status, 0, out.stderr);
  const objs = objects(out.stdout);
  assert.deepEqual(
    objs.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'Namespace/payments-prod',
      'ResourceQuota/slipway-quota',
      'LimitRange/slipway-limits',
      'NetworkPolicy/default-deny-ingress',
      'NetworkPolicy/allow-same-namespace',
      'NetworkPolicy/allow-from-platform-namespaces',
      'NetworkPolicy/allow-dns-egress',
      'RoleBinding/slipway-team-access',
    ],
  );
  const [ns, quota, limits] = objs;
  assert.deepEqual(ns?.metadata.labels, {
    'app.kubernetes.io/managed-by': 'slipway',
    'slipway.dev/team': 'payments',
    'slipway.dev/environment': 'prod',
    'slipway.dev/cost-center': 'cc-1042',
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': 'latest',
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'latest',
  });
  assert.deepEqual(quota?.spec, { hard: MEDIUM_QUOTA });
  // The wire names, not client-node's model names (`_default`).
  assert.deepEqual(limits?.spec, {
    limits: [
      {
        type: 'Container',
        default: { cpu: '500m', memory: '512Mi' },
        defaultRequest: { cpu: '100m', memory: '128Mi' },
        max: { cpu: '2', memory: '4Gi' },
      },
    ],
  });
  for (const obj of objs.slice(1)) assert.equal(obj.metadata.namespace, 'payments-prod', `${obj.kind} is namespaced`);
  const fromPlatform = objs.find((o) => o.metadata.name === 'allow-from-platform-namespaces');
  assert.deepEqual(fromPlatform?.spec?.ingress, [
    {
      from: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ],
    },
  ]);
  const binding = objs.at(-1);
  assert.deepEqual(binding?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
  assert.deepEqual(binding?.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'payments-devs' }]);
  assert.match(out.stdout, /^# 1\. namespace: /m, 'each step is described in a comment');
});

test('dev namespaces are baseline with open egress next to the DNS rule', async () => {
  const out = render(
    '--team',
    'search',
    '--env',
    'dev',
    '--tier',
    'small',
    '--name',
    'search-dev',
    '--purpose',
    'Try the new ranker',
    '--expires',
    '2026-12-31',
  );
  assert.equal(out.status, 0, out.stderr);
  const objs = objects(out.stdout);
  const ns = objs[0];
  assert.equal(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'baseline');
  assert.deepEqual(ns?.metadata.annotations, { 'slipway.dev/purpose': 'Try the new ranker', 'slipway.dev/expires-on': '2026-12-31' });
  const open = objs.find((o) => o.metadata.name === 'allow-all-egress');
  assert.deepEqual(open?.spec, { podSelector: {}, policyTypes: ['Egress'], egress: [{}] });
});

test('render refuses unknown settings and bad names with a usage message', async () => {
  const unknownTier = render('--team', 'payments', '--env', 'dev', '--tier', 'huge', '--name', 'x');
  assert.equal(unknownTier.status, 2);
  assert.match(unknownTier.stderr, /unknown tier "huge" \(known: small, medium, large\)/);
  const badName = render('--team', 'payments', '--env', 'dev', '--tier', 'small', '--name', 'kube-mine');
  assert.equal(badName.status, 2);
  assert.match(badName.stderr, /--name "kube-mine": Names starting with "kube-" are reserved/);
  const missing = render('--team', 'payments');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /render needs --env, --tier, --name/);
});

test("render refuses names allowed into every namespace and settings that are not the config's own", async () => {
  // A config where ingress-nginx is only listed as allowed into every namespace, not as reserved.
  const doc = exampleConfigDocument();
  doc.namespaces = { ...(doc.namespaces as object), reserved: [], allowFromNamespaces: ['ingress-nginx'] };
  const path = join(mkdtempSync(join(tmpdir(), 'slipway-render-')), 'slipway.config.yaml');
  writeFileSync(path, stringify(doc));
  const run = (...args: string[]) => spawnSync(process.execPath, ['bin/slipway.js', 'render', ...args, '--config', path], { cwd: ROOT, encoding: 'utf8' });

  const door = run('--team', 'payments', '--env', 'dev', '--tier', 'small', '--name', 'ingress-nginx');
  assert.notEqual(door.status, 0);
  assert.match(door.stderr, /--name "ingress-nginx": "ingress-nginx" is reserved/);
  assert.equal(door.stdout, '', 'no manifests');

  const env = run('--team', 'payments', '--env', 'constructor', '--tier', 'small', '--name', 'x');
  assert.notEqual(env.status, 0);
  assert.match(env.stderr, /unknown environment "constructor" \(known: dev, staging, prod\)/);
  assert.equal(env.stdout, '', 'no manifests without a pod security level');

  const tier = run('--team', 'payments', '--env', 'dev', '--tier', 'toString', '--name', 'x');
  assert.notEqual(tier.status, 0);
  assert.match(tier.stderr, /unknown tier "toString" \(known: small, medium, large\)/);
});
