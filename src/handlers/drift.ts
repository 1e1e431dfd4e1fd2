import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';
import { driftFailed } from '../slack/drift/report.ts';
import { readId } from '../slack/form-state.ts';
import { DRIFT } from '../slack/ids.ts';
import type { SlackMessage } from '../slack/text.ts';
import { driftForApprover } from '../workflows/drift/command.ts';
import { reapplyFromClick } from '../workflows/drift/reapply.ts';
import { resumeFromClick, upgradeFromClick } from '../workflows/drift/upgrade.ts';
import { clickOf } from './click.ts';

/** `/platform drift [namespace]`: answered after the ack (it lists every cluster), only to the person who asked. */
export async function driftCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const message = await driftForApprover(deps, command.user_id, command.command, args).catch((err: unknown) => {
    deps.log.error({ err: errorMessage(err), user: command.user_id }, 'could not compute drift');
    return driftFailed;
  });
  await answer(deps, respond, message);
}

/** Answers only the person who clicked (or typed), as a new message or in place of the one clicked. */
async function answer(deps: Deps, respond: RespondFn, message: SlackMessage, replaceOriginal = false): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: replaceOriginal, ...message }).catch((err: unknown) =>
    deps.log.warn({ err }, 'could not answer about drift'),
  );
}

/** Re-apply (preview, then confirm), Upgrade all N outdated and Resume: approvers only, checked in the workflows. */
export function register(app: App, deps: Deps): void {
  for (const confirm of [false, true]) {
    app.action<BlockAction<ButtonAction>>(confirm ? DRIFT.reapplyConfirm : DRIFT.reapply, async ({ ack, body, action, respond }) => {
      await ack();
      const result = await reapplyFromClick(deps, readId(action.value), clickOf(body), confirm).catch((err: unknown) => {
        deps.log.error({ err: errorMessage(err) }, 'could not re-apply');
        return { message: driftFailed, replaceOriginal: false };
      });
      await answer(deps, respond, result.message, result.replaceOriginal);
    });
  }

  app.action<BlockAction<ButtonAction>>(DRIFT.upgrade, async ({ ack, body, action, respond }) => {
    await ack();
    const message = await upgradeFromClick(deps, action.value, clickOf(body)).catch((err: unknown) => {
      deps.log.error({ err: errorMessage(err) }, 'could not start an upgrade');
      return driftFailed;
    });
    await answer(deps, respond, message);
  });

  app.action<BlockAction<ButtonAction>>(DRIFT.resume, async ({ ack, body, action, respond }) => {
    await ack();
    const message = await resumeFromClick(deps, readId(action.value), clickOf(body)).catch((err: unknown) => {
      deps.log.error({ err: errorMessage(err) }, 'could not resume an upgrade');
      return driftFailed;
    });
    if (message) await answer(deps, respond, message);
  });
}
