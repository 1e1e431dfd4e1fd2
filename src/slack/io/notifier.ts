import type { Click } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage } from '../../errors.ts';
import type { SlackMessage } from '../text.ts';

/**
 * Slack calls made on the side of a workflow. The store already holds the truth, so a Slack
 * failure is logged and the workflow goes on; it never leaves a request half-done.
 *
 * A failure is logged without the person (a DM may be the relay of an anonymous reply, an
 * ephemeral the confirmation of a pulse answer) and without the error object, whose request
 * (kept on network errors) holds the recipient and the text.
 */
export function notifier(deps: Pick<Deps, 'slack' | 'log' | 'metrics'>) {
  const attempt = async <T>(method: string, what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      deps.log.warn({ error: slackErrorCode(err), reason: errorMessage(err), what }, 'slack call failed');
      deps.metrics.slackErrors.inc({ method, error: slackErrorCode(err) });
      return undefined;
    }
  };
  const ephemeral = (channel: string, user: string, message: SlackMessage) =>
    attempt('chat.postEphemeral', `ephemeral in ${channel}`, () =>
      deps.slack.chat.postEphemeral({ channel, user, text: message.text, blocks: message.blocks }),
    );
  /** Messages the person in the app's DM. */
  const dm = (user: string, message: SlackMessage) =>
    attempt('chat.postMessage', 'dm', () => deps.slack.chat.postMessage({ channel: user, text: message.text, blocks: message.blocks, unfurl_links: false }));
  return {
    post: (channel: string, message: SlackMessage, threadTs?: string) =>
      attempt('chat.postMessage', `post to ${channel}`, async () => {
        const res = await deps.slack.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
        });
        return res.ts;
      }),
    update: (channel: string, ts: string, message: SlackMessage) =>
      attempt('chat.update', `update ${channel}/${ts}`, () => deps.slack.chat.update({ channel, ts, text: message.text, blocks: message.blocks })),
    ephemeral,
    dm,
    /**
     * Answers the person who clicked: only to them where they clicked, or in the app's DM when
     * the click came from a view with no channel (the Home tab).
     */
    toClicker: (click: Click, message: SlackMessage) => (click.channel ? ephemeral(click.channel, click.user, message) : dm(click.user, message)),
  };
}

/** Slack's error code (`channel_not_found`, `ratelimited`…) or the client's error kind. */
export function slackErrorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const data = 'data' in err ? err.data : undefined;
    if (data && typeof data === 'object' && 'error' in data && typeof data.error === 'string') return data.error;
    if ('code' in err && typeof err.code === 'string') return err.code;
  }
  return 'unknown';
}
