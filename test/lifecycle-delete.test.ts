import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import Database from 'better-sqlite3';
import type { NamespaceRequest } from '../src/domain/requests.ts';
import { ACTION, BLOCK, CALLBACK, HOME } from '../src/slack/ids.ts';
import { refreshUsage } from '../src/workflows/adoption/usage.ts';
import { announceDeletions, deleteExpired } from '../src/workflows/lifecycle/delete.ts';
import { setUpBotProcesses, type BotProcess } from './support/bot-process.ts';
import { FakeAccessEntries } from './support/eks-access-entries.ts';
import { clickHome, openHome, publishedHome } from './support/namespaces.ts';
import { EDIT, ROLE, startEksHarness } from './support/eks-harness.ts';
import { APPROVALS, buttons, DEV_CHANNEL, PEOPLE, readable, SIGNING_SECRET, startHarness, type Harness, type HarnessOptions } from './support/harness.ts';
import { sendSlashCommand, sendViewSubmission, valuesFor, type Answer } from '../src/playground/slack-requests.ts';
import { waitFor } from './support/wait.ts';
import { deleteForm, openedForm, readyNamespace, replies } from './support/lifecycle.ts';

const events = async (h: Harness, requestId: number, type: string) => (await h.slipway.deps.store.eventsFor(requestId)).filter((e) => e.type === type);
const thread = (h: Harness, request: NamespaceRequest) => h.slack.thread(APPROVALS, request.card?.ts ?? '').map(readable);
const deletedDm = (h: Harness, user: string) => h.slack.dmWith(user).find((m) => /is deleted/.test(m.text));

test('the owner deletes a dev namespace at once after typing its name; a wrong name is refused in the form', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  assert.ok(h.kube.get('namespaces', 'payments-dev'));

  const form = await deleteForm(h, PEOPLE.dev, 'payments-dev');
  assert.match(readable(form as never), /Policy lets owners delete these namespaces \(environment dev or staging\)/);
  // Slack writes "(optional)" after the label of an optional input itself.
  const reason = form.blocks.find((b) => b.block_id === BLOCK.deleteReason) as { label: { text: string }; optional: boolean } | undefined;
  assert.deepEqual([reason?.label.text, reason?.optional], ['Why?', true]);
  const wrong = await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-prod', [BLOCK.deleteReason]: null });
  assert.deepEqual(wrong.body, {
    response_action: 'errors',
    errors: { [BLOCK.deleteConfirm]: 'That is not the name. Type payments-dev exactly to confirm.' },
  });
  assert.ok(h.kube.get('namespaces', 'payments-dev'), 'nothing is deleted for a wrong name');
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.state, 'active');

  const right = await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: 'Experiments are over' });
  assert.equal(right.body, '', 'the form closes');

  const dm = await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  await h.waitFor('the event', async () => (await events(h, request.id, 'namespace_deleted'))[0]);
  assert.match(readable(dm), /Your namespace `payments-dev` on \*Dev \(eu-west-1\)\* \(\*R-1\*\) is deleted, as <@U0DEV> asked\n>Experiments are over/);
  assert.equal(h.kube.get('namespaces', 'payments-dev'), undefined, 'the namespace is gone from the cluster');
  const run = await h.slipway.deps.store.latestRun(request.id);
  assert.equal(run?.kind, 'delete');
  assert.deepEqual(
    run.steps.map((s) => [s.name, s.status]),
    [
      ['delete-namespace', 'done'],
      ['wait-until-gone', 'done'],
    ],
  );
  const ns = await h.slipway.deps.store.lifecycle.get(request.id);
  assert.equal(ns?.state, 'deleted');
  assert.deepEqual(await h.slipway.deps.store.lifecycle.findByName('payments-dev'), [], 'the name is free again');

  const story = await h.waitFor('the outcome in the thread', () => thread(h, request).some((m) => m.startsWith('🗑️ Deleted')) && thread(h, request));
  assert.ok(
    story.some((m) => /<@U0DEV> is deleting `payments-dev`\.\n>Experiments are over/.test(m)),
    story.join('\n---\n'),
  );
  assert.ok(story.some((m) => /🗑️ Deleted `payments-dev` from Dev \(eu-west-1\); its name is free again\.\n✅ Delete namespace/.test(m)));
  // Recorded just after the owner's DM went out.
  await h.waitFor('the deletion event', async () => (await events(h, request.id, 'namespace_deleted'))[0]);
  // The usage refresh sees it gone, but Slipway deleted it: not counted as deleted outside Slipway.
  const refresh = await refreshUsage(h.slipway.deps, new Date());
  assert.deepEqual(refresh.deleted, []);
  assert.deepEqual(
    (await events(h, request.id, 'namespace_deleted')).map((e) => e.data.outsideSlipway),
    [false],
  );
  const [asked] = await events(h, request.id, 'delete_requested');
  assert.deepEqual(asked?.data, { namespace: 'payments-dev', cluster: 'dev-eu', reason: 'Experiments are over', auto: true, why: 'policy' });
  assert.equal(asked.actor, PEOPLE.dev);
  const [deleted] = await events(h, request.id, 'namespace_deleted');
  assert.equal(deleted?.actor, PEOPLE.dev);
  assert.deepEqual(deleted.data, { runId: run.id, namespace: 'payments-dev', cluster: 'dev-eu', tier: 'small', outsideSlipway: false });
});

test('a prod namespace needs an approver: the ask waits in the thread, a late click hears who decided', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'prod');

  const form = await deleteForm(h, PEOPLE.dev, 'payments-prod');
  assert.match(readable(form as never), /\*prod\* is a protected environment: an approver decides/);
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-prod', [BLOCK.deleteReason]: 'Moved to the new cluster' });

  const ask = await h.waitFor('the deletion request in the thread', () =>
    h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.includes('asks to delete')),
  );
  assert.match(readable(ask), /<@U0DEV> asks to delete `payments-prod` \(prod is protected\)\. An approver decides:\n>Moved to the new cluster/);
  assert.deepEqual(buttons(ask), [ACTION.approveDelete, ACTION.denyDelete]);
  assert.ok(h.kube.get('namespaces', 'payments-prod'), 'nothing is deleted before an approver decides');
  await h.waitFor('the owner hears what happens next', () => h.slack.dmWith(PEOPLE.dev).find((m) => /waiting for an approver/.test(m.text)));
  await h.waitFor('the owner’s Home says the deletion waits', () =>
    /🕒 Waiting for an approver in the request's thread: the deletion/.test(JSON.stringify(h.slack.homeView(PEOPLE.dev)?.blocks ?? [])),
  );

  // Asking again while one is open is answered, not opened twice.
  await h.command(PEOPLE.dev, 'delete payments-prod');
  await h.waitFor('the answer', () => replies(h).find((r) => /already asked to delete `payments-prod`/.test(r)));

  // Only approvers decide.
  await h.click(PEOPLE.mallory, ask, ACTION.approveDelete);
  await h.waitFor('the refusal', () => h.slack.ephemerals(PEOPLE.mallory).find((m) => /Only the approvers/.test(m.text)));
  assert.ok(h.kube.get('namespaces', 'payments-prod'));

  await h.click(PEOPLE.alice, ask, ACTION.approveDelete);
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  assert.equal(h.kube.get('namespaces', 'payments-prod'), undefined);
  const decided = h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.ts === ask.ts);
  assert.ok(decided);
  assert.deepEqual(buttons(decided), [], 'the buttons are gone once decided');
  assert.match(readable(decided), /✅ Approved by <@U0ALICE>/);

  await h.click(PEOPLE.bob, ask, ACTION.approveDelete);
  await h.waitFor('the late click answer', () => h.slack.ephemerals(PEOPLE.bob).find((m) => /already approved by <@U0ALICE>/.test(m.text)));
  assert.deepEqual(
    (await events(h, request.id, 'delete_decided')).map((e) => [e.actor, e.data.status]),
    [[PEOPLE.alice, 'approved']],
  );
});

test('an approver denies a deletion request and the namespace stays', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'prod');
  await deleteForm(h, PEOPLE.dev, 'payments-prod');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-prod', [BLOCK.deleteReason]: null });
  const ask = await h.waitFor('the deletion request', () => h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.includes('asks to delete')));

  await h.click(PEOPLE.bob, ask, ACTION.denyDelete);
  await h.waitFor('the denial DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => /<@U0BOB> denied deleting `payments-prod`/.test(m.text)));
  assert.ok(h.kube.get('namespaces', 'payments-prod'));
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.state, 'active');
  await h.waitFor('the owner’s Home no longer says it waits', () => {
    const home = JSON.stringify(h.slack.homeView(PEOPLE.dev)?.blocks ?? []);
    return home.includes('payments-prod') && !home.includes('Waiting for an approver');
  });
  // Denied, it may be asked again.
  await deleteForm(h, PEOPLE.dev, 'payments-prod');
});

test('only the owner or an approver may delete; a namespace Slipway did not make is refused with the reason', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');

  await h.command(PEOPLE.mallory, 'delete payments-dev');
  await h.waitFor('the refusal', () => replies(h).find((r) => /Only its owner \(<@U0DEV>\) or an approver can delete `payments-dev`/.test(r)));

  await h.command(PEOPLE.alice, 'delete kube-system');
  await h.waitFor('the refusal', () => replies(h).find((r) => /Slipway has no namespace named `kube-system`\. It deletes only namespaces it created/.test(r)));
  assert.ok(h.kube.get('namespaces', 'kube-system'));
  assert.equal(h.kube.requests.filter((r) => r.method === 'DELETE').length, 0);

  // An approver may delete someone else's namespace, at once; here the cluster's copy was
  // relabelled by someone else since, so the deletion refuses it.
  h.kube.seed([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'payments-dev', labels: { 'app.kubernetes.io/managed-by': 'helm', 'slipway.dev/request-id': 'R-1' } },
    },
  ]);
  const form = await deleteForm(h, PEOPLE.alice, 'payments-dev');
  assert.match(readable(form as never), /You are an approver/);
  await h.submit(PEOPLE.alice, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  const refused = await h.waitFor('the refusal in the thread', () => thread(h, request).find((m) => m.startsWith('🚫')));
  assert.match(
    refused,
    /Slipway did not delete `payments-dev` \(\*R-1\*\): Slipway will not delete namespace "payments-dev" on cluster "dev-eu": it is not labelled app\.kubernetes\.io\/managed-by=slipway \(it says "helm"\)/,
  );
  await h.waitFor('the owner hears it', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('🚫')));
  assert.ok(h.kube.get('namespaces', 'payments-dev'), 'the namespace is still there');
  assert.equal(h.kube.requests.filter((r) => r.method === 'DELETE').length, 0);
  assert.equal((await events(h, request.id, 'delete_refused')).length, 1);
});

test('a 403 on delete stops the run with the permission named; Retry finishes it once granted', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  const grant = h.kube.deny({ verb: 'delete', resource: 'namespaces' });

  await deleteForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  const failure = await h.waitFor('the failure', () => h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.startsWith('❌ Deleting')));
  assert.match(failure.text, /step \*delete-namespace\* failed: Slipway is not allowed to delete namespaces "payments-dev" on cluster "dev-eu"/);
  assert.deepEqual(buttons(failure), [ACTION.retry]);
  await h.waitFor('the owner hears it', () => h.slack.dmWith(PEOPLE.dev).find((m) => /hit a problem/.test(m.text)));
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.state, 'deleting');

  grant();
  await h.click(PEOPLE.alice, failure, ACTION.retry);
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  assert.ok(thread(h, request).some((m) => m.startsWith('🔁 <@U0ALICE> pressed Retry; the run continues from the failed step.')));
  assert.equal(h.kube.get('namespaces', 'payments-dev'), undefined);
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.state, 'deleted');
});

test('a namespace stuck Terminating is reported with what holds it, and Retry completes once it is freed', async (t) => {
  let now = new Date('2026-12-01T09:00:00Z');
  const clock = { now: () => now };
  const h = await startHarness(t, { clock, kube: { now: clock.now } } satisfies HarnessOptions);
  const request = await readyNamespace(h, 'dev');
  h.kube.seed([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'payments-dev', finalizers: ['example.com/backup'] } }]);

  await deleteForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the wait step', async () =>
    (await h.slipway.deps.store.latestRun(request.id))?.steps.find((s) => s.name === 'wait-until-gone' && s.status === 'running'),
  );
  assert.equal((h.kube.get('namespaces', 'payments-dev') as { status?: { phase?: string } } | undefined)?.status?.phase, 'Terminating');
  now = new Date(now.getTime() + 16 * 60_000);

  const failure = await h.waitFor('the failure', () => h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.startsWith('❌ Deleting')));
  assert.match(
    failure.text,
    /step \*wait-until-gone\* failed: Namespace "payments-dev" on cluster "dev-eu" is still Terminating after 15 minutes\. What holds it: .*example\.com\/backup in 1 resource instances/,
  );
  assert.deepEqual(buttons(failure), [ACTION.retry]);

  h.kube.removeFinalizers('configmaps', 'payments-dev', 'held');
  await h.click(PEOPLE.bob, failure, ACTION.retry);
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  assert.equal(h.kube.get('namespaces', 'payments-dev'), undefined);
  assert.deepEqual(
    (await h.slipway.deps.store.latestRun(request.id))?.steps.map((s) => [s.name, s.status, s.attempts]),
    [
      ['delete-namespace', 'done', 1],
      ['wait-until-gone', 'done', 2],
    ],
  );
});

test('Retry after freeing a stuck namespace gives the namespace controller its time again instead of failing at once', async (t) => {
  let now = new Date('2026-12-01T09:00:00Z');
  const clock = { now: () => now };
  // The controller runs only when the test says so, as a real one takes its seconds.
  const h = await startHarness(t, { clock, kube: { now: clock.now, namespaceDeletion: 'manual' } } satisfies HarnessOptions);
  const request = await readyNamespace(h, 'dev');
  await deleteForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the wait step', async () =>
    (await h.slipway.deps.store.latestRun(request.id))?.steps.find((s) => s.name === 'wait-until-gone' && s.status === 'running'),
  );
  now = new Date(now.getTime() + 16 * 60_000);
  const failure = await h.waitFor('the failure', () => h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.startsWith('❌ Deleting')));

  await h.click(PEOPLE.bob, failure, ACTION.retry);
  await h.waitFor('the retried wait', async () =>
    (await h.slipway.deps.store.latestRun(request.id))?.steps.find((s) => s.name === 'wait-until-gone' && s.status === 'running' && s.attempts === 2),
  );
  assert.equal(h.slack.thread(APPROVALS, request.card?.ts ?? '').filter((m) => m.text.startsWith('❌ Deleting')).length, 1, 'no second failure');
  h.kube.finalizeNamespace('payments-dev');
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.state, 'deleted');
});

test('at the end of its grace period an expired namespace is deleted without a form, never one in a protected environment', async (t) => {
  const h = await startHarness(t);
  const dev = await readyNamespace(h, 'dev');
  const prod = await readyNamespace(h, 'prod');
  const deps = h.slipway.deps;

  assert.equal(await deleteExpired(deps, prod.id), false);
  assert.equal((await deps.store.lifecycle.get(prod.id))?.state, 'active');
  assert.ok(h.kube.get('namespaces', 'payments-prod'));

  assert.equal(await deleteExpired(deps, dev.id), true);
  assert.equal(await deleteExpired(deps, dev.id), false, 'a second sweep starts nothing');
  const dm = await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  assert.match(dm.text, /is deleted, after its expiry date and grace period/);
  assert.equal(h.kube.get('namespaces', 'payments-dev'), undefined);
  const deleted = await h.waitFor('the event', async () => (await events(h, dev.id, 'namespace_deleted'))[0]);
  assert.equal(deleted.actor, 'expiry');
  assert.ok(thread(h, dev).some((m) => /`payments-dev` expired and its grace period is over/.test(m)));
});

test("on EKS the deleted namespace leaves the team role's access scope; the last one takes the association and the entry with it", async (t) => {
  const eks = mockClient(EKSClient);
  t.after(() => eks.restore());
  const entries = new FakeAccessEntries(eks);
  const { h, apiServer } = await startEksHarness(t, eks);
  const dev = await readyNamespace(h, 'dev', 'small', 'prod-eu');
  const staging = await readyNamespace(h, 'staging', 'small', 'prod-eu');
  assert.deepEqual(entries.scope(ROLE, EDIT), ['payments-dev', 'payments-staging']);

  await deleteForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the deletion', async () => (await h.slipway.deps.store.lifecycle.get(dev.id))?.state === 'deleted');
  assert.deepEqual(entries.scope(ROLE, EDIT), ['payments-staging'], 'the scope shrank to what is left');
  assert.equal(apiServer.get('namespaces', 'payments-dev'), undefined);
  assert.deepEqual(
    (await h.slipway.deps.store.latestRun(dev.id))?.steps.map((s) => [s.name, s.status]),
    [
      ['revoke-eks-access', 'done'],
      ['delete-namespace', 'done'],
      ['wait-until-gone', 'done'],
    ],
  );

  await deleteForm(h, PEOPLE.dev, 'payments-staging');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-staging', [BLOCK.deleteReason]: null });
  await h.waitFor('the deletion', async () => (await h.slipway.deps.store.lifecycle.get(staging.id))?.state === 'deleted');
  assert.equal(entries.scope(ROLE, EDIT), undefined, 'the association is gone');
  assert.equal(entries.entries.has(ROLE), false, 'and the access entry with nothing left in it');
  const progress = await h.waitFor('the outcome in the thread', () => thread(h, staging).find((m) => m.startsWith('🗑️ Deleted')));
  assert.match(progress, /✅ EKS: `payments-staging` leaves the scope of `AmazonEKSEditPolicy` for `arn:aws:iam::123456789012:role\/payments-developers`/);
});

test('a bot killed while a namespace is Terminating resumes the deletion after a restart, and the owner hears once', async (t) => {
  const {
    slack,
    kube,
    start,
    env: botEnv,
  } = await setUpBotProcesses(
    t,
    {
      channels: [
        { id: APPROVALS, name: 'platform-approvals', members: ['U0BOT', PEOPLE.alice, PEOPLE.dev] },
        { id: DEV_CHANNEL, name: 'payments-dev', members: [PEOPLE.dev] },
      ],
      users: [PEOPLE.dev, PEOPLE.alice].map((id) => ({ id, name: id.toLowerCase() })),
      userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [] }],
    },
    'slipway-delete-restart-',
  );
  const env = botEnv();
  const databasePath = env.DATABASE_PATH;
  const slow = <T>(what: string, check: () => T | undefined | false) => waitFor(what, check, 20_000);
  /** Types a command as the developer and answers the form it opens. */
  const form = async (bot: BotProcess, text: string, answers: Record<string, Answer>) => {
    const opened = () => slack.callsTo('views.open').filter((c) => c.ok).length;
    const before = opened();
    await sendSlashCommand(bot.baseUrl, SIGNING_SECRET, { text, userId: PEOPLE.dev, channelId: DEV_CHANNEL, triggerId: slack.issueTriggerId(PEOPLE.dev) });
    const view = await slow('the form', () => opened() > before && slack.lastViewOpened());
    await sendViewSubmission(bot.baseUrl, SIGNING_SECRET, { view, values: valuesFor(view, answers), userId: PEOPLE.dev });
  };
  const deletedDms = () => slack.dmWith(PEOPLE.dev).filter((m) => /is deleted/.test(m.text));
  const deletion = () => {
    const db = new Database(databasePath, { readonly: true });
    try {
      return db
        .prepare(
          `SELECT s.name, s.status, s.attempts, r.status AS run FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.kind = 'delete' ORDER BY s.position`,
        )
        .all();
    } finally {
      db.close();
    }
  };

  const first = await start(env);
  await form(first, 'new-namespace', {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: 'dev',
    [BLOCK.cluster]: 'dev-eu',
    [BLOCK.tier]: 'small',
    [BLOCK.purpose]: 'Survives restarts',
  });
  await slow('the ready DM', () => slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('🎉')));
  kube.seed([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'payments-dev', finalizers: ['example.com/backup'] } }]);

  await form(first, 'delete payments-dev', { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  const deleted = await slow('the DELETE', () => kube.requests.findIndex((r) => r.method === 'DELETE') + 1 || undefined);
  await slow('the wait step looking', () => kube.requests.slice(deleted).some((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/payments-dev'));
  first.child.kill('SIGKILL');
  await first.exited;
  assert.deepEqual(deletion(), [
    { name: 'delete-namespace', status: 'done', attempts: 1, run: 'running' },
    { name: 'wait-until-gone', status: 'running', attempts: 1, run: 'running' },
  ]);
  assert.equal(deletedDms().length, 0);

  kube.removeFinalizers('configmaps', 'payments-dev', 'held');
  await start(env);
  await slow('the deleted DM', () => deletedDms()[0]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(deletedDms().length, 1, 'exactly one final message');
  assert.equal(kube.get('namespaces', 'payments-dev'), undefined);
  assert.deepEqual(deletion(), [
    { name: 'delete-namespace', status: 'done', attempts: 1, run: 'done' },
    { name: 'wait-until-gone', status: 'done', attempts: 2, run: 'done' },
  ]);
  assert.equal(kube.requests.filter((r) => r.method === 'DELETE').length, 1, 'the namespace is deleted once');
});

test('Delete on the Home tab opens the same form, and the Home shows the namespace gone; a forged Delete button opens nothing', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  const home = await openHome(h, PEOPLE.dev);

  const form = await openedForm(h, CALLBACK.deleteNamespace, () => clickHome(h, PEOPLE.dev, home, HOME.delete));
  assert.match(readable(form as never), /Type payments-dev to confirm/);
  const published = h.slack.callsTo('views.publish').length;
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  const after = await publishedHome(h, PEOPLE.dev, published);
  assert.doesNotMatch(readable({ text: '', blocks: after.blocks }), /payments-dev/, 'the Home is redrawn without it');
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.state, 'deleted');

  // A button whose value is not a request id (forged), in a channel the bot is not in: Slack
  // refuses an ephemeral there, so the answer comes by DM.
  const button = [
    { type: 'actions', elements: [{ type: 'button', action_id: HOME.delete, text: { type: 'plain_text', text: 'Delete' }, value: 'payments-dev' }] },
  ];
  const ts = h.slack.seedMessage(DEV_CHANNEL, { user: 'U0BOT', text: 'Your namespaces', blocks: button });
  const forms = () => h.slack.views.filter((v) => v.view.callback_id === CALLBACK.deleteNamespace).length;
  await h.click(PEOPLE.dev, h.slack.messages(DEV_CHANNEL).find((m) => m.ts === ts) ?? assert.fail('no message'), HOME.delete);
  await h.waitFor('the answer', () => h.slack.dmWith(PEOPLE.dev).find((m) => /can't find that namespace, so nothing happened/.test(m.text)));
  assert.equal(forms(), 1, 'no second form');
});

test('without a policy.delete rule the owner asks and an approver decides, even in dev', async (t) => {
  const h = await startHarness(t, {
    configure: (doc) => {
      (doc.policy as Record<string, unknown>).delete = { autoApprove: [] };
    },
  });
  const request = await readyNamespace(h, 'dev');
  const form = await deleteForm(h, PEOPLE.dev, 'payments-dev');
  assert.match(readable(form as never), /An approver decides in the request's thread before anything is deleted/);
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the deletion request', () => thread(h, request).find((m) => /<@U0DEV> asks to delete `payments-dev`\. An approver decides/.test(m)));
  assert.ok(h.kube.get('namespaces', 'payments-dev'));

  // Its grace period ends first: the expiry deletes it, and the ask has nothing left to decide.
  assert.equal(await deleteExpired(h.slipway.deps, request.id), true);
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  const ask = h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.includes('asks to delete'));
  await h.click(PEOPLE.alice, ask ?? assert.fail('no ask'), ACTION.approveDelete);
  await h.waitFor('the answer', () =>
    h.slack.ephemerals(PEOPLE.alice).find((m) => /is being deleted at its expiry, so this request has nothing left/.test(m.text)),
  );
  assert.deepEqual(
    (await events(h, request.id, 'delete_requested')).map((e) => [e.actor, e.data.auto, e.data.why]),
    [
      [PEOPLE.dev, false, 'no-rule'],
      ['expiry', true, 'expiry'],
    ],
  );
  assert.deepEqual(await events(h, request.id, 'delete_decided'), []);
});

test('a namespace left deleting without a deletion run (the bot stopped in between) may be deleted again', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  // What a crash between the two writes leaves: the state moved, no run recorded.
  assert.ok(await h.slipway.deps.store.lifecycle.transition(request.id, 'active', 'deleting', new Date()));

  await deleteForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the deleted DM', () => deletedDm(h, PEOPLE.dev));
  assert.equal(h.kube.get('namespaces', 'payments-dev'), undefined);
});

test('a deletion recorded done whose owner was not told yet (a crash in between) is told once at the next start', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  const store = h.slipway.deps.store;
  // What a crash right after the run was recorded done leaves: no message, no event.
  const run = await store.startRun(request.id, ['delete-namespace', 'wait-until-gone'], new Date(), 'delete');
  assert.ok(run);
  assert.ok(await store.completeRun(run.id, request.id, 'done', new Date()));

  await announceDeletions(h.slipway.deps);
  await announceDeletions(h.slipway.deps);
  assert.equal(h.slack.dmWith(PEOPLE.dev).filter((m) => /is deleted/.test(m.text)).length, 1);
  assert.equal((await events(h, request.id, 'namespace_deleted')).length, 1);
});
