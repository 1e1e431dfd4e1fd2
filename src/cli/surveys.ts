import { SlipwayError } from '../errors.ts';
import { Store } from '../store/store.ts';
import { closeOpenPulses } from '../workflows/surveys/pulse.ts';
import { depsFor, type CommandContext } from './jobs.ts';
import { findJob, type Job } from '../jobs/jobs.ts';
import { Scheduler } from '../jobs/scheduler.ts';

/**
 * `slipway survey open`: opens this week's pulse now (or posts it to channels it missed);
 * `slipway survey close`: closes the open pulse now, whatever its closing time, with its results.
 * Both are recorded as manual runs of the `survey-open` / `survey-close` jobs, so they never run
 * beside the scheduled ones.
 */
export async function surveyCommand(sub: 'open' | 'close', ctx: CommandContext): Promise<void> {
  const { env, config } = ctx.startup();
  const store = await Store.open(ctx.database());
  try {
    const deps = depsFor(config, store, env);
    const open = findJob('survey-open');
    const closeNow: Job = {
      name: 'survey-close',
      description: 'closes the open pulse now',
      schedule: () => false,
      run: (d, now) => closeOpenPulses(d, now),
    };
    const scheduler = new Scheduler(deps, sub === 'open' && open ? [open] : [closeNow]);
    const outcome = await scheduler.run(sub === 'open' ? 'survey-open' : 'survey-close', 'manual');
    if (outcome.status === 'ok') {
      process.stdout.write(`survey ${sub}: ${outcome.summary ?? 'done'}\n`);
      return;
    }
    throw new SlipwayError(
      `survey_${sub}_${outcome.status}`,
      `survey ${sub} ${outcome.status === 'skipped' ? 'did not run' : 'failed'}: ${outcome.error ?? 'unknown error'}`,
    );
  } finally {
    await store.close();
  }
}
