import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ACTION, BLOCK, HOME } from '../src/slack/ids.ts';
import { APPROVALS, buttons, PEOPLE, readable, REQUEST_FORM, startHarness, type Harness } from './support/harness.ts';
import { clickHome, openHome, publishedHome, readyNamespaces } from './support/namespaces.ts';
import { deleteForm, readyNamespace } from './support/lifecycle.ts';
import type { EmulatedView } from '../src/playground/slack-api.ts';

const NOW = new Date('2026-12-04T09:00:00Z');
const clock = { now: () => NOW };
const DAY = 86_400_000;

const homeText = (view: EmulatedView) => readable({ text: '', blocks: view.blocks });

/** Submits the request form as `user` (staging, medium: it needs an approver). */
async function requestNamespace(h: Harness, user: string, name: string): Promise<void> {
  await h.command(user, 'new-namespace');
  await h.waitFor('the request form', () => h.slack.views.find((v) => v.view.callback_id === 'new_namespace' && v.userId === user));
  const reply = await h.submit(user, { ...REQUEST_FORM, [BLOCK.name]: name, [BLOCK.expiry]: null });
  assert.equal(reply.body, '', 'the form closes');
}

test('Home for someone with no namespaces: says so, offers "Request a namespace", no approver queue', async (t) => {
  const h = await startHarness(t, { clock });
  const home = await openHome(h, PEOPLE.dev);
  const text = homeText(home);
  assert.match(text, /You don't own any namespaces yet/);
  assert.deepEqual(buttons(home), [HOME.request]);
  assert.doesNotMatch(text, /Waiting for you/, 'only approvers see the queue');

  // The button opens the request form, as /platform new-namespace does.
  await clickHome(h, PEOPLE.dev, home, HOME.request);
  await h.waitFor('the request form', () => h.slack.views.some((v) => v.view.callback_id === 'new_namespace' && v.userId === PEOPLE.dev));
});

test('Home for one namespace: cluster, team, environment, tier, age, expiry and days left, in use, and its buttons', async (t) => {
  const h = await startHarness(t, { clock });
  const store = h.slipway.deps.store;
  const [active] = await readyNamespaces(store, 1, {
    namespace: 'checkout-load',
    expiresOn: '2026-12-20',
    tier: 'medium',
    at: new Date(NOW.getTime() - 3 * DAY),
  });
  assert.ok(active);
  await store.adoption.insertSnapshots([
    {
      at: new Date(NOW.getTime() - 2 * DAY),
      cluster: 'dev-eu',
      namespace: 'checkout-load',
      team: 'payments',
      requestId: active.id,
      present: true,
      runningPods: 2,
    },
  ]);

  const home = await openHome(h, PEOPLE.dev);
  const text = homeText(home);
  assert.match(text, /`checkout-load`\* · Dev \(eu-west-1\) · Payments · dev · medium/);
  assert.match(text, /R-1 · age 3 days · expires 2026-12-20 \(16 days left\)/);
  assert.match(text, /active: 2 pods running \(seen 2026-12-02\)/);
  assert.match(text, /You own 1 namespace\./);
  assert.deepEqual(buttons(home), [HOME.request, `${HOME.extend}_7`, `${HOME.extend}_30`, HOME.change, HOME.delete, HOME.details]);
  // Extend carries what the lifecycle feature checks (the end date shown); the others the request id.
  const row = home.blocks.find((b) => b.block_id === `ns_${active.id}`) as { elements: { action_id: string; value: string }[] } | undefined;
  const extend = (days: number) => JSON.stringify({ requestId: active.id, days, from: '2026-12-20' });
  assert.deepEqual(
    row?.elements.map((e) => [e.action_id, e.value]),
    [
      [`${HOME.extend}_7`, extend(7)],
      [`${HOME.extend}_30`, extend(30)],
      [HOME.change, String(active.id)],
      [HOME.delete, String(active.id)],
      [HOME.details, String(active.id)],
    ],
  );

  // Pods stopped since: idle, with the last time they ran.
  await store.adoption.insertSnapshots([
    { at: new Date(NOW.getTime() - DAY), cluster: 'dev-eu', namespace: 'checkout-load', team: 'payments', requestId: active.id, present: true, runningPods: 0 },
  ]);
  assert.match(homeText(await openHome(h, PEOPLE.dev)), /idle: pods last ran 2026-12-02, none since 2026-12-03/);

  // Details opens a modal with the owner and the request as /platform status shows it.
  await clickHome(h, PEOPLE.dev, home, HOME.details);
  const details = await h.waitFor('the details modal', () => h.slack.views.find((v) => v.view.callback_id === HOME.detailsModal)?.view);
  assert.match(readable({ text: '', blocks: details.blocks }), /owner <@U0DEV>[\s\S]*R-1\* · namespace `checkout-load`/);
});

test('Home for 200 namespaces stays within 100 blocks, shows the count and pages with Show more and Previous', async (t) => {
  const h = await startHarness(t, { clock });
  await readyNamespaces(h.slipway.deps.store, 200, { at: new Date(NOW.getTime() - DAY) });

  const first = await openHome(h, PEOPLE.dev);
  assert.ok(first.blocks.length <= 100, `${first.blocks.length} blocks`);
  assert.match(homeText(first), /You own 200 namespaces \(showing 1–20 of 200\)/);
  // Newest first: ns-200 … ns-181.
  assert.match(homeText(first), /`ns-200`/);
  assert.doesNotMatch(homeText(first), /`ns-180`/);
  assert.ok(buttons(first).includes(HOME.page));
  assert.ok(!buttons(first).includes(`${HOME.page}_previous`), 'no Previous on the first page');

  const before = h.slack.callsTo('views.publish').length;
  await clickHome(h, PEOPLE.dev, first, HOME.page);
  const second = await publishedHome(h, PEOPLE.dev, before);
  assert.match(homeText(second), /showing 21–40 of 200/);
  assert.match(homeText(second), /`ns-180`/);
  assert.ok(buttons(second).includes(`${HOME.page}_previous`));
  assert.ok(second.blocks.length <= 100);

  // Reopening the tab keeps the page it shows (Slack sends the current view with the event).
  assert.match(homeText(await openHome(h, PEOPLE.dev, second)), /showing 21–40 of 200/);
  assert.ok(
    h.slack.callsTo('views.publish').every((c) => c.ok),
    'Slack accepted every view',
  );
});

test('an approver sees the requests waiting on them and approves on Home with the card’s compare-and-set decision', async (t) => {
  const h = await startHarness(t, { clock });
  await requestNamespace(h, PEOPLE.dev, 'checkout-load');
  const store = h.slipway.deps.store;
  const [other] = await readyNamespaces(store, 1, { namespace: 'search-dev', team: 'search', requester: PEOPLE.mallory, expiresOn: '2026-12-10' });
  assert.ok(other);
  await store.lifecycle.openRequest({ requestId: other.id, kind: 'extend', requestedBy: PEOPLE.mallory, expiresOn: '2027-03-01' }, NOW);

  // The requester sees their request's state, not the queue.
  const devHome = homeText(await openHome(h, PEOPLE.dev));
  assert.match(devHome, /Your open requests[\s\S]*R-1\* `checkout-load` \(staging, medium\): ⏳ waiting for approval/);
  assert.doesNotMatch(devHome, /Waiting for you/);

  await requestNamespace(h, PEOPLE.alice, 'alice-tests');
  const home = await openHome(h, PEOPLE.alice);
  const text = homeText(home);
  assert.match(text, /R-3\* · <@U0ALICE> asks for `alice-tests`[\s\S]*Your own request: another approver decides/);
  assert.ok(!home.blocks.some((b) => b.block_id === 'approval_3'), 'no Approve or Deny on her own request');
  assert.match(text, /Waiting for you[\s\S]*R-1\* · <@U0DEV> asks for `checkout-load` \(payments, staging, medium\)/);
  assert.match(text, /<@U0MALLORY> asks to \*extend to 2027-03-01\* `search-dev` \(R-2\)/);
  assert.ok(buttons(home).includes(HOME.approve) && buttons(home).includes(HOME.deny));

  // Someone who is not an approver cannot use a forged Home button; they hear why by DM.
  await clickHome(h, PEOPLE.mallory, home, HOME.approve);
  await h.waitFor('the refusal', () => h.slack.dmWith(PEOPLE.mallory).some((m) => /approver/i.test(readable(m))));
  assert.equal((await store.getRequest(1))?.status, 'pending');

  const card = await h.waitFor('the request card', () => h.slack.messages(APPROVALS)[0]);
  const before = h.slack.callsTo('views.publish').length;
  // A slow cluster: the approver's Home is redrawn once the decision is made, not when provisioning ends.
  const slow = h.kube.setLatency(1500, { method: 'PATCH', path: /\/namespaces\/checkout-load$/ });
  await clickHome(h, PEOPLE.alice, home, HOME.approve);
  const after = await publishedHome(h, PEOPLE.alice, before);
  assert.equal((await store.getRequest(1))?.status, 'approved', 'still provisioning');
  assert.doesNotMatch(homeText(after), /asks for `checkout-load`/, 'the decided request left the queue');
  slow();
  await h.waitFor('provisioning', async () => (await store.getRequest(1))?.status === 'ready');
  assert.equal((await store.getRequest(1))?.decidedBy, PEOPLE.alice);

  // The card is the same decision: a late click there is told who decided.
  await h.click(PEOPLE.bob, card, ACTION.approve);
  await h.waitFor('the late click answer', () => h.slack.ephemerals(PEOPLE.bob).some((m) => /already/i.test(m.text)));
});

test('Deny on Home opens the reason form; once denied, the approver’s Home no longer lists the request', async (t) => {
  const h = await startHarness(t, { clock });
  await requestNamespace(h, PEOPLE.dev, 'checkout-load');
  const home = await openHome(h, PEOPLE.alice);
  await clickHome(h, PEOPLE.alice, home, HOME.deny);
  const form = await h.waitFor('the deny form', () => h.slack.views.find((v) => v.view.callback_id === 'deny_reason')?.view);
  const before = h.slack.callsTo('views.publish').length;
  const reply = await h.submit(PEOPLE.alice, { [BLOCK.denyReason]: 'Use the shared staging namespace' }, { view: form });
  assert.equal(reply.body, '');
  assert.equal((await h.slipway.deps.store.getRequest(1))?.status, 'denied');
  const after = await publishedHome(h, PEOPLE.alice, before);
  assert.doesNotMatch(homeText(after), /checkout-load/);
  await h.waitFor('the requester hears', () => h.slack.dmWith(PEOPLE.dev).some((m) => /denied/i.test(readable(m))));
});

test('Home is republished when a namespace of the person changes (provisioning done), without opening the tab', async (t) => {
  const h = await startHarness(t, { clock });
  assert.match(homeText(await openHome(h, PEOPLE.dev)), /You don't own any namespaces yet/);
  const before = h.slack.callsTo('views.publish').length;
  await requestNamespace(h, PEOPLE.dev, 'checkout-load');
  const card = await h.waitFor('the request card', () => h.slack.messages(APPROVALS)[0]);
  await h.click(PEOPLE.alice, card, ACTION.approve);
  await h.waitFor('ready', async () => (await h.slipway.deps.store.getRequest(1))?.status === 'ready');
  const home = await h.waitFor('the republished Home', () => {
    const view = h.slack.homeView(PEOPLE.dev);
    return view && h.slack.callsTo('views.publish').length > before && /`checkout-load`/.test(homeText(view)) ? view : undefined;
  });
  assert.match(homeText(home), /You own 1 namespace/);
  assert.doesNotMatch(homeText(home), /Your open requests/, 'the request is settled');
});

test('a Details click on a namespace that is gone is answered, not ignored', async (t) => {
  const h = await startHarness(t, { clock });
  const [ns] = await readyNamespaces(h.slipway.deps.store, 1);
  assert.ok(ns);
  const home = await openHome(h, PEOPLE.dev);
  assert.ok(await h.slipway.deps.store.lifecycle.markDeleted(ns.id, NOW));
  await clickHome(h, PEOPLE.dev, home, HOME.details);
  await h.waitFor('the answer', () => h.slack.dmWith(PEOPLE.dev).some((m) => /R-1 no longer exists/.test(m.text)));
  assert.ok(!h.slack.views.some((v) => v.view.callback_id === HOME.detailsModal));
});

test('the app manifest enables the Home tab, subscribes to app_home_opened and escapes mentions for /platform list @person', async () => {
  const manifest = parse(readFileSync(new URL('../manifest.yml', import.meta.url), 'utf8')) as {
    features: { app_home: { home_tab_enabled: boolean }; slash_commands: { command: string; should_escape: boolean; usage_hint: string }[] };
    settings: { event_subscriptions: { bot_events: string[] } };
  };
  assert.equal(manifest.features.app_home.home_tab_enabled, true);
  assert.ok(manifest.settings.event_subscriptions.bot_events.includes('app_home_opened'));
  const platform = manifest.features.slash_commands.find((c) => c.command === '/platform');
  assert.equal(platform?.should_escape, true);
  assert.match(platform?.usage_hint ?? '', /list \[team\|@person\|all\]/);
});

test('an approver decides a deletion ask on Home as in the thread: a stranger is refused by DM, the approver deletes, the queue empties', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'prod');
  await deleteForm(h, PEOPLE.dev, 'payments-prod');
  await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-prod', [BLOCK.deleteReason]: 'Moved to the new cluster' });
  await h.waitFor('the ask', async () => await h.slipway.deps.store.lifecycle.openRequestFor(request.id, 'delete'));

  const owners = await openHome(h, PEOPLE.dev);
  assert.doesNotMatch(homeText(owners), /asks to \*delete\*/, 'only approvers see the queue');
  const home = await openHome(h, PEOPLE.alice);
  assert.match(homeText(home), /<@U0DEV> asks to \*delete\* `payments-prod` \(R-1\)\n>Moved to the new cluster/);
  assert.ok(buttons(home as never).includes(HOME.approveAsk));

  await clickHome(h, PEOPLE.mallory, home, HOME.approveAsk);
  await h.waitFor('the refusal by DM', () => h.slack.dmWith(PEOPLE.mallory).find((m) => /Only the approvers/.test(m.text)));
  assert.ok(h.kube.get('namespaces', 'payments-prod'));

  const before = h.slack.callsTo('views.publish').length;
  await clickHome(h, PEOPLE.alice, home, HOME.approveAsk);
  await h.waitFor('the deleted DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => /is deleted/.test(m.text)));
  assert.equal(h.kube.get('namespaces', 'payments-prod'), undefined);
  assert.equal((await h.slipway.deps.store.lifecycle.getRequestById(1))?.decidedBy, PEOPLE.alice);
  const after = await publishedHome(h, PEOPLE.alice, before);
  assert.doesNotMatch(homeText(after), /asks to \*delete\*/);
});
