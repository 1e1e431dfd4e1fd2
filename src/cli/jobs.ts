import { writeFileSync } from 'node:fs';
import { WebClient } from '@slack/web-api';
import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';
import { buildDeps } from '../build-deps.ts';
import { systemClock } from '../domain/requests.ts';
import type { RuntimeEnv } from '../env.ts';
import { SlipwayError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { digestForTerminal } from '../slack/adoption/digest.ts';
import { Store } from '../store/store.ts';
import { chooseWeek, formatLocal, type ReportWeek, type WeekChoice } from '../lib/calendar.ts';
import { digestChart, postDigest, prepareDigest } from '../workflows/adoption/digest.ts';
import { findJob, JOBS, type Job } from '../jobs/jobs.ts';
import { Scheduler, type JobStatus } from '../jobs/scheduler.ts';

/** What the CLI hands these commands: config alone, or config with the Slack credentials. */
export interface CommandContext {
  config(): Config;
  startup(): { env: RuntimeEnv; config: Config };
  /** The database to open: DATABASE_URL (PostgreSQL) or the SQLite file DATABASE_PATH. */
  database(): string;
}

export function depsFor(config: Config, store: Store, env: RuntimeEnv | undefined): Deps {
  return buildDeps({
    config,
    store,
    // Without credentials (listing jobs) the client is never called.
    slack: new WebClient(env?.slackBotToken, { slackApiUrl: env?.slackApiUrl, retryConfig: { retries: 2 } }),
    log: createLogger(env?.logLevel ?? process.env.LOG_LEVEL ?? 'warn'),
  });
}

/** `slipway digest`'s options, as the CLI parsed them. */
export interface DigestOptions {
  dryRun?: boolean;
  chart?: string;
  week?: WeekChoice;
}

/** The chosen week at `now`, or a usage error naming why it cannot be reported. */
function weekFor(choice: WeekChoice, now: Date, config: Config): ReportWeek {
  const chosen = chooseWeek(choice, now, config.schedule.timezone);
  if ('problem' in chosen) throw new SlipwayError('usage', `--week: ${chosen.problem}`);
  return chosen;
}

/**
 * `slipway digest [--week current|last|YYYY-MM-DD] [--dry-run [--chart PATH]]`: prints the week's
 * digest (dry run: no Slack needed, nothing recorded) or posts it to the platform channel now, as
 * a recorded manual run. The default week is the last complete one, as the Monday digest posts.
 */
export async function digestCommand(values: DigestOptions, ctx: CommandContext): Promise<void> {
  const choice = values.week ?? 'last';
  if (values.dryRun) {
    const config = ctx.config();
    const now = systemClock.now();
    const week = weekFor(choice, now, config);
    const store = await Store.open(ctx.database());
    try {
      const { report, message } = await prepareDigest({ store, config }, now, week);
      process.stdout.write(digestForTerminal(message));
      if (values.chart) {
        const chart = await digestChart(report);
        writeFileSync(values.chart, chart.png);
        process.stdout.write(`\nChart (${Math.round(chart.png.length / 1024)} kB PNG) written to ${values.chart}\n`);
      }
      process.stdout.write(`\nDry run: nothing was posted${config.slack.platformChannel ? ` to ${config.slack.platformChannel}` : ''}.\n`);
    } finally {
      await store.close();
    }
    return;
  }
  if (values.chart) throw new SlipwayError('usage', '--chart only goes with --dry-run (a posted digest uploads its chart to Slack).');
  // The digest job, recorded as usual, with the week resolved when it runs; a week that cannot be
  // reported is a usage error before anything runs.
  const digest = findJob('digest');
  if (!digest) throw new Error('the digest job is missing');
  await runByHand('digest', ctx, (config) => {
    weekFor(choice, systemClock.now(), config);
    return [{ ...digest, run: async (deps, now, steps) => (await postDigest(deps, now, weekFor(choice, now, deps.config), steps)).summary }];
  });
}

/** `slipway jobs`: the jobs with their last and next run. */
export async function listJobs(ctx: CommandContext): Promise<void> {
  const config = ctx.config();
  const store = await Store.open(ctx.database());
  try {
    const scheduler = new Scheduler(depsFor(config, store, undefined));
    process.stdout.write(formatJobs(await scheduler.list(systemClock.now()), config.schedule.timezone));
  } finally {
    await store.close();
  }
}

/** `slipway jobs run NAME`: runs one job now, recorded as a manual run. */
export async function runJob(name: string, ctx: CommandContext): Promise<void> {
  if (!findJob(name)) throw new SlipwayError('usage', `There is no job "${name}" (jobs: ${JOBS.map((j) => j.name).join(', ')}).`);
  await runByHand(name, ctx);
}

/** Runs a job by hand; `jobs` replaces the registered ones (a job run with other arguments). */
async function runByHand(name: string, ctx: CommandContext, jobs?: (config: Config) => readonly Job[]): Promise<void> {
  const { env, config } = ctx.startup();
  const only = jobs?.(config);
  const store = await Store.open(ctx.database());
  try {
    const scheduler = new Scheduler(depsFor(config, store, env), only);
    const outcome = await scheduler.run(name, 'manual');
    if (outcome.status === 'ok') {
      process.stdout.write(`${name}: ${outcome.summary ?? 'done'}\n`);
      return;
    }
    throw new SlipwayError(`job_${outcome.status}`, `${name} ${outcome.status === 'skipped' ? 'did not run' : 'failed'}: ${outcome.error ?? 'unknown error'}`);
  } finally {
    await store.close();
  }
}

function duration(run: { startedAt: string; finishedAt: string | undefined }): string {
  if (!run.finishedAt) return 'running';
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatJobs(jobs: readonly JobStatus[], timeZone: string): string {
  const lines = [`Jobs (times in ${timeZone}):`, ''];
  for (const job of jobs) {
    lines.push(`${job.name.padEnd(15)} ${(job.schedule === false ? 'off' : job.schedule).padEnd(15)} ${job.description}`);
    const last = job.lastRun;
    lines.push(
      `  last run      ${
        last
          ? [
              formatLocal(new Date(last.startedAt), timeZone).replace(/ \(.*\)$/, ''),
              last.status,
              last.reason,
              duration(last),
              last.error ?? last.summary ?? '',
            ]
              .filter(Boolean)
              .join(' · ')
          : 'never'
      }`,
    );
    lines.push(
      `  next run      ${job.nextRun ? formatLocal(job.nextRun, timeZone).replace(/ \(.*\)$/, '') : job.schedule === false ? 'turned off' : 'none within a year'}`,
    );
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
