import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Db } from '../db.ts';
import { insertedId, present, window, type Row, type Window } from '../rows.ts';
import type { Subkey } from './key.ts';
import type { FeedbackItem, FeedbackSource, NewFeedback } from '../../domain/surveys.ts';

/**
 * The SQL behind feedback (db/0004_surveys.sql): comments, low ratings held until they may be
 * posted, their posting, "done" notes and relayed replies.
 *
 * `feedback.author` is the one column naming a person; it is sealed with the survey key
 * (AES-256-GCM, src/store/surveys/key.ts), opened only to relay a reply or a "done" note, and
 * cleared `survey.feedback.relayDays` after the item was posted.
 */

// The columns of an item, named as its fields (never `author`: nothing that lists feedback can see it).
const FEEDBACK = `SELECT id, token, source, survey_id AS "surveyId", question, request_id AS "requestId", score, text, anonymous,
  status, created_at AS "createdAt", channel, ts, done_at AS "doneAt", done_by AS "doneBy", done_text AS "doneText" FROM feedback`;

const toFeedback = (r: Row<FeedbackItem>): FeedbackItem => present<FeedbackItem>(r, { anonymous: r.anonymous === 1 });

/** A feedback row as written (`now` its creation time). */
interface FeedbackInput {
  token: string;
  source: FeedbackSource;
  surveyId: number | null;
  question: string | null;
  requestId: number | null;
  score: number | null;
  text: string | null;
  author: string;
  respondent: string | null;
  anonymous: number;
  status: FeedbackItem['status'];
  now: string;
}

const LOW = 2;
/** Sealed authors: `v1.` + base64url(iv ‖ tag ‖ ciphertext). Anything else is from before 0005. */
const SEALED = 'v1.';

const randomToken = () => randomBytes(16).toString('base64url');

export class FeedbackStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly subkey: Subkey,
  ) {
    this.stmts = {
      insertFeedback: db.prepare<FeedbackInput, { id: number }>(
        `INSERT INTO feedback (token, source, survey_id, question, request_id, score, text, author, respondent, anonymous, status, created_at)
         VALUES (@token, @source, @surveyId, @question, @requestId, @score, @text, @author, @respondent, @anonymous, @status, @now) RETURNING id`,
      ),
      // A pulse rating is found by the pseudonym of its pulse; a rating after provisioning by its
      // request (only the requester answers it).
      heldRating: db.prepare<
        { source: string; surveyId: number | null; question: string | null; requestId: number | null; respondent: string | null },
        { id: number }
      >(
        `SELECT id FROM feedback WHERE source = @source AND status = 'held' AND text IS NULL AND respondent IS NOT DISTINCT FROM @respondent
           AND survey_id IS NOT DISTINCT FROM @surveyId AND question IS NOT DISTINCT FROM @question AND request_id IS NOT DISTINCT FROM @requestId`,
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
      markDone: db.prepare('UPDATE feedback SET done_at = ?, done_by = ?, done_text = ? WHERE id = ? AND done_at IS NULL AND text IS NOT NULL'),
      doneBetween: db.prepare<Window & { limit: number }, Row<FeedbackItem>>(
        `${FEEDBACK} WHERE done_at >= @from AND done_at < @to ORDER BY done_at LIMIT @limit`,
      ),
      countDoneBetween: db.prepare<Window, { n: number }>('SELECT COUNT(*) AS n FROM feedback WHERE done_at >= @from AND done_at < @to'),
      recordRelay: db.prepare('INSERT INTO feedback_replies (channel, ts, feedback_id, relayed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    };
  }

  /**
   * Keeps a rating of 1 or 2 as a held item (posted, without a name, when its pulse or batch
   * allows), changes the score of the one already held, or withdraws it for a 3 or more. Called
   * by the pulse and post-provisioning stores, inside the transaction that records the answer.
   */
  async holdRating(input: {
    source: FeedbackSource;
    surveyId: number | null;
    question: string | null;
    requestId: number | null;
    respondent: string | null;
    author: string;
    score: number;
    now: Date;
  }): Promise<void> {
    const held = await this.stmts.heldRating.get({
      source: input.source,
      surveyId: input.surveyId,
      question: input.question,
      requestId: input.requestId,
      respondent: input.respondent,
    });
    if (input.score > LOW) {
      if (held) await this.stmts.deleteHeld.run(held.id);
      return;
    }
    if (held) {
      await this.stmts.setHeldScore.run(input.score, held.id);
      return;
    }
    await insertedId(this.stmts.insertFeedback, {
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

  async addFeedback(input: NewFeedback): Promise<FeedbackItem> {
    const id = await insertedId(this.stmts.insertFeedback, {
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
    const item = await this.getFeedback(id);
    if (!item) throw new Error('feedback was not stored');
    return item;
  }

  async getFeedback(id: number): Promise<FeedbackItem | undefined> {
    const row = await this.stmts.feedbackById.get(id);
    return row && toFeedback(row);
  }

  /** The feedback item a platform-channel message stands for. */
  async feedbackByMessage(channel: string, ts: string): Promise<FeedbackItem | undefined> {
    const row = await this.stmts.feedbackByMessage.get(channel, ts);
    return row && toFeedback(row);
  }

  /** The item a button stands for, by its random token. */
  async feedbackByToken(token: string): Promise<FeedbackItem | undefined> {
    const row = await this.stmts.feedbackByToken.get(token);
    return row && toFeedback(row);
  }

  /**
   * Who wrote an item: only for relaying a reply or a "done" note to them, or naming them when
   * they chose to be named; never for display otherwise. Undefined after the relay window.
   */
  async authorOf(id: number): Promise<string | undefined> {
    const stored = (await this.stmts.authorOf.get(id))?.author;
    return stored ? this.openAuthor(stored) : undefined;
  }

  /** Ids of items waiting to be posted. */
  async pendingFeedback(): Promise<number[]> {
    return (await this.stmts.pendingFeedback.all()).map((r) => r.id);
  }

  /** Claims an item for posting; false when another poster has it. */
  async claimFeedback(id: number): Promise<boolean> {
    return (await this.stmts.claimFeedback.run(id)).changes === 1;
  }

  async unclaimFeedback(id: number): Promise<void> {
    await this.stmts.unclaimFeedback.run(id);
  }

  async markFeedbackPosted(id: number, channel: string, ts: string, now: Date): Promise<void> {
    await this.stmts.postedFeedback.run(channel, ts, now.toISOString(), id);
  }

  /** Items left `posting` by a process that stopped become `pending` again. */
  async resetPostingFeedback(): Promise<void> {
    await this.stmts.resetPosting.run();
  }

  /** Marks a comment done with what changed; false when it was already done (or is not a comment). */
  async markDone(id: number, by: string, text: string, now: Date): Promise<boolean> {
    return (await this.stmts.markDone.run(now.toISOString(), by, text, id)).changes === 1;
  }

  /** Comments marked done in the window, oldest first (at most `limit`), and how many in all. */
  async doneBetween(from: Date, to: Date, limit: number): Promise<{ total: number; items: FeedbackItem[] }> {
    const w = window(from, to);
    return { total: (await this.stmts.countDoneBetween.get(w))?.n ?? 0, items: (await this.stmts.doneBetween.all({ ...w, limit })).map(toFeedback) };
  }

  /** Records that a thread reply was relayed; false when it already was (a redelivered event). */
  async recordRelay(channel: string, ts: string, feedbackId: number, now: Date): Promise<boolean> {
    return (await this.stmts.recordRelay.run(channel, ts, feedbackId, now.toISOString())).changes === 1;
  }

  // ------------------------------------------------------------------ sealed authors

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
  async sealPlainAuthors(): Promise<number> {
    return await this.db.transaction(async () => {
      const rows = await this.stmts.plainAuthors.all();
      for (const r of rows) await this.stmts.setAuthor.run(this.sealAuthor(r.author), r.id);
      return rows.length;
    });
  }

  /** The relay window: anonymous items posted before `before` forget their author. Returns how many. */
  async forgetAuthors(before: Date): Promise<number> {
    return (await this.stmts.forgetAuthors.run(before.toISOString())).changes;
  }
}
