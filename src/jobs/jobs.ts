import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';
import type { JobSteps } from '../domain/jobs.ts';
import { postDigest } from '../workflows/adoption/digest.ts';
import type { JOB_NAMES } from './names.ts';
import { refreshUsage } from '../workflows/adoption/usage.ts';
import { closeDuePulses, openPulse } from '../workflows/surveys/pulse.ts';
import { sendReminders } from '../workflows/surveys/post-provisioning.ts';
import { sweepLifecycle } from '../workflows/lifecycle/expiry.ts';
import { driftJob } from '../workflows/drift/scan.ts';
import { sweepIdle } from '../workflows/lifecycle/idle.ts';

/**
 * A scheduled job: a workflow function of `deps` and `now`, nothing else. The scheduler decides
 * when (node-cron, catch-up at start-up, by hand) and records each run; the job only does its work
 * and returns a one-line summary.
 */
export interface Job {
  name: string;
  description: string;
  /** The cron expression from config, or false when the job is turned off. */
  schedule(config: Config): string | false;
  /**
   * `steps`: the run's durable steps; work recorded through them is not repeated when another
   * leader takes the run over (a sweep needs none: each namespace's action is a claim of its own).
   */
  run(deps: Deps, now: Date, steps: JobSteps): Promise<string>;
  /** A run still going after this long counts as failed and frees the job. Default 10 min. */
  timeoutMs?: number;
}

/** Every job, each under a name the CLI offers (`JOB_NAMES`). */
export const JOBS: readonly (Job & { name: (typeof JOB_NAMES)[number] })[] = [
  {
    name: 'digest',
    description: 'posts the weekly adoption digest and its chart to the platform channel',
    schedule: (config) => config.schedule.jobs.digest,
    run: async (deps, now, steps) => (await postDigest(deps, now, undefined, steps)).summary,
  },
  {
    name: 'usage-refresh',
    description: 'records which Slipway namespaces run pods, and notices namespaces deleted outside Slipway',
    schedule: (config) => config.schedule.jobs.usageRefresh,
    run: async (deps, now) => (await refreshUsage(deps, now)).summary,
  },
  {
    name: 'survey-open',
    description: "opens the week's pulse survey in survey.pulse.channels (at most one a week)",
    schedule: (config) => (config.survey.pulse.channels.length === 0 ? false : config.survey.pulse.schedule),
    run: async (deps, now) => (await openPulse(deps, now)).summary,
  },
  {
    name: 'survey-close',
    description: 'closes pulses whose time is up (results in their thread) and posts feedback waiting for the platform channel',
    schedule: (config) => config.survey.checkSchedule,
    run: (deps, now) => closeDuePulses(deps, now),
  },
  {
    name: 'survey-remind',
    description: 'sends the one reminder of the question after provisioning',
    schedule: (config) =>
      config.survey.postProvisioning.enabled && config.survey.postProvisioning.reminderAfterHours !== false ? config.survey.checkSchedule : false,
    run: (deps, now) => sendReminders(deps, now),
  },
  {
    name: 'lifecycle',
    description:
      'sends expiry reminders and final notices that are due, deletes namespaces whose grace period is over, and asks about idle namespaces (then reclaims them)',
    schedule: (config) => config.schedule.jobs.lifecycle,
    run: async (deps, now) => `${await sweepLifecycle(deps, now)}; ${await sweepIdle(deps, now)}`,
  },
  {
    name: 'drift',
    description: 'compares every managed namespace with what the golden path renders today (edited by hand, or outdated by a config change)',
    schedule: (config) => config.schedule.jobs.drift,
    run: (deps, now) => driftJob(deps, now),
  },
];

export function findJob(name: string, jobs: readonly Job[] = JOBS): Job | undefined {
  return jobs.find((j) => j.name === name);
}
