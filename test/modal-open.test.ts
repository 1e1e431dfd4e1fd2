import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEV_CHANNEL, PEOPLE, startHarness } from './support/harness.ts';

// Opening a modal races the trigger id's 3 s (REFERENCE 1.4): Slipway tries again only while that
// window lasts, and otherwise tells the person in the channel, so no command goes unanswered.

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
