import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOME, LIFECYCLE } from '../src/slack/ids.ts';
import { scanDrift } from '../src/workflows/drift/scan.ts';
import type { EmulatedMessage } from '../src/playground/slack-api.ts';
import { APPROVALS, buttons, PEOPLE, readable, startHarness, type Harness } from './support/harness.ts';
import { endMessages, movableClock, readyNamespaceEnding, sweep } from './support/lifecycle.ts';
import { clickHome, openHome, publishedHome } from './support/namespaces.ts';

/**
 * Extensions through the real interfaces: Extend buttons on the reminder DM clicked with signed
 * block_actions, extension requests decided in the request's thread, under a clock the test moves.
 * The namespace is made on Tuesday 20 October 2026 and ends on Tuesday 27 October.
 */

function setUp(t: Parameters<typeof startHarness>[0], extend: Record<string, unknown> = {}) {
  const time = movableClock('2026-10-20T08:00:00Z');
  const harness = startHarness(t, {
    clock: time.clock,
    configure: (doc) => {
      doc.schedule = { timezone: 'Europe/Berlin' };
      doc.lifecycle = { extend: { maxDays: 30, maxLifetimeDays: 180, ...extend } };
    },
  });
  return { time, harness };
}

/** The namespace ready and its first reminder (3 days before) in the developer's DM. */
async function reminded(h: Harness, time: ReturnType<typeof movableClock>): Promise<EmulatedMessage> {
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  time.set('2026-10-24T08:00:00Z');
  await sweep(h);
  const reminder = endMessages(h)[0];
  assert.ok(reminder, 'the reminder');
  return reminder;
}

const ephemeralTo = (h: Harness, user: string) => h.slack.ephemerals(user).map((e) => e.text);

/** Clicks a button and returns what the clicker alone was told. */
async function answerTo(h: Harness, user: string, message: EmulatedMessage, actionId: string): Promise<string> {
  const before = h.slack.ephemerals(user).length;
  await h.click(user, message, actionId);
  return (await h.waitFor(`the answer to ${user}`, () => h.slack.ephemerals(user)[before])).text;
}
const expiresOn = async (h: Harness) => (await h.slipway.deps.store.lifecycle.get(1))?.expiresOn;

test('the owner extends within policy at once; the reminder says so, and the old reminder times pass silently', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  const reminder = await reminded(h, time);

  await h.click(PEOPLE.dev, reminder, `${LIFECYCLE.extend}_7`);
  const updated = await h.waitFor('the reminder updated', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.ts === reminder.ts && m.text.startsWith('✅')));
  assert.match(readable(updated), /`checkout-load` \(dev, R-1\) now ends on Tue Nov 3 instead of Tue Oct 27: extended by <@U0DEV>/);
  assert.deepEqual(buttons(updated), [], 'no offer left to click twice');
  assert.equal(await expiresOn(h), '2026-11-03');
  const [event] = (await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type === 'extended');
  assert.deepEqual([event?.actor, event?.data.from, event?.data.to], [PEOPLE.dev, '2026-10-27', '2026-11-03']);
  // The namespace says so too (its end-date annotation), so drift finds nothing to re-apply.
  const annotations = () => (h.kube.get('namespaces', '', 'checkout-load')?.metadata as { annotations?: Record<string, string> }).annotations;
  assert.equal(annotations()?.['slipway.dev/expires-on'], '2026-11-03');
  assert.deepEqual((await scanDrift(h.slipway.deps)).differences, []);

  // The old end's reminder and notice times pass without a word; the new end's reminders come.
  for (const at of ['2026-10-26T09:00:00Z', '2026-10-27T09:00:00Z', '2026-10-28T09:00:00Z']) {
    time.set(at);
    await sweep(h);
  }
  assert.equal(endMessages(h).length, 0, 'no reminder or notice for the old end date (the first reminder now says it was extended)');
  time.set('2026-10-31T09:00:00Z');
  assert.match(await sweep(h), /^1 reminded/);
  assert.match(readable(endMessages(h).at(-1) ?? updated), /reaches its end date in 3 days, on Tue Nov 3/);
});

test('extending during the grace period keeps the namespace: nothing is deleted when the grace would have ended', async (t) => {
  const { time, harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  time.set('2026-10-27T09:00:00Z');
  await sweep(h);
  const notice = endMessages(h).at(-1);
  assert.ok(notice && notice.text.startsWith('⌛'));
  assert.equal((await h.slipway.deps.store.lifecycle.get(1))?.state, 'expired');

  time.set('2026-10-27T15:00:00Z');
  await h.click(PEOPLE.dev, notice, `${LIFECYCLE.extend}_7`);
  await h.waitFor('the notice updated', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.ts === notice.ts && m.text.startsWith('✅')));
  const ns = await h.slipway.deps.store.lifecycle.get(1);
  assert.deepEqual([ns?.state, ns?.expiresOn, ns?.graceUntil], ['active', '2026-11-03', undefined]);

  time.set('2026-10-28T09:00:00Z');
  assert.match(await sweep(h), /^0 reminded, 0 final notices, 0 deletions started/);
  assert.ok(h.kube.get('namespaces', undefined, 'checkout-load'));
});

test('beyond the days an owner may add alone, the approvers decide in the request thread, once', async (t) => {
  const { time, harness } = setUp(t, { environments: { dev: { maxDays: 7 } } });
  const h = await harness;
  const reminder = await reminded(h, time);

  assert.match(
    await answerTo(h, PEOPLE.dev, reminder, `${LIFECYCLE.extend}_30`),
    /Extending `checkout-load` \(dev, R-1\) to Thu Nov 26 is more than the 7 days an owner may add at a time in dev, so I asked the platform team in <#C0APPROVALS>/,
  );
  assert.equal(await expiresOn(h), '2026-10-27', 'not yet');
  const card = h.slack.messages(APPROVALS)[0];
  assert.ok(card);
  const asked = h.slack.thread(APPROVALS, card.ts).find((m) => m.text.startsWith('🕒'));
  assert.ok(asked, 'asked in the request thread');
  assert.match(readable(asked), /<@U0DEV> asks to extend `checkout-load` \(dev, R-1\) by 30 days, to Thu Nov 26 \(it ends on Tue Oct 27 now\)/);
  assert.deepEqual(buttons(asked), [LIFECYCLE.extensionApprove, LIFECYCLE.extensionDeny]);

  // Asking again while it waits opens no second request.
  assert.match(await answerTo(h, PEOPLE.dev, reminder, `${LIFECYCLE.extend}_30`), /already waiting for the platform team/);
  assert.match(await answerTo(h, PEOPLE.mallory, asked, LIFECYCLE.extensionApprove), /Only the approvers/);

  // Two approvers at the same moment: one decision.
  await Promise.all([h.click(PEOPLE.alice, asked, LIFECYCLE.extensionApprove), h.click(PEOPLE.bob, asked, LIFECYCLE.extensionDeny)]);
  const decided = await h.waitFor('the decision', () => h.slack.thread(APPROVALS, card.ts).find((m) => m.ts === asked.ts && !m.text.startsWith('🕒')));
  await h.waitFor('the loser told', () => ephemeralTo(h, PEOPLE.alice)[0] ?? ephemeralTo(h, PEOPLE.bob)[0]);
  const [lifecycleRequest] = await h.slipway.deps.store.lifecycle.openRequests(10);
  assert.equal(lifecycleRequest, undefined, 'decided');
  const winner = await h.slipway.deps.store.lifecycle.getRequestById(1);
  assert.ok(winner?.decidedBy);
  const loser = winner.decidedBy === PEOPLE.alice ? PEOPLE.bob : PEOPLE.alice;
  assert.match(ephemeralTo(h, loser)[0] ?? '', new RegExp(`That extension was already ${winner.status} by <@${winner.decidedBy}>`));
  assert.deepEqual(buttons(decided), []);
  assert.equal(await expiresOn(h), winner.status === 'approved' ? '2026-11-26' : '2026-10-27');
  const dm = await h.waitFor('the owner told', () => h.slack.dmWith(PEOPLE.dev).find((m) => /approved by <@|denied the extension/.test(m.text)));
  assert.match(readable(dm), winner.status === 'approved' ? /now ends on Thu Nov 26 .*approved by <@U0ALICE>/ : /<@U0BOB> denied the extension/);
  assert.deepEqual(
    (await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type.startsWith('extension') || e.type === 'extended').map((e) => e.type),
    ['extension_requested', 'extension_decided', ...(winner.status === 'approved' ? ['extended'] : [])],
  );
});

test('an approver approves an extension asked beyond policy; the owner hears the new end date', async (t) => {
  const { time, harness } = setUp(t, { environments: { dev: { maxDays: 7 } } });
  const h = await harness;
  const reminder = await reminded(h, time);
  await h.click(PEOPLE.dev, reminder, `${LIFECYCLE.extend}_30`);
  const card = h.slack.messages(APPROVALS)[0];
  assert.ok(card);
  const asked = await h.waitFor('the request', () => h.slack.thread(APPROVALS, card.ts).find((m) => m.text.startsWith('🕒')));
  await h.click(PEOPLE.alice, asked, LIFECYCLE.extensionApprove);
  const dm = await h.waitFor('the owner told', () => h.slack.dmWith(PEOPLE.dev).find((m) => /approved by/.test(m.text)));
  assert.match(readable(dm), /`checkout-load` \(dev, R-1\) now ends on Thu Nov 26 instead of Tue Oct 27: extended by <@U0DEV>, approved by <@U0ALICE>/);
  assert.equal(await expiresOn(h), '2026-11-26');
  const decided = await h.waitFor('the request updated', () => h.slack.thread(APPROVALS, card.ts).find((m) => m.ts === asked.ts && !m.text.startsWith('🕒')));
  assert.match(decided.text, /<@U0ALICE> approved the extension of `checkout-load` \(dev, R-1\) asked by <@U0DEV>: it now ends on Thu Nov 26/);
});

test('an extension past the maximum lifetime is refused with the reason, and nothing changes', async (t) => {
  const { time, harness } = setUp(t, { maxLifetimeDays: 10 });
  const h = await harness;
  const reminder = await reminded(h, time);
  assert.match(
    await answerTo(h, PEOPLE.dev, reminder, `${LIFECYCLE.extend}_7`),
    /`checkout-load` \(dev, R-1\) can't be extended to Tue Nov 3: a namespace in dev lives at most 10 days, so its last possible day is Fri Oct 30\. Request a new namespace/,
  );
  assert.equal(await expiresOn(h), '2026-10-27');
  assert.deepEqual(buttons(h.slack.dmWith(PEOPLE.dev).find((m) => m.ts === reminder.ts) ?? reminder), [
    `${LIFECYCLE.extend}_7`,
    `${LIFECYCLE.extend}_30`,
    HOME.delete,
  ]);
  assert.equal(h.slack.thread(APPROVALS, h.card().ts).filter((m) => m.text.startsWith('🕒')).length, 0, 'not even asked');
});

test('Extend on the Home tab extends at once; the owner hears it in the app DM and the Home shows the new end date', async (t) => {
  const { harness } = setUp(t);
  const h = await harness;
  await readyNamespaceEnding(h, { name: 'checkout-load', expiresOn: '2026-10-27' });
  const home = await openHome(h, PEOPLE.dev);
  const before = h.slack.callsTo('views.publish').length;
  await clickHome(h, PEOPLE.dev, home, `${LIFECYCLE.extend}_30`);
  const told = await h.waitFor('the DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.includes('now ends on')));
  assert.match(told.text, /`checkout-load` \(dev, R-1\) now ends on Thu Nov 26 instead of Tue Oct 27: extended by <@U0DEV>/);
  assert.equal(await expiresOn(h), '2026-11-26');
  const redrawn = await publishedHome(h, PEOPLE.dev, before);
  assert.match(readable({ text: '', blocks: redrawn.blocks }), /Nov 26|2026-11-26/);
});
