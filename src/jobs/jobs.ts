import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';
import { postDigest } from '../workflows/digest.ts';
import { refreshUsage } from '../workflows/usage.ts';

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
  run(deps: Deps, now: Date): Promise<string>;
  /** A run still going after this long counts as failed and frees the job. Default 10 min. */
  timeoutMs?: number;
}

export const JOBS: readonly Job[] = [
  {
    name: 'digest',
    description: 'posts the weekly adoption digest and its chart to the platform channel',
    schedule: (config) => config.schedule.jobs.digest,
    run: async (deps, now) => (await postDigest(deps, now)).summary,
  },
  {
    name: 'usage-refresh',
    description: 'records which Slipway namespaces run pods, and notices namespaces deleted outside Slipway',
    schedule: (config) => config.schedule.jobs.usageRefresh,
    run: async (deps, now) => (await refreshUsage(deps, now)).summary,
  },
];

export function findJob(name: string, jobs: readonly Job[] = JOBS): Job | undefined {
  return jobs.find((j) => j.name === name);
}
