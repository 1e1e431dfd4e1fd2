import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EKSClient, ListAssociatedAccessPoliciesCommand, ServiceUnavailableException } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { DRIFT } from '../src/slack/ids.ts';
import { clickInAnswer, driftAnswer } from './support/drift.ts';
import { FakeAccessEntries } from './support/eks-access-entries.ts';
import { EDIT, ROLE, startEksHarness } from './support/eks-harness.ts';
import { APPROVALS, PEOPLE } from './support/harness.ts';
import { readyNamespace } from './support/lifecycle.ts';

const VIEW = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';

/** EKS (the real EKSClient against the access entries as EKS keeps them) behind the bot. */
async function eksBot(t: Parameters<typeof startEksHarness>[0], options: { alsoDevEu?: boolean } = {}) {
  const eks = mockClient(EKSClient);
  t.after(() => eks.restore());
  const entries = new FakeAccessEntries(eks);
  const { h } = await startEksHarness(t, eks, options);
  const listCalls = () => eks.commandCalls(ListAssociatedAccessPoliciesCommand).length;
  return { eks, entries, h, listCalls };
}

test('a namespace taken out of the access scope by hand is reported, with one EKS call per principal; Re-apply puts it back', async (t) => {
  const { entries, h, listCalls } = await eksBot(t);
  await readyNamespace(h, 'dev', 'small', 'prod-eu');
  await readyNamespace(h, 'staging', 'small', 'prod-eu');
  await readyNamespace(h, 'prod', 'small', 'prod-eu');
  assert.deepEqual(entries.scope(ROLE, EDIT), ['payments-dev', 'payments-staging', 'payments-prod']);
  // Someone narrows the scope in the console: payments-dev is out.
  entries.seed(ROLE, { [EDIT]: ['payments-staging', 'payments-prod'] });

  const before = listCalls();
  const report = await driftAnswer(h, PEOPLE.alice);
  assert.equal(listCalls() - before, 1, 'one ListAssociatedAccessPolicies for the one principal, not one per namespace');
  assert.match(report.text, /^Drift: compared 3 namespaces: 1 edited, 0 outdated \(1 difference\)\./);
  assert.match(
    report.text,
    /\n`payments-dev`\n• \*edited\* EKS access entry arn:aws:iam::123456789012:role\/payments-developers `accessScope\.namespaces`: `\["payments-staging","payments-prod"\]`, expected `\["payments-staging","payments-prod","payments-dev"\]`\n/,
  );
  assert.doesNotMatch(report.text, /set by/, 'EKS keeps no field managers: none is named');

  const preview = await clickInAnswer(h, PEOPLE.alice, report, DRIFT.reapply);
  assert.match(
    preview.text,
    /will change 1 field:\*\n• EKS access entry arn:aws:iam::123456789012:role\/payments-developers `accessScope\.namespaces`: `\["payments-staging","payments-prod"\]` → `\["payments-staging","payments-prod","payments-dev"\]`\n/,
  );
  assert.deepEqual(entries.scope(ROLE, EDIT), ['payments-staging', 'payments-prod'], 'the preview changes nothing');

  const done = await clickInAnswer(h, PEOPLE.alice, preview, DRIFT.reapplyConfirm);
  assert.match(done.text, /^✅ <@U0ALICE> re-applied the golden path to `payments-dev`/);
  assert.deepEqual(entries.scope(ROLE, EDIT), ['payments-staging', 'payments-prod', 'payments-dev'], 'the access is back');
  assert.match((await driftAnswer(h, PEOPLE.alice)).text, /^Drift: compared 3 namespaces: 0 edited, 0 outdated \(0 differences\)\./);
});

test('a deleted access entry, a disassociated policy and a cluster-wide scope are each reported; Re-apply leaves a cluster-wide scope alone', async (t) => {
  const { entries, h } = await eksBot(t);
  await readyNamespace(h, 'dev', 'small', 'prod-eu');
  const line = (answer: { text: string }) => answer.text.split('\n').find((l) => l.includes('EKS access entry'));

  entries.entries.delete(ROLE);
  assert.equal(line(await driftAnswer(h, PEOPLE.alice)), `• *edited* EKS access entry ${ROLE} \`(object)\`: \`missing\`, expected \`present\``);

  entries.seed(ROLE, { [VIEW]: ['other-team-ns'] });
  assert.equal(
    line(await driftAnswer(h, PEOPLE.alice)),
    `• *edited* EKS access entry ${ROLE} \`${EDIT}\`: \`not associated\`, expected \`namespace scope with payments-dev\``,
  );

  entries.seed(ROLE, { [EDIT]: 'cluster' });
  const report = await driftAnswer(h, PEOPLE.alice);
  assert.equal(line(report), `• *edited* EKS access entry ${ROLE} \`accessScope.type\`: \`cluster\`, expected \`namespace\``);
  const preview = await clickInAnswer(h, PEOPLE.alice, report, DRIFT.reapply);
  assert.match(preview.text, /would change nothing/);
  assert.match(preview.text, /Stays as it is, not Slipway's to take back \(Slipway does not set it\): EKS access entry .* `accessScope\.type`/);
});

test('an access policy changed in config since provisioning is outdated, and Upgrade all outdated associates the new one', async (t) => {
  const { entries, h } = await eksBot(t);
  await readyNamespace(h, 'dev', 'small', 'prod-eu');
  // As if provisioned when the team's accessPolicyArn was View: today's config says Edit.
  entries.seed(ROLE, { [VIEW]: ['payments-dev'] });

  const report = await driftAnswer(h, PEOPLE.alice);
  assert.match(report.text, /^Drift: compared 1 namespace: 0 edited, 1 outdated/);
  assert.match(
    report.text,
    new RegExp(
      `• \\*outdated\\* EKS access entry \\S+ \`${EDIT}\`: \`not associated \\(the namespace is in the scope of ${VIEW}\\)\`, expected \`namespace scope with payments-dev\``,
    ),
  );
  const started = await clickInAnswer(h, PEOPLE.alice, report, DRIFT.upgrade);
  assert.match(started.text, /^Upgrading 1 outdated namespace on prod-eu/);
  await h.waitFor('the upgrade to finish', () => h.slack.messages(APPROVALS).some((m) => /^✅/.test(m.text) && /1 of 1/.test(m.text)) || undefined);
  assert.deepEqual(entries.scope(ROLE, EDIT), ['payments-dev'], 'the configured policy now covers the namespace');
});

test('an EKS cluster whose API does not answer is reported as not answering; the other cluster is still compared', async (t) => {
  const { eks, h } = await eksBot(t, { alsoDevEu: true });
  await readyNamespace(h, 'dev', 'small', 'prod-eu');
  await readyNamespace(h, 'staging', 'small', 'dev-eu');
  eks.on(ListAssociatedAccessPoliciesCommand).rejects(new ServiceUnavailableException({ message: 'Service unavailable', $metadata: { httpStatusCode: 503 } }));

  const report = await driftAnswer(h, PEOPLE.alice);
  assert.match(report.text, /^Drift: compared 1 namespace: 0 edited, 0 outdated \(0 differences\); no answer from prod-eu\./);
  assert.match(report.text, /prod-eu did not answer: .*ListAssociatedAccessPolicies/);
});
