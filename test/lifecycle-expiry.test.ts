import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALLBACK, HOME, LIFECYCLE } from '../src/slack/ids.ts';
import type { startHarness } from './support/harness.ts';
import { APPROVALS, buttons, PEOPLE, readable, type HarnessOptions } from './support/harness.ts';
import { endMessages, openedForm, readyNamespaceEnding, startWithTeamChannel, sweep, TEAM_CHANNEL } from './support/lifecycle.ts';

/**
 * Expiry through the real interfaces: a namespace requested with an end date through the form,
 * the `lifecycle` job run as the scheduler runs it, under a clock the test moves; what people
 * read is what the Slack emulator received. Berlin leaves summer time at 03:00 on Sunday
 * 25 October 2026, between the two reminders of a namespace ending on Tuesday 27 October.
 */

function setUp(t: Parameters<typeof startHarness>[0], start = '2026-10-20T08:00:00Z', options: HarnessOptions = {}) {
  return startWithTeamChannel(t, start, options);
}

test('reminders 3 and 1 days before, at 10:00 Berlin time on both sides of the change to winter time, each once', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });

  time.set('2026-10-24T07:59:00Z'); // Saturday 09:59 CEST
  assert.match(await sweep(h), /^0 reminded/);
  assert.equal(endMessages(h).length, 0, 'not before 10:00');

  time.set('2026-10-24T08:00:00Z'); // 10:00 CEST
  assert.match(await sweep(h), /^1 reminded/);
  const [first] = endMessages(h);
  assert.ok(first);
  assert.match(readable(first), /Your namespace `checkout-load` on \*Dev \(eu-west-1\)\* \(dev, R-1\) reaches its end date in 3 days, on Tue Oct 27/);
  assert.deepEqual(buttons(first), [`${LIFECYCLE.extend}_7`, `${LIFECYCLE.extend}_30`, HOME.delete]);

  time.set('2026-10-24T08:05:00Z');
  await sweep(h);
  time.set('2026-10-26T08:30:00Z'); // Monday 09:30 CET: 10:00 had the offset not changed
  await sweep(h);
  assert.equal(endMessages(h).length, 1, 'never twice, and not an hour early after the change');

  time.set('2026-10-26T09:00:00Z'); // 10:00 CET
  assert.match(await sweep(h), /^1 reminded/);
  assert.equal(endMessages(h).length, 2);
  assert.match(readable(endMessages(h)[1] ?? first), /reaches its end date tomorrow, on Tue Oct 27/);
  await sweep(h);
  assert.equal(endMessages(h).length, 2);

  // Delete now opens the deletion form, the same as `/platform delete`.
  const form = await openedForm(h, CALLBACK.deleteNamespace, () => h.click(PEOPLE.dev, first, HOME.delete));
  assert.equal(form.callback_id, CALLBACK.deleteNamespace);

  const reminded = (await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type === 'reminded');
  assert.deepEqual(
    reminded.map((e) => [e.at, e.data.daysLeft, e.data.to]),
    [
      ['2026-10-24T08:00:00.000Z', 3, 'owner'],
      ['2026-10-26T09:00:00.000Z', 1, 'owner'],
    ],
  );
});

test('after a restart across the reminder time the latest reminder is sent once and older ones are dropped', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  time.set('2026-10-23T12:00:00Z');
  assert.match(await sweep(h), /^0 reminded/, 'the job has run before the bot goes down');

  // Down from Friday noon until Monday 12:00 CET: both reminders' times passed meanwhile.
  time.set('2026-10-26T11:00:00Z');
  await h.restart({ scheduler: true });
  await h.slipway.scheduler.idle();
  assert.equal(endMessages(h).length, 1, 'caught up at start-up');
  assert.match(readable(endMessages(h)[0] ?? { text: '', blocks: [] }), /reaches its end date tomorrow/);
  const [catchUp] = await h.slipway.deps.store.adoption.jobRuns('lifecycle');
  assert.equal(catchUp?.reason, 'catch-up');
  assert.match(catchUp?.summary ?? '', /^1 reminded, .*1 timers dropped/);

  await h.restart({ scheduler: true });
  await h.slipway.scheduler.idle();
  await sweep(h);
  assert.equal(endMessages(h).length, 1, 'once only, whatever restarts follow');
});

test('a namespace with an end date and no timers (ready before expiry happened) gets them at start-up', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  // As db/0008 leaves namespaces that were ready before it: tracked, with their end date, no timers.
  await h.slipway.deps.store.lifecycle.replaceTimers(1, [], time.clock.now());
  time.set('2026-10-24T07:00:00Z');
  assert.match(await sweep(h), /^0 reminded/);

  await h.restart();
  time.set('2026-10-24T08:00:00Z');
  assert.match(await sweep(h), /^1 reminded/);
  assert.match(readable(endMessages(h)[0] ?? { text: '', blocks: [] }), /reaches its end date in 3 days/);
});

test('no reminder for a namespace deleted, or being deleted, before its time', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  const gone = await readyNamespaceEnding(h, { name: 'checkout-old', expiresOn: '2026-10-27' });
  const going = await readyNamespaceEnding(h, { name: 'checkout-tmp', expiresOn: '2026-10-27' });
  // What a finished deletion run records (src/store/store.ts completeRun), and one under way.
  const lifecycle = h.slipway.deps.store.lifecycle;
  await lifecycle.markDeleted(gone, time.clock.now());
  assert.ok(await lifecycle.transition(going, 'active', 'deleting', time.clock.now()));

  time.set('2026-10-24T08:00:00Z');
  assert.match(await sweep(h), /^1 reminded, .*1 timers dropped/);
  assert.deepEqual(
    endMessages(h).map((m) => /`([a-z-]+)`/.exec(m.text)?.[1]),
    ['checkout-load'],
  );
});

test('when the owner has left the workspace, reminders go to the team channel and the approvers in the request thread', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  h.slack.deactivateUser(PEOPLE.dev);

  time.set('2026-10-24T08:00:00Z');
  assert.match(await sweep(h), /^1 reminded/);
  assert.equal(endMessages(h).length, 0, 'nothing to the DM of someone who left');
  const [inTeam] = h.slack.messages(TEAM_CHANNEL);
  assert.ok(inTeam, 'posted in the team channel');
  assert.match(readable(inTeam), /The namespace `checkout-load`.* reaches its end date in 3 days/);
  assert.match(
    readable(inTeam),
    /<@U0DEV>, who owns it, has left the workspace: an approver can hand it over with `\/platform transfer checkout-load @person`/,
  );
  const card = h.slack.messages(APPROVALS)[0];
  assert.ok(card);
  const thread = h.slack.thread(APPROVALS, card.ts).map(readable);
  assert.ok(
    thread.some((m) => /has left the workspace/.test(m)),
    thread.join('\n---\n'),
  );
  assert.equal((await h.slipway.deps.store.eventsFor(1)).find((e) => e.type === 'reminded')?.data.to, 'team');
});

test('on the end date a final notice with one more chance to extend; the grace period runs from it', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });

  time.set('2026-10-27T09:00:00Z'); // Tuesday 10:00 CET
  assert.match(await sweep(h), /1 final notices/);
  const notice = endMessages(h).at(-1);
  assert.ok(notice);
  assert.match(readable(notice), /⌛ Your namespace `checkout-load` .* reached its end date today \(Tue Oct 27\)/);
  assert.match(readable(notice), /It will be deleted after Wed Oct 28 2026, 10:00 \(Europe\/Berlin\) unless it is extended/);
  assert.deepEqual(buttons(notice), [`${LIFECYCLE.extend}_7`, `${LIFECYCLE.extend}_30`]);
  assert.equal(endMessages(h).filter((m) => m.text.startsWith('⏳')).length, 0, 'reminders that came due with it are dropped');
  const ns = await h.slipway.deps.store.lifecycle.get(1);
  assert.deepEqual([ns?.state, ns?.graceUntil], ['expired', '2026-10-28T09:00:00.000Z']);
  assert.ok(h.kube.get('namespaces', undefined, 'checkout-load'), 'still there during the grace period');

  time.set('2026-10-28T08:59:00Z');
  assert.match(await sweep(h), /0 deletions started/);
  assert.equal(endMessages(h).length, 1);
  assert.deepEqual(
    (await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type === 'expiring').map((e) => e.data.graceUntil),
    ['2026-10-28T09:00:00.000Z'],
  );

  // The grace period is over: the namespace is deleted by a durable run, once.
  time.set('2026-10-28T09:00:00Z');
  assert.match(await sweep(h), /1 deletions started/);
  const deleted = await h.waitFor('the deleted DM', () =>
    h.slack.dmWith(PEOPLE.dev).find((m) => /is deleted, after its expiry date and grace period/.test(m.text)),
  );
  assert.match(deleted.text, /checkout-load/);
  assert.equal(h.kube.get('namespaces', undefined, 'checkout-load'), undefined, 'gone from the cluster');
  assert.equal((await h.slipway.deps.store.lifecycle.get(1))?.state, 'deleted');
  // Recorded just after the owner's DM went out.
  const event = await h.waitFor('the deletion event', async () => (await h.slipway.deps.store.eventsFor(1)).find((e) => e.type === 'namespace_deleted'));
  assert.equal(event.actor, 'expiry');
  time.set('2026-10-28T09:05:00Z');
  assert.match(await sweep(h), /^0 reminded, 0 final notices, 0 deletions started/);
});

test('a final notice sent days late (the bot was down) says on which day the end date was, not today', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });

  time.set('2026-10-29T09:00:00Z');
  assert.match(await sweep(h), /1 final notices/);
  const notice = endMessages(h).at(-1);
  assert.ok(notice);
  assert.match(readable(notice), /⌛ Your namespace `checkout-load` .* reached its end date on Tue Oct 27\./);
});

test('a final notice Slack refused is sent at the next sweep, and the end of the grace period still comes', async (t) => {
  const { time, harness } = setUp(t, undefined, { configure: (doc) => void (doc.lifecycle = { graceHours: 0 }) });
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  time.set('2026-10-27T09:00:00Z');
  h.slack.failNext('chat.postMessage', 'ratelimited');
  assert.match(await sweep(h), /0 final notices.*1 not delivered/);
  assert.equal(endMessages(h).length, 0);

  // Five minutes later the notice is due again and, with no grace period, so is the deletion.
  time.set('2026-10-27T09:05:00Z');
  assert.match(await sweep(h), /1 final notices, 1 deletions started/);
  assert.equal(endMessages(h).length, 1);
  await h.waitFor('the deleted DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => /is deleted, after its expiry date/.test(m.text)));
});

test('a protected namespace is not deleted when its grace period ends: the approvers are asked in the request thread', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-prod', expiresOn: '2026-10-27', environment: 'prod' });

  time.set('2026-10-27T09:00:00Z');
  await sweep(h);
  assert.match(
    readable(endMessages(h).at(-1) ?? { text: '', blocks: [] }),
    /prod is protected: after Wed Oct 28 2026, 10:00 \(Europe\/Berlin\) the platform team decides/,
  );

  time.set('2026-10-28T09:00:00Z');
  assert.match(await sweep(h), /0 deletions started, 1 protected asked approvers/);
  const card = h.slack.messages(APPROVALS)[0];
  assert.ok(card);
  const asked = h.slack.thread(APPROVALS, card.ts).at(-1);
  assert.ok(asked);
  assert.match(readable(asked), /`checkout-prod` .* owned by <@U0DEV>, passed its end date \(Tue Oct 27\) and its grace period is over\. prod is protected/);
  assert.deepEqual(buttons(asked), [`${LIFECYCLE.extend}_7`, `${LIFECYCLE.extend}_30`, HOME.delete]);
  assert.ok(h.kube.get('namespaces', undefined, 'checkout-prod'), 'not deleted');
  assert.deepEqual(
    (await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type === 'expiring' || e.type === 'delete_requested').map((e) => [e.type, e.actor]),
    [
      ['expiring', undefined],
      ['delete_requested', 'expiry'],
    ],
  );
  assert.equal((await h.slipway.deps.store.lifecycle.get(1))?.state, 'expired');
  await sweep(h);
  assert.equal(h.slack.thread(APPROVALS, card.ts).filter((m) => m.text.startsWith('⌛')).length, 1, 'asked once');

  // Someone who is neither the owner nor an approver cannot extend it; an approver can.
  await h.click(PEOPLE.mallory, asked, `${LIFECYCLE.extend}_30`);
  await h.waitFor('the refusal', () => h.slack.ephemerals(PEOPLE.mallory)[0]);
  assert.match(h.slack.ephemerals(PEOPLE.mallory)[0]?.text ?? '', /Only <@U0DEV>, who owns `checkout-prod` \(prod, R-1\), or an approver can extend it/);
  await h.click(PEOPLE.alice, asked, `${LIFECYCLE.extend}_7`);
  const extended = await h.waitFor('the post updated', () => h.slack.thread(APPROVALS, card.ts).find((m) => m.ts === asked.ts && m.text.startsWith('✅')));
  assert.match(extended.text, /`checkout-prod` \(prod, R-1\) now ends on Tue Nov 3 instead of Tue Oct 27: extended by <@U0ALICE>/);
  assert.deepEqual(buttons(extended), []);
  const told = await h.waitFor('the owner told', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.includes('now ends on')));
  assert.match(told.text, /`checkout-prod` \(prod, R-1\) now ends on Tue Nov 3 instead of Tue Oct 27: extended by <@U0ALICE>/);
  assert.equal((await h.slipway.deps.store.lifecycle.get(1))?.state, 'active');
});
