import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAccessBindings } from '../../src/cluster/manifests.ts';
import { parseConfig } from '../../src/config.ts';
import type { NamespaceSettings } from '../../src/domain/lifecycle.ts';
import { ConfigError } from '../../src/errors.ts';
import { quotaShortfalls } from '../../src/lib/quantity.ts';
import { changeDiff, changeRefusedForUsage, changeRequest } from '../../src/slack/lifecycle/change.ts';
import { changeAspects, decideChange, mayDecideChange, planChange, tierDirection } from '../../src/workflows/lifecycle/change.ts';
import type { NamespaceRequest } from '../../src/domain/requests.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfig, exampleConfigDocument } from '../support/config.ts';

const today: NamespaceSettings = { tier: 'medium', expiresOn: '2027-01-31', purpose: 'checkout tests', access: [{ team: 'search', role: 'view' }] };

test('a tier is smaller when it grows nothing: no quota or container maximum higher, none left out', async () => {
  const config = exampleConfig();
  assert.equal(tierDirection(config, 'medium', 'medium'), 'same');
  assert.equal(tierDirection(config, 'medium', 'small'), 'smaller');
  assert.equal(tierDirection(config, 'medium', 'large'), 'larger');
  assert.equal(tierDirection(config, 'medium', 'constructor'), 'larger', 'an unknown tier is never waved through');

  const doc = exampleConfigDocument();
  const tiers = doc.tiers as Record<string, { quota: Record<string, string> }>;
  // A "tiny" tier with lower values everywhere but no pod limit: it lifts a limit, so it is larger.
  const withoutPods = Object.fromEntries(Object.entries(tiers.small?.quota ?? {}).filter(([resource]) => resource !== 'pods'));
  tiers.tiny = { ...tiers.small, quota: { ...withoutPods, 'requests.cpu': '1' } };
  const edited = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.equal(tierDirection(edited, 'small', 'tiny'), 'larger');
  assert.equal(tierDirection(edited, 'tiny', 'small'), 'larger', 'small lowers requests.cpu but raises it from 1 to 2');
});

test('a change is split into aspects: tier, end date (none is the latest), purpose, access given or taken back', async () => {
  const config = exampleConfig();
  assert.deepEqual(changeAspects(config, today, today), []);
  assert.deepEqual(changeAspects(config, today, { ...today, tier: 'small', expiresOn: '2027-01-01' }), ['smallerTier', 'shorterExpiry']);
  assert.deepEqual(changeAspects(config, today, { ...today, tier: 'large', expiresOn: undefined, purpose: 'load tests' }), [
    'largerTier',
    'longerExpiry',
    'purpose',
  ]);
  assert.deepEqual(changeAspects(config, { ...today, expiresOn: undefined }, today), ['shorterExpiry']);
  assert.deepEqual(changeAspects(config, today, { ...today, access: [{ team: 'search', role: 'edit' }] }), ['moreAccess']);
  assert.deepEqual(changeAspects(config, today, { ...today, access: [] }), ['lessAccess']);
  assert.deepEqual(changeAspects(config, { ...today, access: [{ team: 'search', role: 'edit' }] }, today), ['lessAccess']);
  assert.deepEqual(
    changeAspects(config, today, { ...today, access: [{ team: 'payments', role: 'view' }] }),
    ['moreAccess', 'lessAccess'],
    'access moved from one team to another both gives and takes back',
  );
});

test('by default a change that only gives back needs nobody; a larger tier, more time or more access needs an approver', async () => {
  const config = exampleConfig();
  assert.deepEqual(config.policy.change.withoutApprover, ['smallerTier', 'shorterExpiry', 'purpose', 'lessAccess']);
  assert.deepEqual(decideChange(config, today, { ...today, tier: 'small', expiresOn: '2027-01-10', purpose: 'x', access: [] }).needApprover, []);
  const bigger = decideChange(config, today, { ...today, tier: 'large', access: [...today.access, { team: 'payments', role: 'edit' }] });
  assert.deepEqual(bigger, { aspects: ['largerTier', 'moreAccess'], needApprover: ['largerTier', 'moreAccess'] });
  assert.deepEqual(decideChange(config, today, { ...today, tier: 'small', expiresOn: '2027-06-01' }).needApprover, ['longerExpiry']);

  const doc = exampleConfigDocument();
  doc.policy = { change: { withoutApprover: ['largerTier'] } };
  const open = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.deepEqual(decideChange(open, today, { ...today, tier: 'large' }).needApprover, []);
  assert.deepEqual(decideChange(open, today, { ...today, tier: 'small' }).needApprover, ['smallerTier']);
});

test('policy.change names only known aspects', async () => {
  const doc = exampleConfigDocument();
  doc.policy = { change: { withoutApprover: ['biggerTier'] } };
  assert.throws(
    () => parseConfig(doc, EXAMPLE_CONFIG_PATH),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('policy.change.withoutApprover[0]')),
  );
});

test('the requester never decides their own change, approver or not', async () => {
  assert.equal(mayDecideChange('U0LEAD', 'U0DEV', true), true);
  assert.equal(mayDecideChange('U0LEAD', 'U0LEAD', true), false);
  assert.equal(mayDecideChange('U0OTHER', 'U0DEV', false), false);
});

test('the diff lists what changes, the quota values that move with the tier, and escapes the purpose', async () => {
  const config = exampleConfig();
  assert.deepEqual(changeDiff(config, today, today), []);
  assert.deepEqual(
    changeDiff(config, today, {
      tier: 'large',
      expiresOn: undefined,
      purpose: 'load <tests> & more',
      access: [
        { team: 'search', role: 'edit' },
        { team: 'payments', role: 'view' },
      ],
    }),
    [
      'tier medium → large: requests.cpu 4 → 16, requests.memory 8Gi → 32Gi, limits.cpu 8 → 32, limits.memory 16Gi → 64Gi, pods 50 → 200, persistentvolumeclaims 10 → 30, services.loadbalancers 0 → 1',
      'end date 2027-01-31 → none',
      'purpose “checkout tests” → “load &lt;tests&gt; &amp; more”',
      'access for payments none → view',
      'access for search view → edit',
    ],
  );
  assert.deepEqual(changeDiff(config, { ...today, expiresOn: undefined }, { ...today, access: [] }), [
    'end date none → 2027-01-31',
    'access for search view → none',
  ]);
});

test('usage above a smaller quota is reported per resource with how much is over', async () => {
  const hard = { 'requests.cpu': '2', 'requests.memory': '4Gi', pods: '20', 'services.loadbalancers': '0' };
  assert.deepEqual(quotaShortfalls(hard, { 'requests.cpu': '2', 'requests.memory': '1Gi', pods: '3' }), [], 'usage equal to the limit fits');
  assert.deepEqual(quotaShortfalls(hard, { 'requests.cpu': '3500m', 'requests.memory': '6Gi', pods: '3', 'limits.cpu': '9' }), [
    { resource: 'requests.cpu', used: '3500m', hard: '2', over: '1.5' },
    { resource: 'requests.memory', used: '6Gi', hard: '4Gi', over: '2Gi' },
  ]);
  assert.deepEqual(quotaShortfalls(hard, { 'services.loadbalancers': '1' }), [{ resource: 'services.loadbalancers', used: '1', hard: '0', over: '1' }]);
});

test("another team's access is a RoleBinding per team: its group with the owning team's ClusterRole, or view", async () => {
  const doc = exampleConfigDocument();
  const teams = doc.teams as Record<string, unknown>[];
  teams[0] = { ...teams[0], clusterRole: 'admin' };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  const bindings = buildAccessBindings(config, 'payments-dev', 'payments', [{ team: 'search', role: 'edit' }]);
  assert.deepEqual(bindings, [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'slipway-access-search',
        namespace: 'payments-dev',
        labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/team': 'search' },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'search-devs' }],
    },
  ]);
  assert.equal(buildAccessBindings(config, 'payments-dev', 'payments', [{ team: 'search', role: 'view' }])[0]?.roleRef.name, 'view');
  assert.throws(() => buildAccessBindings(config, 'payments-dev', 'payments', [{ team: 'constructor', role: 'view' }]), /unknown team "constructor"/);
});

const request: NamespaceRequest = {
  id: 7,
  namespace: 'payments-checkout',
  cluster: 'dev-eu',
  team: 'payments',
  environment: 'dev',
  tier: 'medium',
  purpose: 'checkout tests',
  expiresOn: '2027-01-31',
  requester: 'U0DEV',
  status: 'ready',
  autoApproved: false,
  decidedBy: 'U0LEAD',
  decidedAt: undefined,
  decisionReason: undefined,
  card: undefined,
  createdAt: '2026-12-01T09:00:00.000Z',
};

test('a plan touches only what changes: the namespace for purpose or end date, quota and limits for a tier, one binding per team', async () => {
  const config = exampleConfig();
  const nothing = planChange(config, request, today, today);
  assert.deepEqual(nothing, { checkQuota: undefined, namespace: undefined, quota: undefined, limitRange: undefined, deleteBindings: [], applyBindings: [] });

  const renamed = planChange(config, request, today, { ...today, purpose: 'load tests', expiresOn: undefined });
  assert.deepEqual(
    renamed.namespace?.metadata?.annotations,
    { 'slipway.dev/purpose': 'load tests' },
    'the end date annotation is left out, so apply removes it',
  );
  assert.equal(renamed.quota, undefined);
  assert.equal(renamed.limitRange, undefined);

  const smaller = planChange(config, request, today, { ...today, tier: 'small' });
  assert.equal(smaller.namespace, undefined);
  assert.deepEqual(smaller.quota?.spec?.hard, config.tiers.small?.quota);
  assert.deepEqual(smaller.checkQuota, config.tiers.small?.quota, 'live usage is checked against a lower quota');
  assert.ok(smaller.limitRange);
  assert.equal(planChange(config, request, today, { ...today, tier: 'large' }).checkQuota, undefined, 'a higher quota needs no check');

  const access = planChange(config, request, today, { ...today, access: [{ team: 'search', role: 'edit' }] });
  assert.deepEqual(access.deleteBindings, ['slipway-access-search'], 'a roleRef cannot change in place: the binding is made again');
  assert.deepEqual(
    access.applyBindings.map((b) => [b.metadata?.name, b.roleRef.name]),
    [['slipway-access-search', 'edit']],
  );
  assert.deepEqual(planChange(config, request, today, { ...today, access: [] }).deleteBindings, ['slipway-access-search']);
  assert.deepEqual(planChange(config, request, today, { ...today, access: [] }).applyBindings, []);
});

test('the thread shows the diff with Approve / Deny and why an approver decides; a refusal names each resource over the quota', async () => {
  const ns = { requestId: 7, namespace: 'payments-checkout', environment: 'dev' };
  const asked = changeRequest(ns, { id: 3, by: 'U0DEV', lines: ['tier medium → large: pods 50 → 200'], needApprover: ['largerTier', 'moreAccess'] });
  assert.equal(
    asked.text,
    '✏️ <@U0DEV> asks to change `payments-checkout` (dev, R-7):\n• tier medium → large: pods 50 → 200\nAn approver decides a larger tier, more access for another team (not the one who asked).',
  );
  const actions = asked.blocks.find((b) => b.type === 'actions');
  assert.deepEqual(actions?.type === 'actions' && actions.elements.map((e) => (e.type === 'button' ? [e.action_id, e.value] : [])), [
    ['change_approve', '3'],
    ['change_deny', '3'],
  ]);
  assert.equal(
    changeRefusedForUsage(ns, 'small', [{ resource: 'requests.cpu', used: '3500m', hard: '2', over: '1.5' }]).text,
    '❌ `payments-checkout` (dev, R-7) stays as it is: what runs in it uses more than the small tier allows.\n• requests.cpu: 3500m in use, 2 allowed (1.5 over)\nFree that much first, or choose a larger tier.',
  );
});
