import type { ActionsBlock, Button, KnownBlock, ModalView } from '@slack/types';
import type { PulseResults, PulseSurvey } from '../../domain/surveys.ts';
import { PARTICIPATION_AIM, type ScoreSummary } from '../../lib/survey-stats.ts';
import { SURVEY, SURVEY_LIMITS } from '../ids.ts';
import { context, escape, formatPercent, multilineInput, plain, plural, section, truncate, textMessage } from '../text.ts';
import type { SlackMessage } from '../usage.ts';

/**
 * Block Kit for the weekly pulse and the question after provisioning (pure). Nothing here is
 * given a person's id together with an answer: confirmations go only to the person who clicked,
 * and summaries are built from counts.
 */

/** `3.9`; the 1-5 mean with one decimal. */
export function formatMean(mean: number | undefined): string {
  return mean === undefined ? '–' : mean.toFixed(1);
}

/** `3.4–4.3`: the interval cut to the scale (a mean cannot leave 1-5, even if the interval does). */
export function formatInterval(ci: { low: number; high: number } | undefined): string {
  if (!ci) return '–';
  const clamp = (x: number) => Math.min(5, Math.max(1, x));
  return `${clamp(ci.low).toFixed(1)}–${clamp(ci.high).toFixed(1)}`;
}

/** `*3.9* / 5 (95% CI 3.4–4.3) · 68% answered 4–5`, or the reason there is no number. */
export function scoreLine(summary: ScoreSummary, minAnswers: number): string {
  if (!summary.enough) return notEnough(minAnswers);
  const ci = summary.ci ? ` (95% CI ${formatInterval(summary.ci)})` : '';
  return `*${formatMean(summary.mean)}* / 5${ci} · ${formatPercent(summary.topTwo)} answered 4–5 · ${plural(summary.n, 'answer')}`;
}

/**
 * Below the minimum not even the count is shown: two readings of a count (or a count and a
 * total) are enough to single one person out.
 */
export function notEnough(minAnswers: number): string {
  return `not enough answers (fewer than the ${minAnswers} needed before anything is shown)`;
}

/** `↑ 0.3 since the last pulse (3.6)`; empty without a comparable number. */
export function changeLine(current: ScoreSummary, previous: ScoreSummary | undefined, since: string): string {
  if (!current.enough || !previous?.enough || current.mean === undefined || previous.mean === undefined) return '';
  const delta = Math.round((current.mean - previous.mean) * 10) / 10;
  const arrow = delta > 0 ? '↑' : delta < 0 ? '↓' : '→';
  return delta === 0
    ? `→ same as ${since} (${formatMean(previous.mean)})`
    : `${arrow} ${Math.abs(delta).toFixed(1)} since ${since} (${formatMean(previous.mean)})`;
}

/** `22 of 70 people answered (31%)`, flagged below the aim; below `minAnswers`, no count and no share. */
export function participationLine(answered: number, eligible: number | undefined, aim: number, minAnswers: number, who = 'people'): string {
  if (answered < minAnswers) {
    if (eligible === undefined || eligible === 0) return `fewer than ${minAnswers} answered`;
    // "fewer than 5 of 3" would read wrong when fewer could answer than the minimum.
    return eligible < minAnswers ? `fewer than ${minAnswers} answered (${eligible} ${who} in all)` : `fewer than ${minAnswers} of ${eligible} ${who} answered`;
  }
  if (eligible === undefined || eligible === 0) return `${answered} ${answered === 1 ? 'person' : 'people'} answered`;
  const share = answered / eligible;
  const flag = share < aim ? ` · below the ${Math.round(aim * 100)}% aim` : '';
  return `${answered} of ${eligible} ${who} answered (${formatPercent(share)})${flag}`;
}

/** The five answer buttons: `1 · Very hard` … `5 · Very easy`. */
function scaleButtons(actionPrefix: string, labels: readonly string[], value: (score: number) => string): Button[] {
  return [1, 2, 3, 4, 5].map((score) => ({
    type: 'button',
    action_id: `${actionPrefix}_${score}`,
    text: plain(truncate(`${score} · ${labels[score - 1] ?? ''}`, 75)),
    value: value(score),
  }));
}

export function pulseBlockId(question: string): string {
  return `pulse_q_${question}`;
}

/** What a pulse's value carries: which survey, which question, which score. */
export function pulseValue(surveyId: number, question: string, score: number): string {
  return `${surveyId}:${question}:${score}`;
}

export function parsePulseValue(value: string | undefined): { surveyId: number; question: string; score: number } | undefined {
  const match = /^(\d+):([a-z0-9-]+):([1-5])$/.exec(value ?? '');
  return match ? { surveyId: Number(match[1]), question: match[2] ?? '', score: Number(match[3]) } : undefined;
}

export interface PulseView {
  survey: PulseSurvey;
  /** `Fri Nov 20, 10:00 (UTC)`. */
  closesLabel: string;
}

/** The pulse as posted in a channel: each question with its scale, and "Add a comment". */
export function pulseMessage(view: PulseView): SlackMessage {
  const { survey } = view;
  const blocks: KnownBlock[] = [{ type: 'header', text: plain('📋 Weekly platform pulse') }];
  for (const q of survey.questions) {
    blocks.push(section(`*${escape(q.text)}*`));
    const actions: ActionsBlock = {
      type: 'actions',
      block_id: pulseBlockId(q.id),
      elements: scaleButtons(SURVEY.pulseAnswer, q.labels, (s) => pulseValue(survey.id, q.id, s)),
    };
    blocks.push(actions);
  }
  blocks.push({
    type: 'actions',
    block_id: 'pulse_comment',
    elements: [{ type: 'button', action_id: SURVEY.pulseComment, text: plain('💬 Add a comment'), value: String(survey.id) }],
  });
  blocks.push(
    context(
      `Open until ${view.closesLabel}. Anonymous: the platform team sees totals only, and only once ${survey.minAnswers} people have answered. ` +
        'One answer per person and question; click again to change it.',
    ),
  );
  const questions = survey.questions.map((q) => q.text).join(' / ');
  return { text: `📋 Weekly platform pulse: ${questions} (1-5, anonymous, open until ${view.closesLabel})`, blocks };
}

/** The pulse after it closed: the questions stay, the buttons go, a pointer to the results. */
export function closedPulseMessage(r: PulseResults): SlackMessage {
  const participation = participationLine(r.respondents, r.eligible, PARTICIPATION_AIM.pulse, r.survey.minAnswers);
  const text = `🔒 This pulse closed. ${participation.charAt(0).toUpperCase()}${participation.slice(1)}. The results are in this thread.`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('📋 Weekly platform pulse (closed)') },
    ...r.survey.questions.map((q) => section(`*${escape(q.text)}*`)),
    context(text),
  ];
  return { text: `📋 Weekly platform pulse, ${r.period}: closed`, blocks };
}

/** A bar per score, longest first when sorted by score: `5 Very easy  ██████ 8`. */
export function distributionBars(summary: ScoreSummary, labels: readonly string[]): string {
  const max = Math.max(1, ...summary.distribution);
  const width = Math.max(...labels.map((l) => [...l].length));
  const lines = [5, 4, 3, 2, 1].map((score) => {
    const n = summary.distribution[score - 1] ?? 0;
    const bar = '█'.repeat(Math.round((n / max) * 12)) || '·';
    return `${score} ${(labels[score - 1] ?? '').padEnd(width)}  ${bar} ${n}`;
  });
  return `\`\`\`\n${lines.join('\n')}\n\`\`\``;
}

/** The results, in the pulse's thread. Below the minimum: the count, and nothing else. */
export function pulseResultsMessage(r: PulseResults): SlackMessage {
  const blocks: KnownBlock[] = [
    section(`📊 *Pulse results* · ${r.period}\n${participationLine(r.respondents, r.eligible, PARTICIPATION_AIM.pulse, r.survey.minAnswers)}`),
  ];
  const summaryParts: string[] = [];
  for (const { question, summary, previous } of r.results) {
    if (!summary.enough) {
      blocks.push(
        section(
          `*${escape(question.text)}*\nNot enough answers: results are shown from ${r.survey.minAnswers}. Nothing else is shown, not even how many, so no answer can be traced to anyone.`,
        ),
      );
      summaryParts.push(`not enough answers yet`);
      continue;
    }
    const change = changeLine(summary, previous, 'the last pulse');
    blocks.push(
      section(
        `*${escape(question.text)}*\n${scoreLine(summary, r.survey.minAnswers)}${change ? `\n${change}` : ''}\n${distributionBars(summary, question.labels)}`,
      ),
    );
    summaryParts.push(`${formatMean(summary.mean)} / 5`);
  }
  const enough = r.results.some((q) => q.summary.enough);
  if (enough && r.comments.length > 0) {
    const shown = r.comments.slice(0, 10).map((c) => `> ${truncate(escape(c), 280).replace(/\n/g, '\n> ')}`);
    const more = r.comments.length > shown.length ? `\n…and ${r.comments.length - shown.length} more in the platform channel` : '';
    blocks.push(section(`💬 *Comments* (without names)\n${shown.join('\n')}${more}`));
  }
  if (enough)
    blocks.push(
      context('95% CI: where the average of everyone asked most likely lies (a t-interval on the answers). How each number is computed: `docs/metrics.md`.'),
    );
  return {
    text: `📊 Pulse results, ${r.period}: ${summaryParts.join(', ')} · ${participationLine(r.respondents, r.eligible, PARTICIPATION_AIM.pulse, r.survey.minAnswers)}`,
    blocks,
  };
}

/** To the clicker only: what they chose, and that they can change it. */
export function answerConfirmation(input: { question: string; score: number; label: string; previous: number | undefined; until: string }): SlackMessage {
  const changed = input.previous !== undefined && input.previous !== input.score ? ` (changed from ${input.previous})` : '';
  const text =
    `✅ You answered *${input.score} · ${escape(input.label)}*${changed} to “${escape(input.question)}”. ` +
    `Click another number ${input.until} to change it. Only you can see this; the platform team sees totals, never who answered what.`;
  return textMessage(text);
}

export function surveyClosedNotice(): SlackMessage {
  const text = 'This survey is closed, so your click was not counted. Thanks anyway! The results are in its thread.';
  return textMessage(text);
}

export function commentThanks(where: string, held: boolean, minAnswers: number): SlackMessage {
  const text = held
    ? `💬 Thanks! Your comment will appear in ${where} without your name, together with the next few answers so it can't be matched to your namespace. If the platform team replies, I'll pass it on to you here.`
    : `💬 Thanks! Your comment will appear in ${where} without your name when the pulse closes, among the others in random order, and only if at least ${minAnswers} people answered. If the platform team replies in its thread, I'll pass it on to you here without telling them who you are.`;
  return textMessage(text);
}

/** The comment modal, for a pulse or the question after provisioning. */
export function commentModal(input: { question: string; privateMetadata: string; where: string; when: string }): ModalView {
  return {
    type: 'modal',
    callback_id: SURVEY.commentModal,
    private_metadata: input.privateMetadata,
    title: plain('Add a comment'),
    submit: plain('Send'),
    close: plain('Cancel'),
    blocks: [
      section(`*${escape(input.question)}*`),
      commentInput(SURVEY.commentText, 'What would make it better?'),
      context(
        `Posted in ${input.where} without your name, ${input.when}. The platform team can reply in its thread; I pass replies on to you by DM without telling them who you are.`,
      ),
    ],
  };
}

/** The free-text field of the comment and feedback modals: same limits, same prompt. */
export function commentInput(blockId: string, label: string, initial?: string): KnownBlock {
  return multilineInput({
    blockId,
    label,
    minLength: 2,
    maxLength: SURVEY_LIMITS.comment,
    initial,
    placeholder: 'What worked, what got in your way, what you wish existed',
  });
}

// ------------------------------------------------------------------ the question after provisioning

export function readyValue(requestId: number, score: number): string {
  return `${requestId}:${score}`;
}

export function parseReadyValue(value: string | undefined): { requestId: number; score: number } | undefined {
  const match = /^(\d+):([1-5])$/.exec(value ?? '');
  return match ? { requestId: Number(match[1]), score: Number(match[2]) } : undefined;
}

/** The one question, as blocks added under the "ready" DM (or in its reminder). */
export function provisioningQuestionBlocks(input: { requestId: number; question: string; labels: readonly string[] }): KnownBlock[] {
  return [
    { type: 'divider' },
    section(`*One question:* ${escape(input.question)}`),
    {
      type: 'actions',
      block_id: 'ready_q',
      elements: [
        ...scaleButtons(SURVEY.readyAnswer, input.labels, (s) => readyValue(input.requestId, s)),
        { type: 'button', action_id: SURVEY.readyComment, text: plain('💬 Add a comment'), value: String(input.requestId) },
      ],
    },
    context('One click, and you can change it. Reports show totals only, never who answered. `/platform surveys off` stops questions like this one.'),
  ];
}

/** The one reminder, a day later by default. */
export function provisioningReminder(input: { requestId: number; namespace: string; question: string; labels: readonly string[] }): SlackMessage {
  const text = `👋 In case you missed it: how easy was getting \`${input.namespace}\`? One click helps the platform team.`;
  return textMessage(text, provisioningQuestionBlocks(input).slice(1));
}

/** The answer to `/platform surveys [off|on]`. */
export function surveysPreference(input: { muted: boolean; changed: boolean; command: string }): SlackMessage {
  const state = input.muted
    ? "🔕 Surveys are off for you: I won't ask you anything by DM (no question after provisioning, no reminders). The weekly pulse still shows in channels; just scroll past it."
    : '🔔 Surveys are on for you: after a namespace is ready I may ask one question (at most once every couple of weeks, with at most one reminder).';
  const how = input.muted ? `\`${input.command} surveys on\` turns them back on.` : `\`${input.command} surveys off\` turns them off.`;
  const text = `${input.changed ? '' : 'No change. '}${state} ${how}`;
  return textMessage(text);
}
