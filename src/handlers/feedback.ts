import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { openForm } from '../slack/io/open-form.ts';
import { readMetadata, readSelected, readValue } from '../slack/form-state.ts';
import { SURVEY } from '../slack/ids.ts';
import { feedbackModal, feedbackThanks, feedbackThanksView } from '../slack/surveys/feedback.ts';
import { announceDone, checkFeedbackText, markDone, openDoneForm, platformChannelLabel, relayReply, submitFeedback } from '../workflows/surveys/feedback.ts';
import { clickOf } from './click.ts';
import { ackRecorded } from './ack.ts';

/** A human's reply in a thread, as the Events API `message` event carries it. */
interface ThreadReply {
  channel: string;
  ts: string;
  thread_ts: string;
  user: string;
  text: string;
}

/**
 * Only plain replies by people: no subtype (edits, joins, bot messages all have one), no bot_id,
 * and inside a thread.
 */
function isThreadReply(event: unknown): event is ThreadReply {
  if (!event || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return (
    e.subtype === undefined &&
    e.bot_id === undefined &&
    typeof e.channel === 'string' &&
    typeof e.ts === 'string' &&
    typeof e.thread_ts === 'string' &&
    typeof e.user === 'string' &&
    typeof e.text === 'string'
  );
}

function isAnonymous(values: unknown): boolean {
  return readSelected(values, SURVEY.feedbackAnonymous).includes('anonymous');
}

/** What the "Mark done" form carries in its private_metadata (see `doneModal`). */
const doneFormMetadata = z.object({ token: z.string().min(1).max(100) });

/** `/platform feedback`'s modal, "Mark done" and its modal, and replies in feedback threads. */
export function register(app: App, deps: Deps): void {
  app.view(SURVEY.feedbackModal, async ({ ack, body, view }) => {
    const text = readValue(view.state.values, SURVEY.feedbackText);
    const errors = checkFeedbackText(text, SURVEY.feedbackText);
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    const anonymous = deps.config.survey.feedback.anonymous === 'always' || isAnonymous(view.state.values);
    await ack({ response_action: 'update', view: feedbackThanksView({ anonymous, where: platformChannelLabel(deps) }) });
    await submitFeedback(deps, { user: body.user.id, text: text ?? '', anonymous });
  });

  app.action<BlockAction<ButtonAction>>(SURVEY.markDone, async ({ ack, body, action }) => {
    await ack();
    await openDoneForm(deps, { token: action.value ?? '', ...clickOf(body), triggerId: body.trigger_id });
  });

  app.view(SURVEY.doneModal, async ({ ack, body, view }) => {
    const metadata = readMetadata(doneFormMetadata, view.private_metadata);
    if (!metadata) {
      await ack({ response_action: 'errors', errors: { [SURVEY.doneText]: 'This form is out of date. Close it and click "Mark done" again.' } });
      return;
    }
    const errors = await markDone(deps, { token: metadata.token, user: body.user.id, text: readValue(view.state.values, SURVEY.doneText) });
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ackRecorded(deps, () => ack());
    await announceDone(deps, metadata.token);
  });

  // Events API `message` (message.channels / message.groups); Bolt acks it before this runs
  // and drops the bot's own messages.
  app.event('message', async ({ event }) => {
    if (!isThreadReply(event)) return;
    await relayReply(deps, { channel: event.channel, threadTs: event.thread_ts, ts: event.ts, user: event.user, text: event.text });
  });
}

/**
 * `/platform feedback [text]`: opens the modal (text prefilled, "without my name" ticked). With
 * `survey.feedback.anonymous: always` and a text, it is sent at once, without a name.
 */
export async function feedbackCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const always = deps.config.survey.feedback.anonymous === 'always';
  const reply = (message: { text: string }) =>
    respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not answer /platform feedback'));
  if (always && Object.keys(checkFeedbackText(args, SURVEY.feedbackText)).length === 0) {
    const { where } = await submitFeedback(deps, { user: command.user_id, text: args, anonymous: true });
    await reply(feedbackThanks({ anonymous: true, where }));
    return;
  }
  const form = feedbackModal({ text: args.trim(), askName: !always, channelName: platformChannelLabel(deps) ?? 'the platform channel' });
  await openForm(deps, command.trigger_id, form, 'the feedback form', reply);
}
