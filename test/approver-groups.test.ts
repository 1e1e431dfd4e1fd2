import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmulatedMessage, RecordedCall } from '../src/playground/slack-api.ts';
import { ACTION } from '../src/slack/ids.ts';
import { APPROVALS, PEOPLE, REQUEST_FORM, startHarness, type Harness } from './support/harness.ts';
import { movableClock } from './support/lifecycle.ts';

/* Approvers through a Slack user group (Carol, in S0PLATFORM): the members are kept in memory and
   listed again in the background, so an Approve click (recorded before its ack) never waits on Slack. */

const LIST = 'usergroups.users.list';
const START = '2026-03-02T09:00:00Z';
const minutesAfterStart = (minutes: number) => new Date(Date.parse(START) + minutes * 60_000).toISOString();

/** The developer's pending request for `name` (typed after the command); returns its card. */
async function pendingCard(h: Harness, name: string): Promise<EmulatedMessage> {
  const opened = h.slack.callsTo('views.open').filter((c) => c.ok).length;
  await h.command(PEOPLE.dev, `new-namespace ${name}`);
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').filter((c) => c.ok).length > opened);
  await h.submit(PEOPLE.dev, REQUEST_FORM);
  return h.waitFor(`the card of ${name}`, () => h.slack.messages(APPROVALS).find((m) => m.text.includes(` ${name} `)));
}

/** The request behind a card (its text names the namespace), as stored. */
async function requestOf(h: Harness, card: EmulatedMessage) {
  const namespace = / requests namespace (\S+) /.exec(card.text)?.[1];
  const request = namespace === undefined ? undefined : await h.slipway.deps.store.findLatestRequestForNamespace(namespace);
  assert.ok(request, `a request for the card "${card.text}"`);
  return request;
}

/** Waits until the request behind `card` is approved by `user` (it then provisions). */
async function approvedBy(h: Harness, card: EmulatedMessage, user: string): Promise<void> {
  await h.waitFor(`the approval by ${user}`, async () => (await requestOf(h, card)).decidedBy === user);
  assert.notEqual((await requestOf(h, card)).status, 'denied');
}

/** The clicker's latest ephemeral answer. */
function answerTo(h: Harness, user: string, after: number): Promise<string> {
  return h.waitFor(`the answer to ${user}`, () => h.slack.ephemerals(user)[after]?.text);
}

const listCalls = (h: Harness, group = 'S0PLATFORM'): RecordedCall[] => h.slack.callsTo(LIST).filter((c) => c.args.usergroup === group);

test('the approver groups are listed at start, so a member’s Approve click calls no Slack lookup before its ack', async (t) => {
  const h = await startHarness(t);
  const atStart = listCalls(h);
  assert.deepEqual(
    atStart.map((c) => c.ok),
    [true],
    'S0PLATFORM listed once while the bot started',
  );

  const card = await pendingCard(h, 'load-a');
  const reply = await h.click(PEOPLE.carol, card, ACTION.approve);
  assert.equal(reply.status, 200);
  await approvedBy(h, card, PEOPLE.carol);
  assert.equal(listCalls(h).length, atStart.length, 'no usergroups.users.list call for the click');
});

test('with usergroups.users.list rate limited once a refresh is due, an Approve is answered from the members in memory', async (t) => {
  const time = movableClock(START);
  const h = await startHarness(t, { clock: time.clock });
  const card = await pendingCard(h, 'load-a');
  const warm = listCalls(h).length;

  // Six minutes on, the members are due for a refresh, and Slack rate limits the listing.
  time.set(minutesAfterStart(6));
  h.slack.rateLimit(LIST, { times: 100, retryAfterSeconds: 60 });
  const reply = await h.click(PEOPLE.carol, card, ACTION.approve);
  assert.equal(reply.status, 200);
  await approvedBy(h, card, PEOPLE.carol);

  // The refresh went out beside the click and was refused; it is not tried again within Retry-After.
  await h.waitFor('the refresh the click started', () => listCalls(h).length > warm);
  const second = await pendingCard(h, 'load-b');
  await h.click(PEOPLE.mallory, second, ACTION.approve);
  assert.match(await answerTo(h, PEOPLE.mallory, 0), /Only the approvers in Slipway's config can decide/);
  assert.deepEqual(
    listCalls(h)
      .slice(warm)
      .map((c) => c.status),
    [429],
    'one refresh, refused, and no call while Slack said to wait',
  );
  assert.equal((await requestOf(h, second)).status, 'pending');
});

test('a member removed from the approver group is refused once the members were listed again', async (t) => {
  const h = await startHarness(t, { userGroupRefreshMs: 20 });
  const first = await pendingCard(h, 'load-a');
  await h.click(PEOPLE.carol, first, ACTION.approve);
  await approvedBy(h, first, PEOPLE.carol);

  // An admin takes Carol out of the group. A refresh starts only after the one before it ended,
  // so once two have started since, the new members are in memory.
  h.slack.setUserGroupMembers('S0PLATFORM', []);
  const before = listCalls(h).length;
  await h.waitFor('two refreshes since the change', () => listCalls(h).length >= before + 2);

  const second = await pendingCard(h, 'load-b');
  await h.click(PEOPLE.carol, second, ACTION.approve);
  assert.match(await answerTo(h, PEOPLE.carol, 0), /Only the approvers in Slipway's config can decide on \*R-2\*/);
  assert.equal((await requestOf(h, second)).status, 'pending');
});

test('members older than 30 minutes are not trusted: a click waits for a fresh list, and a removed member is refused', async (t) => {
  const time = movableClock(START);
  const h = await startHarness(t, { clock: time.clock });
  const card = await pendingCard(h, 'load-a');
  h.slack.setUserGroupMembers('S0PLATFORM', []);
  // No refresh has run since (the bot's own every 5 minutes of wall time): what is in memory
  // still lists Carol, but it is older than the bound.
  time.set(minutesAfterStart(31));
  const before = listCalls(h).length;
  await h.click(PEOPLE.carol, card, ACTION.approve);
  assert.match(await answerTo(h, PEOPLE.carol, 0), /Only the approvers in Slipway's config can decide on \*R-1\*/);
  assert.deepEqual(
    listCalls(h)
      .slice(before)
      .map((c) => c.ok),
    [true],
    'one fresh list for the click',
  );
  assert.equal((await requestOf(h, card)).status, 'pending');
});

test('when the members were never listed and Slack rate limits the lookup, the click is refused with a try-again, and nothing is decided', async (t) => {
  const h = await startHarness(t);
  const card = await pendingCard(h, 'load-a');
  // A replica starting while Slack rate limits usergroups.users.list: it cannot load the group.
  h.slack.rateLimit(LIST, { times: 100, retryAfterSeconds: 60 });
  await h.restart();
  const before = listCalls(h).length;

  const reply = await h.click(PEOPLE.carol, card, ACTION.approve);
  assert.equal(reply.status, 200);
  assert.match(await answerTo(h, PEOPLE.carol, 0), /couldn't check with Slack whether you are an approver.*\*R-1\*.*try again/s);
  const request = await requestOf(h, card);
  assert.equal(request.status, 'pending');
  assert.equal(request.decidedBy, undefined);
  assert.equal(listCalls(h).length, before, 'no lookup while Slack said to wait');

  // Approvers listed by id in the config do not depend on Slack's answer.
  await h.click(PEOPLE.alice, card, ACTION.approve);
  await approvedBy(h, card, PEOPLE.alice);
});
