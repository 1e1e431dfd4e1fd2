import type { KnownBlock, ModalView } from '@slack/types';
import type { FeedbackItem } from '../../domain/surveys.ts';
import { ACTION, SURVEY, SURVEY_LIMITS } from '../ids.ts';
import { context, escape, multilineInput, plain, section, truncate, user, textMessage } from '../text.ts';
import { commentInput } from './blocks.ts';
import type { SlackMessage } from '../usage.ts';

/**
 * Block Kit for feedback in the platform channel (pure): each comment and each low rating as its
 * own message, "Mark done", and what the author hears back. A post names its author only for
 * `/platform feedback` sent without the anonymous box ticked; `named` is undefined otherwise.
 */

const quote = (text: string, max = 2000) => `>${truncate(escape(text), max).replace(/\n/g, '\n>')}`;

export interface FeedbackContext {
  /** The question a rating or comment answers. */
  question: string | undefined;
  /** The label of a rating's score. */
  label: string | undefined;
  /** The author, only when they chose to be named. */
  named: string | undefined;
}

function heading(item: FeedbackItem, ctx: FeedbackContext): string {
  const q = ctx.question ? ` “${escape(ctx.question)}”` : '';
  if (item.text === undefined) {
    const rating = `*A rating of ${item.score ?? '?'}${ctx.label ? ` · ${escape(ctx.label)}` : ''}*`;
    return item.source === 'pulse' ? `📉 ${rating} in the weekly pulse:${q}` : `📉 ${rating} to${q}, asked when a new namespace was ready`;
  }
  if (item.source === 'pulse') return `💬 *A comment from the weekly pulse*${q ? ` on${q}` : ''}`;
  if (item.source === 'provisioning') return '💬 *A comment after provisioning*';
  return ctx.named ? `💬 *Feedback from ${user(ctx.named)}*` : '💬 *Feedback* (anonymous)';
}

/** A feedback item as posted in the platform channel, in its current state. */
export function feedbackPost(item: FeedbackItem, ctx: FeedbackContext): SlackMessage {
  const title = heading(item, ctx);
  const body = item.text !== undefined ? `${title}\n${quote(item.text)}` : title;
  const blocks: KnownBlock[] = [section(body)];
  const who = ctx.named ? 'them' : 'the person who wrote this, without telling you who they are';
  if (item.doneAt) {
    blocks.push(section(`✅ *Done* · ${item.doneBy ? user(item.doneBy) : 'the platform team'}: ${escape(item.doneText ?? '')}`));
  } else if (item.text !== undefined) {
    blocks.push({
      type: 'actions',
      block_id: 'feedback_actions',
      // The random token, never the id: ids are sequential and would give away the order of writing.
      elements: [{ type: 'button', action_id: SURVEY.markDone, text: plain('✅ Mark done'), value: item.token }],
    });
  }
  const rating = item.text === undefined ? 'the person who gave it, without telling you who they are' : who;
  blocks.push(
    context(
      `Reply in this thread and I'll pass it on to ${rating}, by DM.${item.text !== undefined && !item.doneAt ? ' When you have changed something, press *Mark done*: it goes in the digest as "you said → we did".' : ''}`,
    ),
  );
  const plainTitle = title.replace(/\*/g, '');
  // The fallback text is what notifications show: escaped like the block, so `<!channel>` or a
  // disguised link in the feedback stays plain text.
  return { text: item.text !== undefined ? `${plainTitle}: ${escape(truncate(item.text, 200))}` : plainTitle, blocks };
}

/** Asks a platform engineer what changed. */
export function doneModal(item: FeedbackItem): ModalView {
  return {
    type: 'modal',
    callback_id: SURVEY.doneModal,
    private_metadata: JSON.stringify({ token: item.token }),
    title: plain('Mark done'),
    submit: plain('Done'),
    close: plain('Cancel'),
    blocks: [
      section(`*They said*\n${quote(item.text ?? '', 1500)}`),
      multilineInput({
        blockId: SURVEY.doneText,
        label: 'What did you change?',
        hint: 'They get it by DM ("you said → we did"), and it is listed in the weekly digest.',
        minLength: 3,
        maxLength: SURVEY_LIMITS.doneText,
        placeholder: 'e.g. The ready message now says how to get kubectl access',
      }),
    ],
  };
}

/** To the author: the platform team answered in the thread. */
export function relayedReply(input: { original: string | undefined; reply: string; by: string }): SlackMessage {
  const about = input.original ? `your feedback “${escape(truncate(input.original, 120))}”` : 'your rating';
  const text = `💬 ${user(input.by)} from the platform team replied to ${about}:\n${quote(input.reply, 2500)}\nThey don't know it was you. To answer, send \`/platform feedback\`.`;
  return textMessage(text);
}

/** To the replier only: it went through, and the author stays unknown. */
export function relayConfirmation(): SlackMessage {
  const text = '📨 Passed on by DM to the person who wrote this. They stay anonymous to you.';
  return textMessage(text);
}

export function relayImpossible(): SlackMessage {
  const text = "I can't pass this reply on: I no longer know who wrote this.";
  return textMessage(text);
}

/** To the author, when their comment is marked done. */
export function doneNotice(input: { said: string; did: string; by: string }): SlackMessage {
  const text = `✅ *You said → we did*\nYou said: ${quote(input.said, 1000)}\nWe did (${user(input.by)}): ${escape(input.did)}\nThanks for telling us.`;
  return textMessage(text);
}

export function notPlatformTeam(): SlackMessage {
  const text = "Only the platform team (the approvers in Slipway's config) can mark feedback done.";
  return textMessage(text);
}

export function alreadyDone(item: FeedbackItem): SlackMessage {
  const text = `This was already marked done by ${item.doneBy ? user(item.doneBy) : 'someone'}: ${escape(item.doneText ?? '')}`;
  return textMessage(text);
}

/** `/platform feedback`: the text, and whether to post it without the name. */
export function feedbackModal(input: { text: string; channelName: string; askName: boolean }): ModalView {
  const option = { text: plain('Post it without my name'), value: 'anonymous' };
  const nameBlock: KnownBlock = {
    type: 'input',
    block_id: SURVEY.feedbackAnonymous,
    optional: true,
    label: plain('Name'),
    element: { type: 'checkboxes', action_id: ACTION.input, options: [option], initial_options: [option] },
  };
  return {
    type: 'modal',
    callback_id: SURVEY.feedbackModal,
    title: plain('Feedback'),
    submit: plain('Send'),
    close: plain('Cancel'),
    blocks: [
      commentInput(SURVEY.feedbackText, 'Your feedback for the platform team', input.text),
      ...(input.askName ? [nameBlock] : []),
      context(
        `It is posted in ${input.channelName}${input.askName ? '' : ' without your name'}. The platform team can reply in its thread; I pass replies on to you by DM${input.askName ? '' : ' without telling them who you are'}.`,
      ),
    ],
  };
}

/** The modal after sending: thanks, and where it went. */
export function feedbackThanksView(input: { anonymous: boolean; where: string | undefined }): ModalView {
  const text = input.where
    ? `🙏 Thanks! Your feedback is in ${input.where}${input.anonymous ? ', without your name' : ''}. If the platform team replies, I'll pass it on to you by DM.`
    : '🙏 Thanks! Your feedback is stored for the platform team.';
  return { type: 'modal', title: plain('Feedback'), close: plain('Close'), blocks: [section(text)] };
}

export function feedbackThanks(input: { anonymous: boolean; where: string | undefined }): SlackMessage {
  const text = input.where
    ? `🙏 Thanks! Your feedback is in ${input.where}${input.anonymous ? ', without your name' : ''}. If the platform team replies, I'll pass it on to you by DM.`
    : '🙏 Thanks! Your feedback is stored for the platform team.';
  return textMessage(text);
}
