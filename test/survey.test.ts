import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { SURVEY } from '../src/slack/ids.ts';
import type { EmulatedMessage } from '../src/playground/slack-api.ts';
import { buttons, DEV_CHANNEL, PEOPLE, PLATFORM, readable, SIGNING_SECRET, startHarness, type Harness, type HarnessOptions } from './support/harness.ts';
import { sendEvent, threadReplyEvent } from '../src/playground/slack-requests.ts';
import { ENGINES, sqliteOf } from './support/stores.ts';

/**
 * The weekly pulse through its real interfaces: the scheduled jobs open and close it (with a
 * clock the test moves), people answer with signed block_actions, comments go through the modal
 * (view_submission), and replies in the platform channel arrive as Events API deliveries.
 */

const PULSE = 'C0PULSE';
const HELPER_BOT = 'U0HELPERBOT';
// Eight more developers: with dev and alice, ten people in the pulse channel (plus two bots).
const P = ['U0P1', 'U0P2', 'U0P3', 'U0P4', 'U0P5', 'U0P6', 'U0P7', 'U0P8'] as const;
const HUMANS = [PEOPLE.dev, PEOPLE.alice, ...P];
const DAY = 86_400_000;

function mutableClock(start: string) {
  let now = new Date(start);
  return {
    clock: { now: () => now },
    set: (iso: string) => void (now = new Date(iso)),
    advance: (ms: number) => void (now = new Date(now.getTime() + ms)),
  };
}

async function pulseHarness(t: Parameters<typeof startHarness>[0], options: HarnessOptions & { survey?: Record<string, unknown> } = {}): Promise<Harness> {
  return startHarness(t, {
    ...options,
    channels: [{ id: PULSE, name: 'developers', members: ['U0BOT', HELPER_BOT, ...HUMANS] }],
    users: [...P.map((id) => ({ id, name: id.slice(2).toLowerCase() })), { id: HELPER_BOT, name: 'ci-bot', isBot: true }],
    configure: (doc) => {
      const survey = doc.survey as Record<string, unknown>;
      doc.survey = { ...survey, pulse: { ...(survey.pulse as object), channels: [PULSE, DEV_CHANNEL] }, ...options.survey };
      options.configure?.(doc);
    },
  });
}

async function runJob(h: Harness, name: string): Promise<string> {
  const outcome = await h.slipway.scheduler.run(name, 'scheduled');
  assert.equal(outcome.status, 'ok', outcome.error);
  return outcome.summary ?? '';
}

function pulsePost(h: Harness): EmulatedMessage {
  const post = h.slack.messages(PULSE).at(-1);
  assert.ok(post, 'a pulse was posted');
  return post;
}

/** Clicks a score as `user` and waits for the confirmation only they see. */
async function answer(h: Harness, user: string, score: number, message = pulsePost(h)): Promise<string> {
  const before = h.slack.ephemerals(user).length;
  const reply = await h.click(user, message, `${SURVEY.pulseAnswer}_${score}`);
  assert.equal(reply.status, 200);
  assert.equal(reply.body, '', 'acknowledged at once');
  const confirmation = await h.waitFor(`${user}'s confirmation`, () => h.slack.ephemerals(user)[before]);
  return confirmation.text;
}

test('the weekly pulse is posted where the bot is a member, one answer per person, changeable, confirmed only to the clicker', async (t) => {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const { clock } = mutableClock('2026-11-17T10:00:00Z'); // Tuesday 10:00, the default schedule
  const h = await pulseHarness(t, { clock, log });

  const summary = await runJob(h, 'survey-open');
  assert.match(summary, /^pulse #1 posted to C0PULSE \(10 people can answer\); not posted to C0DEV: Slipway is not a member of the channel/);
  assert.equal(h.slack.messages(DEV_CHANNEL).length, 0, 'nothing in a channel the bot was not invited to');
  assert.ok(
    lines.some((l) => /"channel":"C0DEV"/.test(l) && /pulse not posted to C0DEV: Slipway is not a member/.test(l)),
    'the skipped channel is in the logs',
  );

  const post = pulsePost(h);
  assert.deepEqual(buttons(post), [1, 2, 3, 4, 5].map((s) => `${SURVEY.pulseAnswer}_${s}`).concat(SURVEY.pulseComment));
  const text = readable(post);
  assert.match(text, /How easy was it to get what you needed from the platform this week\?/);
  assert.match(text, /1 · Very hard[\s\S]*5 · Very easy/);
  assert.match(text, /Open until Fri Nov 20, 10:00 \(UTC\)\. Anonymous: the platform team sees totals only, and only once 5 people have answered/);

  // Answering, then changing the answer: one answer, the latest.
  assert.match(
    await answer(h, P[0], 2),
    /You answered \*2 · Hard\* to “How easy was it to get what you needed from the platform this week\?”\. Click another number before Fri Nov 20, 10:00 \(UTC\) to change it/,
  );
  const changed = await answer(h, P[0], 4);
  assert.match(changed, /You answered \*4 · Easy\* \(changed from 2\)/);
  const surveys = h.slipway.deps.store.surveys;
  assert.deepEqual(await surveys.scoreCounts(1), [{ question: 'ease', score: 4, n: 1 }]);

  // Two people at the same moment: both count.
  await Promise.all([answer(h, P[1], 5), answer(h, P[2], 1)]);
  assert.equal(await surveys.respondents(1), 3);

  // Nobody else sees anything: no reply, no thread, nothing in the platform channel, and the
  // confirmations went to the clickers only.
  assert.equal(h.slack.messages(PULSE).length, 1);
  assert.equal(h.slack.thread(PULSE, post.ts).length, 0);
  assert.equal(h.slack.messages(PLATFORM).length, 0, 'a low rating waits for the pulse to close');
  assert.deepEqual([...new Set(h.slack.ephemerals().map((e) => e.user))].sort(), [P[0], P[1], P[2]].sort());

  // The database holds pseudonyms, not Slack ids; no log line names who answered.
  const respondents = await h.slipway.deps.store.sql.prepare<[], { respondent: string }>('SELECT respondent FROM pulse_answers').all();
  assert.equal(respondents.length, 3);
  for (const r of respondents) assert.ok(!/^U0/.test(r.respondent) && !HUMANS.some((u) => r.respondent.includes(u)), r.respondent);
  for (const user of [P[0], P[1], P[2]])
    assert.ok(!lines.some((l) => l.includes(user)), `no log line mentions ${user}: ${lines.filter((l) => l.includes(user)).join('\n')}`);
  assert.ok(lines.some((l) => /pulse answer recorded/.test(l) && !/score/.test(l)));

  // At most one pulse a week: a second run posts nothing new.
  assert.match(await runJob(h, 'survey-open'), /^pulse #1: nothing new posted; not posted to C0DEV/);
  assert.equal(h.slack.messages(PULSE).length, 1);
  assert.deepEqual(h.slack.warnings, []);
});

// On both engines: the survey stores' SQL is the same on SQLite and PostgreSQL.
for (const engine of ENGINES) {
  test(`a pulse closes on schedule: buttons replaced, results in the thread, nothing shown below the minimum, change since the last pulse [${engine}]`, async (t) => {
    const time = mutableClock('2026-11-03T10:00:00Z');
    const h = await pulseHarness(t, { clock: time.clock, engine });

    // Week 1: two answers of ten people. Not enough, and below the participation aim.
    await runJob(h, 'survey-open');
    const first = pulsePost(h);
    await answer(h, P[0], 1);
    await answer(h, P[1], 5);
    time.advance(3 * DAY - 60_000);
    assert.match(await runJob(h, 'survey-close'), /^nothing to close \(1 pulse open\)/, 'not before its time');
    time.advance(60_000);
    assert.match(await runJob(h, 'survey-close'), /^pulse #1 closed: 2 answered of 10; ease: not enough answers/);
    const closed = h.slack.messages(PULSE)[0];
    assert.ok(closed);
    assert.deepEqual(buttons(closed), [], 'no more buttons');
    // Below the minimum not even the count is shown (nor a share, which would give it away).
    assert.match(readable(closed), /🔒 This pulse closed\. Fewer than 5 of 10 people answered\. The results are in this thread\./);
    const [below] = h.slack.thread(PULSE, first.ts);
    assert.ok(below);
    const belowText = readable(below);
    assert.match(belowText, /Not enough answers: results are shown from 5\. Nothing else is shown, not even how many/);
    assert.doesNotMatch(belowText, /CI|answered 4–5|█|\/ 5|\b2\b|20%/, 'no average, interval, share, distribution or count');
    assert.equal(h.slack.messages(PLATFORM).length, 0, 'the rating of 1 is not posted: too few answers to hide it');

    // A late click is not counted.
    const lateBefore = h.slack.ephemerals(P[2]).length;
    await h.click(P[2], first, `${SURVEY.pulseAnswer}_3`);
    assert.match((await h.waitFor('the closed notice', () => h.slack.ephemerals(P[2])[lateBefore])).text, /This survey is closed/);

    // Week 2: exactly the minimum, 5 answers: 5, 4, 4, 3, 1.
    time.set('2026-11-10T10:00:00Z');
    await runJob(h, 'survey-open');
    const second = pulsePost(h);
    for (const [user, score] of [
      [P[0], 5],
      [P[1], 4],
      [P[2], 4],
      [P[3], 3],
      [P[4], 1],
    ] as const)
      await answer(h, user, score, second);
    time.set('2026-11-13T10:00:00Z');
    await runJob(h, 'survey-close');
    const [atMin] = h.slack.thread(PULSE, second.ts);
    assert.ok(atMin);
    // Hand-computed: mean 17/5 = 3.4; s² = (1.6² + 0.6² + 0.6² + 0.4² + 2.4²)/4 = 2.3, s = 1.5166;
    // t(0.975, 4) = 2.7764; 3.4 ± 2.7764 · 1.5166/√5 = 1.517 … 5.283, shown within the 1-5 scale.
    assert.match(readable(atMin), /\*3\.4\* \/ 5 \(95% CI 1\.5–5\.0\) · 60% answered 4–5 · 5 answers/);
    assert.match(readable(atMin), /5 of 10 people answered \(50%\)/);
    assert.match(readable(atMin), /5 Very easy {2}█{6} 1\n4 Easy {7}█{12} 2\n3 OK {9}█{6} 1\n2 Hard {7}· 0\n1 Very hard {2}█{6} 1/);
    // The rating of 1 goes to the platform channel, as its own message, without a name.
    const low = await h.waitFor('the low rating', () => h.slack.messages(PLATFORM).find((m) => m.text.startsWith('📉')));
    assert.match(readable(low), /A rating of 1 · Very hard\* in the weekly pulse: “How easy was it/);
    assert.ok(!JSON.stringify(low).includes(P[4]), 'no name');

    // Week 3: seven answers; the change since the pulse before.
    time.set('2026-11-17T10:00:00Z');
    await runJob(h, 'survey-open');
    const third = pulsePost(h);
    for (const [i, score] of [5, 4, 4, 3, 5, 2, 4].entries()) await answer(h, P[i] ?? PEOPLE.dev, score, third);
    time.set('2026-11-20T10:00:00Z');
    await runJob(h, 'survey-close');
    const [withChange] = h.slack.thread(PULSE, third.ts);
    assert.ok(withChange);
    // 27/7 = 3.857; s = 1.0690; t(0.975, 6) = 2.4469; 3.857 ± 0.989 = 2.868 … 4.846.
    assert.match(readable(withChange), /\*3\.9\* \/ 5 \(95% CI 2\.9–4\.8\) · 71% answered 4–5 · 7 answers\n↑ 0\.5 since the last pulse \(3\.4\)/);

    // The digest on Monday: the latest score with its uncertainty, and its trend.
    time.set('2026-11-23T09:00:00Z');
    await runJob(h, 'digest');
    const digest = h.slack.messages(PLATFORM).find((m) => m.text.startsWith('Platform adoption'));
    assert.ok(digest);
    assert.match(digest.text, /· pulse 3\.9\/5 \(70% answered\)$/);
    const digestText = readable(digest);
    assert.match(digestText, /🗣️ \*What developers say\*\n\*Weekly pulse\* · Nov 17 – 20 · 7 of 10 people answered \(70%\)/);
    assert.match(digestText, /\*3\.9\* \/ 5 \(95% CI 2\.9–4\.8\) · 71% answered 4–5 · 7 answers · ↑ 0\.5 since the pulse before \(3\.4\)/);
    assert.match(digestText, /`·▅▆` {2}last 3 pulses: 3\.4 → 3\.9 \(· = too few answers\)/);
    // `/platform stats` shows the same, to whoever asks.
    await h.command(P[5], 'stats');
    const stats = await h.waitFor('the stats', () => h.slack.ephemerals(P[5]).find((e) => e.via === 'response_url'));
    assert.match(readable(stats), /🗣️ \*What developers say\*\n\*Weekly pulse\* · Nov 17 – 20/);
    assert.deepEqual(h.slack.warnings, []);
  });
}

test('a comment goes to the platform channel without a name when the pulse closes; a reply in its thread reaches the author by DM only; done is "you said → we did"', async (t) => {
  const time = mutableClock('2026-11-17T10:00:00Z');
  const h = await pulseHarness(t, { clock: time.clock });
  await runJob(h, 'survey-open');

  await h.click(P[0], pulsePost(h), SURVEY.pulseComment);
  const modal = await h.waitFor('the comment modal', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.commentModal)?.view);
  assert.match(
    readable({ text: '', blocks: modal.blocks }),
    /Posted in <#C0PLATFORM> without your name, when the pulse closes, and only if at least 5 people answered/,
  );
  const tooShort = await h.submit(P[0], { [SURVEY.commentText]: ' x ' }, { view: modal });
  assert.deepEqual(tooShort.body, { response_action: 'errors', errors: { [SURVEY.commentText]: 'Write a few words.' } });
  const sent = await h.submit(P[0], { [SURVEY.commentText]: 'Quota errors <are> hard to read & fix' }, { view: modal });
  assert.equal(sent.body, '');
  const thanks = await h.waitFor('the thanks', () => h.slack.ephemerals(P[0])[0]);
  assert.match(
    thanks.text,
    /Your comment will appear in <#C0PLATFORM> without your name when the pulse closes, among the others in random order, and only if at least 5 people answered/,
  );
  // Held: a comment posted the moment it is written says who wrote it to anyone watching the pulse.
  assert.equal(h.slack.messages(PLATFORM).length, 0, 'nothing is posted while the pulse is open');

  for (const [user, score] of [
    [P[0], 4],
    [P[1], 4],
    [P[2], 3],
    [P[3], 5],
    [P[4], 4],
  ] as const)
    await answer(h, user, score);
  time.advance(3 * DAY);
  assert.match(await runJob(h, 'survey-close'), /^pulse #1 closed: 5 answered of 10; ease 4\.0; 1 feedback item\(s\) posted/);
  const post = await h.waitFor('the comment', () => h.slack.messages(PLATFORM)[0]);
  assert.match(readable(post), /💬 \*A comment from the weekly pulse\* on “How easy was it[^”]*”\n>Quota errors &lt;are&gt; hard to read &amp; fix/);
  assert.deepEqual(buttons(post), [SURVEY.markDone]);
  assert.ok(!JSON.stringify(post).includes(P[0]), 'the post does not name the author');

  // Alice replies in the thread; Slack delivers the message event (twice, as it may).
  const reply = { channel: PLATFORM, user: PEOPLE.alice, text: 'Thanks! Which error did you hit?', threadTs: post.ts };
  const ts = h.slack.seedMessage(PLATFORM, reply);
  const eventId = 'Ev0RELAY1';
  const delivered = await sendEvent(h.baseUrl, SIGNING_SECRET, { event: threadReplyEvent({ ...reply, ts }), eventId });
  assert.equal(delivered.status, 200);
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: threadReplyEvent({ ...reply, ts }), eventId, retry: { num: 1, reason: 'http_timeout' } });
  const relayed = await h.waitFor('the relayed reply', () => h.slack.dmWith(P[0]).find((m) => m.text.includes('replied')));
  assert.match(
    relayed.text,
    /<@U0ALICE> from the platform team replied to your feedback “Quota errors &lt;are&gt; hard to read &amp; fix”:\n>Thanks! Which error did you hit\?\nThey don't know it was you/,
  );
  const confirmation = await h.waitFor('the relay confirmation', () => h.slack.ephemerals(PEOPLE.alice).find((e) => e.threadTs === post.ts));
  assert.match(confirmation.text, /Passed on by DM to the person who wrote this\. They stay anonymous to you\./);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(h.slack.dmWith(P[0]).filter((m) => m.text.includes('replied')).length, 1, 'a redelivered event is relayed once');
  // What the platform team can see never names the author.
  const platformView = JSON.stringify([h.slack.messages(PLATFORM), h.slack.thread(PLATFORM, post.ts), h.slack.ephemerals(PEOPLE.alice)]);
  assert.ok(!platformView.includes(P[0]), 'nothing the platform team sees names the author');
  // A top-level message, an edit or a bot's message is not relayed.
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: { type: 'message', channel: PLATFORM, user: PEOPLE.bob, text: 'unrelated', ts: '1.000001' } });
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: { ...threadReplyEvent({ ...reply, ts: '2.000001' }), subtype: 'message_changed' } });
  await sendEvent(h.baseUrl, SIGNING_SECRET, { event: { ...threadReplyEvent({ ...reply, ts: '3.000001' }), bot_id: 'B0OTHER' } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(h.slack.dmWith(P[0]).length, 1);

  // The platform team marks it done with what changed.
  await h.click(PEOPLE.bob, post, SURVEY.markDone);
  const doneForm = await h.waitFor('the done modal', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.doneModal)?.view);
  const doneReply = await h.submit(PEOPLE.bob, { [SURVEY.doneText]: 'Quota errors now name the limit and how to raise it' }, { view: doneForm });
  assert.equal(doneReply.body, '');
  const done = await h.waitFor('the post marked done', () => h.slack.messages(PLATFORM).find((m) => m.ts === post.ts && /Done/.test(readable(m))));
  assert.match(readable(done), /✅ \*Done\* · <@U0BOB>: Quota errors now name the limit and how to raise it/);
  assert.deepEqual(buttons(done), []);
  const notice = await h.waitFor('the author hears it', () => h.slack.dmWith(P[0]).find((m) => m.text.includes('You said → we did')));
  assert.match(notice.text, /You said: >Quota errors &lt;are&gt; hard to read &amp; fix\nWe did \(<@U0BOB>\): Quota errors now name the limit/);

  // The next digest lists it.
  time.set('2026-11-23T09:00:00Z');
  await runJob(h, 'digest');
  const digest = h.slack.messages(PLATFORM).find((m) => m.text.startsWith('Platform adoption'));
  assert.ok(digest);
  assert.match(
    readable(digest),
    /✅ \*You said → we did\*\n• “Quota errors &lt;are&gt; hard to read &amp; fix” → Quota errors now name the limit and how to raise it/,
  );
  assert.ok(!JSON.stringify(digest).includes(P[0]));
  assert.deepEqual(h.slack.warnings, []);
});

test('with too few answers a pulse posts no comment and no rating, erases their authors, and leaves nothing that links an answer to a person, even with the survey key', async (t) => {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const time = mutableClock('2026-11-17T10:00:00Z');
  const h = await pulseHarness(t, { clock: time.clock, log });
  const db = sqliteOf(h.slipway.deps.store);

  // The key is made at first start outside the database, and the log says where and what to do.
  const keyFile = join(dirname(db.name), 'survey.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'only the owner can read the key file');
  assert.ok(lines.some((l) => l.includes(`made a new survey key in ${keyFile}: back it up, and keep it out of database backups`)));
  const tables = db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`)
    .all()
    .map((r) => r.name);
  assert.deepEqual(
    tables.filter((n) => /secret|key/.test(n)),
    [],
    'no table holds a key',
  );

  await runJob(h, 'survey-open');
  await answer(h, P[0], 1);
  await answer(h, P[1], 4);
  await h.click(P[1], pulsePost(h), SURVEY.pulseComment);
  const modal = await h.waitFor('the comment modal', () => h.slack.views.find((v) => v.view.callback_id === SURVEY.commentModal)?.view);
  assert.equal((await h.submit(P[1], { [SURVEY.commentText]: 'The pulse is too long' }, { view: modal })).body, '');
  await h.waitFor('the thanks', () => h.slack.ephemerals(P[1]).find((e) => /Your comment will appear/.test(e.text)));
  assert.equal(h.slack.messages(PLATFORM).length, 0, 'the comment waits for the close');

  // While the pulse is open the database names nobody: pseudonyms, and sealed authors.
  const authors = db.prepare<[], { author: string }>('SELECT author FROM feedback').all();
  assert.equal(authors.length, 2, 'the rating of 1 and the comment');
  for (const { author } of authors) assert.ok(!HUMANS.some((u) => author.includes(u)), `author stored sealed, not ${author}`);
  const pseudonyms = () =>
    db
      .prepare<[], { respondent: string }>('SELECT respondent FROM pulse_answers ORDER BY respondent')
      .all()
      .map((r) => r.respondent);
  const open = pseudonyms();
  assert.equal(open.length, 2);
  const salt = (db.prepare('SELECT key_salt FROM pulse_surveys WHERE id = 1').get() as { key_salt: Buffer }).key_salt;
  assert.equal(salt.length, 32);

  time.advance(3 * DAY);
  assert.match(await runJob(h, 'survey-close'), /^pulse #1 closed: 2 answered of 10; ease: not enough answers$/);
  assert.equal(h.slack.messages(PLATFORM).length, 0, 'nothing posted: two answers could be traced');
  assert.deepEqual(db.prepare('SELECT status, author, text FROM feedback ORDER BY id').all(), [
    { status: 'dropped', author: null, text: null },
    { status: 'dropped', author: null, text: '' },
  ]);
  // The pulse's key material is gone and its pseudonyms are random: with the survey key and the
  // database together, nobody can tell whose its answers were.
  assert.deepEqual(db.prepare('SELECT key_salt FROM pulse_surveys WHERE id = 1').get(), { key_salt: null });
  for (const file of [db.name, `${db.name}-wal`]) {
    const bytes = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    assert.equal(bytes.indexOf(salt), -1, `the key material is gone from ${file}, not just unlinked`);
    for (const p of open) assert.equal(bytes.indexOf(p), -1, `the pseudonym ${p} is gone from ${file}`);
  }
  const closed = pseudonyms();
  assert.equal(closed.length, 2);
  assert.deepEqual(
    closed.filter((p) => open.includes(p)),
    [],
    'every pseudonym was replaced',
  );
  assert.deepEqual(
    (await h.slipway.deps.store.surveys.scoreCounts(1)).sort((a, b) => a.score - b.score),
    [
      { question: 'ease', score: 1, n: 1 },
      { question: 'ease', score: 4, n: 1 },
    ],
  );
  assert.ok(!(await h.slipway.deps.store.surveys.answeredPulse(1, P[0])), 'not even the bot can tell who answered a closed pulse');
  // The append-only event log keeps when each answer came, so it must not keep what it was either:
  // a click seen at 10:03 would otherwise give that person's score.
  const answered = db.prepare<[], { actor: string | null; data: string }>(`SELECT actor, data FROM events WHERE type = 'survey_answered'`).all();
  assert.equal(answered.length, 2);
  for (const e of answered) assert.deepEqual({ actor: e.actor, data: JSON.parse(e.data) as unknown }, { actor: null, data: { survey: 'pulse', surveyId: 1 } });
});
