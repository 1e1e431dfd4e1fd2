import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { requiredPermissions } from '../src/cluster/permissions.ts';
import { KubeApiEmulator, writeKubeconfig } from '../src/playground/kube-api.ts';
import { SlackApiEmulator } from '../src/playground/slack-api.ts';
import { writeConfig } from './support/bot-process.ts';
import { runCli } from './support/cli.ts';
import { startPostgres } from './support/postgres.ts';
import { Store } from '../src/store/store.ts';
import { exampleConfig, exampleConfigDocument } from './support/config.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** Runs `slipway doctor` as an operator would (logging at its default level), against the emulators. */
const doctor = (env: Record<string, string>) => runCli(['doctor'], { LOG_LEVEL: 'info', ...env });

async function setUp(t: { after(fn: () => unknown): void }, botInApprovals: boolean, gitVersion?: string) {
  const slack = await SlackApiEmulator.start({
    channels: [
      { id: 'C0APPROVALS', name: 'platform-approvals', members: botInApprovals ? ['U0BOT', 'U0ALICE'] : ['U0ALICE'] },
      { id: 'C0PLATFORM', name: 'platform', members: ['U0BOT'] },
    ],
    users: [{ id: 'U0ALICE', name: 'alice' }],
    userGroups: [{ id: 'S0PLATFORM', handle: 'platform', users: [] }],
  });
  const kube = await KubeApiEmulator.start({ token: 'bot-token', ...(gitVersion ? { gitVersion } : {}) });
  t.after(async () => {
    await slack.close();
    await kube.close();
  });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-doctor-'));
  await writeKubeconfig(kube, join(dir, 'kubeconfig.yaml'), { context: 'dev-eu', token: 'bot-token' });
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], path: join(dir, 'kubeconfig.yaml'), context: 'dev-eu' };
  const env = { SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.url, SLIPWAY_CONFIG: writeConfig(dir, doc), DATABASE_PATH: join(dir, 'slipway.db') };
  return { slack, kube, env, dir, doc };
}

/** How a Kubernetes 1.30+ API server answers a write that deploy/admission-policy.yaml refuses. */
function admissionPolicyInForce(kube: KubeApiEmulator) {
  kube.injectFault({
    method: 'POST',
    path: '/api/v1/namespaces',
    status: 403,
    message:
      'namespaces "kube-slipway-doctor" is forbidden: ValidatingAdmissionPolicy \'slipway-managed-namespaces-only\' with binding \'slipway-managed-namespaces-only\' denied request: Slipway may not write to namespace "kube-slipway-doctor": kube-*, default and the reserved names are off limits',
  });
}

test('doctor is all green when Slack, the channels and the cluster are set up', async (t) => {
  const { env, kube } = await setUp(t, true);
  admissionPolicyInForce(kube);
  const out = await doctor(env);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /^AREA\s+CHECK\s+RESULT\s+DETAIL/);
  assert.match(out.stdout, /slack\s+auth\.test\s+✔ ok\s+signed in as/);
  assert.match(out.stdout, /slack\s+scopes\s+✔ ok/);
  assert.match(out.stdout, /slack\s+approvals channel\s+✔ ok\s+#platform-approvals exists and the bot is in it/);
  assert.match(out.stdout, /cluster dev-eu\s+API server\s+✔ ok\s+reachable, Kubernetes v1\./);
  assert.match(out.stdout, /cluster dev-eu\s+RBAC\s+✔ ok\s+all 44 permissions Slipway needs are granted/);
  assert.match(
    out.stdout,
    /cluster dev-eu\s+admission policy\s+✔ ok\s+deploy\/admission-policy\.yaml is in force: it refused namespace "kube-slipway-doctor" \(dry run\)/,
  );
  assert.match(out.stdout, /All checks passed\.$/m);
  assert.doesNotMatch(out.stdout, /FAIL/);
  assert.deepEqual(
    kube
      .list('namespaces')
      .map((n) => n.metadata?.name)
      .filter((n) => n?.startsWith('kube-slipway')),
    [],
    'the probe stored nothing',
  );
});

test('doctor warns when the admission policy is not in force, and when the cluster is too old for it', async (t) => {
  const current = await setUp(t, true);
  const out = await doctor(current.env);
  assert.equal(out.code, 0, 'a warning does not fail doctor');
  assert.match(
    out.stdout,
    /cluster dev-eu\s+admission policy\s+! warn\s+deploy\/admission-policy\.yaml is not in force: apply it; until then Slipway's identity can write into any namespace, kube-system included/,
  );
  const dryRuns = current.kube.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces');
  assert.equal(dryRuns.length, 1);
  assert.equal(current.kube.get('namespaces', 'kube-slipway-doctor'), undefined, 'a dry run stores nothing');

  const old = await setUp(t, true, 'v1.20.2');
  const outOld = await doctor(old.env);
  assert.match(
    outOld.stdout,
    /cluster dev-eu\s+admission policy\s+! warn\s+Kubernetes v1\.20\.2 cannot enforce deploy\/admission-policy\.yaml \(it needs 1\.30\): Slipway's identity can write into any namespace/,
  );
});

test('doctor names a missing permission and a channel the bot is not in, and exits non-zero', async (t) => {
  const { env, kube } = await setUp(t, false);
  kube.deny({ verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' });
  kube.deny({ verb: 'list', resource: 'pods' });
  kube.deny({ verb: 'delete', resource: 'namespaces' });
  const out = await doctor(env);
  assert.equal(out.code, 1);
  assert.match(out.stdout, /slack\s+approvals channel\s+✘ FAIL\s+#platform-approvals exists but the bot is not in it: \/invite the bot there/);
  assert.match(
    out.stdout,
    /cluster dev-eu\s+RBAC\s+✘ FAIL\s+missing: bind clusterroles\.rbac\.authorization\.k8s\.io "edit" \(to bind teams to ClusterRole edit\); see deploy\/rbac\.yaml/,
  );
  assert.match(out.stdout, /cluster dev-eu\s+RBAC\s+✘ FAIL\s+missing: list pods \(to see which namespaces run workloads\)/);
  assert.match(
    out.stdout,
    /cluster dev-eu\s+RBAC\s+✘ FAIL\s+missing: delete namespaces \(to delete the namespaces Slipway made, when they are no longer wanted\)/,
  );
  assert.match(
    out.stdout,
    /cluster dev-eu\s+RBAC\s+✘ FAIL\s+missing: bind clusterroles\.rbac\.authorization\.k8s\.io "view" \(to bind teams to ClusterRole view\)/,
  );
  assert.match(out.stdout, /5 check\(s\) failed/);
});

test('doctor says when the cluster does not answer or the token is refused', async (t) => {
  const { env, kube } = await setUp(t, true);
  await kube.close();
  const out = await doctor({ ...env, SLACK_BOT_TOKEN: 'xoxb-wrong' });
  assert.equal(out.code, 1);
  assert.match(out.stdout, /slack\s+auth\.test\s+✘ FAIL\s+Slack rejected SLACK_BOT_TOKEN: invalid_auth/);
  assert.match(out.stdout, /cluster dev-eu\s+API server\s+✘ FAIL\s+Could not reach cluster "dev-eu"/);
});

test('doctor asks about each object Slipway writes by name, as RBAC grants them', async (t) => {
  const { env, kube } = await setUp(t, true);
  // RBAC that grants network policies by name answers for each name; one name not granted.
  kube.deny({ verb: 'create', resource: 'networkpolicies', group: 'networking.k8s.io', name: 'allow-dns-egress' });
  const out = await doctor(env);
  assert.equal(out.code, 1, out.stdout);
  assert.match(
    out.stdout,
    /cluster dev-eu\s+RBAC\s+✘ FAIL\s+missing: create networkpolicies\.networking\.k8s\.io "allow-dns-egress" \(to create network policies \(server-side apply\)\); see deploy\/rbac\.yaml/,
  );
  assert.match(out.stdout, /1 check\(s\) failed/);
});

test('deploy/rbac.yaml grants exactly the permissions the workflows need, no wildcard, and delete only on namespaces and named access bindings', async () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/rbac.yaml'), 'utf8')).map(
    (d) => d.toJS() as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] },
  );
  const rules = docs.find((d) => d.kind === 'ClusterRole')?.rules ?? [];
  for (const rule of rules) {
    assert.ok(![...rule.apiGroups, ...rule.resources, ...rule.verbs].includes('*'), 'no wildcards');
    assert.ok(!rule.verbs.some((v) => ['escalate', 'impersonate', 'deletecollection'].includes(v)), `no dangerous verbs: ${rule.verbs.join(',')}`);
    if (rule.verbs.includes('delete')) {
      const namespaces = rule.apiGroups.join() === '' && rule.resources.join() === 'namespaces';
      const accessBindings =
        rule.resources.join() === 'rolebindings' && rule.resourceNames !== undefined && rule.resourceNames.every((n) => n.startsWith('slipway-access-'));
      assert.ok(namespaces || accessBindings, `only namespaces and other teams' access bindings are deleted: ${JSON.stringify(rule)}`);
    }
    // Only namespaces (named by requests) may be written without naming the objects.
    if (rule.verbs.some((v) => ['create', 'patch', 'update'].includes(v)) && !rule.resources.every((r) => r === 'namespaces')) {
      assert.ok(rule.resourceNames && rule.resourceNames.length > 0, `${rule.resources.join(',')} are granted by name`);
    }
  }
  const required = requiredPermissions(exampleConfig());
  // Nothing more: each verb on each resource (and name) in the ClusterRole is one Slipway uses.
  for (const rule of rules) {
    for (const [group, resource, verb, name] of rule.apiGroups.flatMap((g) =>
      rule.resources.flatMap((r) => rule.verbs.flatMap((v) => (rule.resourceNames ?? [undefined]).map((n) => [g, r, v, n] as const))),
    )) {
      const used = required.some((p) => p.group === group && p.resource === resource && p.verb === verb && (name === undefined || p.name === name));
      assert.ok(used, `deploy/rbac.yaml grants ${verb} ${resource}${name ? ` ${name}` : ''}, which no workflow needs`);
    }
  }
  for (const p of required) {
    const granted = rules.some(
      (r) =>
        r.apiGroups.includes(p.group) &&
        r.resources.includes(p.resource) &&
        r.verbs.includes(p.verb) &&
        (!r.resourceNames || (p.name !== undefined && r.resourceNames.includes(p.name))),
    );
    assert.ok(granted, `deploy/rbac.yaml grants ${p.verb} ${p.resource}${p.name ? ` ${p.name}` : ''}`);
  }
});

test('doctor names the database and whether its migrations are applied, changing nothing, and never shows a password', async (t) => {
  const { env } = await setUp(t, true);
  const before = await doctor(env);
  assert.match(before.stdout, new RegExp(`database\\s+engine\\s+✔ ok\\s+SQLite file ${env.DATABASE_PATH}`));
  assert.match(before.stdout, /database\s+migrations\s+! warn\s+the file does not exist yet: Slipway makes it and applies the migrations when it starts/);
  assert.ok(!existsSync(env.DATABASE_PATH), 'doctor made no database');
  await (await Store.open(env.DATABASE_PATH)).close();
  const after = await doctor(env);
  assert.match(after.stdout, /database\s+migrations\s+✔ ok\s+all \d+ applied/);

  const postgres = await startPostgres();
  let running = true;
  t.after(() => running && postgres.stop());
  const url = `postgres://slipway:s3cret-pw@127.0.0.1:${postgres.port}/slipway`;
  // Replicas on PostgreSQL share one survey key from the environment (src/env.ts).
  const onPostgres = { ...env, DATABASE_URL: url, SLIPWAY_SURVEY_KEY: Buffer.alloc(32, 7).toString('base64') };
  const fresh = await doctor(onPostgres);
  assert.match(
    fresh.stdout,
    new RegExp(`database\\s+engine\\s+✔ ok\\s+PostgreSQL database slipway on 127\\.0\\.0\\.1:${postgres.port} as slipway \\(password hidden\\)`),
  );
  assert.match(
    fresh.stdout,
    /database\s+migrations\s+! warn\s+\d+ not applied yet \(0001_init\.sql, .*\): Slipway applies them when it starts, or run slipway migrate/,
  );
  await (await Store.open(url)).close();
  const migrated = await doctor(onPostgres);
  assert.match(migrated.stdout, /database\s+migrations\s+✔ ok\s+all \d+ applied/);
  postgres.stop();
  running = false;
  const down = await doctor(onPostgres);
  assert.equal(down.code, 1);
  assert.match(down.stdout, /database\s+migrations\s+✘ FAIL\s+could not read it: /);
  for (const out of [fresh, migrated, down]) assert.ok(!(out.stdout + out.stderr).includes('s3cret-pw'), 'the password is not shown');
});

test('with leader election on, doctor checks that Slipway may read, renew and create its Lease, and names the file that grants it', async (t) => {
  const { env, kube, dir, doc } = await setUp(t, true);
  admissionPolicyInForce(kube);
  doc.leaderElection = { enabled: true, cluster: 'dev-eu', namespace: 'slipway' };
  const on = { ...env, SLIPWAY_CONFIG: writeConfig(dir, doc) };
  const granted = await doctor(on);
  assert.equal(granted.code, 0, granted.stdout);
  assert.match(granted.stdout, /leader election\s+Lease RBAC\s+✔ ok\s+may read, renew and create Lease slipway\/slipway-leader on cluster dev-eu/);
  const reviews = kube.requests.filter((r) => r.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
  assert.ok(reviews.length > 0);

  kube.deny({ verb: 'update', resource: 'leases', group: 'coordination.k8s.io', namespace: 'slipway', name: 'slipway-leader' });
  kube.deny({ verb: 'create', resource: 'leases', group: 'coordination.k8s.io', namespace: 'slipway' });
  const denied = await doctor(on);
  assert.equal(denied.code, 1);
  assert.match(
    denied.stdout,
    /leader election\s+Lease RBAC\s+✘ FAIL\s+missing: update leases\.coordination\.k8s\.io "slipway-leader" in namespace slipway \(to renew the Lease, and take it over from a leader that stopped renewing\); see deploy\/overlays\/ha\/leader-election-rbac\.yaml/,
  );
  assert.match(
    denied.stdout,
    /leader election\s+Lease RBAC\s+✘ FAIL\s+missing: create leases\.coordination\.k8s\.io in namespace slipway \(to create the Lease when there is none yet\); see deploy\/overlays\/ha\/leader-election-rbac\.yaml/,
  );
  assert.doesNotMatch(denied.stdout, /missing: get leases/);
  assert.match(denied.stdout, /2 check\(s\) failed/);

  // Without a named cluster the Lease is on the pods' own cluster, which doctor reaches only from a pod.
  doc.leaderElection = { enabled: true };
  const outside = await doctor({ ...env, SLIPWAY_CONFIG: writeConfig(dir, doc), POD_NAMESPACE: 'slipway' });
  assert.match(
    outside.stdout,
    /leader election\s+Lease RBAC\s+! warn\s+the Lease is on the cluster Slipway's pods run in \(leaderElection\.cluster is not set\)/,
  );
  assert.doesNotMatch(granted.stdout + outside.stdout, /FAIL/);
});

test('with leader election off, doctor asks nothing about Leases', async (t) => {
  const { env, kube } = await setUp(t, true);
  const out = await doctor(env);
  assert.doesNotMatch(out.stdout, /leader election/);
  const reviewed = kube.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/selfsubjectaccessreviews')).map((r) => JSON.stringify(r.body ?? ''));
  assert.ok(!reviewed.some((b) => b.includes('leases')));
});
