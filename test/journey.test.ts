import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { APPROVALS, buttons, DEV_CHANNEL, PEOPLE, readable, SIGNING_SECRET, REQUEST_FORM, startHarness, type Harness } from './support/harness.ts';
import { sendSlashCommand } from '../src/playground/slack-requests.ts';
import { MEDIUM_QUOTA } from './support/config.ts';

/** Opens the form as `user` and submits it; returns the reply to the submission. */
async function request(h: Harness, user: string, answers: Record<string, string | null>, text = 'new-namespace') {
  const ack = await h.command(user, text);
  assert.equal(ack.status, 200);
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').some((c) => c.ok));
  return h.submit(user, answers);
}

function dmTexts(h: Harness, user: string): string[] {
  return h.slack.dmWith(user).map(readable);
}

test('a developer requests a namespace, an approver approves, and it is provisioned with every default', async (t) => {
  const h = await startHarness(t);

  // The form opens within the ack, prefilled with nothing but what we know.
  const ack = await h.command(PEOPLE.dev, 'new-namespace');
  assert.equal(ack.status, 200);
  assert.equal(ack.body, '', 'the command is acknowledged without a message');
  const view = await h.waitFor('the request form', () => h.slack.views.find((v) => v.view.callback_id === 'new_namespace')?.view);
  assert.deepEqual(
    view.blocks.map((b) => b.block_id),
    [BLOCK.team, BLOCK.environment, BLOCK.cluster, BLOCK.tier, BLOCK.name, BLOCK.purpose, BLOCK.expiry],
  );

  const reply = await h.submit(PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.name]: 'checkout-load', [BLOCK.expiry]: null });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, '', 'a valid submission closes the modal');

  // The requester hears the id and what happens next.
  const received = await h.waitFor('the confirmation DM', () => dmTexts(h, PEOPLE.dev).find((m) => m.includes('R-1')));
  assert.match(received, /Your request \*R-1\* for namespace `checkout-load` \(staging, medium\) is in/);
  assert.match(received, /The platform team will review it in <#C0APPROVALS>/);

  // The approvers see who, what, why, the exact defaults, and the buttons.
  const card = await h.waitFor('the request card', () => h.slack.messages(APPROVALS)[0]);
  const cardText = readable(card);
  assert.match(cardText, /R-1: namespace checkout-load/);
  assert.match(cardText, /<@U0DEV>/);
  assert.match(cardText, /Load tests for the new checkout service/);
  assert.match(cardText, /ResourceQuota: requests\.cpu=4, requests\.memory=8Gi/);
  assert.match(cardText, /RoleBinding: group `payments-devs` gets ClusterRole `edit`/);
  assert.deepEqual(buttons(card), [ACTION.approve, ACTION.deny]);

  // Approve.
  const click = await h.click(PEOPLE.alice, card, ACTION.approve);
  assert.equal(click.status, 200);
  const ready = await h.waitFor('the ready DM', () => dmTexts(h, PEOPLE.dev).find((m) => m.startsWith('🎉')));
  assert.match(ready, /Your namespace `checkout-load` is ready on \*Dev \(eu-west-1\)\*/);
  assert.match(ready, /aws eks update-kubeconfig --region eu-west-1 --name dev-eu/);
  assert.match(ready, /kubectl config set-context --current --namespace checkout-load/);
  assert.ok(
    dmTexts(h, PEOPLE.dev).some((m) => /<@U0ALICE> approved \*R-1\*/.test(m)),
    'the requester hears of the approval',
  );

  // The card shows the decision and the result, without buttons; the thread tells the story.
  const updated = h.slack.messages(APPROVALS)[0];
  assert.ok(updated);
  assert.deepEqual(buttons(updated), []);
  assert.match(readable(updated), /Approved by <@U0ALICE>/);
  assert.match(readable(updated), /Ready: checkout-load/);
  await h.waitFor('the ready note in the thread', () => h.slack.thread(APPROVALS, card.ts).some((m) => m.text.startsWith('🎉')));
  const thread = h.slack.thread(APPROVALS, card.ts).map(readable);
  assert.ok(
    thread.some((m) => /✅ Approved by <@U0ALICE>/.test(m)),
    thread.join('\n---\n'),
  );
  assert.ok(
    thread.some((m) => /🎉 Provisioned `checkout-load` on Dev \(eu-west-1\); <@U0DEV> has the commands to start/.test(m)),
    thread.join('\n---\n'),
  );
  assert.equal(thread.length, 2, 'the decision and one progress message, nothing more');
  assert.equal(h.slack.messages(APPROVALS).length, 1, 'progress stays in the thread');

  // The cluster holds every object, labelled as promised.
  const ns = h.kube.get('namespaces', undefined, 'checkout-load');
  assert.ok(ns, 'namespace exists');
  assert.deepEqual(ns.metadata?.labels, {
    'kubernetes.io/metadata.name': 'checkout-load',
    'app.kubernetes.io/managed-by': 'slipway',
    'slipway.dev/team': 'payments',
    'slipway.dev/environment': 'staging',
    'slipway.dev/cost-center': 'cc-1042',
    'slipway.dev/requester': 'U0DEV',
    'slipway.dev/request-id': 'R-1',
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': 'latest',
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'latest',
  });
  assert.equal(ns.metadata?.annotations?.['slipway.dev/purpose'], 'Load tests for the new checkout service');
  const quota = h.kube.get('resourcequotas', 'checkout-load', 'slipway-quota');
  assert.deepEqual((quota?.spec as { hard: Record<string, string> }).hard, MEDIUM_QUOTA);
  const limits = h.kube.get('limitranges', 'checkout-load', 'slipway-limits');
  assert.deepEqual((limits?.spec as { limits: unknown[] }).limits, [
    { type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, max: { cpu: '2', memory: '4Gi' } },
  ]);
  assert.deepEqual(
    h.kube
      .list('networkpolicies', 'checkout-load')
      .map((p) => p.metadata?.name)
      .sort(),
    ['allow-all-egress', 'allow-dns-egress', 'allow-from-platform-namespaces', 'allow-same-namespace', 'default-deny-ingress'],
  );
  const binding = h.kube.get('rolebindings', 'checkout-load', 'slipway-team-access');
  assert.deepEqual(binding?.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
  assert.deepEqual(binding?.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'payments-devs' }]);
  for (const obj of [ns, quota, limits, binding]) {
    assert.ok(
      obj?.metadata?.managedFields?.some((m) => m.manager === 'slipway' && m.operation === 'Apply'),
      `${obj?.kind} applied by slipway`,
    );
  }
});

test('dev + small is approved by policy and provisioned without waiting', async (t) => {
  const h = await startHarness(t);
  await request(h, PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.environment]: 'dev', [BLOCK.tier]: 'small', [BLOCK.name]: null });
  const ready = await h.waitFor('the ready DM', () => dmTexts(h, PEOPLE.dev).find((m) => m.startsWith('🎉')));
  assert.match(ready, /`payments-dev` is ready/, 'an empty name becomes <team>-<environment>');
  assert.match(dmTexts(h, PEOPLE.dev)[0] ?? '', /matches the self-serve policy/);
  const card = h.card();
  assert.deepEqual(buttons(card), [], 'nothing to decide');
  assert.match(readable(card), /Approved automatically by policy/);
  assert.ok(h.slack.thread(APPROVALS, card.ts).some((m) => /Approved automatically/.test(m.text)));
  assert.ok(h.kube.get('namespaces', undefined, 'payments-dev'));
  assert.equal(h.kube.get('namespaces', undefined, 'payments-dev')?.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'baseline');
});

test('bad input comes back as field errors in the modal and nothing is stored', async (t) => {
  const h = await startHarness(t);
  h.kube.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'taken-ns' } }]);

  const bad = await request(h, PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.name]: 'Checkout_Load' });
  assert.deepEqual(bad.body, {
    response_action: 'errors',
    errors: { [BLOCK.name]: 'Use lowercase letters, digits and "-", starting and ending with a letter or digit. Try "checkout-load".' },
  });

  const view = h.slack.lastViewOpened();
  const reserved = await h.submit(PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.name]: 'kube-tools' }, { view });
  assert.deepEqual(reserved.body, { response_action: 'errors', errors: { [BLOCK.name]: 'Names starting with "kube-" are reserved for Kubernetes itself.' } });

  const exists = await h.submit(PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.name]: 'taken-ns' }, { view });
  assert.deepEqual(exists.body, { response_action: 'errors', errors: { [BLOCK.name]: 'taken-ns already exists on Dev (eu-west-1). Pick another name.' } });

  const wrongCluster = await h.submit(PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.purpose]: 'ok', [BLOCK.name]: 'fine-name' }, { view }).catch((err: unknown) => err);
  assert.ok(wrongCluster instanceof Error, 'the modal itself refuses a purpose below its min_length');

  assert.equal(h.slack.messages(APPROVALS).length, 0, 'no card');
  assert.equal(h.slack.dmWith(PEOPLE.dev).length, 0, 'no DM');
  assert.equal(await h.slipway.deps.store.getRequest(1), undefined, 'nothing stored');

  // The same form, corrected, goes through.
  const good = await h.submit(PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.name]: 'checkout-load' }, { view });
  assert.equal(good.body, '');
  await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
});

test('a name that is already requested is refused, with a suggestion when it was derived', async (t) => {
  const h = await startHarness(t);
  await request(h, PEOPLE.dev, REQUEST_FORM);
  await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
  const again = await request(h, PEOPLE.bob, REQUEST_FORM);
  assert.deepEqual(again.body, {
    response_action: 'errors',
    errors: { [BLOCK.name]: 'payments-staging is already requested on Dev (eu-west-1) (R-1). Enter another name, e.g. "payments-staging-2".' },
  });
});

test('an approver denies with a reason that reaches the requester', async (t) => {
  const h = await startHarness(t);
  await request(h, PEOPLE.dev, REQUEST_FORM);
  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);

  await h.click(PEOPLE.bob, card, ACTION.deny);
  const modal = await h.waitFor('the deny modal', () => h.slack.views.find((v) => v.view.callback_id === 'deny_reason')?.view);
  const reply = await h.submit(PEOPLE.bob, { [BLOCK.denyReason]: 'Please use the shared staging namespace' }, { view: modal });
  assert.equal(reply.body, '');

  const denied = await h.waitFor('the denial DM', () => dmTexts(h, PEOPLE.dev).find((m) => m.includes('denied')));
  assert.match(denied, /<@U0BOB> denied \*R-1\*/);
  assert.match(denied, /Please use the shared staging namespace/);
  const updated = h.slack.messages(APPROVALS)[0];
  assert.ok(updated);
  assert.deepEqual(buttons(updated), []);
  assert.match(readable(updated), /Denied by <@U0BOB>: Please use the shared staging namespace/);
  assert.ok(h.slack.thread(APPROVALS, card.ts).some((m) => /Denied by <@U0BOB>/.test(m.text)));
  assert.equal(h.kube.get('namespaces', undefined, 'payments-staging'), undefined, 'nothing is created');

  // A late Approve is told who decided, and changes nothing.
  await h.click(PEOPLE.alice, card, ACTION.approve);
  const late = await h.waitFor('the late-click answer', () => h.slack.ephemerals(PEOPLE.alice)[0]);
  assert.match(late.text, /R-1\* was already decided: ❌ Denied by <@U0BOB>/);
  assert.equal((await h.slipway.deps.store.getRequest(1))?.status, 'denied');
});

test('only approvers decide, nobody approves their own request, and a second click says who decided', async (t) => {
  const h = await startHarness(t);
  await request(h, PEOPLE.alice, REQUEST_FORM); // an approver asking for herself
  const card = await h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);

  await h.click(PEOPLE.mallory, card, ACTION.approve);
  const notApprover = await h.waitFor('the refusal', () => h.slack.ephemerals(PEOPLE.mallory)[0]);
  assert.match(notApprover.text, /Only the approvers in Slipway's config can decide on \*R-1\*/);

  await h.click(PEOPLE.alice, card, ACTION.approve);
  const own = await h.waitFor('the refusal', () => h.slack.ephemerals(PEOPLE.alice)[0]);
  assert.match(own.text, /You can't approve or deny your own request/);

  await h.click(PEOPLE.mallory, card, ACTION.deny);
  await h.waitFor('the second refusal', () => h.slack.ephemerals(PEOPLE.mallory)[1]);
  assert.equal(h.slack.views.filter((v) => v.view.callback_id === 'deny_reason').length, 0, 'no deny form for a non-approver');
  assert.equal((await h.slipway.deps.store.getRequest(1))?.status, 'pending');

  // Carol approves through the user group; Bob's click afterwards is told.
  await h.click(PEOPLE.carol, card, ACTION.approve);
  await h.waitFor('the ready DM', () => dmTexts(h, PEOPLE.alice).find((m) => m.startsWith('🎉')));
  await h.click(PEOPLE.bob, card, ACTION.approve);
  const second = await h.waitFor('the late-click answer', () => h.slack.ephemerals(PEOPLE.bob)[0]);
  assert.match(second.text, /already decided: ✅ Approved by <@U0CAROL>/);
  assert.equal((await h.slipway.deps.store.latestRun(1))?.status, 'done');
});

test('/platform, help and unknown subcommands answer with an ephemeral usage message', async (t) => {
  const h = await startHarness(t);
  for (const text of ['', 'help', 'frobnicate']) {
    const reply = await h.command(PEOPLE.dev, text);
    assert.equal(reply.status, 200);
    const body = reply.body as { response_type: string; text: string };
    assert.equal(body.response_type, 'ephemeral');
    assert.match(body.text, /\/platform new-namespace \[name\]/);
    if (text === 'frobnicate') assert.match(body.text, /I don't know `\/platform frobnicate`/);
  }
  assert.equal(h.slack.callsTo('views.open').length, 0);
});

test('subcommands named like Object properties (constructor, __proto__) are unknown subcommands', async (t) => {
  const h = await startHarness(t);
  for (const text of ['constructor', '__proto__', 'hasOwnProperty']) {
    const reply = await h.command(PEOPLE.dev, text);
    assert.equal(reply.status, 200);
    const body = reply.body as { response_type?: string; text?: string };
    assert.equal(body.response_type, 'ephemeral', `/platform ${text}`);
    assert.match(body.text ?? '', new RegExp(`I don't know \`/platform ${text}\``));
  }
  assert.equal(h.slack.callsTo('views.open').length, 0);
});

test('the name typed after the command prefills the form', async (t) => {
  const h = await startHarness(t);
  await h.command(PEOPLE.dev, 'new-namespace checkout-load');
  const view = await h.waitFor('the form', () => h.slack.views[0]?.view);
  const nameBlock = view.blocks.find((b) => b.block_id === BLOCK.name) as { element: { initial_value?: string } } | undefined;
  assert.equal(nameBlock?.element.initial_value, 'checkout-load');
});

test('requests with a bad signature or an old timestamp are rejected with 401', async (t) => {
  const h = await startHarness(t);
  const base = { text: 'help', userId: PEOPLE.dev, channelId: DEV_CHANNEL };
  const forged = await sendSlashCommand(h.baseUrl, SIGNING_SECRET, { ...base, tamperSignature: true });
  assert.equal(forged.status, 401);
  const old = await sendSlashCommand(h.baseUrl, SIGNING_SECRET, { ...base, timestampSeconds: Math.floor(Date.now() / 1000) - 10 * 60 });
  assert.equal(old.status, 401);
  const wrongSecret = await sendSlashCommand(h.baseUrl, 'not-the-secret', base);
  assert.equal(wrongSecret.status, 401);
  const good = await sendSlashCommand(h.baseUrl, SIGNING_SECRET, base);
  assert.equal(good.status, 200);
});

test('the health endpoint answers', async (t) => {
  const h = await startHarness(t);
  const res = await fetch(`${h.baseUrl}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});

test('on PostgreSQL: a request, an approval on its card, and the ready DM', async (t) => {
  const h = await startHarness(t, { engine: 'postgres' });
  assert.equal(h.slipway.deps.store.engine, 'postgres');
  assert.equal((await request(h, PEOPLE.dev, { ...REQUEST_FORM, [BLOCK.name]: 'checkout-pg', [BLOCK.expiry]: null })).body, '');
  const card = await h.waitFor('the request card', () => h.slack.messages(APPROVALS)[0]);
  assert.match(readable(card), /R-1: namespace checkout-pg/);
  assert.equal((await h.click(PEOPLE.alice, card, ACTION.approve)).status, 200);
  const ready = await h.waitFor('the ready DM', () => dmTexts(h, PEOPLE.dev).find((m) => m.startsWith('🎉')));
  assert.match(ready, /Your namespace `checkout-pg` is ready on \*Dev \(eu-west-1\)\*/);
  assert.ok(h.kube.get('namespaces', undefined, 'checkout-pg'), 'the namespace exists');
  await h.waitFor('the ready note in the thread', () => h.slack.thread(APPROVALS, card.ts).some((m) => m.text.startsWith('🎉')));
  assert.deepEqual(buttons(h.slack.messages(APPROVALS)[0] ?? card), [], 'the card lost its buttons');

  // What PostgreSQL holds: the request ready, decided by the approver, one finished run, its events, its namespace.
  const store = h.slipway.deps.store;
  const stored = await store.getRequest(1);
  assert.deepEqual([stored?.status, stored?.decidedBy, stored?.card?.channel], ['ready', PEOPLE.alice, APPROVALS]);
  assert.equal((await store.latestRun(1))?.status, 'done');
  const types = (await store.eventsFor(1)).map((e) => e.type);
  for (const type of ['request_submitted', 'request_approved', 'namespace_ready']) assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
  assert.equal((await store.lifecycle.get(1))?.owner, PEOPLE.dev);
  assert.equal(dmTexts(h, PEOPLE.dev).filter((m) => m.startsWith('🎉')).length, 1, 'told once');
});
