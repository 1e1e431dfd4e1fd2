import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { Click } from '../domain/requests.ts';

/** Who clicked a button, and in which channel (a message's, or the one its container names). */
export function clickOf(body: BlockAction<ButtonAction>): Click {
  return { user: body.user.id, channel: body.channel?.id ?? body.container.channel_id ?? '' };
}
