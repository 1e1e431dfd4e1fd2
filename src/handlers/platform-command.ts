import type { App, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';
import { openForm } from '../slack/io/open-form.ts';
import { statsFailed, statsWeekProblem } from '../slack/adoption/stats.ts';
import { statusFailed } from '../slack/provisioning/status.ts';
import { usageMessage, type SlackMessage } from '../slack/usage.ts';
import { chooseWeek, parseWeekChoice } from '../lib/calendar.ts';
import { platformStats } from '../workflows/adoption/digest.ts';
import { requestStatus } from '../workflows/provisioning/status.ts';
import { requestForm } from '../workflows/provisioning/request.ts';
import { changeCommand } from './change.ts';
import { deleteCommand, transferCommand } from './delete.ts';
import { driftCommand } from './drift.ts';
import { feedbackCommand } from './feedback.ts';
import { listCommand } from './home.ts';
import { surveysCommand } from './survey.ts';

type Subcommand = (deps: Deps, command: SlashCommand, args: string, respond: RespondFn) => Promise<void>;

/** `/platform new-namespace [name]`: the request form must open within the trigger's 3 s. */
const newNamespace: Subcommand = async (deps, command, args, respond) =>
  openForm(deps, command.trigger_id, await requestForm(deps, command.user_id, args), 'the request form', (message) =>
    respond({ response_type: 'ephemeral', ...message }),
  );

/**
 * `/platform stats [current|last|YYYY-MM-DD]`: the digest's numbers for a week (default: the last
 * complete one), only for the person who asked. They are computed after the ack, since they read
 * the event log and usage snapshots, and sent with `respond()`.
 */
const stats: Subcommand = async (deps, command, args, respond) => {
  let message: SlackMessage;
  const now = deps.clock.now();
  const choice = args.trim() === '' ? 'last' : parseWeekChoice(args);
  const chosen = choice ? chooseWeek(choice, now, deps.config.schedule.timezone) : undefined;
  if (!chosen || 'problem' in chosen) {
    message = statsWeekProblem(command.command, args, chosen?.problem);
  } else {
    try {
      message = await platformStats(deps, now, chosen);
    } catch (err) {
      deps.log.error({ err, user: command.user_id }, 'could not compute /platform stats');
      message = statsFailed(errorMessage(err));
    }
  }
  await respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not send the stats'));
};

/**
 * `/platform status …`: how much it shows depends on who asks, which may take a Slack call
 * (user groups), so it is answered after the ack.
 */
const status: Subcommand = async (deps, command, args, respond) => {
  let message: SlackMessage;
  try {
    message = await requestStatus(deps, command.user_id, args);
  } catch (err) {
    deps.log.error({ err, user: command.user_id }, 'could not look up a request status');
    message = statusFailed();
  }
  await respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not send the status'));
};

const SUBCOMMANDS: Record<string, Subcommand> = {
  'new-namespace': newNamespace,
  stats,
  status,
  feedback: feedbackCommand,
  list: listCommand,
  surveys: surveysCommand,
  delete: deleteCommand,
  change: changeCommand,
  transfer: transferCommand,
  drift: driftCommand,
};

/** Routes `/platform <subcommand>`; help, no subcommand and unknown ones get the usage message. */
export function register(app: App, deps: Deps): void {
  // Only known subcommand names become metric labels, never what people typed.
  const observeAck = (label: string, started: number) => deps.metrics.commandAcks.observe({ subcommand: label }, (performance.now() - started) / 1000);
  app.command('/platform', async ({ command, ack, respond }) => {
    const started = performance.now();
    const [sub = '', ...rest] = command.text.trim().split(/\s+/);
    const name = sub.toLowerCase();
    // Own keys only: `/platform constructor` or `__proto__` must not find Object.prototype's.
    const handler = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (!handler) {
      const unknown = sub && name !== 'help' ? sub : undefined;
      await ack({ response_type: 'ephemeral', ...usageMessage(command.command, unknown) });
      return observeAck(unknown ? 'unknown' : 'help', started);
    }
    await ack();
    observeAck(name, started);
    await handler(deps, command, rest.join(' '), respond);
  });
}
