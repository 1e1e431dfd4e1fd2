import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readId, readMetadata, readValue } from '../slack/form-state.ts';
import { ACTION, BLOCK, CALLBACK } from '../slack/ids.ts';
import {
  announceDenial,
  deny,
  finishApproval,
  recordApproval,
  denyFormMetadata,
  openDenyForm,
  retryRun,
  staleDenyForm,
} from '../workflows/provisioning/decide.ts';
import { clickOf } from './click.ts';
import { publishHome } from '../workflows/lifecycle/home.ts';
import { ackRecorded } from './ack.ts';

/** Approve, Deny (with its reason modal) and Retry on the request card and its thread. */
export function register(app: App, deps: Deps): void {
  // The decision is recorded before the ack: an acked click is never lost with its replica.
  app.action<BlockAction<ButtonAction>>(ACTION.approve, async ({ ack, body, action }) => {
    const approval = await recordApproval(deps, readId(action.value), clickOf(body));
    await ackRecorded(deps, () => ack());
    await finishApproval(deps, approval, clickOf(body));
  });

  app.action<BlockAction<ButtonAction>>(ACTION.deny, async ({ ack, body, action }) => {
    await ack();
    await openDenyForm(deps, readId(action.value), { ...clickOf(body), triggerId: body.trigger_id });
  });

  app.view(CALLBACK.denyReason, async ({ ack, body, view }) => {
    const metadata = readMetadata(denyFormMetadata, view.private_metadata);
    if (!metadata) {
      await ack({ response_action: 'errors', errors: staleDenyForm });
      return;
    }
    const { requestId } = metadata;
    const errors = await deny(deps, requestId, body.user.id, readValue(view.state.values, BLOCK.denyReason) ?? '');
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ackRecorded(deps, () => ack());
    await announceDenial(deps, requestId);
    // A deny form opened from the Home tab has no channel: the approver's Home is redrawn without the request.
    if (metadata.channel === '') await publishHome(deps, body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(ACTION.retry, async ({ ack, body, action }) => {
    await ack();
    await retryRun(deps, readId(action.value), clickOf(body));
  });
}
