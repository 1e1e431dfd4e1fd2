import type { App, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';
import { SlackCallError } from '../modal-opener.ts';
import { statsFailed } from '../slack/stats.ts';
import { usageMessage, type SlackMessage } from '../slack/usage.ts';
import { platformStats } from '../workflows/digest.ts';
import { requestStatus } from '../workflows/status.ts';
import { requestForm } from '../workflows/request.ts';
import { feedbackCommand } from './feedback.ts';
import { surveysCommand } from './survey.ts';

type Subcommand = (deps: Deps, command: SlashCommand, args: string, respond: RespondFn) => Promise<void>;

/** `/platform new-namespace [name]`: the request form must open within the trigger's 3 s. */
const newNamespace: Subcommand = async (deps, command, args, respond) => {
  try {
    await deps.modals.open(command.trigger_id, requestForm(deps, command.user_id, args));
  } catch (err) {
    if (err instanceof SlackCallError && err.code === 'exchanged_trigger_id') {
      // A redelivery of a command whose form is already open: the first delivery used the trigger.
      deps.log.info({ user: command.user_id }, 'duplicate command delivery ignored');
      return;
    }
    deps.log.error({ err, user: command.user_id }, 'could not open the request form');
    await respond({ response_type: 'ephemeral', text: `Sorry, I could not open the request form (${errorMessage(err)}). Please try again.` }).catch(
      (respondErr: unknown) => deps.log.warn({ err: respondErr }, 'could not tell the user'),
    );
  }
};

/**
 * `/platform stats`: the digest's numbers, only for the person who asked. They are computed after
 * the ack, since they read the event log and usage snapshots, and sent with `respond()`.
 */
const stats: Subcommand = async (deps, command, _args, respond) => {
  let message: SlackMessage;
  try {
    message = platformStats(deps, deps.clock.now());
  } catch (err) {
    deps.log.error({ err, user: command.user_id }, 'could not compute /platform stats');
    message = statsFailed(errorMessage(err));
  }
  await respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not send the stats'));
};

const SUBCOMMANDS: Record<string, Subcommand> = {
  'new-namespace': newNamespace,
  stats,
  feedback: feedbackCommand,
  surveys: surveysCommand,
};

/** Subcommands answered in the acknowledgement itself, visible only to the person who asked. */
const INSTANT: Record<string, (deps: Deps, args: string) => SlackMessage> = {
  status: (deps, args) => requestStatus(deps, args),
};

/** Routes `/platform <subcommand>`; help, no subcommand and unknown ones get the usage message. */
export function register(app: App, deps: Deps): void {
  // Only known subcommand names become metric labels, never what people typed.
  const observeAck = (label: string, started: number) => deps.metrics.commandAcks.observe({ subcommand: label }, (performance.now() - started) / 1000);
  app.command('/platform', async ({ command, ack, respond }) => {
    const started = performance.now();
    const [sub = '', ...rest] = command.text.trim().split(/\s+/);
    const name = sub.toLowerCase();
    const instant = Object.hasOwn(INSTANT, name) ? INSTANT[name] : undefined;
    if (instant) {
      await ack({ response_type: 'ephemeral', ...instant(deps, rest.join(' ')) });
      return observeAck(name, started);
    }
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
