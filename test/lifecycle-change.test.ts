import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NamespaceRequest } from '../src/domain/requests.ts';
import { ACTION, BLOCK, CALLBACK, CHANGE, HOME } from '../src/slack/ids.ts';
import type { RecordedRequest } from '../src/playground/kube-api.ts';
import { APPROVALS, buttons, PEOPLE, readable, startHarness, type Harness } from './support/harness.ts';
import { deleteForm, openedForm, readyNamespace, replies } from './support/lifecycle.ts';
import { clickHome, openHome } from './support/namespaces.ts';

const thread = (h: Harness, request: NamespaceRequest) => h.slack.thread(APPROVALS, request.card?.ts ?? '');
const events = async (h: Harness, requestId: number, type: string) => (await h.slipway.deps.store.eventsFor(requestId)).filter((e) => e.type === type);

/** `/platform change <args>` as this person; returns the change form it opened. */
const changeForm = (h: Harness, user: string, args: string) => openedForm(h, CALLBACK.changeNamespace, () => h.command(user, `change ${args}`));

/** The cluster writes (not reads) the bot made since `from`, as `METHOD path`. */
function writesSince(h: Harness, from: number): string[] {
  return h.kube.requests
    .slice(from)
    .filter((r: RecordedRequest) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
}

/**
 * What the quota controller does on a real server: it writes the ResourceQuota's status through
 * its /status subresource (hard mirrors spec.hard; used names every resource of hard, "0" for
 * those nothing uses, as a v1.20.2 server showed in `npm run change:realk8s`).
 */
async function reportQuotaUsage(h: Harness, namespace: string, used: Record<string, string>): Promise<void> {
  const quota = h.kube.get('resourcequotas', namespace, 'slipway-quota');
  assert.ok(quota, 'the namespace has its quota');
  const hard = (quota.spec as { hard: Record<string, string> }).hard;
  const url = `${h.kube.url}/api/v1/namespaces/${namespace}/resourcequotas/slipway-quota/status?fieldManager=kube-controller-manager`;
  const response = await fetch(url, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json', ...(h.kube.token ? { authorization: `Bearer ${h.kube.token}` } : {}) },
    body: JSON.stringify({ status: { hard, used: { ...Object.fromEntries(Object.keys(hard).map((r) => [r, '0'])), ...used } } }),
  });
  assert.equal(response.status, 200, await response.text());
}

test('a larger tier and read-only access for another team are decided in the thread, then applied: only the changed objects are patched', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');

  const form = await changeForm(h, PEOPLE.dev, 'payments-dev');
  const shown = JSON.stringify(form.blocks);
  assert.match(shown, /"initial_option":\{"text":\{"type":"plain_text","text":"small"/, 'the form starts from the tier it has');
  assert.match(shown, /"initial_value":"Checkout experiments"/, 'and from its purpose');
  const before = h.kube.requests.length;
  const sent = await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'medium', [BLOCK.accessView]: ['search'] });
  assert.equal(sent.body, '', 'the form closes');

  const ask = await h.waitFor('the change in the thread', () => thread(h, request).find((m) => m.text.includes('asks to change')));
  assert.match(
    readable(ask),
    /<@U0DEV> asks to change `payments-dev` \(dev, R-1\):\n• tier small → medium: requests\.cpu 2 → 4, requests\.memory 4Gi → 8Gi, limits\.cpu 4 → 8, limits\.memory 8Gi → 16Gi, pods 20 → 50, persistentvolumeclaims 5 → 10\n• access for search none → view\nAn approver decides a larger tier, more access for another team/,
  );
  assert.deepEqual(buttons(ask), [CHANGE.approve, CHANGE.deny]);
  await h.waitFor('the requester hears it waits', () => h.slack.dmWith(PEOPLE.dev).find((m) => /waiting for an approver/.test(m.text)));
  assert.deepEqual(writesSince(h, before), [], 'nothing changes before an approver decides');
  // The owner's Home is redrawn with what waits, without opening it again.
  await h.waitFor('Home says what waits', () =>
    /🕒 Waiting for an approver in the request's thread: the change/.test(JSON.stringify(h.slack.homeView(PEOPLE.dev)?.blocks ?? [])),
  );

  await h.click(PEOPLE.alice, ask, CHANGE.approve);
  const applied = await h.waitFor('the outcome in the thread', () => thread(h, request).find((m) => m.text.startsWith('✅ `payments-dev`')));
  assert.match(readable(applied), /is changed:\n• tier small → medium: .*\n• access for search none → view/);
  await h.waitFor('the requester hears it is done', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('✅ `payments-dev`')));
  assert.deepEqual(writesSince(h, before), [
    'PATCH /api/v1/namespaces/payments-dev/resourcequotas/slipway-quota',
    'PATCH /api/v1/namespaces/payments-dev/limitranges/slipway-limits',
    'PATCH /apis/rbac.authorization.k8s.io/v1/namespaces/payments-dev/rolebindings/slipway-access-search',
  ]);
  assert.deepEqual((h.kube.get('resourcequotas', 'payments-dev', 'slipway-quota')?.spec as { hard: Record<string, string> }).hard['requests.cpu'], '4');
  const binding = h.kube.get('rolebindings', 'payments-dev', 'slipway-access-search') as unknown as { roleRef: { name: string }; subjects: { name: string }[] };
  assert.equal(binding.roleRef.name, 'view');
  assert.deepEqual(
    binding.subjects.map((s) => s.name),
    ['search-devs'],
  );
  const decided = thread(h, request).find((m) => m.ts === ask.ts);
  assert.ok(decided);
  assert.deepEqual(buttons(decided), [], 'the buttons are gone once decided');
  assert.match(readable(decided), /✅ Approved by <@U0ALICE>/);
  assert.equal((await h.slipway.deps.store.latestRun(request.id))?.kind, 'change');
  assert.deepEqual((await h.slipway.deps.store.lifecycle.settingsOf(request.id))?.access, [{ team: 'search', role: 'view' }]);
  await h.waitFor('the change event', async () => (await events(h, request.id, 'namespace_changed'))[0]);

  // The Home tab offers Change, and it opens the form as the namespace is now.
  const home = await openHome(h, PEOPLE.dev);
  assert.match(JSON.stringify(home.blocks), /payments-dev`\* · [^"]* · dev · medium\\n/, 'Home shows the tier it has now');
  const again = await openedForm(h, CALLBACK.changeNamespace, () => clickHome(h, PEOPLE.dev, home, HOME.change));
  assert.match(JSON.stringify(again.blocks), /"initial_option":\{"text":\{"type":"plain_text","text":"medium"/);
  assert.match(JSON.stringify(again.blocks), /"block_id":"ns_access_view".*"initial_options":\[\{"text":\{"type":"plain_text","text":"Search"/);

  // Taking the access back needs nobody (policy.change lessAccess): its binding is deleted at once.
  const second = h.kube.requests.length;
  await h.submit(PEOPLE.dev, { [BLOCK.accessView]: [] }, { view: again });
  await h.waitFor('the binding deleted', () => h.kube.get('rolebindings', 'payments-dev', 'slipway-access-search') === undefined);
  await h.waitFor('the second outcome', () => thread(h, request).filter((m) => m.text.startsWith('✅ `payments-dev`')).length === 2);
  assert.deepEqual(writesSince(h, second), ['DELETE /apis/rbac.authorization.k8s.io/v1/namespaces/payments-dev/rolebindings/slipway-access-search']);
  // A retried deletion meets a 404: done all the same.
  assert.equal(await h.slipway.deps.clusters.deleteRoleBinding('dev-eu', 'payments-dev', 'slipway-access-search'), 'already-gone');
  assert.ok(
    thread(h, request).some((m) =>
      /<@U0DEV> is changing `payments-dev` \(dev, R-1\) \(policy\.change needs no approver for this\):\n• access for search view → none/.test(readable(m)),
    ),
  );
  assert.deepEqual((await h.slipway.deps.store.lifecycle.settingsOf(request.id))?.access, []);
});

test('a smaller tier is refused in the form while live usage does not fit it, and applied at once without an approver when it does', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev', 'medium');
  await reportQuotaUsage(h, 'payments-dev', { 'requests.cpu': '3', 'requests.memory': '6Gi', 'limits.cpu': '2', 'limits.memory': '4Gi', pods: '30' });

  await changeForm(h, PEOPLE.dev, 'payments-dev');
  const unchanged = await h.submit(PEOPLE.dev, {});
  assert.deepEqual(unchanged.body, {
    response_action: 'errors',
    errors: { [BLOCK.tier]: 'This is how the namespace is today: change something, or close the form.' },
  });
  const before = h.kube.requests.length;
  const refused = await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'small' });
  assert.deepEqual(refused.body, {
    response_action: 'errors',
    errors: {
      [BLOCK.tier]:
        '❌ payments-dev (dev, R-1) stays as it is: what runs in it uses more than the small tier allows.\n' +
        '• requests.cpu: 3 in use, 2 allowed (1 over)\n• requests.memory: 6Gi in use, 4Gi allowed (2Gi over)\n• pods: 30 in use, 20 allowed (10 over)\n' +
        'Free that much first, or choose a larger tier.',
    },
  });
  assert.deepEqual(writesSince(h, before), [], 'nothing is patched');
  assert.equal((await events(h, request.id, 'change_refused'))[0]?.data.tier, 'small');

  await reportQuotaUsage(h, 'payments-dev', { 'requests.cpu': '1500m', 'requests.memory': '3Gi', pods: '4' });
  const applying = h.kube.requests.length;
  const accepted = await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'small' });
  assert.equal(accepted.body, '', 'the form closes');
  await h.waitFor(
    'the smaller quota',
    () => (h.kube.get('resourcequotas', 'payments-dev', 'slipway-quota')?.spec as { hard: Record<string, string> }).hard.pods === '20',
  );
  await h.waitFor('the outcome in the thread', () => thread(h, request).find((m) => m.text.startsWith('✅ `payments-dev`')));
  const story = thread(h, request).map(readable);
  assert.ok(
    story.some((m) => /is changing `payments-dev` \(dev, R-1\) \(policy\.change needs no approver for this\):\n• tier medium → small/.test(m)),
    story.join('\n---\n'),
  );
  assert.ok(!thread(h, request).some((m) => buttons(m).includes(CHANGE.approve)), 'no approver is asked');
  assert.ok(
    story.some((m) => /✅ Check that what runs in `payments-dev` fits the small quota/.test(m)),
    'the run checked usage again',
  );
  assert.deepEqual(writesSince(h, applying), [
    'PATCH /api/v1/namespaces/payments-dev/resourcequotas/slipway-quota',
    'PATCH /api/v1/namespaces/payments-dev/limitranges/slipway-limits',
  ]);
  const ask = await h.slipway.deps.store.lifecycle.lastApproved(request.id, 'change');
  assert.equal(ask?.decidedBy, 'policy');
});

test('the requester never approves their own change, only approvers decide, and others may not ask', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');

  await h.command(PEOPLE.mallory, 'change payments-dev');
  await h.waitFor('the refusal', () => replies(h).find((r) => /Only its owner \(<@U0DEV>\), the one who requested it or an approver can change/.test(r)));

  // An approver may ask for a change of someone else's namespace, but not decide it.
  await changeForm(h, PEOPLE.alice, 'payments-dev');
  const bad = await h.submit(PEOPLE.alice, { [BLOCK.accessEdit]: ['search'], [BLOCK.accessView]: ['search'] });
  assert.deepEqual(bad.body, { response_action: 'errors', errors: { [BLOCK.accessView]: 'search: either the same access or read-only, not both.' } });
  await h.submit(PEOPLE.alice, { [BLOCK.tier]: 'large', [BLOCK.accessView]: [] });
  const ask = await h.waitFor('the change in the thread', () => thread(h, request).find((m) => m.text.includes('asks to change')));

  await h.click(PEOPLE.alice, ask, CHANGE.approve);
  await h.waitFor('the own-ask refusal', () =>
    h.slack.ephemerals(PEOPLE.alice).find((m) => /You asked for this change to `payments-dev`.* yourself/.test(m.text)),
  );
  await h.click(PEOPLE.dev, ask, CHANGE.approve);
  await h.waitFor('the owner is no approver', () => h.slack.ephemerals(PEOPLE.dev).find((m) => /Only the approvers/.test(m.text)));
  assert.equal((await h.slipway.deps.store.lifecycle.openRequestFor(request.id, 'change'))?.requestedBy, PEOPLE.alice, 'still waiting');

  await h.click(PEOPLE.bob, ask, CHANGE.deny);
  await h.waitFor('the denial DM', () => h.slack.dmWith(PEOPLE.alice).find((m) => /<@U0BOB> denied your change to `payments-dev`/.test(m.text)));
  await h.click(PEOPLE.carol, ask, CHANGE.approve);
  await h.waitFor('the late click', () => h.slack.ephemerals(PEOPLE.carol).find((m) => /already denied by <@U0BOB>/.test(m.text)));
  assert.equal((await h.slipway.deps.store.lifecycle.settingsOf(request.id))?.tier, 'small', 'a denied change leaves the namespace as it was');
  assert.equal((h.kube.get('resourcequotas', 'payments-dev', 'slipway-quota')?.spec as { hard: Record<string, string> }).hard.pods, '20');
  assert.deepEqual(
    (await events(h, request.id, 'change_decided')).map((e) => [e.actor, e.data.status]),
    [[PEOPLE.bob, 'denied']],
  );
});

test('a change step that fails is reported in the thread and Retry applies the rest', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev', 'medium');
  const fault = h.kube.injectFault({ method: 'PATCH', path: /\/limitranges\//, status: 403 });

  await changeForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'small', [BLOCK.purpose]: 'Smaller checkout experiments' });
  const failure = await h.waitFor('the failure in the thread', () => thread(h, request).find((m) => m.text.startsWith('❌ Changing')));
  assert.match(readable(failure), /step \*apply-limits\* failed: Slipway is not allowed to apply LimitRange "slipway-limits"/);
  assert.deepEqual(buttons(failure), [ACTION.retry]);
  await h.waitFor('the requester hears of it', () => h.slack.dmWith(PEOPLE.dev).find((m) => /Changing `payments-dev`.* hit a problem/.test(m.text)));
  assert.equal((await h.slipway.deps.store.lifecycle.settingsOf(request.id))?.tier, 'medium', 'not recorded as changed while a step failed');
  assert.equal((await events(h, request.id, 'change_failed'))[0]?.data.step, 'apply-limits');

  fault.remove();
  const before = h.kube.requests.length;
  await h.click(PEOPLE.bob, failure, ACTION.retry);
  await h.waitFor('the outcome', () => thread(h, request).find((m) => m.text.startsWith('✅ `payments-dev`')));
  assert.deepEqual(writesSince(h, before), ['PATCH /api/v1/namespaces/payments-dev/limitranges/slipway-limits'], 'only the failed step runs again');
  assert.deepEqual(
    (h.kube.get('namespaces', 'payments-dev')?.metadata as { annotations: Record<string, string> }).annotations['slipway.dev/purpose'],
    'Smaller checkout experiments',
  );
  assert.equal((await h.slipway.deps.store.lifecycle.settingsOf(request.id))?.tier, 'small');
});

test('a change waiting for an approver is withdrawn when the namespace is deleted meanwhile', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');
  await changeForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'large' });
  const ask = await h.waitFor('the change in the thread', () => thread(h, request).find((m) => m.text.includes('asks to change')));

  await deleteForm(h, PEOPLE.dev, 'payments-dev');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: null });
  await h.waitFor('the namespace deleted', async () => (await h.slipway.deps.store.lifecycle.get(request.id))?.state === 'deleted');

  await h.click(PEOPLE.bob, ask, CHANGE.approve);
  await h.waitFor('the refusal', () =>
    h.slack.ephemerals(PEOPLE.bob).find((m) => /cannot be changed now: it is past its end date or being deleted/.test(m.text)),
  );
  const withdrawn = thread(h, request).find((m) => m.ts === ask.ts);
  assert.ok(withdrawn);
  assert.deepEqual(buttons(withdrawn), []);
  assert.match(readable(withdrawn), /Withdrawn: the namespace is past its end date or being deleted\./);
  assert.equal(await h.slipway.deps.store.lifecycle.lastApproved(request.id, 'change'), undefined, 'never approved');
  assert.notEqual((await h.slipway.deps.store.latestRun(request.id))?.kind, 'change', 'no change run starts');
});
