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
  /** Messages the person in the app's DM; `metadata` marks the message so that it can be found again (`findDm`). */
  const dm = (user: string, message: SlackMessage, metadata?: MessageMetadata) =>
    attempt('chat.postMessage', 'dm', () =>
      deps.slack.chat.postMessage({ channel: user, text: message.text, blocks: message.blocks, unfurl_links: false, ...(metadata ? { metadata } : {}) }),
    );
  return {
    /** Posts to a channel (in a thread with `threadTs`); `metadata` marks the message so that it can be found again (`find`). */
    post: (channel: string, message: SlackMessage, threadTs?: string, metadata?: MessageMetadata) =>
      attempt('chat.postMessage', `post to ${channel}`, async () => {
        const res = await deps.slack.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
          ...(metadata ? { metadata } : {}),
        });
        return res.ts;
      }),
    /**
     * The ts of the message carrying `metadata` among the latest `limit` in `channel`; undefined
     * when it is not there, or when Slack cannot say (logged).
     */
    find: (channel: string, metadata: MessageMetadata, limit: number) =>
      attempt('conversations.history', `history of ${channel}`, () => findMessage(deps, channel, metadata, limit)),
    update: (channel: string, ts: string, message: SlackMessage) =>
      attempt('chat.update', `update ${channel}/${ts}`, () => deps.slack.chat.update({ channel, ts, text: message.text, blocks: message.blocks })),
    ephemeral,
    dm,
    /**
     * The ts of the message carrying `metadata` (same event type, same payload) among the latest
     * 100 of the app's DM with `user` (conversations.open, then conversations.history with
     * `im:history`); undefined when it is not there, or when Slack cannot say (logged).
     */
    findDm: (user: string, metadata: MessageMetadata) =>
      attempt('conversations.history', 'dm history', async () => {
        const opened = await deps.slack.conversations.open({ users: user });
        const channel = opened.channel?.id;
        return channel ? await findMessage(deps, channel, metadata, 100) : undefined;
      }),
    /**
     * Answers the person who clicked: only to them where they clicked, or in the app's DM when
     * the click came from a view with no channel (the Home tab).
     */
    toClicker: (click: Click, message: SlackMessage) => (click.channel ? ephemeral(click.channel, click.user, message) : dm(click.user, message)),
  };
}

/** Message metadata (Slack's `metadata`: an event type and a flat payload) that marks a message as the one about something. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string | number | boolean>;
}

/**
 * The ts of the message carrying `metadata` (same event type, same payload) among the latest
 * `limit` of `channel` (conversations.history with its metadata); undefined when it is not there.
 * Throws what Slack answers, for the caller to decide what not knowing means.
 */
export async function findMessage(deps: Pick<Deps, 'slack'>, channel: string, metadata: MessageMetadata, limit: number): Promise<string | undefined> {
  const history = await deps.slack.conversations.history({ channel, limit, include_all_metadata: true });
  // The SDK types event_payload as `{}`: read as the flat object it was posted as.
  const matches = (payload: object | undefined) =>
    payload !== undefined && Object.entries(metadata.event_payload).every(([key, value]) => (payload as Record<string, unknown>)[key] === value);
  return history.messages?.find((m) => m.metadata?.event_type === metadata.event_type && matches(m.metadata.event_payload))?.ts;
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
