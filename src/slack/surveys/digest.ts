import type { KnownBlock } from '@slack/types';
import type { SurveyDigest } from '../../domain/surveys.ts';
import { PARTICIPATION_AIM, type ScoreSummary } from '../../lib/survey-stats.ts';
import { changeLine, formatInterval, formatMean, notEnough, participationLine, scoreLine } from './blocks.ts';
import { escape, formatPercent, section, truncate } from '../text.ts';

/**
 * The survey section of the weekly digest and `/platform stats` (pure): the latest pulse with its
 * uncertainty and trend, the question after provisioning and how it relates to time to ready and
 * approval wait, and "you said → we did". At most four blocks, each cut to Slack's limits.
 */

const SPARK = '▁▂▃▄▅▆▇█';

/** Averages on the 1-5 scale as bars (1 = ▁, 5 = █); `·` where there were too few answers. */
export function scoreSparkline(means: readonly (number | undefined)[]): string {
  return means.map((m) => (m === undefined ? '·' : (SPARK[Math.round(((Math.min(5, Math.max(1, m)) - 1) / 4) * (SPARK.length - 1))] ?? '·'))).join('');
}

/** A cell of a split; a withheld one shows `–` and no count (see `withoutSmallComplements`). */
function group(label: string, s: ScoreSummary): string {
  return s.enough ? `${label} *${formatMean(s.mean)}* (CI ${formatInterval(s.ci)}, ${s.n})` : `${label} –`;
}

function pulseText(d: SurveyDigest): string | undefined {
  const p = d.pulse;
  if (!p) return undefined;
  const lines = [`*Weekly pulse* · ${p.period} · ${participationLine(p.respondents, p.eligible, PARTICIPATION_AIM.pulse, p.survey.minAnswers)}`];
  for (const r of p.results) {
    const change = changeLine(r.summary, r.previous, 'the pulse before');
    lines.push(`“${escape(truncate(r.question.text, 120))}” ${scoreLine(r.summary, p.survey.minAnswers)}${change ? ` · ${change}` : ''}`);
  }
  const known = p.trend.filter((t) => t.mean !== undefined);
  if (p.trend.length > 1) {
    const range = known.length > 0 ? `${formatMean(known[0]?.mean)} → ${formatMean(p.trend.at(-1)?.mean)}` : 'not enough answers yet';
    lines.push(
      `\`${scoreSparkline(p.trend.map((t) => t.mean))}\`  last ${p.trend.length} pulses: ${range}${p.trend.some((t) => t.mean === undefined) ? ' (· = too few answers)' : ''}`,
    );
  }
  return lines.join('\n');
}

function provisioningText(d: SurveyDigest): string | undefined {
  const p = d.provisioning;
  if (!p) return undefined;
  if (!p.complete) {
    return `*After provisioning* (“${escape(p.question)}”) · answers of a week are shown once it is over, when they can no longer change`;
  }
  const asked = p.asked > 0 ? participationLine(p.answered, p.asked, PARTICIPATION_AIM.provisioning, d.minAnswers, 'asked') : 'nobody was asked this week';
  const lines = [`*After provisioning* (“${escape(p.question)}”) · ${asked}`];
  if (p.asked > 0) lines.push(p.summary.enough ? scoreLine(p.summary, d.minAnswers) : notEnough(d.minAnswers));
  const w = p.window;
  if (w.total > 0) {
    const cells = [w.fast, w.slow, w.selfServe, w.quickApproval, w.slowApproval];
    lines.push(
      `Last ${w.weeks} weeks, by time to ready: ${group('within 1 h', w.fast)} · ${group('slower', w.slow)}`,
      `By approval wait: ${group('none (self-serve)', w.selfServe)} · ${group('within 1 h', w.quickApproval)} · ${group('longer', w.slowApproval)}`,
    );
    if (cells.some((c) => !c.enough)) {
      lines.push(`(– = fewer than ${d.minAnswers} answers, or showing it would reveal a group of fewer than ${d.minAnswers} by subtraction)`);
    }
  }
  return lines.join('\n');
}

function doneText(d: SurveyDigest): string | undefined {
  if (d.done.total === 0) return undefined;
  const lines = d.done.items.map((i) => `• “${escape(truncate(i.text ?? '', 200))}” → ${escape(truncate(i.doneText ?? '', 200))}`);
  const more = d.done.total > d.done.items.length ? `\n…and ${d.done.total - d.done.items.length} more` : '';
  return `✅ *You said → we did*\n${lines.join('\n')}${more}`;
}

/** The digest's survey blocks; empty when there is nothing to say yet. */
export function surveyDigestBlocks(d: SurveyDigest): KnownBlock[] {
  const parts = [pulseText(d), provisioningText(d)].filter((t): t is string => t !== undefined);
  const blocks: KnownBlock[] = [];
  if (parts.length > 0) blocks.push(section(`🗣️ *What developers say*\n${parts.join('\n\n')}`));
  const done = doneText(d);
  if (done) blocks.push(section(done));
  return blocks;
}

/** `pulse 3.9/5 (31% answered)`, for the digest's notification line; undefined without a pulse. */
export function surveySummaryText(d: SurveyDigest): string | undefined {
  const first = d.pulse?.results[0];
  if (!d.pulse || !first) return undefined;
  // Below the minimum the share would give the count away.
  const share =
    d.pulse.eligible && d.pulse.respondents >= d.pulse.survey.minAnswers ? ` (${formatPercent(d.pulse.respondents / d.pulse.eligible)} answered)` : '';
  return first.summary.enough ? `pulse ${formatMean(first.summary.mean)}/5${share}` : `pulse: not enough answers${share}`;
}
