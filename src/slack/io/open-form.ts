import type { ModalView } from '@slack/types';
import type { Click } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage } from '../../errors.ts';
import { SlackCallError } from './modal-opener.ts';
import { modalNotOpened } from '../provisioning/messages.ts';
import { notifier } from './notifier.ts';

/**
 * Opens the form a button leads to. When Slack does not open it (the trigger expired, Slack was
 * slow or refused the view), the person hears so where they clicked, as the slash commands tell
 * them in the channel: a click must never end in nothing. `what` names the form ("the deny form").
 */
export async function openFormAfterClick(
  deps: Pick<Deps, 'modals' | 'slack' | 'log' | 'metrics'>,
  click: Click & { triggerId: string },
  view: ModalView,
  what: string,
): Promise<void> {
  try {
    await deps.modals.open(click.triggerId, view);
  } catch (err) {
    if (err instanceof SlackCallError && err.code === 'exchanged_trigger_id') {
      // The trigger was used already: the form is open from an earlier delivery of the click.
      deps.log.info('duplicate click delivery ignored');
      return;
    }
    // No user id: the click may be on an anonymous survey's "Add a comment".
    deps.log.error({ err }, `could not open ${what}`);
    await notifier(deps).ephemeral(click.channel, click.user, modalNotOpened(what, errorMessage(err)));
  }
}
