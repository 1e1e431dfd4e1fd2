import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { present, window, type Row } from './rows.ts';
import type {
  FeedbackItem,
  FeedbackSource,
  NewFeedback,
  ProvisioningQuestion,
  PulsePost,
  PulseSurvey,
  QuestionClaim,
  RequestTiming,
  ScoreCount,
  SurveyQuestion,
  TimedScoreCount,
} from '../domain/surveys.ts';

/**
 * The SQL behind surveys (db/0004_surveys.sql), reached through `store.surveys`. Statements are
 * prepared once; times are ISO strings, so string order is time order.
 *
 * Anonymity lives here. A pulse answer is stored under a pseudonym: an HMAC of the person, keyed
 * by the survey key (kept outside the database, src/store/surveys/key.ts) mixed with the pulse's
 * own key material (`pulse_surveys.key_salt`). When the pulse closes its key material is erased
 * and its pseudonyms are replaced by random values, so from then on nobody, with or without the
 * survey key, can link its answers to people. `feedback.author` is the one column naming a
 * person; it is sealed with the survey key (AES-256-GCM), opened only to relay a reply or a "done"
 * note, and cleared `survey.feedback.relayDays` after the item was posted.
 */

// The columns of each domain type, named as its fields (never `key_salt`, nor feedback's `author`:
// nothing that reads pulses or lists feedback can see them).
const PULSE = `SELECT id, week, opened_at AS openedAt, closes_at AS closesAt, closed_at AS closedAt, questions,
  min_answers AS minAnswers, eligible, respondents FROM pulse_surveys`;
const POST = 'SELECT survey_id AS surveyId, channel, ts, members, skipped, results_ts AS resultsTs FROM pulse_posts';
const QUESTION = `SELECT p.request_id AS requestId, r.requester, r.namespace, p.asked_at AS askedAt, p.channel, p.ts,
  p.reminded_at AS remindedAt, p.score, p.answered_at AS answeredAt
  FROM provisioning_answers p JOIN requests r ON r.id = p.request_id`;
const FEEDBACK = `SELECT id, token, source, survey_id AS surveyId, question, request_id AS requestId, score, text, anonymous,
  status, created_at AS createdAt, channel, ts, done_at AS doneAt, done_by AS doneBy, done_text AS doneText FROM feedback`;

const toPulse = (r: Row<PulseSurvey>): PulseSurvey => present<PulseSurvey>(r, { questions: JSON.parse(r.questions) as SurveyQuestion[] });
const toFeedback = (r: Row<FeedbackItem>): FeedbackItem => present<FeedbackItem>(r, { anonymous: r.anonymous === 1 });

const LOW = 2;
/** Sealed authors: `v1.` + base64url(iv ‖ tag ‖ ciphertext). Anything else is from before 0005. */
const SEALED = 'v1.';

const randomPseudonym = () => randomBytes(16).toString('base64url').slice(0, 22);
const randomToken = () => randomBytes(16).toString('base64url');

export class SurveyStore {
  private readonly stmts;
  private key: Buffer | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly surveyKey: () => Buffer,
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
      insertPulse: db.prepare(
        `INSERT INTO pulse_surveys (week, opened_at, closes_at, questions, min_answers, key_salt)
         VALUES (@week, @openedAt, @closesAt, @questions, @minAnswers, @keySalt)`,
      ),
      openPulses: db.prepare<[], Row<PulseSurvey>>(`${PULSE} WHERE closed_at IS NULL ORDER BY id`),
      duePulses: db.prepare<[string], Row<PulseSurvey>>(`${PULSE} WHERE closed_at IS NULL AND closes_at <= ? ORDER BY id`),
      closedPulses: db.prepare<[string, number], Row<PulseSurvey>>(
        `${PULSE} WHERE closed_at IS NOT NULL AND closed_at < ? ORDER BY closed_at DESC, id DESC LIMIT ?`,
      ),
      closePulse: db.prepare('UPDATE pulse_surveys SET closed_at = ?, respondents = ?, eligible = coalesce(?, eligible) WHERE id = ? AND closed_at IS NULL'),
      setEligible: db.prepare('UPDATE pulse_surveys SET eligible = ? WHERE id = ?'),
      upsertPost: db.prepare(
        `INSERT INTO pulse_posts (survey_id, channel, ts, members, skipped) VALUES (@surveyId, @channel, @ts, @members, @skipped)
         ON CONFLICT (survey_id, channel) DO UPDATE SET ts = excluded.ts, members = excluded.members, skipped = excluded.skipped`,
      ),
      postsOf: db.prepare<[number], Row<PulsePost>>(`${POST} WHERE survey_id = ? ORDER BY rowid`),
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

      questionOf: db.prepare<[number], Row<ProvisioningQuestion>>(`${QUESTION} WHERE p.request_id = ?`),
      askedSince: db.prepare<{ requester: string; since: string; requestId: number }, { n: number }>(
        `SELECT COUNT(*) AS n FROM provisioning_answers p JOIN requests r ON r.id = p.request_id
         WHERE r.requester = @requester AND p.asked_at >= @since AND p.request_id <> @requestId`,
      ),
      answeredProvisioningSince: db.prepare<{ requester: string; since: string }, { n: number }>(
        `SELECT COUNT(*) AS n FROM provisioning_answers p JOIN requests r ON r.id = p.request_id
         WHERE r.requester = @requester AND p.answered_at >= @since`,
      ),
      insertQuestion: db.prepare(
        `INSERT INTO provisioning_answers (request_id, asked_at, ready_ms, approval_wait_ms, self_serve)
         VALUES (@requestId, @askedAt, @readyMs, @approvalWaitMs, @selfServe)`,
      ),
      setQuestionMessage: db.prepare('UPDATE provisioning_answers SET channel = ?, ts = ? WHERE request_id = ?'),
      answerQuestion: db.prepare('UPDATE provisioning_answers SET score = ?, answered_at = ? WHERE request_id = ?'),
      dueReminders: db.prepare<[string], Row<ProvisioningQuestion>>(
        `${QUESTION} WHERE p.asked_at < ? AND p.answered_at IS NULL AND p.reminded_at IS NULL AND p.ts IS NOT NULL ORDER BY p.asked_at`,
      ),
      markReminded: db.prepare('UPDATE provisioning_answers SET reminded_at = ? WHERE request_id = ? AND reminded_at IS NULL'),
      unreleased: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM provisioning_answers WHERE answered_at IS NOT NULL AND released_at IS NULL'),
      release: db.prepare('UPDATE provisioning_answers SET released_at = ? WHERE answered_at IS NOT NULL AND released_at IS NULL'),
      askedBetween: db.prepare<{ from: string; to: string }, { asked: number; answered: number }>(
        `SELECT COUNT(*) AS asked, COUNT(CASE WHEN answered_at < @to THEN score END) AS answered FROM provisioning_answers
         WHERE asked_at >= @from AND asked_at < @to AND ts IS NOT NULL`,
      ),
      scoresAskedBetween: db.prepare<{ from: string; to: string }, { score: number }>(
        'SELECT score FROM provisioning_answers WHERE asked_at >= @from AND asked_at < @to AND score IS NOT NULL AND answered_at < @to',
      ),
      ratedWithTiming: db.prepare<
        { from: string; to: string; fastReadyMs: number; fastApprovalMs: number },
        { score: number; fast: number | null; approval: string | null; n: number }
      >(
        // Timing was recorded with each question, so this is one range of a covering index,
        // counted in SQL (a few dozen rows come back, whatever the volume).
        `SELECT score,
                CASE WHEN ready_ms IS NULL THEN NULL WHEN ready_ms <= @fastReadyMs THEN 1 ELSE 0 END AS fast,
                CASE WHEN self_serve = 1 THEN 'self-serve' WHEN approval_wait_ms IS NULL THEN NULL
                     WHEN approval_wait_ms <= @fastApprovalMs THEN 'quick' ELSE 'slow' END AS approval,
                COUNT(*) AS n
         FROM provisioning_answers
         WHERE asked_at >= @from AND asked_at < @to AND score IS NOT NULL AND answered_at < @to
         GROUP BY score, fast, approval`,
      ),

      insertFeedback: db.prepare(
        `INSERT INTO feedback (token, source, survey_id, question, request_id, score, text, author, respondent, anonymous, status, created_at)
         VALUES (@token, @source, @surveyId, @question, @requestId, @score, @text, @author, @respondent, @anonymous, @status, @now)`,
      ),
      // A pulse rating is found by the pseudonym of its pulse; a rating after provisioning by its
      // request (only the requester answers it).
      heldRating: db.prepare<
        { source: string; surveyId: number | null; question: string | null; requestId: number | null; respondent: string | null },
        { id: number }
      >(
        `SELECT id FROM feedback WHERE source = @source AND status = 'held' AND text IS NULL AND respondent IS @respondent
           AND survey_id IS @surveyId AND question IS @question AND request_id IS @requestId`,
      ),
      setHeldScore: db.prepare(`UPDATE feedback SET score = ? WHERE id = ? AND status = 'held'`),
      deleteHeld: db.prepare(`DELETE FROM feedback WHERE id = ? AND status = 'held'`),
      feedbackById: db.prepare<[number], Row<FeedbackItem>>(`${FEEDBACK} WHERE id = ?`),
      feedbackByMessage: db.prepare<[string, string], Row<FeedbackItem>>(`${FEEDBACK} WHERE channel = ? AND ts = ?`),
      feedbackByToken: db.prepare<[string], Row<FeedbackItem>>(`${FEEDBACK} WHERE token = ?`),
      forgetAuthors: db.prepare(`UPDATE feedback SET author = NULL WHERE anonymous = 1 AND author IS NOT NULL AND posted_at IS NOT NULL AND posted_at < ?`),
      plainAuthors: db.prepare<[], { id: number; author: string }>(`SELECT id, author FROM feedback WHERE author IS NOT NULL AND author NOT LIKE '${SEALED}%'`),
      setAuthor: db.prepare('UPDATE feedback SET author = ? WHERE id = ?'),
      authorOf: db.prepare<[number], { author: string | null }>('SELECT author FROM feedback WHERE id = ?'),
      pendingFeedback: db.prepare<[], { id: number }>(`SELECT id FROM feedback WHERE status = 'pending' ORDER BY id`),
      claimFeedback: db.prepare(`UPDATE feedback SET status = 'posting' WHERE id = ? AND status = 'pending'`),
      unclaimFeedback: db.prepare(`UPDATE feedback SET status = 'pending' WHERE id = ? AND status = 'posting'`),
      postedFeedback: db.prepare(`UPDATE feedback SET status = 'posted', channel = ?, ts = ?, posted_at = ? WHERE id = ? AND status = 'posting'`),
      // A crash between claiming and posting leaves `posting`; it is posted again at the next start.
      resetPosting: db.prepare(`UPDATE feedback SET status = 'pending' WHERE status = 'posting'`),
      releaseHeld: db.prepare<[string], { id: number }>(`UPDATE feedback SET status = 'pending' WHERE source = ? AND status = 'held' RETURNING id`),
      releaseHeldPulse: db.prepare(`UPDATE feedback SET status = 'pending' WHERE source = 'pulse' AND status = 'held' AND survey_id = ? AND question IS ?`),
      // A dropped comment keeps nothing of what was written, nor who wrote it.
      dropHeldPulse: db.prepare(
        `UPDATE feedback SET status = 'dropped', author = NULL, text = CASE WHEN text IS NULL THEN NULL ELSE '' END
         WHERE source = 'pulse' AND status = 'held' AND survey_id = ? AND question IS ?`,
      ),
      pulseComments: db.prepare<[number], { text: string }>(
        `SELECT text FROM feedback WHERE source = 'pulse' AND survey_id = ? AND text IS NOT NULL AND status <> 'dropped' ORDER BY random()`,
      ),
      markDone: db.prepare('UPDATE feedback SET done_at = ?, done_by = ?, done_text = ? WHERE id = ? AND done_at IS NULL AND text IS NOT NULL'),
      doneBetween: db.prepare<{ from: string; to: string; limit: number }, Row<FeedbackItem>>(
        `${FEEDBACK} WHERE done_at >= @from AND done_at < @to ORDER BY done_at LIMIT @limit`,
      ),
      countDoneBetween: db.prepare<{ from: string; to: string }, { n: number }>('SELECT COUNT(*) AS n FROM feedback WHERE done_at >= @from AND done_at < @to'),
      recordRelay: db.prepare('INSERT OR IGNORE INTO feedback_replies (channel, ts, feedback_id, relayed_at) VALUES (?, ?, ?, ?)'),

      mute: db.prepare('INSERT OR IGNORE INTO survey_mutes (user, muted_at) VALUES (?, ?)'),
      unmute: db.prepare('DELETE FROM survey_mutes WHERE user = ?'),
      isMuted: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM survey_mutes WHERE user = ?'),
    };
  }

  // ------------------------------------------------------------------ pseudonyms and sealed authors

  private masterKey(): Buffer {
    return (this.key ??= this.surveyKey());
  }

  private subkey(purpose: string): Buffer {
    return createHmac('sha256', this.masterKey()).update(`slipway:${purpose}`).digest();
  }

  /**
   * The pseudonym of a person in an open pulse: unrelated across pulses, and meaningless without
   * both the survey key and the pulse's key material. Undefined once the pulse closed (its key
   * material is gone: nobody can tell any more whose its answers were).
   */
  private respondent(surveyId: number, user: string): string | undefined {
    const salt = this.stmts.keySalt.get(surveyId)?.key_salt;
    if (!salt) return undefined;
    const pulseKey = createHmac('sha256', this.subkey('pulse')).update(salt).update(`:${surveyId}`).digest();
    return createHmac('sha256', pulseKey).update(user).digest('base64url').slice(0, 22);
  }

  private sealAuthor(user: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.subkey('author'), iv);
    const sealed = Buffer.concat([cipher.update(user, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  private openAuthor(stored: string): string | undefined {
    if (!stored.startsWith(SEALED)) return stored;
    const raw = Buffer.from(stored.slice(SEALED.length), 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.subkey('author'), raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      // Sealed with another key (the key was replaced): the author is unknown, as after the relay window.
      return undefined;
    }
  }

  /** Authors stored in plain text before migration 0005 are sealed; returns how many. */
  sealPlainAuthors(): number {
    return this.db
      .transaction(() => {
        const rows = this.stmts.plainAuthors.all();
        for (const r of rows) this.stmts.setAuthor.run(this.sealAuthor(r.author), r.id);
        return rows.length;
      })
      .immediate();
  }

  /** The relay window: anonymous items posted before `before` forget their author. Returns how many. */
  forgetAuthors(before: Date): number {
    return this.stmts.forgetAuthors.run(before.toISOString()).changes;
  }

  // ------------------------------------------------------------------ pulse surveys

  /** Opens the week's pulse, or returns the one already opened that week. */
  openPulse(input: { week: string; openedAt: Date; closesAt: Date; questions: readonly SurveyQuestion[]; minAnswers: number }): {
    created: boolean;
    survey: PulseSurvey;
  } {
    return this.db
      .transaction(() => {
        const existing = this.stmts.pulseByWeek.get(input.week);
        if (existing) return { created: false, survey: toPulse(existing) };
        const info = this.stmts.insertPulse.run({
          week: input.week,
          openedAt: input.openedAt.toISOString(),
          closesAt: input.closesAt.toISOString(),
          questions: JSON.stringify(input.questions),
          minAnswers: input.minAnswers,
          keySalt: randomBytes(32),
        });
        return { created: true, survey: this.mustGetPulse(Number(info.lastInsertRowid)) };
      })
      .immediate();
  }

  getPulse(id: number): PulseSurvey | undefined {
    const row = this.stmts.pulseById.get(id);
    return row && toPulse(row);
  }

  private mustGetPulse(id: number): PulseSurvey {
    const pulse = this.getPulse(id);
    if (!pulse) throw new Error(`pulse ${id} does not exist`);
    return pulse;
  }

  pulseForWeek(week: string): PulseSurvey | undefined {
    const row = this.stmts.pulseByWeek.get(week);
    return row && toPulse(row);
  }

  openPulses(): PulseSurvey[] {
    return this.stmts.openPulses.all().map(toPulse);
  }

  /** Open pulses whose time is up at `now`. */
  duePulses(now: Date): PulseSurvey[] {
    return this.stmts.duePulses.all(now.toISOString()).map(toPulse);
  }

  /** The latest pulses closed before `before`, newest first. */
  closedPulses(before: Date, limit: number): PulseSurvey[] {
    return this.stmts.closedPulses.all(before.toISOString(), limit).map(toPulse);
  }

  /**
   * Closes a pulse if it is still open; false when someone else closed it first. In the same
   * transaction its pseudonyms become random values (one per person, so counts stay), its key
   * material is erased and its answer times become the closing time: from then on its answers
   * belong to nobody, even for someone holding the survey key.
   */
  closePulse(id: number, now: Date, counts: { respondents: number; eligible: number | undefined }): boolean {
    const closed = this.db
      .transaction(() => {
        if (this.stmts.closePulse.run(now.toISOString(), counts.respondents, counts.eligible ?? null, id).changes !== 1) return false;
        for (const { respondent } of this.stmts.pulseRespondents.all(id)) this.stmts.renameRespondent.run(randomPseudonym(), id, respondent);
        this.stmts.freezeAnswers.run(now.toISOString(), id);
        this.stmts.eraseKeySalt.run(id);
        this.stmts.forgetHeldRespondents.run(id);
        return true;
      })
      .immediate();
    // The old pages (key material, pseudonyms) also sit in the write-ahead log until it is
    // checkpointed: copy them into the database file (where secure_delete overwrote them) and
    // empty the log. Best effort: a reader holding an old snapshot makes it wait for a later one,
    // and inside a caller's transaction (bulk loads) SQLite refuses it until that commits.
    if (closed && !this.db.memory && !this.db.inTransaction) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return closed;
  }

  setEligible(id: number, eligible: number): void {
    this.stmts.setEligible.run(eligible, id);
  }

  recordPost(post: { surveyId: number; channel: string; ts?: string | undefined; members?: number | undefined; skipped?: string | undefined }): void {
    this.stmts.upsertPost.run({
      surveyId: post.surveyId,
      channel: post.channel,
      ts: post.ts ?? null,
      members: post.members ?? null,
      skipped: post.skipped ?? null,
    });
  }

  postsOf(surveyId: number): PulsePost[] {
    return this.stmts.postsOf.all(surveyId).map((r) => present<PulsePost>(r));
  }

  setResultsTs(surveyId: number, channel: string, ts: string): void {
    this.stmts.setResultsTs.run(ts, surveyId, channel);
  }

  /**
   * Records (or changes) a person's answer to one question. A rating of 1 or 2 is also kept as a
   * held feedback item, so that it can be posted (without a name) when the pulse closes with
   * enough answers; changing it to 3 or more withdraws it. Returns the previous score, if any, or
   * undefined when the pulse has closed (nothing recorded).
   */
  recordPulseAnswer(input: { surveyId: number; question: string; user: string; score: number; now: Date }): { previous: number | undefined } | undefined {
    const respondent = this.respondent(input.surveyId, input.user);
    if (!respondent) return undefined;
    return this.db
      .transaction(() => {
        const previous = this.stmts.answerOf.get(input.surveyId, input.question, respondent)?.score;
        this.stmts.upsertAnswer.run({ surveyId: input.surveyId, question: input.question, respondent, score: input.score, now: input.now.toISOString() });
        this.holdRating({
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
      })
      .immediate();
  }

  /** Whether the person answered any question of the pulse; always false once it closed. */
  answeredPulse(surveyId: number, user: string): boolean {
    const respondent = this.respondent(surveyId, user);
    return respondent !== undefined && (this.stmts.answeredAny.get(surveyId, respondent)?.n ?? 0) > 0;
  }

  /** How many answers each score got, per question. */
  scoreCounts(surveyId: number): ScoreCount[] {
    return this.stmts.scoreCounts.all(surveyId);
  }

  /** People who answered at least one question. */
  respondents(surveyId: number): number {
    return this.stmts.respondents.get(surveyId)?.n ?? 0;
  }

  /** The comments written on a pulse, in random order (no names: the store has none to give). */
  pulseComments(surveyId: number): string[] {
    return this.stmts.pulseComments.all(surveyId).map((r) => r.text);
  }

  /** At closing: a question's held low ratings go out (enough answers) or are dropped, author erased. */
  settleHeldRatings(surveyId: number, question: string, post: boolean): void {
    (post ? this.stmts.releaseHeldPulse : this.stmts.dropHeldPulse).run(surveyId, question);
  }

  /** At closing: the pulse's comments go out (enough answers) or are dropped, text and author erased. */
  settleHeldComments(surveyId: number, post: boolean): void {
    (post ? this.stmts.releaseHeldPulse : this.stmts.dropHeldPulse).run(surveyId, null);
  }

  // ------------------------------------------------------------------ the question after provisioning

  /**
   * Claims asking the requester about this request, unless they were asked about another one
   * within the cool-down (`since`). One transaction, so two namespaces ready at once ask once.
   */
  claimProvisioningQuestion(input: { requestId: number; requester: string; since: Date; now: Date; timing: RequestTiming }): QuestionClaim {
    return this.db
      .transaction((): QuestionClaim => {
        const existing = this.stmts.questionOf.get(input.requestId);
        if (existing) return existing.ts ? { outcome: 'already-asked' } : { outcome: 'undelivered' };
        const recent = this.stmts.askedSince.get({ requester: input.requester, since: input.since.toISOString(), requestId: input.requestId })?.n ?? 0;
        if (recent > 0) return { outcome: 'cooldown' };
        this.stmts.insertQuestion.run({
          requestId: input.requestId,
          askedAt: input.now.toISOString(),
          readyMs: input.timing.readyMs ?? null,
          approvalWaitMs: input.timing.approvalWaitMs ?? null,
          selfServe: input.timing.selfServe ? 1 : 0,
        });
        return { outcome: 'claimed' };
      })
      .immediate();
  }

  /** Whether the person answered a question after provisioning since `since`. */
  answeredProvisioningSince(requester: string, since: Date): boolean {
    return (this.stmts.answeredProvisioningSince.get({ requester, since: since.toISOString() })?.n ?? 0) > 0;
  }

  setProvisioningMessage(requestId: number, channel: string, ts: string): void {
    this.stmts.setQuestionMessage.run(channel, ts, requestId);
  }

  provisioningQuestion(requestId: number): ProvisioningQuestion | undefined {
    const row = this.stmts.questionOf.get(requestId);
    return row && present<ProvisioningQuestion>(row);
  }

  /**
   * Records (or changes) the requester's answer; a 1 or 2 is held for the next batch. An answer
   * given before `changeableFrom` (the start of the current week) is already in a weekly report
   * and stays as it is (`locked`): a report that changed afterwards would give away the change.
   */
  recordProvisioningAnswer(input: { requestId: number; author: string; score: number; now: Date; changeableFrom?: Date }): {
    previous: number | undefined;
    locked: boolean;
  } {
    return this.db
      .transaction(() => {
        const row = this.stmts.questionOf.get(input.requestId);
        const previous = row?.score ?? undefined;
        if (row?.answeredAt && input.changeableFrom && row.answeredAt < input.changeableFrom.toISOString()) return { previous, locked: true };
        this.stmts.answerQuestion.run(input.score, input.now.toISOString(), input.requestId);
        this.holdRating({
          source: 'provisioning',
          surveyId: null,
          question: null,
          requestId: input.requestId,
          respondent: null,
          author: input.author,
          score: input.score,
          now: input.now,
        });
        return { previous, locked: false };
      })
      .immediate();
  }

  /** Questions asked before `askedBefore`, delivered, unanswered and never reminded. */
  dueReminders(askedBefore: Date): ProvisioningQuestion[] {
    return this.stmts.dueReminders.all(askedBefore.toISOString()).map((r) => present<ProvisioningQuestion>(r));
  }

  /** Claims the one reminder of a question; false if it was already sent. */
  markReminded(requestId: number, now: Date): boolean {
    return this.stmts.markReminded.run(now.toISOString(), requestId).changes === 1;
  }

  /**
   * When at least `min` answers have come in since the last batch, they form a batch: the held
   * low ratings and comments after provisioning become `pending` (to be posted) and their ids
   * are returned. Otherwise nothing changes and the list is empty.
   */
  releaseProvisioningBatch(min: number, now: Date): number[] {
    return this.db
      .transaction(() => {
        if ((this.stmts.unreleased.get()?.n ?? 0) < min) return [];
        this.stmts.release.run(now.toISOString());
        return this.stmts.releaseHeld.all('provisioning').map((r) => r.id);
      })
      .immediate();
  }

  /**
   * Questions asked in the window (delivered) and how many of them were answered before its end
   * (so a window that is over always gives the same figures).
   */
  provisioningParticipation(from: Date, to: Date): { asked: number; answered: number } {
    return this.stmts.askedBetween.get(window(from, to)) ?? { asked: 0, answered: 0 };
  }

  /** The scores of questions asked in the window, answered before its end. */
  provisioningScores(from: Date, to: Date): number[] {
    return this.stmts.scoresAskedBetween.all(window(from, to)).map((r) => r.score);
  }

  /**
   * Answers to questions asked in the window (given before its end), counted by score and by how their request went:
   * ready within `fastReadyMs` or not, approved by the policy, by a person within
   * `fastApprovalMs`, or later.
   */
  provisioningScoresByTiming(from: Date, to: Date, thresholds: { fastReadyMs: number; fastApprovalMs: number }): TimedScoreCount[] {
    return this.stmts.ratedWithTiming.all({ ...window(from, to), ...thresholds }).map((r) => ({
      score: r.score,
      fast: r.fast === null ? undefined : r.fast === 1,
      approval: r.approval === 'self-serve' || r.approval === 'quick' || r.approval === 'slow' ? r.approval : undefined,
      n: r.n,
    }));
  }

  // ------------------------------------------------------------------ feedback

  private holdRating(input: {
    source: FeedbackSource;
    surveyId: number | null;
    question: string | null;
    requestId: number | null;
    respondent: string | null;
    author: string;
    score: number;
    now: Date;
  }): void {
    const held = this.stmts.heldRating.get({
      source: input.source,
      surveyId: input.surveyId,
      question: input.question,
      requestId: input.requestId,
      respondent: input.respondent,
    });
    if (input.score > LOW) {
      if (held) this.stmts.deleteHeld.run(held.id);
      return;
    }
    if (held) {
      this.stmts.setHeldScore.run(input.score, held.id);
      return;
    }
    this.stmts.insertFeedback.run({
      token: randomToken(),
      source: input.source,
      surveyId: input.surveyId,
      question: input.question,
      requestId: input.requestId,
      score: input.score,
      text: null,
      author: this.sealAuthor(input.author),
      respondent: input.respondent,
      anonymous: 1,
      status: 'held',
      now: input.now.toISOString(),
    });
  }

  addFeedback(input: NewFeedback): FeedbackItem {
    const info = this.stmts.insertFeedback.run({
      token: randomToken(),
      source: input.source,
      surveyId: input.surveyId ?? null,
      question: input.question ?? null,
      requestId: input.requestId ?? null,
      score: null,
      text: input.text,
      author: this.sealAuthor(input.author),
      respondent: null,
      anonymous: input.anonymous ? 1 : 0,
      status: input.status,
      now: input.now.toISOString(),
    });
    const item = this.getFeedback(Number(info.lastInsertRowid));
    if (!item) throw new Error('feedback was not stored');
    return item;
  }

  getFeedback(id: number): FeedbackItem | undefined {
    const row = this.stmts.feedbackById.get(id);
    return row && toFeedback(row);
  }

  /** The feedback item a platform-channel message stands for. */
  feedbackByMessage(channel: string, ts: string): FeedbackItem | undefined {
    const row = this.stmts.feedbackByMessage.get(channel, ts);
    return row && toFeedback(row);
  }

  /** The item a button stands for, by its random token. */
  feedbackByToken(token: string): FeedbackItem | undefined {
    const row = this.stmts.feedbackByToken.get(token);
    return row && toFeedback(row);
  }

  /**
   * Who wrote an item: only for relaying a reply or a "done" note to them, or naming them when
   * they chose to be named; never for display otherwise. Undefined after the relay window.
   */
  authorOf(id: number): string | undefined {
    const stored = this.stmts.authorOf.get(id)?.author;
    return stored ? this.openAuthor(stored) : undefined;
  }

  /** Ids of items waiting to be posted. */
  pendingFeedback(): number[] {
    return this.stmts.pendingFeedback.all().map((r) => r.id);
  }

  /** Claims an item for posting; false when another poster has it. */
  claimFeedback(id: number): boolean {
    return this.stmts.claimFeedback.run(id).changes === 1;
  }

  unclaimFeedback(id: number): void {
    this.stmts.unclaimFeedback.run(id);
  }

  markFeedbackPosted(id: number, channel: string, ts: string, now: Date): void {
    this.stmts.postedFeedback.run(channel, ts, now.toISOString(), id);
  }

  /** Items left `posting` by a process that stopped become `pending` again. */
  resetPostingFeedback(): void {
    this.stmts.resetPosting.run();
  }

  /** Marks a comment done with what changed; false when it was already done (or is not a comment). */
  markDone(id: number, by: string, text: string, now: Date): boolean {
    return this.stmts.markDone.run(now.toISOString(), by, text, id).changes === 1;
  }

  /** Comments marked done in the window, oldest first (at most `limit`), and how many in all. */
  doneBetween(from: Date, to: Date, limit: number): { total: number; items: FeedbackItem[] } {
    const w = window(from, to);
    return { total: this.stmts.countDoneBetween.get(w)?.n ?? 0, items: this.stmts.doneBetween.all({ ...w, limit }).map(toFeedback) };
  }

  /** Records that a thread reply was relayed; false when it already was (a redelivered event). */
  recordRelay(channel: string, ts: string, feedbackId: number, now: Date): boolean {
    return this.stmts.recordRelay.run(channel, ts, feedbackId, now.toISOString()).changes === 1;
  }

  // ------------------------------------------------------------------ muting

  setMuted(user: string, muted: boolean, now: Date): void {
    if (muted) this.stmts.mute.run(user, now.toISOString());
    else this.stmts.unmute.run(user);
  }

  isMuted(user: string): boolean {
    return (this.stmts.isMuted.get(user)?.n ?? 0) > 0;
  }
}
