import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../db.ts';
import { insertedId, present, type Row } from '../rows.ts';
import type { FeedbackStore } from './feedback.ts';
import type { Subkey } from './key.ts';
import type { PulsePost, PulseSurvey, ScoreCount, SurveyQuestion } from '../../domain/surveys.ts';

/**
 * The SQL behind pulse surveys (db/0004_surveys.sql): the pulses, where each was posted, the
 * answers, and at closing the comments and low ratings they hold back.
 *
 * A pulse answer is stored under a pseudonym: an HMAC of the person, keyed by the survey key
 * (kept outside the database, src/store/surveys/key.ts) mixed with the pulse's own key material
 * (`pulse_surveys.key_salt`). When the pulse closes its key material is erased and its pseudonyms
 * are replaced by random values, so from then on nobody, with or without the survey key, can link
 * its answers to people.
 */

// The columns of each domain type, named as its fields (never `key_salt`: nothing that reads
// pulses can see it).
const PULSE = `SELECT id, week, opened_at AS "openedAt", closes_at AS "closesAt", closed_at AS "closedAt", questions,
  min_answers AS "minAnswers", eligible, respondents FROM pulse_surveys`;
const POST = 'SELECT survey_id AS "surveyId", channel, ts, members, skipped, results_ts AS "resultsTs" FROM pulse_posts';

const toPulse = (r: Row<PulseSurvey>): PulseSurvey => present<PulseSurvey>(r, { questions: JSON.parse(r.questions) as SurveyQuestion[] });

const randomPseudonym = () => randomBytes(16).toString('base64url').slice(0, 22);

export class PulseStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly subkey: Subkey,
    private readonly feedback: Pick<FeedbackStore, 'holdRating'>,
  ) {
    this.stmts = {
      keySalt: db.prepare<[number], { key_salt: Buffer | null }>('SELECT key_salt FROM pulse_surveys WHERE id = ? AND closed_at IS NULL'),
      pulseRespondents: db.prepare<[number], { respondent: string }>('SELECT DISTINCT respondent FROM pulse_answers WHERE survey_id = ?'),
      renameRespondent: db.prepare('UPDATE pulse_answers SET respondent = ? WHERE survey_id = ? AND respondent = ?'),
      // Answer times would let a reader line answers up with other traces: all become the closing time.
      freezeAnswers: db.prepare('UPDATE pulse_answers SET answered_at = ? WHERE survey_id = ?'),
      eraseKeySalt: db.prepare('UPDATE pulse_surveys SET key_salt = NULL WHERE id = ?'),
      forgetHeldRespondents: db.prepare("UPDATE feedback SET respondent = NULL WHERE survey_id = ? AND source = 'pulse'"),

      pulseById: db.prepare<[number], Row<PulseSurvey>>(`${PULSE} WHERE id = ?`),
      pulseByWeek: db.prepare<[string], Row<PulseSurvey>>(`${PULSE} WHERE week = ?`),
      insertPulse: db.prepare<{ week: string; openedAt: string; closesAt: string; questions: string; minAnswers: number; keySalt: Buffer }, { id: number }>(
        `INSERT INTO pulse_surveys (week, opened_at, closes_at, questions, min_answers, key_salt)
         VALUES (@week, @openedAt, @closesAt, @questions, @minAnswers, @keySalt) RETURNING id`,
      ),
      openPulses: db.prepare<[], Row<PulseSurvey>>(`${PULSE} WHERE closed_at IS NULL ORDER BY id`),
      duePulses: db.prepare<[string], Row<PulseSurvey>>(`${PULSE} WHERE closed_at IS NULL AND closes_at <= ? ORDER BY id`),
      closedPulses: db.prepare<[string, number], Row<PulseSurvey>>(
        `${PULSE} WHERE closed_at IS NOT NULL AND closed_at < ? ORDER BY closed_at DESC, id DESC LIMIT ?`,
      ),
      closePulse: db.prepare(
        'UPDATE pulse_surveys SET closed_at = ?, respondents = ?, eligible = coalesce(CAST(? AS INTEGER), eligible) WHERE id = ? AND closed_at IS NULL',
      ),
      setEligible: db.prepare('UPDATE pulse_surveys SET eligible = ? WHERE id = ?'),
      upsertPost: db.prepare(
        `INSERT INTO pulse_posts (survey_id, channel, ts, members, skipped) VALUES (@surveyId, @channel, @ts, @members, @skipped)
         ON CONFLICT (survey_id, channel) DO UPDATE SET ts = excluded.ts, members = excluded.members, skipped = excluded.skipped`,
      ),
      postsOf: db.prepare<[number], Row<PulsePost>>(`${POST} WHERE survey_id = ? ORDER BY channel`),
      setResultsTs: db.prepare('UPDATE pulse_posts SET results_ts = ? WHERE survey_id = ? AND channel = ?'),
      answerOf: db.prepare<[number, string, string], { score: number }>(
        'SELECT score FROM pulse_answers WHERE survey_id = ? AND question = ? AND respondent = ?',
      ),
      upsertAnswer: db.prepare(
        `INSERT INTO pulse_answers (survey_id, question, respondent, score, answered_at) VALUES (@surveyId, @question, @respondent, @score, @now)
         ON CONFLICT (survey_id, question, respondent) DO UPDATE SET score = excluded.score, answered_at = excluded.answered_at`,
      ),
      answeredAny: db.prepare<[number, string], { n: number }>('SELECT COUNT(*) AS n FROM pulse_answers WHERE survey_id = ? AND respondent = ?'),
      scoreCounts: db.prepare<[number], ScoreCount>('SELECT question, score, COUNT(*) AS n FROM pulse_answers WHERE survey_id = ? GROUP BY question, score'),
      respondents: db.prepare<[number], { n: number }>('SELECT COUNT(DISTINCT respondent) AS n FROM pulse_answers WHERE survey_id = ?'),

      // The feedback a pulse holds back until it closes: its comments and low ratings.
      releaseHeldPulse: db.prepare(
        `UPDATE feedback SET status = 'pending' WHERE source = 'pulse' AND status = 'held' AND survey_id = ? AND question IS NOT DISTINCT FROM ?`,
      ),
      // A dropped comment keeps nothing of what was written, nor who wrote it.
      dropHeldPulse: db.prepare(
        `UPDATE feedback SET status = 'dropped', author = NULL, text = CASE WHEN text IS NULL THEN NULL ELSE '' END
         WHERE source = 'pulse' AND status = 'held' AND survey_id = ? AND question IS NOT DISTINCT FROM ?`,
      ),
      pulseComments: db.prepare<[number], { text: string }>(
        `SELECT text FROM feedback WHERE source = 'pulse' AND survey_id = ? AND text IS NOT NULL AND status <> 'dropped' ORDER BY random()`,
      ),
    };
  }

  /**
   * The pseudonym of a person in an open pulse: unrelated across pulses, and meaningless without
   * both the survey key and the pulse's key material. Undefined once the pulse closed (its key
   * material is gone: nobody can tell any more whose its answers were).
   */
  private async respondent(surveyId: number, user: string): Promise<string | undefined> {
    const salt = (await this.stmts.keySalt.get(surveyId))?.key_salt;
    if (!salt) return undefined;
    const pulseKey = createHmac('sha256', this.subkey('pulse')).update(salt).update(`:${surveyId}`).digest();
    return createHmac('sha256', pulseKey).update(user).digest('base64url').slice(0, 22);
  }

  /** Opens the week's pulse, or returns the one already opened that week. */
  async openPulse(input: { week: string; openedAt: Date; closesAt: Date; questions: readonly SurveyQuestion[]; minAnswers: number }): Promise<{
    created: boolean;
    survey: PulseSurvey;
  }> {
    return await this.db.transaction(async () => {
      const existing = await this.stmts.pulseByWeek.get(input.week);
      if (existing) return { created: false, survey: toPulse(existing) };
      const id = await insertedId(this.stmts.insertPulse, {
        week: input.week,
        openedAt: input.openedAt.toISOString(),
        closesAt: input.closesAt.toISOString(),
        questions: JSON.stringify(input.questions),
        minAnswers: input.minAnswers,
        keySalt: randomBytes(32),
      });
      return { created: true, survey: await this.mustGetPulse(id) };
    });
  }

  async getPulse(id: number): Promise<PulseSurvey | undefined> {
    const row = await this.stmts.pulseById.get(id);
    return row && toPulse(row);
  }

  private async mustGetPulse(id: number): Promise<PulseSurvey> {
    const pulse = await this.getPulse(id);
    if (!pulse) throw new Error(`pulse ${id} does not exist`);
    return pulse;
  }

  async pulseForWeek(week: string): Promise<PulseSurvey | undefined> {
    const row = await this.stmts.pulseByWeek.get(week);
    return row && toPulse(row);
  }

  async openPulses(): Promise<PulseSurvey[]> {
    return (await this.stmts.openPulses.all()).map(toPulse);
  }

  /** Open pulses whose time is up at `now`. */
  async duePulses(now: Date): Promise<PulseSurvey[]> {
    return (await this.stmts.duePulses.all(now.toISOString())).map(toPulse);
  }

  /** The latest pulses closed before `before`, newest first. */
  async closedPulses(before: Date, limit: number): Promise<PulseSurvey[]> {
    return (await this.stmts.closedPulses.all(before.toISOString(), limit)).map(toPulse);
  }

  /**
   * Closes a pulse if it is still open; false when someone else closed it first. In the same
   * transaction its pseudonyms become random values (one per person, so counts stay), its key
   * material is erased and its answer times become the closing time: from then on its answers
   * belong to nobody, even for someone holding the survey key.
   */
  async closePulse(id: number, now: Date, counts: { respondents: number; eligible: number | undefined }): Promise<boolean> {
    const closed = await this.db.transaction(async () => {
      if ((await this.stmts.closePulse.run(now.toISOString(), counts.respondents, counts.eligible ?? null, id)).changes !== 1) return false;
      for (const { respondent } of await this.stmts.pulseRespondents.all(id)) await this.stmts.renameRespondent.run(randomPseudonym(), id, respondent);
      await this.stmts.freezeAnswers.run(now.toISOString(), id);
      await this.stmts.eraseKeySalt.run(id);
      await this.stmts.forgetHeldRespondents.run(id);
      return true;
    });
    // The old pages (key material, pseudonyms) also sit in the write-ahead log until it is
    // checkpointed: copy them into the database file (where secure_delete overwrote them) and
    // empty the log.
    if (closed) this.db.checkpoint();
    return closed;
  }

  async setEligible(id: number, eligible: number): Promise<void> {
    await this.stmts.setEligible.run(eligible, id);
  }

  async recordPost(post: {
    surveyId: number;
    channel: string;
    ts?: string | undefined;
    members?: number | undefined;
    skipped?: string | undefined;
  }): Promise<void> {
    await this.stmts.upsertPost.run({
      surveyId: post.surveyId,
      channel: post.channel,
      ts: post.ts ?? null,
      members: post.members ?? null,
      skipped: post.skipped ?? null,
    });
  }

  async postsOf(surveyId: number): Promise<PulsePost[]> {
    return (await this.stmts.postsOf.all(surveyId)).map((r) => present<PulsePost>(r));
  }

  async setResultsTs(surveyId: number, channel: string, ts: string): Promise<void> {
    await this.stmts.setResultsTs.run(ts, surveyId, channel);
  }

  /**
   * Records (or changes) a person's answer to one question. A rating of 1 or 2 is also kept as a
   * held feedback item, so that it can be posted (without a name) when the pulse closes with
   * enough answers; changing it to 3 or more withdraws it. Returns the previous score, if any, or
   * undefined when the pulse has closed (nothing recorded).
   */
  async recordPulseAnswer(input: {
    surveyId: number;
    question: string;
    user: string;
    score: number;
    now: Date;
  }): Promise<{ previous: number | undefined } | undefined> {
    const respondent = await this.respondent(input.surveyId, input.user);
    if (!respondent) return undefined;
    return await this.db.transaction(async () => {
      const previous = (await this.stmts.answerOf.get(input.surveyId, input.question, respondent))?.score;
      await this.stmts.upsertAnswer.run({ surveyId: input.surveyId, question: input.question, respondent, score: input.score, now: input.now.toISOString() });
      await this.feedback.holdRating({
        source: 'pulse',
        surveyId: input.surveyId,
        question: input.question,
        requestId: null,
        respondent,
        author: input.user,
        score: input.score,
        now: input.now,
      });
      return { previous };
    });
  }

  /** Whether the person answered any question of the pulse; always false once it closed. */
  async answeredPulse(surveyId: number, user: string): Promise<boolean> {
    const respondent = await this.respondent(surveyId, user);
    return respondent !== undefined && ((await this.stmts.answeredAny.get(surveyId, respondent))?.n ?? 0) > 0;
  }

  /** How many answers each score got, per question. */
  async scoreCounts(surveyId: number): Promise<ScoreCount[]> {
    return await this.stmts.scoreCounts.all(surveyId);
  }

  /** People who answered at least one question. */
  async respondents(surveyId: number): Promise<number> {
    return (await this.stmts.respondents.get(surveyId))?.n ?? 0;
  }

  /** The comments written on a pulse, in random order (no names: the store has none to give). */
  async pulseComments(surveyId: number): Promise<string[]> {
    return (await this.stmts.pulseComments.all(surveyId)).map((r) => r.text);
  }

  /** At closing: a question's held low ratings go out (enough answers) or are dropped, author erased. */
  async settleHeldRatings(surveyId: number, question: string, post: boolean): Promise<void> {
    await (post ? this.stmts.releaseHeldPulse : this.stmts.dropHeldPulse).run(surveyId, question);
  }

  /** At closing: the pulse's comments go out (enough answers) or are dropped, text and author erased. */
  async settleHeldComments(surveyId: number, post: boolean): Promise<void> {
    await (post ? this.stmts.releaseHeldPulse : this.stmts.dropHeldPulse).run(surveyId, null);
  }
}
