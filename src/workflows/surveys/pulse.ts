import type { Config } from '../../config.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage, SlipwayError } from '../../errors.ts';
import { answerConfirmation, closedPulseMessage, parsePulseValue, pulseMessage, pulseResultsMessage, surveyClosedNotice } from '../../slack/surveys/blocks.ts';
import type { PulseResults, PulseSurvey, QuestionResult, ScoreCount, SurveyQuestion } from '../../domain/surveys.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import { DAY_MS, formatLocal, monthDay, weekContaining } from '../../lib/calendar.ts';
import { forgetOldAuthors, postPendingFeedback } from './feedback.ts';
import { notifier, slackErrorCode } from '../../slack/io/notifier.ts';
import { emptyDistribution, summarize, type Distribution, type ScoreSummary } from '../../lib/survey-stats.ts';
import { releaseProvisioningFeedback } from './post-provisioning.ts';
import { eligibleFor, humansIn } from '../../slack/io/members.ts';
import type { Click } from '../../domain/requests.ts';

/**
 * The weekly pulse: opened on a schedule in the configured channels (never one the bot is not
 * in), answered with one click per question (one answer per person, changeable), closed after
 * `survey.pulse.durationDays` with its results in its thread (comments on it: comments.ts).
 */

type SurveyDeps = Pick<Deps, 'config' | 'store' | 'slack' | 'log' | 'metrics' | 'clock'>;

/** The configured questions with their labels resolved. */
export function pulseQuestions(config: Config): SurveyQuestion[] {
  return config.survey.pulse.questions.map((q) => ({ id: q.id, text: q.text, labels: q.labels ?? config.survey.labels }));
}

/** `Nov 17 – 20`. */
export function pulsePeriod(survey: PulseSurvey, timeZone: string): string {
  const from = monthDay(new Date(survey.openedAt), timeZone);
  const to = monthDay(new Date(survey.closedAt ?? survey.closesAt), timeZone);
  if (from === to) return from;
  const [fromMonth] = from.split(' ');
  const [toMonth, toDay] = to.split(' ');
  return fromMonth === toMonth ? `${from} – ${toDay}` : `${from} – ${to}`;
}

// ------------------------------------------------------------------ opening

export interface OpenedPulse {
  survey: PulseSurvey | undefined;
  posted: string[];
  skipped: { channel: string; reason: string }[];
  summary: string;
}

/**
 * Opens this week's pulse (weeks in `schedule.timezone`) and posts it to each configured channel
 * it is not in yet. At most one pulse a week: a second run in the same week only posts to
 * channels that were missed (the bot was invited since), and a pulse that already closed this
 * week is not opened again.
 */
export async function openPulse(deps: SurveyDeps, now: Date): Promise<OpenedPulse> {
  const { survey: settings, schedule } = deps.config;
  const channels = settings.pulse.channels;
  if (channels.length === 0) {
    return { survey: undefined, posted: [], skipped: [], summary: 'no pulse: survey.pulse.channels lists no channel' };
  }
  const week = weekContaining(now, schedule.timezone);
  const { created, survey } = await deps.store.surveys.openPulse({
    week: week.monday,
    openedAt: now,
    closesAt: new Date(now.getTime() + settings.pulse.durationDays * DAY_MS),
    questions: pulseQuestions(deps.config),
    minAnswers: settings.minAnswers,
  });
  const log = deps.log.child({ surveyId: survey.id });
  if (survey.closedAt) {
    return { survey, posted: [], skipped: [], summary: `this week's pulse (#${survey.id}) already ran and closed; the next one opens next week` };
  }
  if (created) {
    await deps.store.appendEvent({ type: 'pulse_opened', at: now, data: { surveyId: survey.id, week: week.monday } });
    log.info({ week: week.monday, closesAt: survey.closesAt }, 'pulse opened');
  }
  const done = new Set((await deps.store.surveys.postsOf(survey.id)).filter((p) => p.ts).map((p) => p.channel));
  const closesLabel = formatLocal(new Date(survey.closesAt), schedule.timezone).replace(/ \d{4},/, ',');
  const message = pulseMessage({ survey, closesLabel });
  const cache = new Map<string, boolean>();
  const posted: string[] = [];
  const skipped: { channel: string; reason: string }[] = [];
  for (const channel of channels) {
    if (done.has(channel)) continue;
    const reason = await membershipProblem(deps, channel);
    if (reason) {
      // Never posted where the bot was not invited: say so in the logs, the job summary and doctor.
      log.warn({ channel, reason }, `pulse not posted to ${channel}: ${reason}`);
      await deps.store.surveys.recordPost({ surveyId: survey.id, channel, skipped: reason });
      skipped.push({ channel, reason });
      continue;
    }
    let members: number | undefined;
    try {
      members = (await humansIn(deps, channel, cache)).size;
    } catch (err) {
      log.warn({ err, channel }, 'could not count the channel members; participation will be unknown');
    }
    const ts = await notifier(deps).post(channel, message);
    if (!ts) {
      await deps.store.surveys.recordPost({ surveyId: survey.id, channel, members, skipped: 'Slack refused the message (see the log)' });
      skipped.push({ channel, reason: 'Slack refused the message' });
      continue;
    }
    await deps.store.surveys.recordPost({ surveyId: survey.id, channel, ts, members });
    posted.push(channel);
    log.info({ channel, members }, 'pulse posted');
  }
  const postedAll = (await deps.store.surveys.postsOf(survey.id)).filter((p) => p.ts).map((p) => p.channel);
  const eligible = postedAll.length > 0 ? await eligibleFor(deps, postedAll) : undefined;
  if (eligible !== undefined) await deps.store.surveys.setEligible(survey.id, eligible);
  const parts = [
    posted.length > 0
      ? `pulse #${survey.id} posted to ${posted.join(', ')}${eligible !== undefined ? ` (${eligible} people can answer)` : ''}`
      : `pulse #${survey.id}: nothing new posted`,
    ...skipped.map((s) => `not posted to ${s.channel}: ${s.reason}`),
  ];
  return { survey, posted, skipped, summary: parts.join('; ') };
}

/** Why the bot cannot post in a channel, or undefined when it is a member. */
export async function membershipProblem(deps: Pick<Deps, 'slack'>, channel: string): Promise<string | undefined> {
  try {
    const info = await deps.slack.conversations.info({ channel });
    return info.channel?.is_member ? undefined : 'Slipway is not a member of the channel (/invite @Slipway there)';
  } catch (err) {
    const code = slackErrorCode(err);
    return code === 'channel_not_found' ? 'the channel does not exist, or is private and Slipway is not in it' : `Slack answered ${code}`;
  }
}

// ------------------------------------------------------------------ answering

/** A click on a pulse's scale: records (or changes) the answer and tells only the clicker. */
export async function answerPulse(deps: SurveyDeps, click: Click & { value: string | undefined }): Promise<void> {
  const slack = notifier(deps);
  const parsed = parsePulseValue(click.value);
  const survey = parsed && (await deps.store.surveys.getPulse(parsed.surveyId));
  const question = survey?.questions.find((q) => q.id === parsed?.question);
  if (!parsed || !survey || !question) return void (await slack.ephemeral(click.channel, click.user, surveyClosedNotice()));
  if (survey.closedAt) return void (await slack.ephemeral(click.channel, click.user, surveyClosedNotice()));
  const recorded = await deps.store.surveys.recordPulseAnswer({
    surveyId: survey.id,
    question: question.id,
    user: click.user,
    score: parsed.score,
    now: deps.clock.now(),
  });
  // Closed since it was read: its key material is gone, so the answer cannot be recorded.
  if (!recorded) return void (await slack.ephemeral(click.channel, click.user, surveyClosedNotice()));
  const { previous } = recorded;
  deps.metrics.surveyAnswers.inc({ survey: 'pulse' });
  // The event and the log say that an answer came, never what it was: both keep the time, which
  // anyone who saw the click could match to the person.
  await deps.store.appendEvent({ type: 'survey_answered', at: deps.clock.now(), data: { survey: 'pulse', surveyId: survey.id } });
  deps.log.info({ surveyId: survey.id }, 'pulse answer recorded');
  const until = `before ${formatLocal(new Date(survey.closesAt), deps.config.schedule.timezone).replace(/ \d{4},/, ',')}`;
  await slack.ephemeral(
    click.channel,
    click.user,
    answerConfirmation({ question: question.text, score: parsed.score, label: question.labels[parsed.score - 1] ?? '', previous, until }),
  );
}

// ------------------------------------------------------------------ closing

function distributionOf(counts: readonly ScoreCount[], question: string): Distribution {
  const d = emptyDistribution();
  for (const c of counts) if (c.question === question && c.score >= 1 && c.score <= 5) d[c.score - 1] = (d[c.score - 1] ?? 0) + c.n;
  return d;
}

/** A pulse's summary per question (figures only above its minimum). */
export async function pulseSummaries(deps: Pick<Deps, 'store'>, survey: PulseSurvey): Promise<Map<string, ScoreSummary>> {
  const counts = await deps.store.surveys.scoreCounts(survey.id);
  return new Map(survey.questions.map((q) => [q.id, summarize(distributionOf(counts, q.id), survey.minAnswers)]));
}

/** The last closed pulse before this one that asked the same question, summarised. */
async function previousSummary(deps: Pick<Deps, 'store'>, survey: PulseSurvey, question: string): Promise<ScoreSummary | undefined> {
  const before = (await deps.store.surveys.closedPulses(new Date(survey.openedAt), 12)).find(
    (p) => p.id !== survey.id && p.questions.some((q) => q.id === question),
  );
  return before && (await pulseSummaries(deps, before)).get(question);
}

/** Everything the results message shows. */
export async function pulseResults(deps: Pick<Deps, 'store' | 'config'>, survey: PulseSurvey): Promise<PulseResults> {
  const summaries = await pulseSummaries(deps, survey);
  const results: QuestionResult[] = [];
  for (const question of survey.questions) {
    results.push({
      question,
      summary: summaries.get(question.id) ?? summarize(emptyDistribution(), survey.minAnswers),
      previous: await previousSummary(deps, survey, question.id),
    });
  }
  return {
    survey,
    period: pulsePeriod(survey, deps.config.schedule.timezone),
    respondents: survey.respondents ?? (await deps.store.surveys.respondents(survey.id)),
    eligible: survey.eligible,
    results,
    comments: await deps.store.surveys.pulseComments(survey.id),
  };
}

/**
 * Closes a pulse: counts who could and who did answer, replaces each post's buttons with a closed
 * notice, posts the results in its thread, and sends the week's low ratings (only for questions
 * with enough answers) and its comments (only when some question had enough) to the platform
 * channel, all in random order; the others are dropped, authors erased.
 */
export async function closePulse(deps: SurveyDeps, survey: PulseSurvey, now: Date): Promise<string> {
  const log = deps.log.child({ surveyId: survey.id });
  const posts = (await deps.store.surveys.postsOf(survey.id)).filter((p) => p.ts);
  const respondents = await deps.store.surveys.respondents(survey.id);
  const eligible =
    posts.length > 0
      ? await eligibleFor(
          deps,
          posts.map((p) => p.channel),
        )
      : undefined;
  if (!(await deps.store.surveys.closePulse(survey.id, now, { respondents, eligible }))) return `pulse #${survey.id} was already closed`;
  const closed = (await deps.store.surveys.getPulse(survey.id)) ?? survey;
  const results = await pulseResults(deps, closed);
  for (const r of results.results) await deps.store.surveys.settleHeldRatings(survey.id, r.question.id, r.summary.enough);
  await deps.store.surveys.settleHeldComments(
    survey.id,
    results.results.some((r) => r.summary.enough),
  );
  await deps.store.appendEvent({ type: 'pulse_closed', at: now, data: { surveyId: survey.id, respondents, eligible: closed.eligible ?? null } });
  log.info({ respondents, eligible: closed.eligible }, 'pulse closed');

  const slack = notifier(deps);
  const closedMessage: SlackMessage = closedPulseMessage(results);
  const resultsMessage = pulseResultsMessage(results);
  for (const post of posts) {
    if (!post.ts) continue;
    await slack.update(post.channel, post.ts, closedMessage);
    const ts = await slack.post(post.channel, resultsMessage, post.ts);
    if (ts) await deps.store.surveys.setResultsTs(survey.id, post.channel, ts);
  }
  const lowPosted = await postPendingFeedback(deps);
  const scores = results.results.map((r) => (r.summary.enough ? `${r.question.id} ${r.summary.mean?.toFixed(1)}` : `${r.question.id}: not enough answers`));
  return `pulse #${survey.id} closed: ${respondents} answered${closed.eligible !== undefined ? ` of ${closed.eligible}` : ''}; ${scores.join(', ')}${lowPosted > 0 ? `; ${lowPosted} feedback item(s) posted` : ''}`;
}

/** The `survey-close` job: closes pulses whose time is up, and posts feedback still waiting. */
export async function closeDuePulses(deps: SurveyDeps, now: Date): Promise<string> {
  const due = await deps.store.surveys.duePulses(now);
  const closed: string[] = [];
  for (const survey of due) {
    try {
      closed.push(await closePulse(deps, survey, now));
    } catch (err) {
      deps.log.error({ err, surveyId: survey.id }, 'could not close a pulse');
      closed.push(`pulse #${survey.id} could not be closed: ${errorMessage(err)}`);
    }
  }
  await releaseProvisioningFeedback(deps, now);
  const posted = await postPendingFeedback(deps);
  await forgetOldAuthors(deps, now);
  const open = (await deps.store.surveys.openPulses()).length;
  return [
    ...closed,
    closed.length === 0 ? `nothing to close${open > 0 ? ` (${open} pulse open)` : ''}` : '',
    posted > 0 ? `${posted} feedback item(s) posted` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** `slipway survey close`: closes the open pulse now, whatever its closing time. */
export async function closeOpenPulses(deps: SurveyDeps, now: Date): Promise<string> {
  const open = await deps.store.surveys.openPulses();
  if (open.length === 0) throw new SlipwayError('no_open_pulse', 'There is no open pulse to close.');
  const lines: string[] = [];
  for (const survey of open) lines.push(await closePulse(deps, survey, now));
  return lines.join('; ');
}

/** `/platform surveys off|on` (or nothing: how it stands). Muting stops every question by DM. */
export async function setSurveys(
  deps: Pick<Deps, 'store' | 'clock' | 'log'>,
  user: string,
  arg: string,
): Promise<{ muted: boolean; changed: boolean } | undefined> {
  const before = await deps.store.surveys.isMuted(user);
  const word = arg.trim().toLowerCase();
  if (word === '') return { muted: before, changed: true };
  if (word !== 'off' && word !== 'on') return undefined;
  const muted = word === 'off';
  await deps.store.surveys.setMuted(user, muted, deps.clock.now());
  deps.log.info({ muted }, 'survey preference changed');
  return { muted, changed: muted !== before };
}
