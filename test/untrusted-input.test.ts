import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION, BLOCK, CALLBACK, SURVEY } from '../src/slack/ids.ts';
import type { EmulatedMessage, EmulatedView } from '../src/playground/slack-api.ts';
import { APPROVALS, PEOPLE, PLATFORM, SIGNING_SECRET, startHarness, type Harness } from './support/harness.ts';
import { sendViewSubmission, valuesFor, type StateValue } from '../src/playground/slack-requests.ts';

/**
 * Everything a Slack client sends can be forged: option values that were never offered, state of
 * the wrong shape, private_metadata and button values the bot did not write. Each is sent here as
 * a signed request into the running bot; it must get a field error or a plain reply, store
 * nothing and touch no cluster.
 */

const ANSWERS = {
  [BLOCK.team]: 'payments',
  [BLOCK.environment]: 'dev',
  [BLOCK.cluster]: 'dev-eu',
  [BLOCK.tier]: 'small',
  [BLOCK.name]: 'checkout-load',
  [BLOCK.purpose]: 'Load tests for the new checkout service',
};

/** Opens the request form as `user` and returns the view Slack shows. */
async function openRequestForm(h: Harness, user: string): Promise<EmulatedView> {
  const before = h.slack.views.filter((v) => v.view.callback_id === CALLBACK.newNamespace).length;
  await h.command(user, 'new-namespace');
  const record = await h.waitFor('the request form', () => h.slack.views.filter((v) => v.view.callback_id === CALLBACK.newNamespace)[before]);
  return record.view;
}

/** A select's state carrying a value that was never among its options, as a forged client sends it. */
function chosen(value: string): StateValue {
  return { type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } };
}

/** Submits the form with valid answers, then with some blocks' state replaced by forged state. */
async function submitForged(h: Harness, view: EmulatedView, forged: Record<string, unknown>, answers: Record<string, string | null> = ANSWERS) {
  const values = valuesFor(view, answers);
  for (const [block, state] of Object.entries(forged)) values[block] = { [ACTION.input]: state as StateValue };
  return sendViewSubmission(h.baseUrl, SIGNING_SECRET, { view, values, userId: PEOPLE.dev });
}

async function storedRequests(h: Harness): Promise<number | undefined> {
  return await h.slipway.deps.store.sql.prepare<[], number>('SELECT count(*) FROM requests').pluck().get();
}

/** The field errors of a `response_action: errors` answer. */
function fieldErrors(reply: { status: number; body: unknown }): Record<string, string> {
  assert.equal(reply.status, 200, 'the bot answers, it does not fail');
  const body = reply.body as { response_action?: string; errors?: Record<string, string> };
  assert.equal(body.response_action, 'errors', `expected field errors, got ${JSON.stringify(reply.body)}`);
  return body.errors ?? {};
}

/** A copy of `message` whose `actionId` button carries `value`, as a forged click would. */
function withButtonValue(message: EmulatedMessage, actionId: string, value: string): EmulatedMessage {
  const blocks = structuredClone(message.blocks) as { elements?: { action_id?: string; value?: string }[] }[];
  let found = false;
  for (const block of blocks) {
    for (const element of block.elements ?? []) {
      if (element.action_id === actionId) {
        element.value = value;
        found = true;
      }
    }
  }
  assert.ok(found, `no ${actionId} button in the message`);
  return { ...message, blocks: blocks as EmulatedMessage['blocks'] };
}

test('an environment, tier, team or cluster that was never offered gets a field error, and nothing is stored', async (t) => {
  const h = await startHarness(t);
  const view = await openRequestForm(h, PEOPLE.dev);

  const constructorEnv = fieldErrors(await submitForged(h, view, { [BLOCK.environment]: chosen('constructor') }));
  assert.deepEqual(constructorEnv, { [BLOCK.environment]: 'Choose an environment.' });

  const toStringTier = fieldErrors(await submitForged(h, view, { [BLOCK.tier]: chosen('toString') }));
  assert.deepEqual(toStringTier, { [BLOCK.tier]: 'Choose a size.' });

  const proto = fieldErrors(
    await submitForged(h, view, {
      [BLOCK.environment]: chosen('__proto__'),
      [BLOCK.tier]: chosen('__proto__'),
      [BLOCK.team]: chosen('__proto__'),
      [BLOCK.cluster]: chosen('hasOwnProperty'),
    }),
  );
  assert.deepEqual(Object.keys(proto).sort(), [BLOCK.cluster, BLOCK.environment, BLOCK.team, BLOCK.tier].sort());

  assert.equal(await storedRequests(h), 0, 'nothing stored');
  assert.equal(h.slack.messages(APPROVALS).length, 0, 'no card');
  assert.equal(h.kube.get('namespaces', undefined, 'checkout-load'), undefined, 'nothing on the cluster');

  // The name was never taken: the same request with real choices goes through.
  const valid = await submitForged(h, view, {});
  assert.equal(valid.body, '');
  await h.waitFor('the namespace', () => h.kube.get('namespaces', undefined, 'checkout-load'));
  assert.equal(await storedRequests(h), 1);
});

test('an auto-approve rule without environments does not approve an environment that was never offered', async (t) => {
  const h = await startHarness(t, {
    configure: (doc) => {
      doc.policy = { autoApprove: [{ tiers: ['small'] }] };
    },
  });
  const view = await openRequestForm(h, PEOPLE.dev);
  const errors = fieldErrors(await submitForged(h, view, { [BLOCK.environment]: chosen('constructor') }));
  assert.deepEqual(errors, { [BLOCK.environment]: 'Choose an environment.' });
  // Let anything started in the background show itself.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await storedRequests(h), 0);
  assert.equal(h.kube.get('namespaces', undefined, 'checkout-load'), undefined, 'no namespace without pod security');
  assert.equal(h.slack.messages(APPROVALS).length, 0);
});

test('form state of the wrong shape reads as empty: field errors, not a failed request', async (t) => {
  const h = await startHarness(t);
  const view = await openRequestForm(h, PEOPLE.dev);
  const errors = fieldErrors(
    await submitForged(h, view, {
      [BLOCK.purpose]: { type: 'plain_text_input', value: { text: 'not a string' } },
      [BLOCK.tier]: { type: 'static_select', selected_option: { value: 42 } },
      [BLOCK.name]: { type: 'plain_text_input', value: ['checkout-load'] },
    }),
  );
  assert.equal(errors[BLOCK.purpose], 'Say in a few words what the namespace is for.');
  assert.equal(errors[BLOCK.tier], 'Choose a size.');
  assert.equal(await storedRequests(h), 0);
});

test('a name made from team and environment is checked like a typed one, and names allowed into every namespace are reserved', async (t) => {
  const h = await startHarness(t, {
    configure: (doc) => {
      // ingress-nginx only as a namespace whose pods may reach every Slipway namespace.
      const namespaces = doc.namespaces as Record<string, unknown>;
      doc.namespaces = { ...namespaces, reserved: ['payments-dev'], allowFromNamespaces: ['ingress-nginx'] };
    },
  });
  const view = await openRequestForm(h, PEOPLE.dev);

  // No name typed: payments + dev would make the reserved "payments-dev" (and dev/small is auto-approved).
  const derived = await h.submit(PEOPLE.dev, { ...ANSWERS, [BLOCK.name]: null }, { view });
  assert.deepEqual(fieldErrors(derived), {
    [BLOCK.name]: 'Without a name typed here it would be "payments-dev", which is reserved. Type a name that says what it is for, e.g. "payments-dev-sandbox".',
  });

  const view2 = await openRequestForm(h, PEOPLE.dev);
  const door = await h.submit(PEOPLE.dev, { ...ANSWERS, [BLOCK.name]: 'ingress-nginx' }, { view: view2 });
  assert.deepEqual(fieldErrors(door), { [BLOCK.name]: '"ingress-nginx" is reserved. Pick a name that says what it is for, e.g. "ingress-nginx-sandbox".' });

  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await storedRequests(h), 0);
  assert.equal(h.kube.get('namespaces', undefined, 'payments-dev'), undefined);
  assert.equal(h.kube.get('namespaces', undefined, 'ingress-nginx'), undefined);
});

test('forged button values on the request card decide nothing and get a plain reply', async (t) => {
  const h = await startHarness(t);
  const view = await openRequestForm(h, PEOPLE.dev);
  assert.equal((await h.submit(PEOPLE.dev, { ...ANSWERS, [BLOCK.environment]: 'staging' }, { view })).body, '');
  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);

  // Values the bot never writes, though Number() would read some of them as request 1.
  for (const value of ['1e0', ' 1', '0x1', 'constructor', '']) {
    const before = h.slack.ephemerals(PEOPLE.alice).length;
    const reply = await h.click(PEOPLE.alice, withButtonValue(card, ACTION.approve, value), ACTION.approve);
    assert.equal(reply.status, 200);
    const told = await h.waitFor(`the reply to ${JSON.stringify(value)}`, () => h.slack.ephemerals(PEOPLE.alice)[before]);
    assert.equal(told.text, "I can't find that request. It may have been removed.");
  }
  const denyBefore = h.slack.ephemerals(PEOPLE.alice).length;
  await h.click(PEOPLE.alice, withButtonValue(card, ACTION.deny, '1.0'), ACTION.deny);
  const denyTold = await h.waitFor('the reply to a forged Deny', () => h.slack.ephemerals(PEOPLE.alice)[denyBefore]);
  assert.equal(denyTold.text, "I can't find that request. It may have been removed.");
  assert.equal(h.slack.callsTo('views.open').filter((c) => c.ok).length, 1, 'only the request form was opened');
  assert.equal((await h.slipway.deps.store.getRequest(1))?.status, 'pending', 'nothing was decided');
});

test('a deny form whose private_metadata was tampered with gets a field error and decides nothing', async (t) => {
  const h = await startHarness(t);
  const view = await openRequestForm(h, PEOPLE.dev);
  assert.equal((await h.submit(PEOPLE.dev, { ...ANSWERS, [BLOCK.environment]: 'staging' }, { view })).body, '');
  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
  await h.click(PEOPLE.alice, card, ACTION.deny);
  const denyForm = await h.waitFor('the deny form', () => h.slack.views.find((v) => v.view.callback_id === CALLBACK.denyReason)?.view);

  for (const metadata of ['not json', '{"requestId":"1"}', '{"requestId":{"id":1}}', 'null']) {
    const reply = await h.submit(PEOPLE.alice, { [BLOCK.denyReason]: 'Not needed any more' }, { view: { ...denyForm, private_metadata: metadata } });
    assert.deepEqual(fieldErrors(reply), { [BLOCK.denyReason]: 'This form is out of date. Close it and click Deny on the request again.' }, metadata);
  }
  assert.equal((await h.slipway.deps.store.getRequest(1))?.status, 'pending');
});

test('feedback and comment forms with tampered private_metadata get a field error and store nothing', async (t) => {
  const h = await startHarness(t);
  await h.command(PEOPLE.dev, 'feedback The docs for quotas are hard to find');
  const feedbackForm = await h.waitFor('the feedback form', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.feedbackModal)?.view);
  assert.equal((await h.submit(PEOPLE.dev, {}, { view: feedbackForm })).status, 200);
  const post = await h.waitFor('the feedback post', () => h.slack.messages(PLATFORM)[0]);

  await h.click(PEOPLE.bob, post, SURVEY.markDone);
  const doneForm = await h.waitFor('the done form', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.doneModal)?.view);
  for (const metadata of ['{', '{"feedbackId":"1"}', '[]']) {
    const reply = await h.submit(PEOPLE.bob, { [SURVEY.doneText]: 'Quotas have their own page now' }, { view: { ...doneForm, private_metadata: metadata } });
    assert.deepEqual(fieldErrors(reply), { [SURVEY.doneText]: 'This form is out of date. Close it and click "Mark done" again.' }, metadata);
  }
  assert.equal(await h.slipway.deps.store.sql.prepare('SELECT count(*) FROM feedback WHERE done_at IS NOT NULL').pluck().get(), 0, 'nothing marked done');

  // A comment form is only ever opened by the bot, so a forged one can be sent without it.
  const commentForm = {
    id: 'V0FORGED',
    callback_id: SURVEY.commentModal,
    private_metadata: '{"kind":"ready","requestId":"1","channel":"C0DEV"}',
    blocks: [{ type: 'input', block_id: SURVEY.commentText, element: { type: 'plain_text_input', action_id: ACTION.input, multiline: true } }],
  };
  const countFeedback = h.slipway.deps.store.sql.prepare<[], number>('SELECT count(*) FROM feedback').pluck();
  const feedbackBefore = await countFeedback.get();
  const values = valuesFor(commentForm, { [SURVEY.commentText]: 'Forged comment' });
  const reply = await sendViewSubmission(h.baseUrl, SIGNING_SECRET, { view: commentForm, values, userId: PEOPLE.dev });
  assert.deepEqual(fieldErrors(reply), { [SURVEY.commentText]: 'This form is out of date. Close it and click "Add a comment" again.' });
  assert.equal(await countFeedback.get(), feedbackBefore);
});

// Bounded: before own-key lookups, `__proto__` left the command unanswered.
test('/platform subcommands are looked up among its own: constructor and __proto__ get the usage message', { timeout: 20_000 }, async (t) => {
  const h = await startHarness(t);
  for (const sub of ['constructor', '__proto__']) {
    const reply = await h.command(PEOPLE.dev, sub);
    assert.equal(reply.status, 200, sub);
    const body = reply.body as { text?: string };
    assert.equal(body.text?.split('\n')[0], `I don't know \`/platform ${sub}\`. Here is what I can do:`, sub);
  }
});

test('a team label on a cluster namespace that is not a configured team is printed as is in the digest', async (t) => {
  let now = new Date('2026-11-02T10:00:00Z');
  const h = await startHarness(t, { clock: { now: () => now } });
  // A namespace labelled by hand as Slipway's, with a team the config does not define.
  const res = await fetch(`${h.kube.url}/api/v1/namespaces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'hand-made', labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/team': 'constructor' } },
    }),
  });
  assert.ok(res.ok);
  assert.equal((await h.slipway.scheduler.run('usage-refresh', 'manual')).status, 'ok');
  now = new Date('2026-11-23T09:00:00Z');
  const outcome = await h.slipway.scheduler.run('digest', 'manual');
  assert.equal(outcome.status, 'ok', outcome.error);
  const digest = h.slack
    .messages(PLATFORM)
    .map((m) => JSON.stringify(m.blocks))
    .join('\n');
  assert.match(digest, /`hand-made` on dev-eu · constructor · never ran a pod/);
});
