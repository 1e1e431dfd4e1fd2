import type { RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';
import { driftFailed } from '../slack/drift/report.ts';
import { driftForApprover } from '../workflows/drift/command.ts';

/** `/platform drift [namespace]`: answered after the ack (it lists every cluster), only to the person who asked. */
export async function driftCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const message = await driftForApprover(deps, command.user_id, command.command, args).catch((err: unknown) => {
    deps.log.error({ err: errorMessage(err), user: command.user_id }, 'could not compute drift');
    return driftFailed;
  });
  await respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not send the drift report'));
}
