import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readId, readMetadata } from '../slack/form-state.ts';
import { LIFECYCLE } from '../slack/ids.ts';
import { decideExtension, extendFromClick, extendValue } from '../workflows/lifecycle/extend.ts';
import { clickOf } from './click.ts';

/** Extend buttons (reminders, final notices, Home) and the approvers' decisions on extensions. */
export function register(app: App, deps: Deps): void {
  // One button per offered number of days: `namespace_extend_7`, `namespace_extend_30`.
  app.action<BlockAction<ButtonAction>>(new RegExp(`^${LIFECYCLE.extend}_\\d+$`), async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    const message = body.message?.ts ? { channel: click.channel, ts: body.message.ts } : undefined;
    await extendFromClick(deps, readMetadata(extendValue, action.value), { ...click, message });
  });

  app.action<BlockAction<ButtonAction>>(LIFECYCLE.extensionApprove, async ({ ack, body, action }) => {
    await ack();
    await decideExtension(deps, readId(action.value), true, clickOf(body));
  });

  app.action<BlockAction<ButtonAction>>(LIFECYCLE.extensionDeny, async ({ ack, body, action }) => {
    await ack();
    await decideExtension(deps, readId(action.value), false, clickOf(body));
  });
}
