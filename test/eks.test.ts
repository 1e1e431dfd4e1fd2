import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import {
  AccessDeniedException,
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { KubeClusters } from '../src/cluster/client.ts';
import { EksCluster } from '../src/cluster/eks/cluster.ts';
import { parseConfig } from '../src/config.ts';
import { ClusterError } from '../src/errors.ts';
import { BLOCK } from '../src/slack/ids.ts';
import { APPROVALS, PEOPLE, readable, type Harness } from './support/harness.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from './support/config.ts';
import { FakeAccessEntries } from './support/eks-access-entries.ts';
import { clock, credentials, EDIT, ROLE, startEksHarness } from './support/eks-harness.ts';

const eks = mockClient(EKSClient);

beforeEach(() => eks.reset());
afterEach(() => eks.reset());

const eksHarness = (t: Parameters<typeof startEksHarness>[0]) => startEksHarness(t, eks);

async function requestDevNamespace(h: Harness) {
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the form', () => h.slack.views[0]);
  await h.submit(PEOPLE.dev, {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: 'dev',
    [BLOCK.cluster]: 'prod-eu',
    [BLOCK.tier]: 'small',
    [BLOCK.purpose]: 'Checkout on EKS',
  });
}

test('an EKS cluster is reached with the generated token and the team role gets namespace-scoped access', async (t) => {
  const { h, apiServer } = await eksHarness(t);
  eks
    .on(CreateAccessEntryCommand)
    .rejects(new ResourceInUseException({ message: 'The specified access entry resource is already in use on this cluster.', $metadata: {} }));
  eks.on(ListAssociatedAccessPoliciesCommand).resolves({
    associatedAccessPolicies: [{ policyArn: EDIT, accessScope: { type: 'namespace', namespaces: ['payments-old'] } }],
  });
  eks.on(AssociateAccessPolicyCommand).resolves({});

  await requestDevNamespace(h);
  const ready = await h.waitFor('the ready DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('🎉')));
  assert.match(ready.text, /aws eks update-kubeconfig --region eu-west-1 --name prod-eu/);

  assert.ok(apiServer.get('namespaces', 'payments-dev'), 'the namespace exists on the EKS API server');
  assert.ok(apiServer.requests.length > 0);
  assert.ok(
    apiServer.requests.every((r) => r.status !== 401 && r.user === 'slipway'),
    'every call carried the valid EKS token',
  );
  assert.deepEqual(
    eks.commandCalls(CreateAccessEntryCommand).map((c) => c.args[0].input),
    [{ clusterName: 'prod-eu', principalArn: ROLE, type: 'STANDARD' }],
  );
  assert.deepEqual(
    eks.commandCalls(AssociateAccessPolicyCommand).map((c) => c.args[0].input),
    [{ clusterName: 'prod-eu', principalArn: ROLE, policyArn: EDIT, accessScope: { type: 'namespace', namespaces: ['payments-old', 'payments-dev'] } }],
  );
  const card = readable(h.card());
  assert.match(
    card,
    /EKS access entry for `arn:aws:iam::123456789012:role\/payments-developers` with `AmazonEKSEditPolicy` scoped to namespace `payments-dev`/,
  );
  assert.equal((await h.slipway.deps.store.latestRun(1))?.steps.find((s) => s.name === 'eks-access')?.status, 'done');
});

test('an EKS permission the bot lacks stops the run with the IAM action named', async (t) => {
  const { h } = await eksHarness(t);
  eks.on(CreateAccessEntryCommand).resolves({});
  eks.on(ListAssociatedAccessPoliciesCommand).resolves({ associatedAccessPolicies: [] });
  eks.on(AssociateAccessPolicyCommand).rejects(
    new AccessDeniedException({
      message: 'User: arn:aws:sts::123456789012:assumed-role/slipway/x is not authorized to perform: eks:AssociateAccessPolicy',
      $metadata: { httpStatusCode: 403 },
    }),
  );

  await requestDevNamespace(h);
  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
  const failure = await h.waitFor('the failure', () => h.slack.thread(APPROVALS, card.ts).find((m) => m.text.startsWith('❌ Step')));
  assert.match(failure.text, /Step \*eks-access\* failed: .*eks:AssociateAccessPolicy/);
  assert.equal(eks.commandCalls(AssociateAccessPolicyCommand).length, 1, 'a permanent failure is not retried');
  const run = await h.slipway.deps.store.latestRun(1);
  assert.equal(run?.status, 'failed');
  assert.deepEqual(
    run.steps
      .filter((s) => s.status === 'done')
      .map((s) => s.name)
      .sort(),
    ['limit-range', 'namespace', 'network-policies', 'resource-quota', 'role-binding'],
  );
});

test("revokeNamespaceAccess takes a deleted namespace out of the team role's access on an EKS cluster only", async () => {
  const doc = exampleConfigDocument();
  doc.clusters = [...(doc.clusters as unknown[]), { name: 'prod-eu', displayName: 'Production', type: 'eks', region: 'eu-west-1', clusterName: 'prod-eu' }];
  const clusters = new KubeClusters(parseConfig(doc, EXAMPLE_CONFIG_PATH), {
    eks: (c) => new EksCluster({ clusterName: c.clusterName, region: c.region, credentials: async () => credentials, clock }),
  });
  const entries = new FakeAccessEntries(eks);
  entries.seed(ROLE, { [EDIT]: ['payments-dev', 'payments-old'] });

  const revoke = (cluster: string, namespace: string) => clusters.revokeNamespaceAccess(cluster, { principalArn: ROLE, policyArn: EDIT, namespace });
  assert.equal(
    await revoke('prod-eu', 'payments-dev'),
    `Took namespace "payments-dev" out of ${ROLE}'s AmazonEKSEditPolicy on cluster "prod-eu" (scope now: payments-old).`,
  );
  assert.match(await revoke('prod-eu', 'payments-old'), /deleted its access entry, which had nothing left\.$/);
  assert.equal(entries.entries.size, 0);
  assert.equal(await revoke('prod-eu', 'payments-old'), `${ROLE} has no access entry on cluster "prod-eu": nothing to revoke.`);
  await assert.rejects(
    revoke('dev-eu', 'payments-dev'),
    (err: unknown) => err instanceof ClusterError && /"dev-eu" is not an EKS cluster/.test(err.userMessage),
  );
});
