import type { App } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readRequestFields } from '../slack/form-state.ts';
import { CALLBACK } from '../slack/ids.ts';
import { announceRequest, submitRequest } from '../workflows/provisioning/request.ts';
import { ackRecorded } from './ack.ts';

/** The request form's submission: field errors stay in the modal; a valid request closes it. */
export function register(app: App, deps: Deps): void {
  app.view(CALLBACK.newNamespace, async ({ ack, body, view }) => {
    const result = await submitRequest(deps, {
      user: body.user.id,
      viewId: view.id,
      fields: readRequestFields(view.state.values),
    });
    if (!result.ok) {
      await ack({ response_action: 'errors', errors: result.errors });
      return;
    }
    await ackRecorded(deps, () => ack());
    if (!result.duplicate) await announceRequest(deps, result.request);
  });
}
