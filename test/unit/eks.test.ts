import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { createServer, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, test } from 'node:test';
import {
  AccessDeniedException,
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ServerException,
  ThrottlingException,
  type AssociatedAccessPolicy,
} from '@aws-sdk/client-eks';
import { CoreV1Api } from '@kubernetes/client-node';
import { mockClient } from 'aws-sdk-client-mock';
import { presignEksToken, type AwsCredentialIdentity } from '../../src/cluster/eks/token.ts';
import { selfSignedCert } from '../support/tls.ts';
import { EksCluster } from '../../src/cluster/eks/cluster.ts';
import { memoizeCredentials } from '../../src/cluster/eks/auth.ts';
import { DEFAULT_ACCESS_POLICY_ARN, ensureAccessEntry, grantNamespaceAccess } from '../../src/cluster/eks/access-entries.ts';
import { ClusterError } from '../../src/errors.ts';
import { FakeAccessEntries } from '../support/eks-access-entries.ts';

const eks = mockClient(EKSClient);
beforeEach(() => eks.reset());
afterEach(() => eks.reset());

const region = 'eu-west-1';
const clusterName = 'dev-eu';
const principalArn = 'arn:aws:iam::111122223333:role/team-payments';
const VIEW_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const credentials: AwsCredentialIdentity = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const endpoint = 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com';
const caData = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

function fakeClock(start = new Date('2026-11-26T10:00:00Z')) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

function newCluster(clock = fakeClock()) {
  return new EksCluster({ clusterName, region, credentials: async () => credentials, clock });
}

const client = () => new EKSClient({ region, credentials: async () => credentials });

function describes(overrides: { endpoint?: string; caData?: string } = {}) {
  eks.on(DescribeClusterCommand, { name: clusterName }).resolves({
    cluster: {
      name: clusterName,
      status: 'ACTIVE',
      endpoint: overrides.endpoint ?? endpoint,
      certificateAuthority: { data: overrides.caData ?? caData },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    },
  });
}

/** Asserts a permanent or transient ClusterError whose plain-words message matches. */
function clusterError(transient: boolean, ...patterns: RegExp[]) {
  return (err: unknown) => {
    assert.ok(err instanceof ClusterError, `expected ClusterError, got ${String(err)}`);
    assert.equal(err.transient, transient, `transient for: ${err.userMessage}`);
    for (const p of patterns) assert.match(err.userMessage, p);
    return true;
  };
}

// --- DescribeCluster, kubeconfig -------------------------------------------------------------

test('describe() fetches the endpoint and CA once, and again after invalidate()', async () => {
  describes();
  const cluster = newCluster();
  const [a, b] = await Promise.all([cluster.describe(), cluster.describe()]);
  assert.deepEqual(a, { endpoint, caData, authenticationMode: 'API_AND_CONFIG_MAP' });
  assert.equal(b, a);
  await cluster.describe();
  assert.equal(eks.commandCalls(DescribeClusterCommand).length, 1);
  assert.deepEqual(eks.commandCalls(DescribeClusterCommand)[0]?.args[0].input, { name: clusterName });

  cluster.invalidate();
  await cluster.describe();
  assert.equal(eks.commandCalls(DescribeClusterCommand).length, 2);
});

test('a failed describe() is not cached', async () => {
  eks
    .on(DescribeClusterCommand)
    .rejectsOnce(new ServerException({ message: 'internal', ...meta(500) }))
    .resolves({ cluster: { status: 'ACTIVE', endpoint, certificateAuthority: { data: caData } } });
  const cluster = newCluster();
  await assert.rejects(cluster.describe(), clusterError(true, /EKS API in eu-west-1 is busy or failing/));
  assert.equal((await cluster.describe()).endpoint, endpoint);
});

test('a cluster still being created has no endpoint yet: a transient error that says so', async () => {
  eks.on(DescribeClusterCommand).resolves({ cluster: { name: clusterName, status: 'CREATING' } });
  await assert.rejects(newCluster().describe(), clusterError(true, /"dev-eu" in eu-west-1 has no API endpoint yet \(status CREATING\)/));
});

test('an unknown cluster is a permanent "not found in region" error', async () => {
  eks.on(DescribeClusterCommand).rejects(new ResourceNotFoundException({ message: 'No cluster found for name: dev-eu.', ...meta(404) }));
  await assert.rejects(newCluster().describe(), clusterError(false, /^EKS cluster "dev-eu" not found in eu-west-1\. Check the cluster name and region/));
});

test('kubeConfig() points at the endpoint with the CA and signs every request with a fresh token', async () => {
  describes();
  const clock = fakeClock();
  const cluster = newCluster(clock);
  const kc = await cluster.kubeConfig();
  assert.equal(await cluster.kubeConfig(), kc, 'cached until invalidate()');

  const server = kc.getCurrentCluster();
  assert.equal(server?.server, endpoint);
  assert.equal(server?.caData, caData);
  assert.equal(server?.skipTLSVerify, false);
  assert.equal(kc.getCurrentUser()?.token, undefined, 'no static token, which would override the authenticator');

  const expected = async () => `Bearer ${(await presignEksToken({ clusterName, region, credentials, now: clock.now() })).token}`;
  // The same path client-node takes before each request: applyOptions → applyAuthorizationHeader.
  const authorization = async () => {
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    assert.ok(opts.headers && !Array.isArray(opts.headers));
    return (opts.headers as OutgoingHttpHeaders).Authorization;
  };
  const first = await authorization();
  assert.equal(first, await expected());

  clock.advance(13 * 60_000); // past expiry (14 min) minus the default 60 s refresh
  const second = await authorization();
  assert.equal(second, await expected());
  assert.notEqual(second, first);
});

test('a real CoreV1Api call over TLS to the described endpoint carries the EKS token', async (t) => {
  const tls = await selfSignedCert();
  const seen: (string | undefined)[] = [];
  const server = createServer(tls, (req, res) => {
    seen.push(req.headers.authorization);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;

  describes({ endpoint: `https://127.0.0.1:${port}`, caData: Buffer.from(tls.cert).toString('base64') });
  const clock = fakeClock();
  const cluster = newCluster(clock);
  const core = (await cluster.kubeConfig()).makeApiClient(CoreV1Api);
  const list = await core.listNamespace();
  assert.deepEqual(list.items, []);
  const token = (await presignEksToken({ clusterName, region, credentials, now: clock.now() })).token;
  assert.deepEqual(seen, [`Bearer ${token}`], 'the server saw the token; the CA from DescribeCluster was trusted');
});

test('assumed-role credentials are reused until five minutes before they expire', async () => {
  const clock = fakeClock();
  let calls = 0;
  const provider = memoizeCredentials(async () => {
    calls++;
    return { ...credentials, sessionToken: `session-${calls}`, expiration: new Date(clock.now().getTime() + 60 * 60_000) };
  }, clock);
  const [a, b] = await Promise.all([provider(), provider()]);
  assert.equal(a, b);
  assert.equal(calls, 1);
  clock.advance(55 * 60_000 - 1);
  assert.equal((await provider()).sessionToken, 'session-1');
  clock.advance(1);
  assert.equal((await provider()).sessionToken, 'session-2');
});

// --- Access entries --------------------------------------------------------------------------

test('ensureAccessEntry creates a STANDARD entry with the groups given', async () => {
  eks.on(CreateAccessEntryCommand).resolves({});
  const result = await newCluster().ensureAccessEntry({ principalArn, kubernetesGroups: ['payments-devs'] });
  assert.deepEqual(result, { created: true });
  assert.deepEqual(eks.commandCalls(CreateAccessEntryCommand)[0]?.args[0].input, {
    clusterName,
    principalArn,
    type: 'STANDARD',
    kubernetesGroups: ['payments-devs'],
  });
});

test('ensureAccessEntry accepts an entry that already exists (ResourceInUseException)', async () => {
  eks.on(CreateAccessEntryCommand).rejects(
    new ResourceInUseException({
      message: 'The specified access entry resource is already in use on this cluster.',
      ...meta(409),
    }),
  );
  assert.deepEqual(await ensureAccessEntry(client(), { clusterName, principalArn }), { created: false });
});

test('ensureAccessEntry refuses an assumed-role session ARN and names the role to use', async () => {
  await assert.rejects(
    ensureAccessEntry(client(), {
      clusterName,
      principalArn: 'arn:aws:sts::111122223333:assumed-role/team-payments/alice',
    }),
    clusterError(false, /Use the role itself: arn:aws:iam::111122223333:role\/team-payments\./),
  );
  assert.equal(eks.commandCalls(CreateAccessEntryCommand).length, 0);
});

/** Serves the principal's associations as two pages, like a real ListAssociatedAccessPolicies. */
function associations(policies: AssociatedAccessPolicy[]) {
  eks
    .on(ListAssociatedAccessPoliciesCommand, { clusterName, principalArn })
    .resolvesOnce({ clusterName, principalArn, associatedAccessPolicies: policies.slice(0, 1), nextToken: 'more' })
    .resolvesOnce({ clusterName, principalArn, associatedAccessPolicies: policies.slice(1) });
}

test('grantNamespaceAccess adds the namespace to the existing scope, keeping the others', async () => {
  associations([
    { policyArn: VIEW_POLICY, accessScope: { type: 'namespace', namespaces: ['shared'] } },
    { policyArn: DEFAULT_ACCESS_POLICY_ARN, accessScope: { type: 'namespace', namespaces: ['payments-dev', 'payments-qa'] } },
  ]);
  eks.on(AssociateAccessPolicyCommand).resolves({});

  const result = await grantNamespaceAccess(client(), { clusterName, principalArn, namespace: 'payments-perf' });

  assert.equal(eks.commandCalls(ListAssociatedAccessPoliciesCommand).length, 2, 'read every page');
  const calls = eks.commandCalls(AssociateAccessPolicyCommand);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]?.args[0].input, {
    clusterName,
    principalArn,
    policyArn: DEFAULT_ACCESS_POLICY_ARN,
    accessScope: { type: 'namespace', namespaces: ['payments-dev', 'payments-qa', 'payments-perf'] },
  });
  assert.equal(result.outcome, 'associated');
  assert.deepEqual(result.namespaces, ['payments-dev', 'payments-qa', 'payments-perf']);
});

test('grantNamespaceAccess with no association yet scopes the policy to that namespace alone', async () => {
  associations([{ policyArn: VIEW_POLICY, accessScope: { type: 'namespace', namespaces: ['shared'] } }]);
  eks.on(AssociateAccessPolicyCommand).resolves({});
  await grantNamespaceAccess(client(), { clusterName, principalArn, namespace: 'payments-dev', policyArn: DEFAULT_ACCESS_POLICY_ARN });
  assert.deepEqual(eks.commandCalls(AssociateAccessPolicyCommand)[0]?.args[0].input.accessScope, {
    type: 'namespace',
    namespaces: ['payments-dev'],
  });
});

test('grantNamespaceAccess sends nothing when the namespace is already in scope', async () => {
  associations([{ policyArn: DEFAULT_ACCESS_POLICY_ARN, accessScope: { type: 'namespace', namespaces: ['payments-dev'] } }]);
  const result = await grantNamespaceAccess(client(), { clusterName, principalArn, namespace: 'payments-dev' });
  assert.equal(result.outcome, 'already-granted');
  assert.equal(eks.commandCalls(AssociateAccessPolicyCommand).length, 0);
});

test('a cluster-wide association is left alone and the result says it covers the namespace', async () => {
  associations([{ policyArn: DEFAULT_ACCESS_POLICY_ARN, accessScope: { type: 'cluster' } }]);
  const result = await grantNamespaceAccess(client(), { clusterName, principalArn, namespace: 'payments-dev' });
  assert.equal(result.outcome, 'cluster-scoped');
  assert.match(result.summary, /AmazonEKSEditPolicy on all of cluster "dev-eu", which covers namespace "payments-dev"; left unchanged/);
  assert.equal(eks.commandCalls(AssociateAccessPolicyCommand).length, 0);
});

test('two grants at once on one EksCluster both end up in the scope', async () => {
  // EKS keeps the scope; each read returns what the last write stored.
  let stored: string[] = ['payments-dev'];
  eks.on(ListAssociatedAccessPoliciesCommand).callsFake(async () => ({
    associatedAccessPolicies: [{ policyArn: DEFAULT_ACCESS_POLICY_ARN, accessScope: { type: 'namespace', namespaces: [...stored] } }],
  }));
  eks.on(AssociateAccessPolicyCommand).callsFake(async (input: { accessScope: { namespaces: string[] } }) => {
    await new Promise((r) => setTimeout(r, 5));
    stored = input.accessScope.namespaces;
    return {};
  });
  const cluster = newCluster();
  await Promise.all([
    cluster.grantNamespaceAccess({ principalArn, namespace: 'payments-qa' }),
    cluster.grantNamespaceAccess({ principalArn, namespace: 'payments-perf' }),
  ]);
  assert.deepEqual(stored, ['payments-dev', 'payments-qa', 'payments-perf']);
});

// --- Revoking -------------------------------------------------------------------------------

const EDIT = DEFAULT_ACCESS_POLICY_ARN;
const sent = () => eks.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));

test('revokeNamespaceAccess takes the namespace out of the scope and keeps the others', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, { [EDIT]: ['payments-dev', 'payments-qa', 'payments-perf'] });
  const result = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-qa' });
  assert.equal(result.outcome, 'narrowed');
  assert.deepEqual(entries.scope(principalArn, EDIT), ['payments-dev', 'payments-perf']);
  assert.deepEqual(sent(), ['ListAssociatedAccessPolicies', 'AssociateAccessPolicy']);
  assert.equal(
    result.summary,
    `Took namespace "payments-qa" out of ${principalArn}'s AmazonEKSEditPolicy on cluster "dev-eu" (scope now: payments-dev, payments-perf).`,
  );
});

test('revoking the last namespace removes the policy, and the access entry once nothing is left in it', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, { [EDIT]: ['payments-dev'] });
  const result = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' });
  assert.equal(result.outcome, 'entry-deleted');
  assert.equal(entries.entries.has(principalArn), false);
  assert.deepEqual(sent(), ['ListAssociatedAccessPolicies', 'DisassociateAccessPolicy', 'DescribeAccessEntry', 'DeleteAccessEntry']);
  assert.match(
    result.summary,
    /^Took AmazonEKSEditPolicy \(namespace "payments-dev" was its last\) .*, and deleted its access entry, which had nothing left\.$/,
  );

  eks.resetHistory();
  const again = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' });
  assert.deepEqual([again.outcome, again.summary], ['not-granted', `${principalArn} has no access entry on cluster "dev-eu": nothing to revoke.`]);
  assert.deepEqual(sent(), ['ListAssociatedAccessPolicies'], 'a repeated run changes nothing');
});

test('an access entry with another policy or with Kubernetes groups stays when the last namespace goes', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, { [EDIT]: ['payments-dev'], [VIEW_POLICY]: ['shared'] });
  const withView = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' });
  assert.equal(withView.outcome, 'disassociated');
  assert.match(withView.summary, /its access entry stays: it still has AmazonEKSViewPolicy\.$/);
  assert.deepEqual([entries.scope(principalArn, EDIT), entries.scope(principalArn, VIEW_POLICY)], [undefined, ['shared']]);

  entries.seed(principalArn, { [EDIT]: ['payments-dev'] }, ['payments-admins']);
  const withGroups = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' });
  assert.equal(withGroups.outcome, 'disassociated');
  assert.match(withGroups.summary, /its access entry stays: it has Kubernetes groups \(payments-admins\), which Slipway does not give\.$/);
  assert.equal(entries.entries.has(principalArn), true);
  assert.equal(eks.commandCalls(DeleteAccessEntryCommand).length, 0);
});

test('a revoke interrupted after the policy went finishes by deleting the empty access entry', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, {});
  const result = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' });
  assert.equal(result.outcome, 'entry-deleted');
  assert.equal(entries.entries.has(principalArn), false);
  assert.equal(eks.commandCalls(DisassociateAccessPolicyCommand).length, 0);
});

test('revoking a namespace outside the scope, or from a cluster-wide association, changes nothing', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, { [EDIT]: ['payments-dev'] });
  assert.equal((await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-qa' })).outcome, 'not-granted');
  entries.seed(principalArn, { [EDIT]: 'cluster' });
  const cluster = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' });
  assert.equal(cluster.outcome, 'cluster-scoped');
  assert.match(cluster.summary, /has AmazonEKSEditPolicy on all of cluster "dev-eu", which Slipway did not grant; left unchanged\.$/);
  assert.equal(entries.scope(principalArn, EDIT), 'cluster');
  assert.deepEqual(sent(), ['ListAssociatedAccessPolicies', 'ListAssociatedAccessPolicies']);
});

test('if EKS merged a new scope into the old one, the namespace is still taken out', async () => {
  const entries = new FakeAccessEntries(eks, { associateMerges: true });
  entries.seed(principalArn, { [EDIT]: ['payments-dev', 'payments-qa'] });
  const result = await newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-qa' });
  assert.equal(result.outcome, 'narrowed');
  assert.deepEqual(entries.scope(principalArn, EDIT), ['payments-dev']);
  assert.deepEqual(sent(), ['ListAssociatedAccessPolicies', 'AssociateAccessPolicy', 'DisassociateAccessPolicy', 'AssociateAccessPolicy']);
});

test('a grant and a revoke at once for one role on one EksCluster leave the granted namespace in place', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, { [EDIT]: ['payments-dev'] });
  const cluster = newCluster();
  await Promise.all([
    cluster.revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' }),
    cluster.grantNamespaceAccess({ principalArn, namespace: 'payments-qa' }),
  ]);
  assert.deepEqual(entries.scope(principalArn, EDIT), ['payments-qa']);
});

test('a revoke Slipway may not make stops with the IAM action to add', async () => {
  const entries = new FakeAccessEntries(eks);
  entries.seed(principalArn, { [EDIT]: ['payments-dev'] });
  eks
    .on(DisassociateAccessPolicyCommand)
    .rejects(new AccessDeniedException({ message: 'not authorized to perform: eks:DisassociateAccessPolicy', ...meta(403) }));
  await assert.rejects(
    newCluster().revokeNamespaceAccess({ principalArn, namespace: 'payments-dev' }),
    clusterError(
      false,
      /not allowed to call eks:DisassociateAccessPolicy on cluster "dev-eu" in eu-west-1 .*Add eks:DisassociateAccessPolicy to the bot's IAM policy/,
    ),
  );
  assert.deepEqual(entries.scope(principalArn, EDIT), ['payments-dev']);
});

// --- Errors ----------------------------------------------------------------------------------

test('AccessDenied is permanent and names the denied IAM action, the principal and the cluster', async () => {
  associations([]);
  eks.on(AssociateAccessPolicyCommand).rejects(
    new AccessDeniedException({
      message: 'User: arn:aws:sts::111122223333:assumed-role/slipway/bot is not authorized to perform: eks:AssociateAccessPolicy',
      ...meta(403),
    }),
  );
  await assert.rejects(
    grantNamespaceAccess(client(), { clusterName, principalArn, namespace: 'payments-dev' }),
    clusterError(
      false,
      /^Slipway's AWS identity is not allowed to call eks:AssociateAccessPolicy on cluster "dev-eu" in eu-west-1 \(for arn:aws:iam::111122223333:role\/team-payments\)\. Add eks:AssociateAccessPolicy to the bot's IAM policy\./,
    ),
  );
});

test('a missing access entry is a permanent error that says to create it first', async () => {
  eks.on(ListAssociatedAccessPoliciesCommand).rejects(
    new ResourceNotFoundException({
      message: `The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`,
      ...meta(404),
    }),
  );
  await assert.rejects(
    grantNamespaceAccess(client(), { clusterName, principalArn, namespace: 'payments-dev' }),
    clusterError(false, /^There is no access entry for arn:aws:iam::111122223333:role\/team-payments on cluster "dev-eu" in eu-west-1/),
  );
});

test('a missing cluster on CreateAccessEntry is "not found in region"', async () => {
  eks.on(CreateAccessEntryCommand).rejects(new ResourceNotFoundException({ message: 'No cluster found for name: dev-eu.', ...meta(404) }));
  await assert.rejects(ensureAccessEntry(client(), { clusterName, principalArn }), clusterError(false, /^EKS cluster "dev-eu" not found in eu-west-1/));
});

test('throttling, server errors and network failures are transient', async () => {
  const failures: [string, Error][] = [
    ['throttling', new ThrottlingException({ message: 'Rate exceeded', ...meta(429) })],
    ['server', new ServerException({ message: 'We encountered an internal error.', ...meta(500) })],
    ['network', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ];
  for (const [label, error] of failures) {
    eks.reset();
    eks.on(CreateAccessEntryCommand).rejects(error);
    await assert.rejects(ensureAccessEntry(client(), { clusterName, principalArn }), clusterError(true), label);
  }
});

test('a 403 status keeps its status on the ClusterError', async () => {
  eks.on(DescribeClusterCommand).rejects(new AccessDeniedException({ message: 'denied', ...meta(403) }));
  await assert.rejects(newCluster().describe(), (err: unknown) => {
    assert.ok(err instanceof ClusterError);
    assert.equal(err.status, 403);
    assert.match(err.userMessage, /eks:DescribeCluster/);
    return true;
  });
});
