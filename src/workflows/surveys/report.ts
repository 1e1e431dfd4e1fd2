import type { Deps } from '../../deps.ts';
import type { ProvisioningDigest, PulseDigest, SurveyDigest, TimedScoreCount } from '../../domain/surveys.ts';
import { shiftWeek, weekContaining, type Week } from '../../lib/calendar.ts';
import { pulseResults, pulseSummaries } from './pulse.ts';
import {
  distributionOf,
  emptyDistribution,
  summarize,
  withheld,
  withoutSmallComplements,
  type Distribution,
  type ScoreSummary,
} from '../../lib/survey-stats.ts';

/**
 * What the digest and `/platform stats` say about surveys (docs/metrics.md, "Surveys"): the
 * latest closed pulse with its trend, the question after provisioning in the reported week and
 * how it relates to time to ready and approval wait, and "you said → we did".
 */

export const PULSE_TREND = 8;
/** Time to ready, and approval wait, that count as fast, for relating satisfaction to them. */
export const FAST_READY_MS = 60 * 60_000;
export const FAST_APPROVAL_MS = 60 * 60_000;

/**
 * The survey part of the digest for `week` (the last complete week before `now`), the trend
 * window starting at `trendStart`. Only what can no longer change is reported: closed pulses,
 * and answers after provisioning given before the reported week ended (they cannot be changed
 * once their week is over). Every figure is held back below `survey.minAnswers`, and so is a
 * cell whose complement in its split is below it.
 */
export async function surveyDigest(deps: Pick<Deps, 'store' | 'config'>, now: Date, week: Week, trendStart: Date, trendWeeks: number): Promise<SurveyDigest> {
  const min = deps.config.survey.minAnswers;
  const surveys = deps.store.surveys;
  const closed = await surveys.closedPulses(now, PULSE_TREND);
  const latest = closed[0];
  let pulse: PulseDigest | undefined;
  if (latest) {
    const r = await pulseResults(deps, latest);
    const first = latest.questions[0]?.id ?? '';
    const trend: PulseDigest['trend'] = [];
    for (const s of [...closed].reverse()) {
      const summary = (await pulseSummaries(deps, s)).get(first);
      trend.push({ week: s.week, mean: summary?.enough ? summary.mean : undefined });
    }
    pulse = { survey: latest, period: r.period, respondents: r.respondents, eligible: r.eligible, results: r.results, trend };
  }

  const question = deps.config.survey.postProvisioning.question;
  const none = () => withheld(min);
  let provisioning: ProvisioningDigest | undefined;
  if (week.end.getTime() > now.getTime()) {
    // The week is still on: asked and answered move with every click.
    const asked = (await surveys.provisioningParticipation(week.start, now)).asked;
    if (asked > 0) {
      provisioning = {
        question,
        complete: false,
        asked,
        answered: 0,
        summary: none(),
        window: { weeks: trendWeeks, total: 0, fast: none(), slow: none(), selfServe: none(), quickApproval: none(), slowApproval: none() },
      };
    }
  } else {
    const participation = await surveys.provisioningParticipation(week.start, week.end);
    const split = await splitWindow(deps, trendStart, week, min);
    if (participation.asked > 0 || split.total > 0) {
      const { total } = split;
      const [fast = none(), slow = none()] = withoutSmallComplements(split.byReady, total, min);
      const [selfServe = none(), quickApproval = none(), slowApproval = none()] = withoutSmallComplements(split.byApproval, total, min);
      provisioning = {
        question,
        complete: true,
        asked: participation.asked,
        answered: participation.answered,
        summary: summarize(distributionOf(await surveys.provisioningScores(week.start, week.end)), min),
        window: { weeks: trendWeeks, total, fast, slow, selfServe, quickApproval, slowApproval },
      };
    }
  }
  return { minAnswers: min, pulse, provisioning, done: await surveys.doneBetween(week.start, week.end, 5) };
}

/**
 * The trend window's answers split by time to ready and by approval wait, built week by week: in
 * each week (answers to questions asked in it, given before it ended) a group counts only if it
 * is shown by the rules of a single report (at the minimum, and no small complement within that
 * week). So every window is a sum of groups of at least the minimum, and subtracting the windows
 * of two reports (this week's and last week's, or any two `--week`s) reveals no small group.
 */
async function splitWindow(deps: Pick<Deps, 'store' | 'config'>, trendStart: Date, week: Week, min: number) {
  const tz = deps.config.schedule.timezone;
  const thresholds = { fastReadyMs: FAST_READY_MS, fastApprovalMs: FAST_APPROVAL_MS };
  const byReady: Distribution[] = [emptyDistribution(), emptyDistribution()];
  const byApproval: Distribution[] = [emptyDistribution(), emptyDistribution(), emptyDistribution()];
  let total = 0;
  for (let w = weekContaining(trendStart, tz); w.start < week.end; w = shiftWeek(w, 1, tz)) {
    const rated = await deps.store.surveys.provisioningScoresByTiming(w.start, w.end, thresholds);
    const weekTotal = rated.reduce((sum, r) => sum + r.n, 0);
    // A week below the minimum adds nothing (none of its groups can reach it), not even to the
    // total the window's groups are checked against.
    if (weekTotal >= min) total += weekTotal;
    const cell = (keep: (r: TimedScoreCount) => boolean) => {
      const d = emptyDistribution();
      for (const r of rated) if (keep(r)) d[r.score - 1] = (d[r.score - 1] ?? 0) + r.n;
      return summarize(d, min);
    };
    const add = (into: Distribution[], cells: ScoreSummary[]) =>
      withoutSmallComplements(cells, weekTotal, min).forEach((c, i) => {
        const sum = into[i];
        if (sum) c.distribution.forEach((n, score) => (sum[score] = (sum[score] ?? 0) + n));
      });
    add(byReady, [cell((r) => r.fast === true), cell((r) => r.fast === false)]);
    add(byApproval, [cell((r) => r.approval === 'self-serve'), cell((r) => r.approval === 'quick'), cell((r) => r.approval === 'slow')]);
  }
  return { total, byReady: byReady.map((d) => summarize(d, min)), byApproval: byApproval.map((d) => summarize(d, min)) };
}

/** Whether there is anything to say (no survey ever, nothing asked, nothing done: no section). */
export function hasSurveyNews(d: SurveyDigest): boolean {
  return d.pulse !== undefined || d.provisioning !== undefined || d.done.total > 0;
}
