import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readId } from '../slack/form-state.ts';
import { IDLE } from '../slack/ids.ts';
import { disownIdle, keepIdle } from '../workflows/lifecycle/idle.ts';
import { clickOf } from './click.ts';

/** Keep it and Not mine on an idle namespace's question (Delete it is the Delete button's). */
export function register(app: App, deps: Deps): void {
  for (const [actionId, answer] of [
    [IDLE.keep, keepIdle],
    [IDLE.notMine, disownIdle],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action }) => {
      await ack();
      const click = clickOf(body);
      const message = body.message?.ts ? { channel: click.channel, ts: body.message.ts } : undefined;
      await answer(deps, readId(action.value), { ...click, message });
    });
  }
}
