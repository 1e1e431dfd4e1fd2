import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTION, BLOCK, SURVEY } from '../src/slack/ids.ts';
import type { EmulatedMessage } from '../src/playground/slack-api.ts';
import { APPROVALS, DEV_CHANNEL, PEOPLE, PLATFORM, REQUEST_FORM, startHarness, type Harness } from './support/harness.ts';

// Opening a modal races the trigger id's 3 s (https://api.slack.com/docs/triggers): Slipway tries
// again only while that window lasts, and otherwise tells the person in the channel, so no command
// goes unanswered.

const opened = (h: Awaited<ReturnType<typeof startHarness>>) => h.slack.callsTo('views.open').filter((c) => c.ok);

test('the request form still opens when Slack answers 503, then 429 with a short Retry-After', async (t) => {
  const h = await startHarness(t);
  h.slack.failNextWithStatus('views.open', 503);
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the request form', () => opened(h)[0]);
  assert.deepEqual(
    h.slack.callsTo('views.open').map((c) => c.status),
    [503, 200],
  );

  h.slack.rateLimit('views.open', { times: 1, retryAfterSeconds: 1 });
  const started = Date.now();
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the second form', () => opened(h)[1], 3000);
  assert.ok(Date.now() - started >= 1000, 'Retry-After was waited out');
  assert.deepEqual(
    h.slack.callsTo('views.open').map((c) => c.status),
    [503, 200, 429, 200],
  );
  assert.equal(h.slack.responseUrlPosts.length, 0, 'no error message');
  assert.match(await (await fetch(`${h.metricsUrl}/metrics`)).text(), /^slipway_slack_rate_limited_total 1$/m);
});

test('a trigger id Slack refuses gets a plain reply in the channel, and nothing is tried again', async (t) => {
  const h = await startHarness(t);
  h.slack.failNext('views.open', 'expired_trigger_id');
  await h.command(PEOPLE.dev, 'new-namespace');
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.dev)[0]);
  assert.equal(reply.channel, DEV_CHANNEL);
  assert.equal(reply.text, "Sorry, I could not open the request form (Slack's 3 seconds for opening it had passed). Please try again.");
  assert.equal(h.slack.callsTo('views.open').length, 1);
});

test('when Slack does not answer in time the person hears so before the trigger id runs out', async (t) => {
  const h = await startHarness(t);
  h.slack.stall('views.open', 5000);
  const started = Date.now();
  await h.command(PEOPLE.dev, 'new-namespace');
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.dev)[0], 4500);
  const elapsed = Date.now() - started;
  // After the 2.5 s deadline, and while Slack's answer (due at 5 s) was still outstanding.
  assert.ok(elapsed >= 2500 && elapsed < 5000, `told after ${elapsed} ms`);
  assert.equal(reply.text, 'Sorry, I could not open the request form (Slack did not answer within 2.5 s). Please try again.');
  assert.equal(h.slack.callsTo('views.open').length, 1, 'a call that may have worked is not repeated');
});

test('an answer lost on the way back is not an error: the retry finds the trigger used, and the feedback form is open', async (t) => {
  const h = await startHarness(t);
  h.slack.loseAnswer('views.open');
  await h.command(PEOPLE.dev, 'feedback');
  await h.waitFor('the retry', () => h.slack.callsTo('views.open').length === 2);
  assert.deepEqual(
    h.slack.callsTo('views.open').map((c) => c.error ?? 'ok'),
    ['ok', 'exchanged_trigger_id'],
  );
  // Let the handler finish: an error would be posted to the response_url right after the retry.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(h.slack.views.length, 1, 'one form, open');
  assert.equal(h.slack.responseUrlPosts.length, 0, 'no error message');
});

// The same holds after a button: Deny, "Mark done" and "Add a comment" open a form from a click's
// trigger id, and a form Slack does not open is reported where the person clicked.

const FORM = { ...REQUEST_FORM, [BLOCK.name]: 'checkout-load' };

/** Requests a namespace as the developer and returns the card in the approvals channel. */
async function pendingCard(h: Harness, answers: Record<string, string> = FORM): Promise<EmulatedMessage> {
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the request form', () => opened(h)[0]);
  assert.equal((await h.submit(PEOPLE.dev, answers)).body, '');
  return h.waitFor('the card', () => h.slack.messages(APPROVALS)[0]);
}

test('Deny whose form Slack refuses tells the approver in the channel; the request stays pending', async (t) => {
  const h = await startHarness(t);
  const card = await pendingCard(h);
  h.slack.failNext('views.open', 'expired_trigger_id');
  assert.equal((await h.click(PEOPLE.alice, card, ACTION.deny)).status, 200);
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.alice)[0]);
  assert.equal(reply.channel, APPROVALS);
  assert.equal(reply.text, "Sorry, I could not open the deny form (Slack's 3 seconds for opening it had passed). Please try again.");
  assert.equal((await h.slipway.deps.store.getRequest(1))?.status, 'pending');

  // A click delivered twice: the second finds the trigger used, the form is open, nothing is said.
  h.slack.failNext('views.open', 'exchanged_trigger_id');
  await h.click(PEOPLE.alice, card, ACTION.deny);
  await h.waitFor('the second attempt', () => h.slack.callsTo('views.open').length === 3);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(h.slack.ephemerals(PEOPLE.alice).length, 1, 'no error message');
});

test('Deny whose form Slack does not answer for tells the approver before the trigger id runs out', async (t) => {
  const h = await startHarness(t);
  const card = await pendingCard(h);
  h.slack.stall('views.open', 5000);
  const started = Date.now();
  await h.click(PEOPLE.alice, card, ACTION.deny);
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.alice)[0], 4500);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 2500 && elapsed < 5000, `told after ${elapsed} ms`);
  assert.equal(reply.text, 'Sorry, I could not open the deny form (Slack did not answer within 2.5 s). Please try again.');
});

test('"Mark done" whose form Slack refuses tells the platform engineer in the platform channel', async (t) => {
  const h = await startHarness(t);
  await h.command(PEOPLE.dev, 'feedback The docs for quotas are hard to find');
  const feedbackForm = await h.waitFor('the feedback form', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.feedbackModal)?.view);
  await h.submit(PEOPLE.dev, {}, { view: feedbackForm });
  const post = await h.waitFor('the feedback post', () => h.slack.messages(PLATFORM)[0]);

  h.slack.failNext('views.open', 'invalid_arguments');
  await h.click(PEOPLE.bob, post, SURVEY.markDone);
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.bob)[0]);
  assert.equal(reply.channel, PLATFORM);
  assert.equal(reply.text, 'Sorry, I could not open the "Mark done" form (Slack answered invalid_arguments). Please try again.');
});

test('"Add a comment" on a pulse whose form Slack refuses tells the person in the pulse channel', async (t) => {
  const PULSE = 'C0PULSE';
  const h = await startHarness(t, {
    clock: { now: () => new Date('2026-11-17T10:00:00Z') },
    channels: [{ id: PULSE, name: 'developers', members: ['U0BOT', PEOPLE.dev, PEOPLE.alice] }],
    configure: (doc) => {
      const survey = doc.survey as Record<string, unknown>;
      doc.survey = { ...survey, pulse: { ...(survey.pulse as object), channels: [PULSE] } };
    },
  });
  assert.equal((await h.slipway.scheduler.run('survey-open', 'scheduled')).status, 'ok');
  const pulse = await h.waitFor('the pulse', () => h.slack.messages(PULSE)[0]);

  h.slack.failNext('views.open', 'expired_trigger_id');
  await h.click(PEOPLE.dev, pulse, SURVEY.pulseComment);
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.dev)[0]);
  assert.equal(reply.channel, PULSE);
  assert.equal(reply.text, "Sorry, I could not open the comment form (Slack's 3 seconds for opening it had passed). Please try again.");
});

test('"Add a comment" after provisioning whose form Slack refuses tells the requester in the DM', async (t) => {
  const h = await startHarness(t);
  await pendingCard(h, { ...FORM, [BLOCK.environment]: 'dev', [BLOCK.tier]: 'small' });
  const ready = await h.waitFor('the ready DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.startsWith('🎉')));

  h.slack.failNext('views.open', 'expired_trigger_id');
  await h.click(PEOPLE.dev, ready, SURVEY.readyComment);
  const reply = await h.waitFor('the reply', () => h.slack.ephemerals(PEOPLE.dev)[0]);
  assert.equal(reply.channel, ready.channel);
  assert.equal(reply.text, "Sorry, I could not open the comment form (Slack's 3 seconds for opening it had passed). Please try again.");
});
