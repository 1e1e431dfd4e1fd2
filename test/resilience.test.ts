import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { APPROVALS, buttons, DEV_CHANNEL, PEOPLE, readable, SIGNING_SECRET, REQUEST_FORM, startHarness, type Harness } from './support/harness.ts';
import { sendSlashCommand } from '../src/playground/slack-requests.ts';
import Database from 'better-sqlite3';
import { ENGINES, sqliteOf } from './support/stores.ts';

const NS = 'payments-staging';

/** Requests the staging namespace and returns the card, waiting for approval. */
async function requestCard(h: Harness, timeoutMs?: number) {
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').some((c) => c.ok));
  const reply = await h.submit(PEOPLE.dev, REQUEST_FORM);
  assert.equal(reply.body, '');
  return h.waitFor('the request card', () => h.slack.messages(APPROVALS)[0], timeoutMs);
}

const readyDm = (h: Harness) => h.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('🎉'));

function objectCounts(h: Harness) {
  return {
    namespaces: h.kube.list('namespaces').filter((n) => n.metadata?.name === NS).length,
    resourcequotas: h.kube.list('resourcequotas', NS).length,
    limitranges: h.kube.list('limitranges', NS).length,
    networkpolicies: h.kube.list('networkpolicies', NS).length,
    rolebindings: h.kube.list('rolebindings', NS).length,
  };
}

const COMPLETE = { namespaces: 1, resourcequotas: 1, limitranges: 1, networkpolicies: 5, rolebindings: 1 };

test('a run survives 30% of API requests failing with 500/503 and 429s with Retry-After', async (t) => {
  const h = await startHarness(t, {
    kube: { seed: 42 },
    configure: (doc) => {
      doc.provisioning = { maxAttempts: 12, backoffBaseMs: 100 };
    },
  });
  const card = await requestCard(h);
  const writes = /\/namespaces|\/resourcequotas|\/limitranges|\/networkpolicies|\/rolebindings/;
  h.kube.injectFault({ method: 'PATCH', path: writes, status: 429, retryAfterSeconds: 2, times: 2 });
  const errors500 = h.kube.injectFault({ path: writes, status: 500, probability: 0.15 });
  const errors503 = h.kube.injectFault({ path: writes, status: 503, probability: 0.15 });

  await h.click(PEOPLE.alice, card, ACTION.approve);
  await h.waitFor('the ready DM', () => readyDm(h)[0], 15_000);

  assert.ok(errors500.hits + errors503.hits > 0, 'faults were injected');
  assert.deepEqual(objectCounts(h), COMPLETE, 'every object exactly once');
  assert.ok(h.sleeps.filter((ms) => ms >= 2000).length >= 2, `Retry-After honoured: ${h.sleeps.join(', ')}`);
  const run = await h.slipway.deps.store.latestRun(1);
  assert.equal(run?.status, 'done');
  assert.ok(
    run.steps.some((s) => s.attempts > 1),
    'some step needed more than one attempt',
  );
  assert.equal(readyDm(h).length, 1);
});

test('a 403 on the RoleBinding stops the run at once, names the permission, and Retry continues from there', async (t) => {
  const h = await startHarness(t);
  const card = await requestCard(h);
  const undo = h.kube.deny({ verb: ['create', 'patch'], resource: 'rolebindings', group: 'rbac.authorization.k8s.io' });

  await h.click(PEOPLE.alice, card, ACTION.approve);
  const failure = await h.waitFor('the failure in the thread', () => h.slack.thread(APPROVALS, card.ts).find((m) => m.text.startsWith('❌ Step')));
  const text = readable(failure);
  assert.match(text, /Step \*role-binding\* failed: Slipway is not allowed to apply RoleBinding "slipway-team-access" in namespace "payments-staging"/);
  assert.match(text, /cannot patch resource "rolebindings" in API group "rbac\.authorization\.k8s\.io" in the namespace "payments-staging"/);
  assert.deepEqual(buttons(failure), [ACTION.retry]);
  const rolebindingCalls = () => h.kube.requests.filter((r) => r.path.includes('/rolebindings')).length;
  assert.equal(rolebindingCalls(), 1, 'no retry storm on a permanent failure');
  const step = (await h.slipway.deps.store.latestRun(1))?.steps.find((s) => s.name === 'role-binding');
  assert.equal(step?.status, 'failed');
  assert.equal(step?.attempts, 1);
  assert.ok(
    h.slack.dmWith(PEOPLE.dev).some((m) => /hit a problem/.test(m.text)),
    'the requester is told',
  );

  // A non-approver cannot retry; an approver can, once the permission is there.
  await h.click(PEOPLE.mallory, failure, ACTION.retry);
  await h.waitFor('the refusal', () => h.slack.ephemerals(PEOPLE.mallory)[0]);
  assert.equal(rolebindingCalls(), 1);
  undo();
  const namespaceWrites = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v1/namespaces/${NS}`).length;
  await h.click(PEOPLE.bob, failure, ACTION.retry);
  await h.waitFor('the ready DM', () => readyDm(h)[0]);
  assert.deepEqual(objectCounts(h), COMPLETE);
  assert.equal(
    h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/v1/namespaces/${NS}`).length,
    namespaceWrites,
    'steps already done are not repeated',
  );
  const run = await h.slipway.deps.store.latestRun(1);
  assert.equal(run?.steps.find((s) => s.name === 'role-binding')?.attempts, 2);
  assert.ok(h.slack.thread(APPROVALS, card.ts).some((m) => /<@U0BOB> pressed Retry/.test(m.text)));

  // A second Retry click on the old message changes nothing.
  await h.click(PEOPLE.alice, failure, ACTION.retry);
  const late = await h.waitFor('the answer', () => h.slack.ephemerals(PEOPLE.alice)[0]);
  assert.match(late.text, /nothing to retry/);
  assert.equal(readyDm(h).length, 1);
});

test('a redelivered slash command and a double submission create nothing twice', async (t) => {
  const h = await startHarness(t);
  const first = await h.command(PEOPLE.dev, 'new-namespace');
  assert.equal(first.status, 200);
  const view = await h.waitFor('the form', () => h.slack.views[0]?.view);

  // Slack redelivers the same submission (same view) while the first is being handled.
  const values = { ...REQUEST_FORM };
  const [a, b] = await Promise.all([h.submit(PEOPLE.dev, values, { view }), h.submit(PEOPLE.dev, values, { view, retry: { num: 1, reason: 'http_timeout' } })]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(h.slack.messages(APPROVALS).length, 1, 'one card');
  assert.equal(h.slack.dmWith(PEOPLE.dev).length, 1, 'one confirmation');
  assert.equal(await h.slipway.deps.store.getRequest(2), undefined, 'one request');
});

test('a form submitted again after its first submission was stored closes, with no error and nothing made twice', async (t) => {
  const h = await startHarness(t);
  await h.command(PEOPLE.dev, 'new-namespace');
  const view = await h.waitFor('the form', () => h.slack.views[0]?.view);
  assert.equal((await h.submit(PEOPLE.dev, REQUEST_FORM, { view })).body, '');
  await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);

  // The answer to that submission never reached the developer (its replica died as it answered),
  // so they click Submit again on the same form.
  const again = await h.submit(PEOPLE.dev, REQUEST_FORM, { view });
  assert.equal(again.status, 200);
  assert.equal(again.body, '', 'the form closes: no "already requested" for their own request');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(h.slack.messages(APPROVALS).length, 1, 'one card');
  assert.equal(await h.slipway.deps.store.getRequest(2), undefined, 'one request');
});

test('a slash command delivered twice opens one form and shows no error', async (t) => {
  const h = await startHarness(t);
  const triggerId = h.slack.issueTriggerId(PEOPLE.dev);
  const send = (retry?: { num: number; reason: 'http_timeout' }) =>
    sendSlashCommand(h.baseUrl, SIGNING_SECRET, {
      text: 'new-namespace',
      userId: PEOPLE.dev,
      channelId: DEV_CHANNEL,
      triggerId,
      responseUrl: h.slack.issueResponseUrl({ channelId: DEV_CHANNEL, userId: PEOPLE.dev }),
      ...(retry ? { retry } : {}),
    });
  assert.equal((await send()).status, 200);
  assert.equal((await send({ num: 1, reason: 'http_timeout' })).status, 200);
  await h.waitFor('both deliveries handled', () => h.slack.callsTo('views.open').length === 2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(h.slack.views.length, 1, 'one form');
  assert.equal(h.slack.responseUrlPosts.length, 0, 'no error message to the user');
});

for (const engine of ENGINES) {
  test(`two approvers clicking Approve at once, on two replicas of the bot, give one decision and one run [${engine}]`, async (t) => {
    const h = await startHarness(t, { engine });
    const replica = await h.startReplica();
    const card = await requestCard(h);
    await Promise.all([h.click(PEOPLE.alice, card, ACTION.approve), h.click(PEOPLE.bob, card, ACTION.approve, { via: replica.baseUrl })]);
    await oneDecisionAndOneRun(h);
  });
}

test('two approvers clicking Approve at once give one decision and one run', async (t) => {
  const h = await startHarness(t);
  const card = await requestCard(h);
  await Promise.all([h.click(PEOPLE.alice, card, ACTION.approve), h.click(PEOPLE.bob, card, ACTION.approve)]);
  await oneDecisionAndOneRun(h);
});

/** After two Approve clicks at once: one of them decided, the other was told who, and one run made the namespace ready. */
async function oneDecisionAndOneRun(h: Harness): Promise<void> {
  await h.waitFor('the ready DM', () => readyDm(h)[0]);
  const request = await h.slipway.deps.store.getRequest(1);
  assert.ok(request?.decidedBy === PEOPLE.alice || request?.decidedBy === PEOPLE.bob);
  const loser = request.decidedBy === PEOPLE.alice ? PEOPLE.bob : PEOPLE.alice;
  const told = await h.waitFor('the loser is told', () => h.slack.ephemerals(loser)[0]);
  assert.match(told.text, new RegExp(`already decided: ✅ Approved by <@${request.decidedBy}>`));
  assert.equal(await h.slipway.deps.store.sql.prepare('SELECT COUNT(*) AS n FROM runs').pluck().get(), 1);
  assert.equal(h.slack.dmWith(PEOPLE.dev).filter((m) => /approved \*R-1\*/.test(m.text)).length, 1);
  assert.equal(readyDm(h).length, 1);
}

test('Deny racing Approve gives one outcome in the store, the card, the thread and the DMs', async (t) => {
  const h = await startHarness(t);
  const card = await requestCard(h);
  await h.click(PEOPLE.bob, card, ACTION.deny);
  const modal = await h.waitFor('the deny form', () => h.slack.views.find((v) => v.view.callback_id === 'deny_reason')?.view);
  const [, denyReply] = await Promise.all([
    h.click(PEOPLE.alice, card, ACTION.approve),
    h.submit(PEOPLE.bob, { [BLOCK.denyReason]: 'Use the shared namespace' }, { view: modal }),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const request = await h.slipway.deps.store.getRequest(1);
  assert.ok(request);
  if (request.status === 'denied') {
    assert.equal(denyReply.body, '');
    await h.waitFor('the denial DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => /denied/.test(m.text)));
    assert.match(readable(h.card()), /Denied by <@U0BOB>/);
    assert.ok(!h.slack.dmWith(PEOPLE.dev).some((m) => /approved/.test(m.text)));
    assert.equal(h.kube.get('namespaces', NS), undefined);
    assert.match(h.slack.ephemerals(PEOPLE.alice)[0]?.text ?? '', /already decided: ❌ Denied/);
  } else {
    assert.equal(request.decidedBy, PEOPLE.alice);
    assert.deepEqual(denyReply.body, {
      response_action: 'errors',
      errors: { [BLOCK.denyReason]: `R-1 was already decided: ✅ Approved by <@U0ALICE> (${request.decidedAt?.slice(0, 16).replace('T', ' ')} UTC).` },
    });
    await h.waitFor('the ready DM', () => readyDm(h)[0]);
    assert.ok(!h.slack.dmWith(PEOPLE.dev).some((m) => /denied/.test(m.text)));
    assert.match(readable(h.card()), /Approved by <@U0ALICE>/);
  }
  const decisions = h.slack.thread(APPROVALS, card.ts).filter((m) => /^(✅ Approved|❌ Denied)/.test(m.text));
  assert.equal(decisions.length, 1, 'one decision in the thread');
});

test('Slack answering 429 on postMessage and update is waited out; nothing is lost', async (t) => {
  const h = await startHarness(t, { slackRetries: 3 });
  h.slack.rateLimit('chat.postMessage', { times: 2, retryAfterSeconds: 1 });
  const card = await requestCard(h, 15_000);
  h.slack.rateLimit('chat.update', { times: 2, retryAfterSeconds: 1 });
  h.slack.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });
  await h.click(PEOPLE.alice, card, ACTION.approve);
  await h.waitFor('the ready DM', () => readyDm(h)[0], 15_000);
  await h.waitFor('the ready note', () => h.slack.thread(APPROVALS, card.ts).some((m) => m.text.startsWith('🎉')), 10_000);
  assert.ok(h.slack.calls.filter((c) => c.status === 429).length >= 5, 'Slack did say slow down');
  assert.match(readable(h.card()), /Ready: payments-staging/);
  assert.equal(h.slack.dmWith(PEOPLE.dev).length, 3, 'received, approved, ready');
});

test('a request stored after Slack stopped waiting (3 s) is still announced at once: its card and its receipt', async (t) => {
  const h = await startHarness(t);
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').some((c) => c.ok));
  // Another writer holds the database as the form comes in: the request is stored after Bolt
  // answered Slack for the bot, and the developer sees an error on the form.
  const other = new Database(sqliteOf(h.slipway.deps.store).name);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const reply = await h.submit(PEOPLE.dev, REQUEST_FORM);
  other.exec('COMMIT');
  assert.equal(reply.status, 404);

  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0], 10_000);
  assert.match(readable(card), new RegExp(NS));
  await h.waitFor('the receipt', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('Got it!')));
  // The developer submits the form again, as after any error on it: it closes on the request made.
  const again = await h.submit(PEOPLE.dev, REQUEST_FORM);
  assert.deepEqual([again.status, again.body], [200, '']);
  assert.equal(h.slack.messages(APPROVALS).length, 1, 'one card');
  assert.equal(await h.slipway.deps.store.getRequest(2), undefined, 'one request');
});

test('an Approve click recorded after Slack stopped waiting (3 s) is still followed through: the card, its thread and the requester hear of it', async (t) => {
  const h = await startHarness(t);
  const card = await requestCard(h);
  // Another writer (an operator's sqlite3 session, a backup) holds the database as the click comes
  // in: the decision waits for it, and Bolt answers Slack for the bot after 3 s.
  const other = new Database(sqliteOf(h.slipway.deps.store).name);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const reply = await h.click(PEOPLE.alice, card, ACTION.approve);
  other.exec('COMMIT');
  assert.equal(reply.status, 404, 'Slack shows the approver that the click failed');

  await h.waitFor('the requester told of the approval', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('✅')), 10_000);
  await h.waitFor('the ready DM', () => readyDm(h)[0], 15_000);
  const thread = h.slack.thread(APPROVALS, card.ts).map((m) => m.text);
  assert.ok(
    thread.some((text) => text.startsWith('✅ Approved by')),
    `the decision in the thread: ${JSON.stringify(thread)}`,
  );
  assert.match(readable(h.card()), /Ready: payments-staging/);
  // The approver clicks again on the card as they saw it, as after any failed click: it was decided.
  assert.equal((await h.click(PEOPLE.alice, card, ACTION.approve)).status, 200);
  assert.equal(h.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('✅')).length, 1, 'told once');
});
