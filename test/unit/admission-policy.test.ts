/**
 * deploy/admission-policy.yaml evaluated as a kube-apiserver (>= 1.30) would evaluate it: the
 * binding's policy, its matchConstraints, matchConditions, variables in order, then each
 * validation's CEL expression, against admission requests shaped like the real AdmissionRequest.
 * The CEL is run by an independent CEL implementation, so a typo or a wrong field path fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { evaluate } from '@marcbachmann/cel-js';
import { parseAllDocuments } from 'yaml';
import { buildGoldenPath, goldenPathObjects } from '../../src/cluster/manifests.ts';
import { exampleConfig } from '../support/config.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
}
interface Named {
  name: string;
  expression: string;
}
interface Validation {
  expression: string;
  messageExpression?: string;
  reason?: string;
}
interface Policy {
  kind: 'ValidatingAdmissionPolicy';
  apiVersion: string;
  metadata: { name: string };
  spec: {
    failurePolicy: string;
    matchConstraints: { resourceRules: ResourceRule[] };
    matchConditions: Named[];
    variables: Named[];
    validations: Validation[];
  };
}
interface Binding {
  kind: 'ValidatingAdmissionPolicyBinding';
  apiVersion: string;
  spec: { policyName: string; validationActions: string[] };
}

const docs = parseAllDocuments(readFileSync(`${ROOT}deploy/admission-policy.yaml`, 'utf8')).map((d) => d.toJS() as Policy | Binding);
const policy = docs.find((d): d is Policy => d.kind === 'ValidatingAdmissionPolicy');
const binding = docs.find((d): d is Binding => d.kind === 'ValidatingAdmissionPolicyBinding');

type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;
type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

const BOT = { username: 'slipway-bot', groups: ['slipway', 'system:authenticated'] };
const SERVICE_ACCOUNT = {
  username: 'system:serviceaccount:slipway:slipway',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:slipway', 'system:authenticated'],
};
const ADMIN = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

const RESOURCES: Record<string, { group: string; resource: string }> = {
  Namespace: { group: '', resource: 'namespaces' },
  ResourceQuota: { group: '', resource: 'resourcequotas' },
  LimitRange: { group: '', resource: 'limitranges' },
  NetworkPolicy: { group: 'networking.k8s.io', resource: 'networkpolicies' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
};

const labelled = (name: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'slipway', 'kubernetes.io/metadata.name': name } },
});
const unlabelled = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
const rolebinding = (namespace: string): Obj => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'slipway-team-access', namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'payments' }],
});

interface Attempt {
  user: { username: string; groups?: string[] };
  operation: Operation;
  /** The object after the change (CREATE, UPDATE). */
  object?: Obj;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: Obj;
  /** The namespace the object lives in, as the server has it (namespaced kinds only). */
  namespace?: Obj;
}

type Verdict = { allowed: true; matched: boolean } | { allowed: false; message: string; reason: string | undefined };

/** What the API server's admission step decides for one write, with this policy and binding. */
function admit(attempt: Attempt): Verdict {
  assert.ok(policy && binding);
  const subject = attempt.object ?? attempt.oldObject;
  assert.ok(subject?.kind && subject.metadata?.name);
  const gr = RESOURCES[subject.kind];
  assert.ok(gr, `no resource for ${subject.kind}`);
  const version = (subject.apiVersion ?? 'v1').split('/').pop() ?? 'v1';
  const namespace = gr.resource === 'namespaces' ? '' : (subject.metadata.namespace ?? '');
  const request = {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: { group: gr.group, version, kind: subject.kind },
    resource: { group: gr.group, version, resource: gr.resource },
    requestKind: { group: gr.group, version, kind: subject.kind },
    requestResource: { group: gr.group, version, resource: gr.resource },
    name: subject.metadata.name,
    namespace,
    operation: attempt.operation,
    userInfo: attempt.user,
    dryRun: false,
  };
  const inScope = policy.spec.matchConstraints.resourceRules.some(
    (r) =>
      r.apiGroups.includes(gr.group) &&
      (r.apiVersions.includes('*') || r.apiVersions.includes(version)) &&
      r.operations.includes(attempt.operation) &&
      r.resources.includes(gr.resource),
  );
  if (!inScope) return { allowed: true, matched: false };
  const context: Record<string, unknown> = {
    request,
    object: attempt.object ?? null,
    oldObject: attempt.oldObject ?? null,
    namespaceObject: gr.resource === 'namespaces' ? null : (attempt.namespace ?? null),
    params: null,
  };
  if (!policy.spec.matchConditions.every((c) => evaluate(c.expression, context) === true)) return { allowed: true, matched: false };
  const variables: Record<string, unknown> = {};
  context.variables = variables;
  for (const v of policy.spec.variables) variables[v.name] = evaluate(v.expression, context);
  for (const v of policy.spec.validations) {
    const result = evaluate(v.expression, context);
    assert.equal(typeof result, 'boolean', `${v.expression} evaluates to a bool`);
    if (result !== true) {
      const message = v.messageExpression ? evaluate(v.messageExpression, context) : v.expression;
      assert.equal(typeof message, 'string');
      return { allowed: false, message: String(message), reason: v.reason };
    }
  }
  return { allowed: true, matched: true };
}

function assertDenied(verdict: Verdict, pattern: RegExp) {
  assert.equal(verdict.allowed, false, 'denied');
  if (!verdict.allowed) {
    assert.match(verdict.message, pattern);
    assert.equal(verdict.reason, 'Forbidden');
  }
}

test('the binding puts the policy in force with Deny, and a failing evaluation refuses the write', async () => {
  assert.ok(policy && binding, 'deploy/admission-policy.yaml holds a ValidatingAdmissionPolicy and its binding');
  assert.equal(policy.apiVersion, 'admissionregistration.k8s.io/v1');
  assert.equal(binding.apiVersion, 'admissionregistration.k8s.io/v1');
  assert.equal(binding.spec.policyName, policy.metadata.name);
  assert.deepEqual(binding.spec.validationActions, ['Deny']);
  assert.equal(policy.spec.failurePolicy, 'Fail');
});

test("Slipway's identity cannot create or delete kube-system, default or a reserved namespace, even labelled", async () => {
  for (const name of ['kube-system', 'kube-public', 'kube-node-lease', 'kube-anything', 'default', 'slipway']) {
    for (const attempt of [
      { operation: 'CREATE', object: labelled(name) },
      { operation: 'DELETE', oldObject: labelled(name) },
    ] as const) {
      assertDenied(admit({ user: BOT, ...attempt }), new RegExp(`namespace "${name}": kube-\\*, default and the reserved names`));
    }
  }
});

test("Slipway's identity cannot take over, release or delete a namespace that is not labelled as Slipway's", async () => {
  assertDenied(
    admit({ user: BOT, operation: 'UPDATE', oldObject: unlabelled('legacy-app'), object: labelled('legacy-app') }),
    /only create, change or delete namespaces labelled app\.kubernetes\.io\/managed-by=slipway, and "legacy-app"/,
  );
  assertDenied(admit({ user: BOT, operation: 'UPDATE', oldObject: unlabelled('team-x'), object: unlabelled('team-x') }), /"team-x" is not/);
  assertDenied(admit({ user: BOT, operation: 'CREATE', object: unlabelled('payments-dev') }), /"payments-dev" is not/);
  assertDenied(admit({ user: BOT, operation: 'UPDATE', oldObject: labelled('payments-dev'), object: unlabelled('payments-dev') }), /would not stay/);
  assertDenied(
    admit({ user: BOT, operation: 'DELETE', oldObject: unlabelled('observability') }),
    /^Slipway may only create, change or delete namespaces labelled app\.kubernetes\.io\/managed-by=slipway, and "observability" is not/,
  );
  assertDenied(admit({ user: SERVICE_ACCOUNT, operation: 'DELETE', oldObject: unlabelled('team-x') }), /"team-x" is not/);
  assertDenied(admit({ user: SERVICE_ACCOUNT, operation: 'UPDATE', oldObject: unlabelled('team-x'), object: labelled('team-x') }), /"team-x" is not/);
});

test("Slipway's identity cannot write quotas, network policies or RoleBindings outside its namespaces", async () => {
  assertDenied(admit({ user: BOT, operation: 'CREATE', object: rolebinding('kube-system'), namespace: labelled('kube-system') }), /namespace "kube-system"/);
  assertDenied(
    admit({ user: BOT, operation: 'CREATE', object: rolebinding('legacy-app'), namespace: unlabelled('legacy-app') }),
    /only write rolebindings in namespaces labelled app\.kubernetes\.io\/managed-by=slipway, and "legacy-app" is not/,
  );
  const quota: Obj = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'slipway-quota', namespace: 'observability' },
    spec: { hard: { pods: '1' } },
  };
  assertDenied(admit({ user: BOT, operation: 'UPDATE', object: quota, oldObject: quota, namespace: unlabelled('observability') }), /only write resourcequotas/);
  const netpol: Obj = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-all-egress', namespace: 'observability' },
    spec: {},
  };
  assertDenied(admit({ user: SERVICE_ACCOUNT, operation: 'CREATE', object: netpol, namespace: unlabelled('observability') }), /only write networkpolicies/);
});

test('everything Slipway applies for a request, and deleting its own namespace later, is allowed', async () => {
  const config = exampleConfig();
  const path = buildGoldenPath(config, { namespace: 'payments-dev', team: 'payments', environment: 'dev', tier: 'small', requestId: 7, requester: 'U0DEV' });
  const namespace = path.namespace as Obj;
  for (const object of goldenPathObjects(path) as Obj[]) {
    const created = admit({ user: BOT, operation: 'CREATE', object, ...(object.kind === 'Namespace' ? {} : { namespace }) });
    assert.deepEqual(created, { allowed: true, matched: true }, `create ${object.kind}/${object.metadata?.name}`);
    const updated = admit({ user: BOT, operation: 'UPDATE', object, oldObject: object, ...(object.kind === 'Namespace' ? {} : { namespace }) });
    assert.deepEqual(updated, { allowed: true, matched: true }, `update ${object.kind}/${object.metadata?.name}`);
  }
  assert.deepEqual(admit({ user: BOT, operation: 'CREATE', object: rolebinding('payments-dev'), namespace: labelled('payments-dev') }), {
    allowed: true,
    matched: true,
  });
  assert.deepEqual(admit({ user: BOT, operation: 'DELETE', oldObject: labelled('payments-dev') }), { allowed: true, matched: true });
});

test("the policy reserves the example config's reserved and platform namespaces", async () => {
  assert.ok(policy);
  const expression = policy.spec.variables.find((v) => v.name === 'reserved')?.expression ?? '[]';
  const reserved = evaluate(expression) as string[];
  const { namespaces } = exampleConfig();
  for (const name of [...namespaces.reserved, ...namespaces.allowFromNamespaces, 'default', 'slipway']) {
    assert.ok(reserved.includes(name), `${name} is reserved in deploy/admission-policy.yaml`);
    assertDenied(admit({ user: BOT, operation: 'CREATE', object: labelled(name) }), new RegExp(`namespace "${name}"`));
  }
});

test('other identities and other kinds are not matched: the policy limits Slipway only', async () => {
  assert.deepEqual(admit({ user: ADMIN, operation: 'CREATE', object: rolebinding('kube-system'), namespace: unlabelled('kube-system') }), {
    allowed: true,
    matched: false,
  });
  assert.deepEqual(admit({ user: { username: 'alice' }, operation: 'UPDATE', oldObject: unlabelled('team-x'), object: unlabelled('team-x') }), {
    allowed: true,
    matched: false,
  });
  // RBAC, not this policy, keeps Slipway from cluster-wide bindings (rbac.yaml grants none).
  const crb: Obj = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } };
  assert.deepEqual(admit({ user: BOT, operation: 'CREATE', object: crb }), { allowed: true, matched: false });
});
