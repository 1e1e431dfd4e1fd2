import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_ACCESS_POLICY_ARN } from '../../src/cluster/eks/access-entries.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const policy = JSON.parse(readFileSync(`${ROOT}deploy/iam-policy.json`, 'utf8')) as { Statement: Statement[] };
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const allows = (action: string) => policy.Statement.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action));
const denies = (action: string) => policy.Statement.filter((s) => s.Effect === 'Deny' && list(s.Action).includes(action));

test('the policy allows exactly the EKS calls Slipway makes', async () => {
  // Each command the code sends, found the way a reader would: by its name in src/cluster/eks/.
  const dir = `${ROOT}src/cluster/eks/`;
  const code = readdirSync(dir)
    .map((f) => readFileSync(dir + f, 'utf8'))
    .join('\n');
  const called = [...code.matchAll(/\bnew (\w+)Command\(|\bpaginate(\w+)\(/g)].map((m) => `eks:${m[1] ?? m[2] ?? ''}`);
  const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action));
  assert.deepEqual([...new Set(allowed)].sort(), [...new Set(called)].sort());
});

test('every action is granted on named clusters and team-role access entries, not on any', async () => {
  for (const s of policy.Statement.filter((st) => st.Effect === 'Allow')) {
    for (const arn of list(s.Resource)) {
      assert.doesNotMatch(arn, /^\*$|:\*:|cluster\/\*|access-entry\/\*/, `${s.Sid}: ${arn} names the region, account and cluster`);
    }
  }
  // What changes or removes an access entry applies to the team roles' entries only, never Slipway's own.
  for (const action of ['eks:AssociateAccessPolicy', 'eks:DisassociateAccessPolicy', 'eks:DeleteAccessEntry']) {
    assert.ok(allows(action).length > 0, `${action} is allowed`);
    for (const s of allows(action)) {
      for (const arn of list(s.Resource))
        assert.match(arn, /:access-entry\/CLUSTER_NAME\/role\/ACCOUNT_ID\/TEAM_ROLE_NAME\//, `${s.Sid} is for team roles only`);
    }
  }
});

test('access entries are only for team roles, STANDARD, with no Kubernetes groups or username', async () => {
  const [create, ...more] = allows('eks:CreateAccessEntry');
  assert.ok(create && more.length === 0);
  assert.deepEqual(create.Condition?.ArnLike?.['eks:principalArn'], ['arn:aws:iam::ACCOUNT_ID:role/TEAM_ROLE_NAME']);
  assert.equal(create.Condition?.StringEquals?.['eks:accessEntryType'], 'STANDARD');
  assert.deepEqual(create.Condition?.Null, { 'eks:kubernetesGroups': 'true', 'eks:username': 'true' });
  const denied = denies('eks:CreateAccessEntry').map((s) => s.Condition?.Null);
  assert.deepEqual(denied, [{ 'eks:kubernetesGroups': 'false' }, { 'eks:username': 'false' }]);
});

test("only namespace-scoped Edit (Slipway's default) is associated, never admin, cluster scope or system namespaces", async () => {
  const [associate, ...more] = allows('eks:AssociateAccessPolicy');
  assert.ok(associate && more.length === 0);
  assert.equal(associate.Condition?.StringEquals?.['eks:accessScope'], 'namespace');
  assert.deepEqual(associate.Condition?.ArnEquals?.['eks:policyArn'], [DEFAULT_ACCESS_POLICY_ARN]);
  const deny = denies('eks:AssociateAccessPolicy');
  assert.ok(
    deny.some((s) => s.Condition?.StringNotEquals?.['eks:accessScope'] === 'namespace'),
    'cluster scope is denied',
  );
  const admin = deny.flatMap((s) => list(s.Condition?.ArnLike?.['eks:policyArn']));
  assert.ok(admin.includes('arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'));
  const namespaces = deny.flatMap((s) => list(s.Condition?.['ForAnyValue:StringLike']?.['eks:namespaces']));
  for (const name of ['kube-*', 'default', 'slipway']) assert.ok(namespaces.includes(name), `${name} is denied`);
});
