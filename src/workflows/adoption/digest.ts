import type { Deps } from '../../deps.ts';
import type { ChartWeek } from '../../chart/trend-chart.ts';
import { errorMessage, SlipwayError } from '../../errors.ts';
import { findMessage, slackErrorCode, type MessageMetadata } from '../../slack/io/notifier.ts';
import { digestMessage, formatDuration, type DigestOptions } from '../../slack/adoption/digest.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import { adoptionReport } from './metrics.ts';
import type { AdoptionReport, TrendPoint } from '../../domain/adoption.ts';
import type { JobSteps } from '../../domain/jobs.ts';
import { chooseWeek, formatLocal, lastCompleteWeek, parseWeekChoice, type ReportWeek } from '../../lib/calendar.ts';
import { hasSurveyNews, surveyDigest } from '../surveys/report.ts';
import { surveyDigestBlocks, surveySummaryText } from '../../slack/surveys/digest.ts';
import { driftDigestBlock } from '../../slack/drift/report.ts';

export interface PreparedDigest {
  report: AdoptionReport;
  message: SlackMessage;
}

export interface DigestChart {
  png: Buffer;
  filename: string;
  title: string;
  /** What the picture shows, for screen readers (Slack's `alt_text`). */
  altText: string;
}

export interface PostedDigest extends PreparedDigest {
  channel: string;
  ts: string;
  chart: { uploaded: true; fileId: string | undefined; bytes: number } | { uploaded: false; error: string };
  /** One line for `slipway jobs` and the logs. */
  summary: string;
}

/** Where idle namespaces link to (Slipway's Home tab), when the config names the workspace and the app. */
function homeIds(config: Deps['config']): DigestOptions['home'] {
  const { teamId, appId } = config.slack;
  return teamId && appId ? { teamId, appId } : undefined;
}

function teamNames(config: Deps['config']): Record<string, string> {
  return Object.fromEntries(config.teams.map((t) => [t.name, t.displayName ?? t.name]));
}

/**
 * Adds the survey section (latest pulse score and trend, the question after provisioning, "you
 * said → we did") before the message's closing context line.
 */
async function withSurveys(deps: Pick<Deps, 'store' | 'config'>, now: Date, report: AdoptionReport, message: SlackMessage): Promise<SlackMessage> {
  const surveys = await surveyDigest(deps, now, report.current.week, report.trend[0]?.week.start ?? report.current.week.start, report.trend.length);
  if (!hasSurveyNews(surveys)) return message;
  const blocks = [...message.blocks];
  blocks.splice(Math.max(0, blocks.length - 1), 0, ...surveyDigestBlocks(surveys));
  const score = surveySummaryText(surveys);
  return { text: score ? `${message.text} · ${score}` : message.text, blocks };
}

/**
 * The report for the chosen week (default: the last complete week before `now`). A week in
 * progress is counted up to `now`, so its idle days and activity windows end now, not next Monday.
 */
function reportFor(deps: Pick<Deps, 'store' | 'config'>, now: Date, chosen: ReportWeek | undefined): Promise<AdoptionReport> {
  if (!chosen) return adoptionReport(deps, now);
  return adoptionReport(deps, now, { week: chosen.inProgress ? { ...chosen.week, end: now } : chosen.week });
}

/** How the message names the week: the last complete one, one in progress (to when), or another. */
function period(deps: Pick<Deps, 'config'>, now: Date, chosen: ReportWeek | undefined): DigestOptions['period'] {
  if (!chosen) return { kind: 'last' };
  if (chosen.inProgress) return { kind: 'so-far', until: formatLocal(now, deps.config.schedule.timezone).replace(/ \(.*\)$/, '') };
  const last = lastCompleteWeek(now, deps.config.schedule.timezone);
  return { kind: chosen.week.monday === last.monday ? 'last' : 'past' };
}

/**
 * Survey results only come with a complete week: the answers of a week in progress would change
 * from one reading to the next and give away who just answered.
 */
function withSurveysOf(
  deps: Pick<Deps, 'store' | 'config'>,
  now: Date,
  chosen: ReportWeek | undefined,
  report: AdoptionReport,
  message: SlackMessage,
): Promise<SlackMessage> {
  return chosen?.inProgress ? Promise.resolve(message) : withSurveys(deps, now, report, message);
}

/** The digest for the chosen week (default: the last complete week before `now`): its numbers and its Block Kit message. */
export async function prepareDigest(deps: Pick<Deps, 'store' | 'config'>, now: Date, chosen?: ReportWeek): Promise<PreparedDigest> {
  const report = await reportFor(deps, now, chosen);
  return { report, message: await digestMessageFor(deps, now, chosen, report) };
}

async function digestMessageFor(
  deps: Pick<Deps, 'store' | 'config'>,
  now: Date,
  chosen: ReportWeek | undefined,
  report: AdoptionReport,
): Promise<SlackMessage> {
  const message = digestMessage(
    report,
    { surface: 'digest', teamNames: teamNames(deps.config), period: period(deps, now, chosen), home: homeIds(deps.config) },
    { idleDays: deps.config.adoption.idleDays },
  );
  return withDrift(deps, await withSurveysOf(deps, now, chosen, report, message));
}

/**
 * Adds the drift job's latest counts before the closing context line: the digest goes to the
 * platform team, who act on drift (`/platform stats`, open to everyone, leaves it out).
 */
async function withDrift(deps: Pick<Deps, 'store' | 'config'>, message: SlackMessage): Promise<SlackMessage> {
  const scan = await deps.store.drift.latestScan();
  if (!scan) return message;
  const blocks = [...message.blocks];
  blocks.splice(Math.max(0, blocks.length - 1), 0, driftDigestBlock(scan, formatLocal(new Date(scan.at), deps.config.schedule.timezone)));
  return { ...message, blocks };
}

/** `/platform stats [current|last|YYYY-MM-DD]`: the same numbers, as an ephemeral answer. */
export async function platformStats(deps: Pick<Deps, 'store' | 'config'>, now: Date, chosen?: ReportWeek): Promise<SlackMessage> {
  const report = await reportFor(deps, now, chosen);
  const message = digestMessage(
    report,
    {
      surface: 'stats',
      teamNames: teamNames(deps.config),
      platformChannel: deps.config.slack.platformChannel,
      period: period(deps, now, chosen),
      home: homeIds(deps.config),
    },
    { idleDays: deps.config.adoption.idleDays },
  );
  return withSurveysOf(deps, now, chosen, report, message);
}

function chartWeeks(trend: readonly TrendPoint[]): ChartWeek[] {
  return trend.map((t) => ({ label: t.week.short, requests: t.requests, medianTimeToReadyMs: t.medianTimeToReadyMs }));
}

/**
 * The chart module (resvg's native addon and d3-scale: about 8 MB of memory and 60 ms to load)
 * loads with the first digest rather than with the bot.
 */
const chartModule = () => import('../../chart/trend-chart.ts');

/** The 8-week chart as a PNG. */
export async function digestChart(report: AdoptionReport): Promise<DigestChart> {
  return drawChart(await chartModule(), report);
}

/**
 * Starts drawing at once: resvg rasterises on its own thread and the PNG is compressed on the
 * thread pool, so the caller can go on (e.g. build the message) while the picture is made.
 */
function drawChart(chart: Awaited<ReturnType<typeof chartModule>>, report: AdoptionReport): Promise<DigestChart> {
  const weeks = chartWeeks(report.trend);
  const png = chart.renderTrendChart(weeks, `Slipway adoption · last ${weeks.length} weeks`, `Weeks start on Monday (${report.timeZone})`);
  const described = weeks
    .map(
      (w) =>
        `${w.label}: ${w.requests} request${w.requests === 1 ? '' : 's'}, median time to ready ${w.medianTimeToReadyMs === undefined ? 'none' : formatDuration(w.medianTimeToReadyMs)}`,
    )
    .join('; ');
  return png.then((bytes) => ({
    png: bytes,
    filename: `slipway-adoption-${report.current.week.monday}.png`,
    title: `Adoption, last ${weeks.length} weeks: requests per week (bars), median time to ready (line)`,
    altText: `Bar and line chart. ${described}.`.slice(0, 1000),
  }));
}

/**
 * The digest and its chart, as the job sends them. The chart is started as soon as the numbers are
 * known, so it is drawn while the message (surveys included) is built on the event loop.
 */
export async function composeDigest(
  deps: Pick<Deps, 'store' | 'config'>,
  now: Date,
  chosen?: ReportWeek,
): Promise<PreparedDigest & { chart: Promise<DigestChart> }> {
  const report = await reportFor(deps, now, chosen);
  const chart = drawChart(await chartModule(), report);
  // A failed chart is the caller's to handle when it awaits it; until then it is not unhandled.
  chart.catch(() => undefined);
  return { report, message: await digestMessageFor(deps, now, chosen, report), chart };
}

/**
 * The week the run reports, recorded as its first step (`last`, or the chosen week's Monday): a
 * replica that takes over the run of a `slipway digest --week …` that died reports the week that
 * was asked for, not the job's default. `now` is the run's start on both, so a week in progress
 * ends at the same time.
 */
async function reportedWeek(deps: Pick<Deps, 'config'>, now: Date, chosen: ReportWeek | undefined, steps: JobSteps): Promise<ReportWeek | undefined> {
  const recorded = await steps.step('week', async () => chosen?.week.monday ?? 'last');
  if (recorded === 'last') return undefined;
  const choice = parseWeekChoice(recorded);
  const week = choice && chooseWeek(choice, now, deps.config.schedule.timezone);
  if (!week || 'problem' in week) throw new Error(`the run recorded a week it cannot report: ${recorded}`);
  return week;
}

/** Steps run as they come, recorded nowhere: a digest posted outside a job's run. */
const unrecorded: JobSteps = { runId: undefined, step: (_name, fn) => fn(false) };

/** The message metadata that marks a digest as the post of one job run (Slack's `metadata`). */
const digestMetadata = (runId: number): MessageMetadata => ({ event_type: 'slipway_digest_posted', event_payload: { job_run: runId } });

/**
 * The digest job: posts the week's digest to the platform channel, then the chart under it. The
 * text goes out first and on its own, so a chart that cannot be rendered or uploaded costs only
 * the picture. Each is a step of the job's run (`steps`): a leader that takes over the run of one
 * that died does not post what was posted.
 */
export async function postDigest(
  deps: Pick<Deps, 'store' | 'config' | 'slack' | 'log'>,
  now: Date,
  chosen?: ReportWeek,
  steps: JobSteps = unrecorded,
): Promise<PostedDigest> {
  const channel = deps.config.slack.platformChannel;
  if (!channel) {
    throw new SlipwayError(
      'digest_no_channel',
      'The digest has nowhere to go: set slack.platformChannel in the config (or turn the job off with schedule.jobs.digest: false).',
    );
  }
  const week = await reportedWeek(deps, now, chosen, steps);
  const { chart: drawn, ...prepared } = await composeDigest(deps, now, week);
  // Rendered before posting, so the picture follows the text within a second.
  const rendered = await drawn.then(
    (chart) => ({ chart, err: undefined }),
    (err: unknown) => ({ chart: undefined, err }),
  );
  const log = deps.log.child({ job: 'digest', week: prepared.report.current.week.monday });
  const { runId } = steps;
  const ts = await steps.step('posted', async (interrupted) => {
    // The run's earlier holder died while posting: Slack may have the message already.
    const earlier = interrupted && runId !== undefined ? await findDigestOf(deps, channel, runId) : undefined;
    if (earlier) {
      log.info({ channel, ts: earlier }, 'the digest was posted before the run was taken over; not posting it again');
      return earlier;
    }
    const posted = await deps.slack.chat.postMessage({
      channel,
      text: prepared.message.text,
      blocks: prepared.message.blocks,
      unfurl_links: false,
      ...(runId === undefined ? {} : { metadata: digestMetadata(runId) }),
    });
    log.info({ channel, ts: posted.ts }, 'digest posted');
    return posted.ts ?? '';
  });

  const result = JSON.parse(await steps.step('chart', async () => JSON.stringify(await uploadChart(deps, channel, rendered, log)))) as PostedDigest['chart'];
  const chartNote = result.uploaded ? `chart uploaded (${Math.round(result.bytes / 1024)} kB)` : `chart not uploaded: ${result.error}`;
  return {
    ...prepared,
    channel,
    ts,
    chart: result,
    summary: `week of ${prepared.report.current.week.label}${chosen?.inProgress ? ' (so far)' : ''} posted to ${channel}; ${chartNote}`,
  };
}

/**
 * The ts of the digest the job run `runId` posted, found by its metadata among the channel's
 * latest messages (conversations.history, `channels:history`); undefined when it is not there or
 * Slack cannot say, and the digest is posted (a second digest rather than none).
 */
async function findDigestOf(deps: Pick<Deps, 'slack' | 'log'>, channel: string, runId: number): Promise<string | undefined> {
  try {
    return await findMessage(deps, channel, digestMetadata(runId), 200);
  } catch (err) {
    deps.log.warn({ error: slackErrorCode(err) }, 'could not read the platform channel to see whether the digest went out; posting it');
    return undefined;
  }
}

/** Uploads the rendered chart under the digest; what happened, never a throw. */
async function uploadChart(
  deps: Pick<Deps, 'slack'>,
  channel: string,
  rendered: { chart: DigestChart | undefined; err: unknown },
  log: Pick<Deps['log'], 'info' | 'warn'>,
): Promise<PostedDigest['chart']> {
  let result: PostedDigest['chart'];
  try {
    const { chart } = rendered;
    if (!chart) throw rendered.err;
    const upload = await deps.slack.filesUploadV2({
      channel_id: channel,
      file: chart.png,
      filename: chart.filename,
      title: chart.title,
      alt_text: chart.altText,
    });
    const fileId = upload.files.flatMap((f) => f.files ?? []).find((f) => f.id)?.id;
    result = { uploaded: true, fileId, bytes: chart.png.length };
    log.info({ fileId, bytes: chart.png.length }, 'digest chart uploaded');
  } catch (err) {
    result = { uploaded: false, error: errorMessage(err) };
    log.warn({ err }, 'digest chart not uploaded; the text digest went out');
  }
  return result;
}
