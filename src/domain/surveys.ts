import type { ScoreSummary } from '../lib/survey-stats.ts';

/** Survey types shared by the survey workflows, their Block Kit builders and the store. */

export interface SurveyQuestion {
  id: string;
  text: string;
  labels: readonly string[];
}

export interface PulseSurvey {
  id: number;
  /** The local Monday of the week it opened, `2026-11-16`. */
  week: string;
  openedAt: string;
  closesAt: string;
  closedAt: string | undefined;
  questions: SurveyQuestion[];
  minAnswers: number;
  eligible: number | undefined;
  respondents: number | undefined;
}

export interface PulsePost {
  surveyId: number;
  channel: string;
  ts: string | undefined;
  members: number | undefined;
  skipped: string | undefined;
  resultsTs: string | undefined;
}

export interface ScoreCount {
  question: string;
  score: number;
  n: number;
}

export interface ProvisioningQuestion {
  requestId: number;
  requester: string;
  namespace: string;
  askedAt: string;
  channel: string | undefined;
  ts: string | undefined;
  remindedAt: string | undefined;
  score: number | undefined;
  answeredAt: string | undefined;
}

export type FeedbackSource = 'pulse' | 'provisioning' | 'command';
export type FeedbackStatus = 'held' | 'pending' | 'posting' | 'posted' | 'dropped';

export interface FeedbackItem {
  id: number;
  /** Random, for the item's buttons: unlike the id, it says nothing about when it was written. */
  token: string;
  source: FeedbackSource;
  surveyId: number | undefined;
  question: string | undefined;
  requestId: number | undefined;
  /** A low rating this item stands for (a comment has none). */
  score: number | undefined;
  text: string | undefined;
  anonymous: boolean;
  status: FeedbackStatus;
  createdAt: string;
  channel: string | undefined;
  ts: string | undefined;
  doneAt: string | undefined;
  doneBy: string | undefined;
  doneText: string | undefined;
}

export interface NewFeedback {
  source: FeedbackSource;
  surveyId?: number | undefined;
  question?: string | undefined;
  requestId?: number | undefined;
  text: string;
  author: string;
  anonymous: boolean;
  status: 'held' | 'pending';
  now: Date;
}

/** How a request went, recorded with its question when it is asked (from the request's events). */
export interface RequestTiming {
  /** Request submitted → namespace ready, ms. */
  readyMs: number | undefined;
  /** Request submitted → a person's approval, ms; undefined when the policy approved it. */
  approvalWaitMs: number | undefined;
  /** Approved by the policy (no wait for a person). */
  selfServe: boolean;
}

/** How many answers gave a score, for one combination of how fast and how approved. */
export interface TimedScoreCount {
  score: number;
  /** Ready within the threshold; undefined when the time to ready is unknown. */
  fast: boolean | undefined;
  /** `self-serve`, `quick` (a person approved within the threshold), `slow`; undefined if unknown. */
  approval: 'self-serve' | 'quick' | 'slow' | undefined;
  n: number;
}

export type QuestionClaim =
  | { outcome: 'claimed' }
  /** Asked before but the message never went out (the bot stopped): ask in this message. */
  | { outcome: 'undelivered' }
  | { outcome: 'already-asked' }
  | { outcome: 'cooldown' };

export interface QuestionResult {
  question: SurveyQuestion;
  summary: ScoreSummary;
  previous: ScoreSummary | undefined;
}

export interface PulseResults {
  survey: PulseSurvey;
  /** `Nov 17 – 20`. */
  period: string;
  respondents: number;
  eligible: number | undefined;
  results: QuestionResult[];
  /** Comments without names; shown only when the pulse had enough answers. */
  comments: readonly string[];
}

export interface PulseDigest {
  survey: PulseSurvey;
  period: string;
  respondents: number;
  eligible: number | undefined;
  /** Every question of the latest pulse, with the pulse before it. */
  results: QuestionResult[];
  /** The first question's average over the last pulses (oldest first); undefined below the minimum. */
  trend: { week: string; mean: number | undefined }[];
}

export interface ProvisioningDigest {
  question: string;
  /**
   * False while the reported week is not over: nothing about it is shown yet, since figures that
   * move from one reading to the next single out whoever answered in between.
   */
  complete: boolean;
  /** Questions asked in the reported week, and how many of them were answered before it ended. */
  asked: number;
  answered: number;
  summary: ScoreSummary;
  /** Answers to questions asked in the trend window, split by how the request went. */
  window: {
    weeks: number;
    /** Answers in the window (never shown: it is what the cells are hidden against). */
    total: number;
    /** By time to ready: within FAST_READY_MS, or slower. */
    fast: ScoreSummary;
    slow: ScoreSummary;
    /** By approval wait: none (the policy approved), within FAST_APPROVAL_MS, or longer. */
    selfServe: ScoreSummary;
    quickApproval: ScoreSummary;
    slowApproval: ScoreSummary;
  };
}

export interface SurveyDigest {
  minAnswers: number;
  pulse: PulseDigest | undefined;
  provisioning: ProvisioningDigest | undefined;
  /** Comments marked done in the reported week. */
  done: { total: number; items: FeedbackItem[] };
}
