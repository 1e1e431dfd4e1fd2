import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';

/**
 * Acks a submission or click whose outcome was recorded before the ack, and returns even when the
 * ack came too late: after 3 s Bolt answers Slack itself (HTTP 404, and Slack shows the person an
 * error), so the ack's own answer fails to write. What was recorded is done either way, and the
 * follow-up that comes after the ack (the card, the thread, the people told) must still happen.
 */
export async function ackRecorded(deps: Pick<Deps, 'log'>, ack: () => Promise<void>): Promise<void> {
  try {
    await ack();
  } catch (err) {
    deps.log.warn({ reason: errorMessage(err) }, 'acked after Slack stopped waiting; following up on what was recorded');
  }
}
