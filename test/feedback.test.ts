import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { BLOCK, SURVEY } from '../src/slack/ids.ts';
import type { EmulatedMessage } from '../src/playground/slack-api.ts';
import { buttons, PEOPLE, PLATFORM, readable, SIGNING_SECRET, startHarness, type Harness } from './support/harness.ts';
import { sendEvent, threadReplyEvent } from '../src/playground/slack-requests.ts';

/**
 * The question after provisioning, `/platform feedback` and muting, through signed slash
 * commands, block_actions and view_submissions, the Slack emulator and the Kubernetes emulator.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function mutableClock(start: string) {
  let now = new Date(start);
  return { clock: { now: () => now }, advance: (ms: number) => void (now = new Date(now.getTime() + ms)), set: (iso: string) => void (now = new Date(iso)) };
}

/** `user` asks for a dev namespace (approved by policy) and waits for the ready DM. */
async function provision(h: Harness, user: string, name: string): Promise<EmulatedMessage> {
  const before = h.slack.dmWith(user).filter((m) => m.text.startsWith('🎉')).length;
  const opened = h.slack.callsTo('views.open').filter((c) => c.ok).length;
  await h.command(user, 'new-namespace');
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').filter((c) => c.ok).length > opened);
  const reply = await h.submit(user, {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: 'dev',
    [BLOCK.cluster]: 'dev-eu',
    [BLOCK.tier]: 'small',
    [BLOCK.name]: name,
    [BLOCK.purpose]: 'Trying the new queue out',
  });
  assert.equal(reply.body, '');
  const dm = await h.waitFor(`${name} ready`, () => h.slack.dmWith(user).filter((m) => m.text.startsWith('🎉'))[before]);
  // The bot records that it asked only once Slack has answered its post; wait for that before
  // a test moves the clock, or the question would look asked later than it was.
  const told = h.slipway.deps.store.sql.prepare<[string], { notified_status: string | null }>('SELECT notified_status FROM requests WHERE namespace = ?');
  await h.waitFor(`${name} recorded as told`, async () => (await told.get(name))?.notified_status === 'ready');
  return dm;
}

const SCALE = [1, 2, 3, 4, 5].map((s) => `${SURVEY.readyAnswer}_${s}`);

async function clickAndWait(h: Harness, user: string, message: EmulatedMessage, actionId: string): Promise<string> {
  const before = h.slack.ephemerals(user).length;
  assert.equal((await h.click(user, message, actionId)).status, 200);
  return (await h.waitFor(`${user}'s confirmation`, () => h.slack.ephemerals(user)[before])).text;
}

test('the requester is asked one question when the namespace is ready: stored with the request, at most once in 14 days, one reminder, low ratings posted in batches', async (t) => {
  const time = mutableClock('2026-11-17T10:00:00Z');
  const h = await startHarness(t, {
    clock: time.clock,
    configure: (doc) => {
      doc.survey = { ...(doc.survey as object), minAnswers: 2 };
    },
  });
  const surveys = h.slipway.deps.store.surveys;

  const ready = await provision(h, PEOPLE.dev, 'dev-one');
  assert.match(readable(ready), /Your namespace `dev-one` is ready[\s\S]*\*One question:\* How easy was that\?/);
  assert.deepEqual(buttons(ready), [...SCALE, SURVEY.readyComment]);
  assert.equal(h.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('🎉')).length, 1, 'one message: the question rides on the ready DM');

  // Answer 2, stored with the request; confirmed to the requester only.
  assert.match(
    await clickAndWait(h, PEOPLE.dev, ready, `${SURVEY.readyAnswer}_2`),
    /You answered \*2 · Hard\* to “How easy was that\?”\. Click another number before Mon Nov 23, 00:00 \(UTC\) to change it\./,
  );
  assert.equal((await surveys.provisioningQuestion(1))?.score, 2);
  // Stored with how the request went: approved by the policy, ready at once (the clock stood still).
  assert.deepEqual(
    await h.slipway.deps.store.sql.prepare('SELECT ready_ms, approval_wait_ms, self_serve FROM provisioning_answers WHERE request_id = 1').get(),
    {
      ready_ms: 0,
      approval_wait_ms: null,
      self_serve: 1,
    },
  );
  assert.equal((await h.slipway.deps.store.eventsFor(1)).filter((e) => e.type === 'survey_answered').length, 1);

  // A comment, held with the rating until there are enough answers to hide them among.
  await h.click(PEOPLE.dev, ready, SURVEY.readyComment);
  const modal = await h.waitFor('the comment modal', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.commentModal)?.view);
  assert.equal((await h.submit(PEOPLE.dev, { [SURVEY.commentText]: 'The quota was too small for our queue' }, { view: modal })).body, '');
  await h.waitFor('the thanks', () =>
    h.slack.dmWith(PEOPLE.dev).find((m) => /Thanks! Your comment will appear in <#C0PLATFORM> without your name/.test(m.text)),
  );
  assert.equal(h.slack.messages(PLATFORM).length, 0, 'nothing posted yet: one answer could be traced to dev-one');

  // A second namespace within 14 days: no question.
  const again = await provision(h, PEOPLE.dev, 'dev-two');
  assert.deepEqual(buttons(again), []);
  assert.doesNotMatch(readable(again), /One question/);

  // Bob answers too: two answers make a batch, posted in random order, without names.
  const bobs = await provision(h, PEOPLE.bob, 'bob-one');
  await clickAndWait(h, PEOPLE.bob, bobs, `${SURVEY.readyAnswer}_4`);
  await h.waitFor('the batch', () => h.slack.messages(PLATFORM).length === 2);
  const posts = h.slack.messages(PLATFORM).map(readable);
  assert.ok(
    posts.some((p) => /📉 \*A rating of 2 · Hard\* to “How easy was that\?”, asked when a new namespace was ready/.test(p)),
    posts.join('\n---\n'),
  );
  assert.ok(
    posts.some((p) => /💬 \*A comment after provisioning\*\n>The quota was too small for our queue/.test(p)),
    posts.join('\n---\n'),
  );
  const platformText = JSON.stringify(h.slack.messages(PLATFORM));
  for (const secret of [PEOPLE.dev, 'dev-one', 'R-1', PEOPLE.bob]) assert.ok(!platformText.includes(secret), `the platform channel does not see ${secret}`);

  // One reminder, a day later, only for the unanswered question.
  const carols = await provision(h, PEOPLE.carol, 'carol-one');
  assert.deepEqual(buttons(carols), [...SCALE, SURVEY.readyComment]);
  time.advance(23 * HOUR);
  assert.match((await h.slipway.scheduler.run('survey-remind', 'scheduled')).summary ?? '', /^0 reminder\(s\) sent/);
  time.advance(2 * HOUR);
  assert.match((await h.slipway.scheduler.run('survey-remind', 'scheduled')).summary ?? '', /^1 reminder\(s\) sent/);
  const reminder = await h.waitFor('the reminder', () => h.slack.dmWith(PEOPLE.carol).find((m) => m.text.startsWith('👋')));
  assert.match(reminder.text, /In case you missed it: how easy was getting `carol-one`\?/);
  time.advance(25 * HOUR);
  assert.match((await h.slipway.scheduler.run('survey-remind', 'scheduled')).summary ?? '', /^0 reminder\(s\) sent/);
  assert.equal(h.slack.dmWith(PEOPLE.carol).filter((m) => m.text.startsWith('👋')).length, 1, 'at most one reminder');
  assert.equal(h.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('👋')).length, 0, 'no reminder after an answer');
  await clickAndWait(h, PEOPLE.carol, reminder, `${SURVEY.readyAnswer}_5`);
  assert.equal((await surveys.provisioningQuestion(4))?.score, 5);

  // The digest relates it to time to ready and approval wait.
  time.set('2026-11-23T09:00:00Z');
  assert.equal((await h.slipway.scheduler.run('digest', 'manual')).status, 'ok');
  const digest = h.slack.messages(PLATFORM).find((m) => m.text.startsWith('Platform adoption'));
  assert.ok(digest);
  const text = readable(digest);
  assert.match(
    text,
    /\*After provisioning\* \(“How easy was that\?”\) · 3 of 3 asked answered \(100%\)\n\*3\.7\* \/ 5 \(95% CI 1\.0–5\.0\) · 67% answered 4–5 · 3 answers/,
  );
  assert.match(
    text,
    /Last 8 weeks, by time to ready: within 1 h \*3\.7\* \(CI 1\.0–5\.0, 3\) · slower –\nBy approval wait: none \(self-serve\) \*3\.7\* \(CI 1\.0–5\.0, 3\) · within 1 h – · longer –\n\(– = fewer than 2 answers/,
  );

  // Once its week is over an answer is in a report: changing it would move the report and give it away.
  assert.match(
    await clickAndWait(h, PEOPLE.dev, ready, `${SURVEY.readyAnswer}_5`),
    /Your answer \(2 · Hard\) is already counted in a weekly report, so it stays as it is/,
  );
  assert.equal((await surveys.provisioningQuestion(1))?.score, 2);
  assert.deepEqual(h.slack.warnings, []);
});

test('/platform feedback opens a modal with the text and "without my name" ticked; it is stored, thanked and posted', async (t) => {
  const h = await startHarness(t);
  const ack = await h.command(PEOPLE.dev, 'feedback The quota docs are hard to find');
  assert.equal(ack.status, 200);
  const modal = await h.waitFor('the feedback modal', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.feedbackModal)?.view);
  const textBlock = modal.blocks.find((b) => b.block_id === SURVEY.feedbackText) as { element: { initial_value?: string } } | undefined;
  assert.equal(textBlock?.element.initial_value, 'The quota docs are hard to find');

  const anonymous = await h.submit(PEOPLE.dev, {}, { view: modal });
  const body = anonymous.body as { response_action: string; view: { blocks: unknown[] } };
  assert.equal(body.response_action, 'update');
  assert.match(readable({ text: '', blocks: body.view.blocks }), /Thanks! Your feedback is in <#C0PLATFORM>, without your name/);
  const post = await h.waitFor('the anonymous post', () => h.slack.messages(PLATFORM)[0]);
  assert.match(readable(post), /💬 \*Feedback\* \(anonymous\)\n>The quota docs are hard to find/);
  assert.ok(!JSON.stringify(post).includes(PEOPLE.dev));

  // Without the box ticked, the name shows; a reply in the thread still reaches them by DM.
  await h.command(PEOPLE.dev, 'feedback');
  await h.waitFor('the second modal', () => h.slack.callsTo('views.open').filter((c) => c.ok).length === 2);
  const second = h.slack.lastViewOpened();
  assert.equal(second.callback_id, SURVEY.feedbackModal);
  await h.submit(PEOPLE.dev, { [SURVEY.feedbackText]: 'Self-serve namespaces are great', [SURVEY.feedbackAnonymous]: null }, { view: second });
  const named = await h.waitFor('the named post', () => h.slack.messages(PLATFORM)[1]);
  assert.match(readable(named), /💬 \*Feedback from <@U0DEV>\*\n>Self-serve namespaces are great/);
  const ts = h.slack.seedMessage(PLATFORM, { user: PEOPLE.bob, text: 'Glad to hear it!', threadTs: named.ts });
  await sendEvent(h.baseUrl, SIGNING_SECRET, {
    event: threadReplyEvent({ channel: PLATFORM, user: PEOPLE.bob, text: 'Glad to hear it!', ts, threadTs: named.ts }),
  });
  await h.waitFor('the relayed reply', () =>
    h.slack.dmWith(PEOPLE.dev).find((m) => /<@U0BOB> from the platform team replied to your feedback “Self-serve namespaces are great”/.test(m.text)),
  );

  const stored = await h.slipway.deps.store.sql.prepare('SELECT source, anonymous, status FROM feedback ORDER BY id').all();
  assert.deepEqual(stored, [
    { source: 'command', anonymous: 1, status: 'posted' },
    { source: 'command', anonymous: 0, status: 'posted' },
  ]);
  assert.deepEqual(h.slack.warnings, []);
});

test('with feedback.anonymous: always, /platform feedback <text> is sent at once without a name', async (t) => {
  const h = await startHarness(t, {
    configure: (doc) => {
      doc.survey = { ...(doc.survey as object), feedback: { anonymous: 'always' } };
    },
  });
  await h.command(PEOPLE.dev, 'feedback Please add a staging tier with more memory');
  const thanks = await h.waitFor('the thanks', () => h.slack.ephemerals(PEOPLE.dev).find((e) => e.via === 'response_url'));
  assert.match(thanks.text, /Thanks! Your feedback is in <#C0PLATFORM>, without your name/);
  const post = await h.waitFor('the post', () => h.slack.messages(PLATFORM)[0]);
  assert.match(readable(post), /💬 \*Feedback\* \(anonymous\)\n>Please add a staging tier with more memory/);
  assert.equal(h.slack.callsTo('views.open').length, 0, 'no modal');
});

test('/platform surveys off stops the question and the reminder; on brings them back', async (t) => {
  const time = mutableClock('2026-11-17T10:00:00Z');
  const h = await startHarness(t, { clock: time.clock });

  // Asked, then muted: the reminder is not sent.
  const first = await provision(h, PEOPLE.alice, 'alice-one');
  assert.deepEqual(buttons(first), [...SCALE, SURVEY.readyComment]);
  await h.command(PEOPLE.alice, 'surveys off');
  const off = await h.waitFor('the answer', () => h.slack.ephemerals(PEOPLE.alice).find((e) => e.via === 'response_url'));
  assert.match(off.text, /Surveys are off for you: I won't ask you anything by DM/);
  time.advance(25 * HOUR);
  assert.match((await h.slipway.scheduler.run('survey-remind', 'scheduled')).summary ?? '', /^0 reminder\(s\) sent, 1 not needed/);

  // Muted before anything is asked: no question at all.
  await h.command(PEOPLE.dev, 'surveys off');
  await h.waitFor('the answer', () => h.slack.ephemerals(PEOPLE.dev).find((e) => e.via === 'response_url'));
  const muted = await provision(h, PEOPLE.dev, 'dev-muted');
  assert.deepEqual(buttons(muted), []);
  await h.command(PEOPLE.dev, 'surveys on');
  await h.waitFor('the second answer', () => h.slack.ephemerals(PEOPLE.dev).filter((e) => e.via === 'response_url')[1]);
  assert.match(h.slack.ephemerals(PEOPLE.dev).filter((e) => e.via === 'response_url')[1]?.text ?? '', /Surveys are on for you/);
  const back = await provision(h, PEOPLE.dev, 'dev-back');
  assert.deepEqual(buttons(back), [...SCALE, SURVEY.readyComment], 'asked again: the muted one did not start the cool-down');

  const help = await h.command(PEOPLE.dev, 'surveys sometimes');
  assert.equal(help.status, 200);
  await h.waitFor('the usage', () => h.slack.ephemerals(PEOPLE.dev).some((e) => /Use `\/platform surveys off` or `\/platform surveys on`/.test(e.text)));
});

test('anonymous feedback: escaped in notifications, a random token on Mark done, no author in the logs, and forgotten after the relay window', async (t) => {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const time = mutableClock('2026-11-17T10:00:00Z');
  const h = await startHarness(t, {
    clock: time.clock,
    log,
    configure: (doc) => {
      doc.survey = { ...(doc.survey as object), feedback: { anonymous: 'always', relayDays: 30 } };
    },
  });
  await h.command(PEOPLE.dev, 'feedback Ping <!channel> and read <https://evil.example/login|the quota docs>');
  const post = await h.waitFor('the post', () => h.slack.messages(PLATFORM)[0]);

  // The fallback text is what push notifications show: no mention, no disguised link.
  assert.doesNotMatch(post.text, /<!channel>|<https:/);
  assert.match(post.text, /Ping &lt;!channel&gt; and read &lt;https:\/\/evil\.example\/login\|the quota docs&gt;/);

  // "Mark done" carries a random token, not the sequential id that gives the order of writing.
  const actions = post.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value?: string }[] } | undefined;
  const token = actions?.elements.find((e) => e.action_id === SURVEY.markDone)?.value ?? '';
  assert.ok(token.length >= 20 && !/^\d+$/.test(token), `a random token, not ${token}`);
  // A forged click with the id opens nothing.
  const forged = { ...post, blocks: JSON.parse(JSON.stringify(post.blocks).replace(token, '1')) as EmulatedMessage['blocks'] };
  const viewsBefore = h.slack.callsTo('views.open').length;
  await h.click(PEOPLE.alice, forged, SURVEY.markDone);
  await h.waitFor('the refusal', () => h.slack.ephemerals(PEOPLE.alice).length > 0);
  assert.equal(h.slack.callsTo('views.open').length, viewsBefore, 'no modal for a guessed id');

  // Slack refuses the DM of a relayed reply: the log says so without naming the author.
  h.slack.failNext('chat.postMessage', 'ratelimited');
  const reply = { channel: PLATFORM, user: PEOPLE.bob, text: 'Which docs page?', threadTs: post.ts };
  const first = h.slack.seedMessage(PLATFORM, reply);
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: threadReplyEvent({ ...reply, ts: first }) });
  await h.waitFor('the failed DM in the log', () => lines.some((l) => /slack call failed/.test(l)));
  const authorLines = lines.filter((l) => l.includes(PEOPLE.dev));
  assert.deepEqual(authorLines, [], 'no log line names the author of anonymous feedback');

  // Within the relay window a reply reaches the author.
  time.advance(29 * DAY);
  const second = h.slack.seedMessage(PLATFORM, reply);
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: threadReplyEvent({ ...reply, ts: second }) });
  await h.waitFor('the relayed reply', () => h.slack.dmWith(PEOPLE.dev).find((m) => /replied to your feedback/.test(m.text)));

  // After it, Slipway forgets who wrote it: the replier is told, and the database names nobody.
  time.advance(2 * DAY);
  assert.equal((await h.slipway.scheduler.run('survey-close', 'scheduled')).status, 'ok');
  assert.deepEqual(await h.slipway.deps.store.sql.prepare('SELECT author FROM feedback').all(), [{ author: null }]);
  const third = h.slack.seedMessage(PLATFORM, reply);
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: threadReplyEvent({ ...reply, ts: third }) });
  const told = await h.waitFor('the replier is told', () => h.slack.ephemerals(PEOPLE.bob).find((e) => /no longer know who wrote this/.test(e.text)));
  assert.equal(told.threadTs, post.ts);
  assert.equal(h.slack.dmWith(PEOPLE.dev).filter((m) => /replied to your feedback/.test(m.text)).length, 1, 'nothing relayed after the window');
});
