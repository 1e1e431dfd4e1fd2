import type { Db } from '../db.ts';
import { lockKey } from '../../lib/lock-key.ts';
import { present, window, type Row, type Window } from '../rows.ts';
import type { FeedbackStore } from './feedback.ts';
import type { ProvisioningQuestion, QuestionClaim, RequestTiming, TimedScoreCount } from '../../domain/surveys.ts';

/**
 * The SQL behind the question after provisioning (db/0004_surveys.sql): who was asked about which
 * request, their answer, the reminder, and the batches in which low ratings are passed on.
 */

// The columns of a question, named as its fields.
const QUESTION = `SELECT p.request_id AS "requestId", r.requester, r.namespace, p.asked_at AS "askedAt", p.channel, p.ts,
  p.reminded_at AS "remindedAt", p.score, p.answered_at AS "answeredAt"
  FROM provisioning_answers p JOIN requests r ON r.id = p.request_id`;

export class PostProvisioningStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly feedback: Pick<FeedbackStore, 'holdRating'>,
  ) {
    this.stmts = {
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
      askedBetween: db.prepare<Window, { asked: number; answered: number }>(
        `SELECT COUNT(*) AS asked, COUNT(CASE WHEN answered_at < @to THEN score END) AS answered FROM provisioning_answers
         WHERE asked_at >= @from AND asked_at < @to AND ts IS NOT NULL`,
      ),
      scoresAskedBetween: db.prepare<Window, { score: number }>(
        'SELECT score FROM provisioning_answers WHERE asked_at >= @from AND asked_at < @to AND score IS NOT NULL AND answered_at < @to',
      ),
      ratedWithTiming: db.prepare<
        Window & { fastReadyMs: number; fastApprovalMs: number },
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

      // The feedback held back until a batch is complete: low ratings and comments after provisioning.
      releaseHeld: db.prepare<[string], { id: number }>(`UPDATE feedback SET status = 'pending' WHERE source = ? AND status = 'held' RETURNING id`),
    };
  }

  /**
   * Claims asking the requester about this request, unless they were asked about another one
   * within the cool-down (`since`). One transaction under the requester's own lock, so two of
   * their namespaces ready at once ask once, and other people's claims neither wait for it nor
   * make it run again (a SERIALIZABLE one would be refused whenever anyone's question was stored
   * beside it: src/store/db.ts).
   */
  async claimProvisioningQuestion(input: { requestId: number; requester: string; since: Date; now: Date; timing: RequestTiming }): Promise<QuestionClaim> {
    return await this.db.exclusive(lockKey(`provisioning-question:${input.requester}`), async (): Promise<QuestionClaim> => {
      const existing = await this.stmts.questionOf.get(input.requestId);
      if (existing) return existing.ts ? { outcome: 'already-asked' } : { outcome: 'undelivered' };
      const recent = (await this.stmts.askedSince.get({ requester: input.requester, since: input.since.toISOString(), requestId: input.requestId }))?.n ?? 0;
      if (recent > 0) return { outcome: 'cooldown' };
      await this.stmts.insertQuestion.run({
        requestId: input.requestId,
        askedAt: input.now.toISOString(),
        readyMs: input.timing.readyMs ?? null,
        approvalWaitMs: input.timing.approvalWaitMs ?? null,
        selfServe: input.timing.selfServe ? 1 : 0,
      });
      return { outcome: 'claimed' };
    });
  }

  /** Whether the person answered a question after provisioning since `since`. */
  async answeredProvisioningSince(requester: string, since: Date): Promise<boolean> {
    return ((await this.stmts.answeredProvisioningSince.get({ requester, since: since.toISOString() }))?.n ?? 0) > 0;
  }

  async setProvisioningMessage(requestId: number, channel: string, ts: string): Promise<void> {
    await this.stmts.setQuestionMessage.run(channel, ts, requestId);
  }

  async provisioningQuestion(requestId: number): Promise<ProvisioningQuestion | undefined> {
    const row = await this.stmts.questionOf.get(requestId);
    return row && present<ProvisioningQuestion>(row);
  }

  /**
   * Records (or changes) the requester's answer; a 1 or 2 is held for the next batch. An answer
   * given before `changeableFrom` (the start of the current week) is already in a weekly report
   * and stays as it is (`locked`): a report that changed afterwards would give away the change.
   */
  async recordProvisioningAnswer(input: { requestId: number; author: string; score: number; now: Date; changeableFrom?: Date }): Promise<{
    previous: number | undefined;
    locked: boolean;
  }> {
    return await this.db.transaction(async () => {
      const row = await this.stmts.questionOf.get(input.requestId);
      const previous = row?.score ?? undefined;
      if (row?.answeredAt && input.changeableFrom && row.answeredAt < input.changeableFrom.toISOString()) return { previous, locked: true };
      await this.stmts.answerQuestion.run(input.score, input.now.toISOString(), input.requestId);
      await this.feedback.holdRating({
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
    });
  }

  /** Questions asked before `askedBefore`, delivered, unanswered and never reminded. */
  async dueReminders(askedBefore: Date): Promise<ProvisioningQuestion[]> {
    return (await this.stmts.dueReminders.all(askedBefore.toISOString())).map((r) => present<ProvisioningQuestion>(r));
  }

  /** Claims the one reminder of a question; false if it was already sent. */
  async markReminded(requestId: number, now: Date): Promise<boolean> {
    return (await this.stmts.markReminded.run(now.toISOString(), requestId)).changes === 1;
  }

  /**
   * When at least `min` answers have come in since the last batch, they form a batch: the held
   * low ratings and comments after provisioning become `pending` (to be posted) and their ids
   * are returned. Otherwise nothing changes and the list is empty.
   */
  async releaseProvisioningBatch(min: number, now: Date): Promise<number[]> {
    return await this.db.transaction(async () => {
      if (((await this.stmts.unreleased.get())?.n ?? 0) < min) return [];
      await this.stmts.release.run(now.toISOString());
      return (await this.stmts.releaseHeld.all('provisioning')).map((r) => r.id);
    });
  }

  /**
   * Questions asked in the window (delivered) and how many of them were answered before its end
   * (so a window that is over always gives the same figures).
   */
  async provisioningParticipation(from: Date, to: Date): Promise<{ asked: number; answered: number }> {
    return (await this.stmts.askedBetween.get(window(from, to))) ?? { asked: 0, answered: 0 };
  }

  /** The scores of questions asked in the window, answered before its end. */
  async provisioningScores(from: Date, to: Date): Promise<number[]> {
    return (await this.stmts.scoresAskedBetween.all(window(from, to))).map((r) => r.score);
  }

  /**
   * Answers to questions asked in the window (given before its end), counted by score and by how their request went:
   * ready within `fastReadyMs` or not, approved by the policy, by a person within
   * `fastApprovalMs`, or later.
   */
  async provisioningScoresByTiming(from: Date, to: Date, thresholds: { fastReadyMs: number; fastApprovalMs: number }): Promise<TimedScoreCount[]> {
    return (await this.stmts.ratedWithTiming.all({ ...window(from, to), ...thresholds })).map((r) => ({
      score: r.score,
      fast: r.fast === null ? undefined : r.fast === 1,
      approval: r.approval === 'self-serve' || r.approval === 'quick' || r.approval === 'slow' ? r.approval : undefined,
      n: r.n,
    }));
  }
}
