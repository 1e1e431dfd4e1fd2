import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readId, readMetadata, readValue } from '../slack/form-state.ts';
import { ACTION, BLOCK, CALLBACK, HOME } from '../slack/ids.ts';
import type { SlackMessage } from '../slack/text.ts';
import {
  confirmDeletion,
  decideDeletion,
  deleteFormMetadata,
  openDeleteForm,
  openDeleteFormForCommand,
  staleDeleteForm,
} from '../workflows/lifecycle/delete.ts';
import { transferNamespace } from '../workflows/lifecycle/transfer.ts';
import { clickOf } from './click.ts';

/** Answers a subcommand privately, where it was typed. */
function replier(deps: Deps, respond: RespondFn, what: string) {
  return (message: SlackMessage) =>
    respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, `could not answer ${what}`));
}

/** `/platform delete <namespace> [cluster]`: the typed-name form must open within the trigger's 3 s. */
export async function deleteCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  await openDeleteFormForCommand(
    deps,
    { user: command.user_id, channel: command.channel_id, triggerId: command.trigger_id, command: command.command },
    args,
    replier(deps, respond, '/platform delete'),
  );
}

/** `/platform transfer <namespace> @person`: answered after the ack (it may look people up in Slack). */
export async function transferCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const reply = replier(deps, respond, '/platform transfer');
  await reply(await transferNamespace(deps, { user: command.user_id, command: command.command }, args));
}

/** Delete buttons, the delete form, and approvers' decisions on deletion requests. */
export function register(app: App, deps: Deps): void {
  // Delete on a namespace, wherever it is shown (Home, reminders): the value is the request id.
  app.action<BlockAction<ButtonAction>>(HOME.delete, async ({ ack, body, action }) => {
    await ack();
    await openDeleteForm(deps, readId(action.value), { ...clickOf(body), triggerId: body.trigger_id });
  });

  app.view(CALLBACK.deleteNamespace, async ({ ack, body, view }) => {
    const metadata = readMetadata(deleteFormMetadata, view.private_metadata);
    if (!metadata) {
      await ack({ response_action: 'errors', errors: staleDeleteForm });
      return;
    }
    const values = view.state.values;
    const result = await confirmDeletion(
      deps,
      metadata.requestId,
      body.user.id,
      readValue(values, BLOCK.deleteConfirm) ?? '',
      readValue(values, BLOCK.deleteReason),
    );
    if (result.errors) {
      await ack({ response_action: 'errors', errors: result.errors });
      return;
    }
    await ack();
    await result.proceed();
  });

  app.action<BlockAction<ButtonAction>>(ACTION.approveDelete, async ({ ack, body, action }) => {
    await ack();
    await decideDeletion(deps, readId(action.value), clickOf(body), 'approved');
  });

  app.action<BlockAction<ButtonAction>>(ACTION.denyDelete, async ({ ack, body, action }) => {
    await ack();
    await decideDeletion(deps, readId(action.value), clickOf(body), 'denied');
  });
}
