import type { ModalView } from '@slack/types';
import type { Click } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage } from '../../errors.ts';
import type { SlackMessage } from '../text.ts';
import { SlackCallError } from './modal-opener.ts';
import { modalNotOpened } from '../provisioning/messages.ts';
import { notifier } from './notifier.ts';

/**
 * Opens a form within its trigger's 3 s. When Slack does not open it (the trigger expired, Slack
 * was slow or refused the view), the person hears so through `tell`: a command or a click must
 * never end in nothing. `what` names the form ("the deny form").
 */
export async function openForm(
  deps: Pick<Deps, 'modals' | 'log'>,
  triggerId: string,
  view: ModalView,
  what: string,
  tell: (message: SlackMessage) => Promise<unknown>,
): Promise<void> {
  try {
    await deps.modals.open(triggerId, view);
  } catch (err) {
    if (err instanceof SlackCallError && err.code === 'exchanged_trigger_id') {
      // The trigger was used already: the form is open from an earlier delivery.
      deps.log.info(`duplicate delivery ignored: ${what} is open`);
      return;
    }
    // No user id: the form may be an anonymous survey's "Add a comment".
    deps.log.error({ err }, `could not open ${what}`);
    await tell(modalNotOpened(what, errorMessage(err))).catch((tellErr: unknown) => deps.log.warn({ err: tellErr }, 'could not tell the user'));
  }
}

/** Opens the form a button leads to; a form that does not open is reported where the person clicked. */
export function openFormAfterClick(
  deps: Pick<Deps, 'modals' | 'slack' | 'log' | 'metrics'>,
  click: Click & { triggerId: string },
  view: ModalView,
  what: string,
): Promise<void> {
  return openForm(deps, click.triggerId, view, what, (message) => notifier(deps).toClicker(click, message));
}
