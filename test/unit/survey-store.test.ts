import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import { requestInput, storeTest } from '../support/stores.ts';
import { isUniqueViolation } from '../../src/store/rows.ts';

// The survey stores (src/store/surveys/): pulses and their anonymity at closing, the question
// after provisioning, feedback items and mutes, through `store.surveys`.

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const now = new Date('2026-11-16T09:00:00Z');
const after = (ms: number) => new Date(now.getTime() + ms);
const SURVEY_KEY = { surveyKey: Buffer.alloc(32, 7) };
const QUESTIONS = [
  { id: 'ease', text: 'How easy was it?', labels: ['1', '2', '3', '4', '5'] },
  { id: 'speed', text: 'How fast was it?', labels: ['1', '2', '3', '4', '5'] },
];

async function openPulse(store: Store, week = '2026-11-16') {
  const { survey } = await store.surveys.openPulse({ week, openedAt: now, closesAt: after(3 * DAY), questions: QUESTIONS, minAnswers: 2 });
  return survey;
}

const answer = (store: Store, surveyId: number, user: string, question: string, score: number, at = now) =>
  store.surveys.recordPulseAnswer({ surveyId, question, user, score, now: at });

storeTest(
  'a pulse opens once a week; one answer per person and question, changeable while it is open',
  async (_t, { store }) => {
    const first = await store.surveys.openPulse({ week: '2026-11-16', openedAt: now, closesAt: after(3 * DAY), questions: QUESTIONS, minAnswers: 2 });
    assert.equal(first.created, true);
    assert.deepEqual(first.survey.questions, QUESTIONS);
    assert.equal(first.survey.closedAt, undefined);
    const again = await store.surveys.openPulse({ week: '2026-11-16', openedAt: after(HOUR), closesAt: after(4 * DAY), questions: [], minAnswers: 5 });
    assert.deepEqual(again, { created: false, survey: first.survey });
    const survey = first.survey;
    assert.deepEqual(await store.surveys.pulseForWeek('2026-11-16'), survey);
    assert.deepEqual(await store.surveys.openPulses(), [survey]);
    assert.deepEqual(await store.surveys.duePulses(after(DAY)), []);
    assert.deepEqual(await store.surveys.duePulses(after(3 * DAY)), [survey]);

    assert.deepEqual(await answer(store, survey.id, 'U1', 'ease', 4), { previous: undefined });
    assert.deepEqual(await answer(store, survey.id, 'U1', 'ease', 5), { previous: 4 });
    await answer(store, survey.id, 'U2', 'ease', 5);
    await answer(store, survey.id, 'U2', 'speed', 3);
    assert.equal(await store.surveys.answeredPulse(survey.id, 'U1'), true);
    assert.equal(await store.surveys.answeredPulse(survey.id, 'U3'), false);
    assert.deepEqual(sortCounts(await store.surveys.scoreCounts(survey.id)), [
      { question: 'ease', score: 5, n: 2 },
      { question: 'speed', score: 3, n: 1 },
    ]);
    assert.equal(await store.surveys.respondents(survey.id), 2);
  },
  SURVEY_KEY,
);

storeTest(
  'one answer per person and question, and one question per request, are constraints of the database',
  async (_t, { store }) => {
    const survey = await openPulse(store);
    const answerRow = store.sql.prepare('INSERT INTO pulse_answers (survey_id, question, respondent, score, answered_at) VALUES (?, ?, ?, ?, ?)');
    await answerRow.run(survey.id, 'ease', 'pseudonym-1', 3, now.toISOString());
    await answerRow.run(survey.id, 'speed', 'pseudonym-1', 3, now.toISOString());
    await answerRow.run(survey.id, 'ease', 'pseudonym-2', 3, now.toISOString());
    await assert.rejects(
      answerRow.run(survey.id, 'ease', 'pseudonym-1', 5, after(HOUR).toISOString()),
      isUniqueViolation,
      'a second answer of the same person',
    );
    assert.deepEqual(await store.surveys.scoreCounts(survey.id), [
      { question: 'ease', score: 3, n: 2 },
      { question: 'speed', score: 3, n: 1 },
    ]);

    const questionRow = store.sql.prepare('INSERT INTO provisioning_answers (request_id, asked_at, self_serve) VALUES (?, ?, 1)');
    await questionRow.run(41, now.toISOString());
    await assert.rejects(questionRow.run(41, after(HOUR).toISOString()), isUniqueViolation, 'a second question about the same request');
  },
  SURVEY_KEY,
);

storeTest(
  'closing a pulse happens once, keeps the counts, and leaves nothing that links answers to people',
  async (_t, { store }) => {
    const survey = await openPulse(store);
    await store.surveys.setEligible(survey.id, 12);
    await store.surveys.recordPost({ surveyId: survey.id, channel: 'C0B', ts: '1.2', members: 7 });
    await store.surveys.recordPost({ surveyId: survey.id, channel: 'C0A', skipped: 'not_in_channel' });
    await store.surveys.recordPost({ surveyId: survey.id, channel: 'C0A', ts: '1.3', members: 5 });
    await store.surveys.setResultsTs(survey.id, 'C0B', '1.9');
    assert.deepEqual(await store.surveys.postsOf(survey.id), [
      { surveyId: survey.id, channel: 'C0A', ts: '1.3', members: 5, skipped: undefined, resultsTs: undefined },
      { surveyId: survey.id, channel: 'C0B', ts: '1.2', members: 7, skipped: undefined, resultsTs: '1.9' },
    ]);
    await answer(store, survey.id, 'U1', 'ease', 2);
    await answer(store, survey.id, 'U2', 'ease', 4);

    const closing = after(3 * DAY);
    assert.equal(await store.surveys.closePulse(survey.id, closing, { respondents: 2, eligible: undefined }), true);
    assert.equal(await store.surveys.closePulse(survey.id, closing, { respondents: 9, eligible: 1 }), false, 'closed once');
    const closed = await store.surveys.getPulse(survey.id);
    assert.equal(closed?.closedAt, closing.toISOString());
    assert.equal(closed?.respondents, 2);
    assert.equal(closed?.eligible, 12, 'an unknown count at closing keeps the one from opening');
    assert.deepEqual(await store.surveys.closedPulses(after(4 * DAY), 5), [closed]);
    assert.deepEqual(await store.surveys.closedPulses(closing, 5), [], 'only those closed before');

    assert.equal(await store.surveys.answeredPulse(survey.id, 'U1'), false, 'nobody can tell whose the answers were');
    assert.equal(await answer(store, survey.id, 'U1', 'ease', 5), undefined, 'a closed pulse records nothing');
    assert.equal(await store.surveys.respondents(survey.id), 2);
    assert.deepEqual(sortCounts(await store.surveys.scoreCounts(survey.id)), [
      { question: 'ease', score: 2, n: 1 },
      { question: 'ease', score: 4, n: 1 },
    ]);
  },
  SURVEY_KEY,
);

storeTest(
  'low pulse ratings and comments are held until closing, then posted or dropped without their text',
  async (_t, { store }) => {
    const survey = await openPulse(store);
    await answer(store, survey.id, 'U1', 'ease', 1);
    await answer(store, survey.id, 'U2', 'ease', 2);
    await answer(store, survey.id, 'U2', 'ease', 3); // withdrawn
    await answer(store, survey.id, 'U3', 'speed', 1);
    await store.surveys.addFeedback({ source: 'pulse', surveyId: survey.id, text: 'More quota please', author: 'U1', anonymous: true, status: 'held', now });
    await store.surveys.addFeedback({ source: 'pulse', surveyId: survey.id, text: 'Faster approvals', author: 'U3', anonymous: true, status: 'held', now });
    assert.deepEqual(await store.surveys.pendingFeedback(), []);
    assert.deepEqual((await store.surveys.pulseComments(survey.id)).sort(), ['Faster approvals', 'More quota please']);

    assert.ok(await store.surveys.closePulse(survey.id, after(3 * DAY), { respondents: 3, eligible: 10 }));
    await store.surveys.settleHeldRatings(survey.id, 'ease', true);
    await store.surveys.settleHeldRatings(survey.id, 'speed', false);
    await store.surveys.settleHeldComments(survey.id, false);
    const pending = await Promise.all((await store.surveys.pendingFeedback()).map((id) => store.surveys.getFeedback(id)));
    assert.deepEqual(
      pending.map((f) => ({ question: f?.question, score: f?.score, text: f?.text, anonymous: f?.anonymous })),
      [{ question: 'ease', score: 1, text: undefined, anonymous: true }],
      'only the low rating of the question with enough answers goes out',
    );
    assert.deepEqual(await store.surveys.pulseComments(survey.id), [], 'dropped comments keep no text');
  },
  SURVEY_KEY,
);

storeTest(
  'the question after provisioning: asked once per request, not twice within the cool-down, answered, reminded once',
  async (_t, { store }) => {
    const requestOf = async (name: string) => (await store.insertRequest(requestInput({ namespace: name }), now)).request.id;
    const first = await requestOf('payments-a');
    const second = await requestOf('payments-b');
    const timing = { readyMs: 60_000, approvalWaitMs: undefined, selfServe: true };
    const claim = (requestId: number, at = now) =>
      store.surveys.claimProvisioningQuestion({ requestId, requester: 'U0DEV', since: new Date(at.getTime() - 7 * DAY), now: at, timing });

    assert.deepEqual(await claim(first), { outcome: 'claimed' });
    assert.deepEqual(await claim(first), { outcome: 'undelivered' });
    await store.surveys.setProvisioningMessage(first, 'D0DEV', '5.1');
    assert.deepEqual(await claim(first), { outcome: 'already-asked' });
    assert.deepEqual(await claim(second, after(DAY)), { outcome: 'cooldown' });
    assert.deepEqual(await claim(second, after(8 * DAY)), { outcome: 'claimed' });

    // Several of one person's namespaces ready at the same moment: asked about one of them.
    const together = [];
    for (const name of ['c', 'd', 'e', 'f', 'g']) together.push(await requestOf(`payments-${name}`));
    const claims = await Promise.all(together.map((id) => claim(id, after(30 * DAY))));
    assert.deepEqual(
      claims.map((c) => c.outcome),
      claims.map((c, i) => (i === claims.findIndex((f) => f.outcome === 'claimed') ? 'claimed' : 'cooldown')),
    );

    assert.deepEqual(
      (await store.surveys.dueReminders(after(DAY))).map((q) => q.requestId),
      [first],
    );
    assert.equal(await store.surveys.markReminded(first, after(DAY)), true);
    assert.equal(await store.surveys.markReminded(first, after(DAY)), false, 'reminded once');
    assert.deepEqual(await store.surveys.dueReminders(after(2 * DAY)), []);

    assert.equal(await store.surveys.answeredProvisioningSince('U0DEV', now), false);
    assert.deepEqual(await store.surveys.recordProvisioningAnswer({ requestId: first, author: 'U0DEV', score: 2, now: after(HOUR) }), {
      previous: undefined,
      locked: false,
    });
    assert.deepEqual(await store.surveys.recordProvisioningAnswer({ requestId: first, author: 'U0DEV', score: 1, now: after(2 * HOUR) }), {
      previous: 2,
      locked: false,
    });
    assert.deepEqual(
      await store.surveys.recordProvisioningAnswer({ requestId: first, author: 'U0DEV', score: 5, now: after(8 * DAY), changeableFrom: after(7 * DAY) }),
      { previous: 1, locked: true },
      "an answer already in a week's report stays",
    );
    assert.equal(await store.surveys.answeredProvisioningSince('U0DEV', now), true);
    const question = await store.surveys.provisioningQuestion(first);
    assert.equal(question?.namespace, 'payments-a');
    assert.equal(question?.score, 1);
    assert.equal(question?.answeredAt, after(2 * HOUR).toISOString());
  },
  SURVEY_KEY,
);

storeTest(
  'answers after provisioning: held low ratings go out in batches, and the week counts them by timing',
  async (_t, { store }) => {
    const timings = [
      { readyMs: 30_000, approvalWaitMs: undefined, selfServe: true },
      { readyMs: 90 * 60_000, approvalWaitMs: 5 * 60_000, selfServe: false },
      { readyMs: undefined, approvalWaitMs: 3 * HOUR, selfServe: false },
    ];
    const ids: number[] = [];
    for (const [i, timing] of timings.entries()) {
      const requester = `U${i}`;
      const id = (await store.insertRequest(requestInput({ namespace: `payments-${i}`, requester }), now)).request.id;
      ids.push(id);
      await store.surveys.claimProvisioningQuestion({ requestId: id, requester, since: now, now, timing });
      await store.surveys.setProvisioningMessage(id, `D${i}`, `${i}.1`);
    }
    await store.surveys.recordProvisioningAnswer({ requestId: ids[0] as number, author: 'U0', score: 5, now: after(HOUR) });
    await store.surveys.recordProvisioningAnswer({ requestId: ids[1] as number, author: 'U1', score: 2, now: after(HOUR) });
    assert.deepEqual(await store.surveys.releaseProvisioningBatch(3, after(HOUR)), [], 'too few answers for a batch');
    await store.surveys.recordProvisioningAnswer({ requestId: ids[2] as number, author: 'U2', score: 1, now: after(8 * DAY) });

    const week = { from: now, to: after(7 * DAY) };
    assert.deepEqual(await store.surveys.provisioningParticipation(week.from, week.to), { asked: 3, answered: 2 });
    assert.deepEqual((await store.surveys.provisioningScores(week.from, week.to)).sort(), [2, 5]);
    const byTiming = await store.surveys.provisioningScoresByTiming(week.from, week.to, { fastReadyMs: HOUR, fastApprovalMs: 10 * 60_000 });
    assert.deepEqual(
      byTiming.sort((a, b) => a.score - b.score),
      [
        { score: 2, fast: false, approval: 'quick', n: 1 },
        { score: 5, fast: true, approval: 'self-serve', n: 1 },
      ],
    );
    const later = await store.surveys.provisioningScoresByTiming(now, after(9 * DAY), { fastReadyMs: HOUR, fastApprovalMs: 10 * 60_000 });
    assert.deepEqual(
      later.find((r) => r.score === 1),
      { score: 1, fast: undefined, approval: 'slow', n: 1 },
    );

    const released = await store.surveys.releaseProvisioningBatch(3, after(8 * DAY));
    assert.equal(released.length, 2, 'the two low ratings');
    assert.deepEqual((await store.surveys.pendingFeedback()).sort(), released.sort());
    assert.deepEqual(await store.surveys.releaseProvisioningBatch(1, after(8 * DAY)), [], 'a batch takes new answers only');
  },
  SURVEY_KEY,
);

storeTest(
  'feedback: posted once by whoever claims it, marked done once, replies relayed once, authors forgotten after the relay window',
  async (_t, { store }) => {
    const item = await store.surveys.addFeedback({ source: 'command', text: 'Love it', author: 'U0DEV', anonymous: true, status: 'pending', now });
    assert.equal(item.status, 'pending');
    assert.equal(item.anonymous, true);
    assert.equal(item.surveyId, undefined);
    assert.deepEqual(await store.surveys.feedbackByToken(item.token), item);
    assert.equal(await store.surveys.authorOf(item.id), 'U0DEV');
    assert.deepEqual(await store.surveys.pendingFeedback(), [item.id]);

    assert.equal(await store.surveys.claimFeedback(item.id), true);
    assert.equal(await store.surveys.claimFeedback(item.id), false, 'another poster has it');
    await store.surveys.unclaimFeedback(item.id);
    assert.equal(await store.surveys.claimFeedback(item.id), true);
    await store.surveys.resetPostingFeedback();
    assert.deepEqual(await store.surveys.pendingFeedback(), [item.id], 'left posting by a stopped process: pending again');
    assert.equal(await store.surveys.claimFeedback(item.id), true);
    await store.surveys.markFeedbackPosted(item.id, 'C0PLATFORM', '7.1', after(HOUR));
    const posted = await store.surveys.feedbackByMessage('C0PLATFORM', '7.1');
    assert.equal(posted?.id, item.id);
    assert.equal(posted?.status, 'posted');

    assert.equal(await store.surveys.markDone(item.id, 'U0ALICE', 'Thanks!', after(DAY)), true);
    assert.equal(await store.surveys.markDone(item.id, 'U0BOB', 'Again', after(DAY)), false, 'done once');
    const done = await store.surveys.doneBetween(now, after(2 * DAY), 10);
    assert.equal(done.total, 1);
    assert.deepEqual(
      done.items.map((f) => [f.doneBy, f.doneText]),
      [['U0ALICE', 'Thanks!']],
    );
    assert.equal((await store.surveys.doneBetween(now, after(2 * DAY), 0)).items.length, 0);

    assert.equal(await store.surveys.recordRelay('C0PLATFORM', '7.2', item.id, after(DAY)), true);
    assert.equal(await store.surveys.recordRelay('C0PLATFORM', '7.2', item.id, after(DAY)), false, 'a redelivered reply');

    assert.equal(await store.surveys.forgetAuthors(after(HOUR)), 0, 'still within the relay window');
    assert.equal(await store.surveys.forgetAuthors(after(30 * DAY)), 1);
    assert.equal(await store.surveys.authorOf(item.id), undefined);
    assert.equal(await store.surveys.sealPlainAuthors(), 0);
    // An author stored in plain text before migration 0005 is sealed at the next start.
    await store.sql.prepare("UPDATE feedback SET author = 'U0OLD' WHERE id = ?").run(item.id);
    assert.equal(await store.surveys.sealPlainAuthors(), 1);
    assert.notEqual(await store.sql.prepare('SELECT author FROM feedback WHERE id = ?').pluck().get(item.id), 'U0OLD');
    assert.equal(await store.surveys.authorOf(item.id), 'U0OLD');
  },
  SURVEY_KEY,
);

storeTest(
  'muting survey questions is idempotent both ways',
  async (_t, { store }) => {
    assert.equal(await store.surveys.isMuted('U0DEV'), false);
    await store.surveys.setMuted('U0DEV', true, now);
    await store.surveys.setMuted('U0DEV', true, after(HOUR));
    assert.equal(await store.surveys.isMuted('U0DEV'), true);
    assert.equal(await store.surveys.isMuted('U0BOB'), false);
    await store.surveys.setMuted('U0DEV', false, after(DAY));
    await store.surveys.setMuted('U0DEV', false, after(DAY));
    assert.equal(await store.surveys.isMuted('U0DEV'), false);
  },
  SURVEY_KEY,
);

function sortCounts<T extends { question: string; score: number }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.question.localeCompare(b.question) || a.score - b.score);
}
