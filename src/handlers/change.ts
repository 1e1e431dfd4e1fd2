import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readChangeFields, readId, readMetadata } from '../slack/form-state.ts';
import { BLOCK, CALLBACK, CHANGE, HOME } from '../slack/ids.ts';
import { changeFormMetadata, decideChangeRequest, openChangeForm, openChangeFormForCommand, submitChange } from '../workflows/lifecycle/change.ts';
import { clickOf } from './click.ts';
import { ackRecorded } from './ack.ts';

/** `/platform change <namespace> [cluster]`: the change form must open within the trigger's 3 s. */
export async function changeCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  await openChangeFormForCommand(deps, { user: command.user_id, triggerId: command.trigger_id, command: command.command }, args, (message) =>
    respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not answer /platform change')),
  );
}

/** Change on Home, the change form, and approvers' decisions on changes in the request's thread. */
export function register(app: App, deps: Deps): void {
  app.action<BlockAction<ButtonAction>>(HOME.change, async ({ ack, body, action }) => {
    await ack();
    await openChangeForm(deps, readId(action.value), { ...clickOf(body), triggerId: body.trigger_id });
  });

  app.view(CALLBACK.changeNamespace, async ({ ack, body, view }) => {
    const metadata = readMetadata(changeFormMetadata, view.private_metadata);
    const result = metadata
      ? await submitChange(deps, metadata.requestId, body.user.id, readChangeFields(view.state.values))
      : { errors: { [BLOCK.tier]: 'This form is out of date. Close it and open the change form again.' } };
    if (result.errors) {
      await ack({ response_action: 'errors', errors: result.errors });
      return;
    }
    await ackRecorded(deps, () => ack());
    await result.proceed();
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^(${CHANGE.approve}|${CHANGE.deny})$`), async ({ ack, body, action }) => {
    await ack();
    await decideChangeRequest(deps, readId(action.value), clickOf(body), action.action_id === CHANGE.approve ? 'approved' : 'denied');
  });
}
