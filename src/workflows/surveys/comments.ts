import { z } from 'zod';
import type { Deps } from '../../deps.ts';
import type { Click } from '../../domain/requests.ts';
import { readMetadata } from '../../slack/form-state.ts';
import { SURVEY } from '../../slack/ids.ts';
import { openFormAfterClick } from '../../slack/io/open-form.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { commentModal, commentThanks, surveyClosedNotice } from '../../slack/surveys/blocks.ts';
import { checkFeedbackText, platformChannelLabel, type ModalErrors } from './feedback.ts';
import { releaseProvisioningFeedback } from './post-provisioning.ts';

/** Comments on a pulse or on the question after provisioning: the modal and what happens to a submitted one. */

type SurveyDeps = Pick<Deps, 'config' | 'store' | 'slack' | 'log' | 'metrics' | 'clock'>;

/** What a comment modal is about, carried in its private_metadata. */
export type CommentTarget = { kind: 'pulse'; surveyId: number; channel: string } | { kind: 'ready'; requestId: number; channel: string };

const commentTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pulse'), surveyId: z.number().int().positive(), channel: z.string() }),
  z.object({ kind: z.literal('ready'), requestId: z.number().int().positive(), channel: z.string() }),
]);

/** The target the bot wrote into a comment modal, or undefined for anything else (forged, stale). */
export function parseCommentTarget(metadata: unknown): CommentTarget | undefined {
  return readMetadata(commentTarget, metadata);
}

/** "Add a comment": opens the modal, unless the pulse closed or the question is someone else's. */
export async function openCommentForm(deps: SurveyDeps & Pick<Deps, 'modals'>, input: Click & { triggerId: string; target: CommentTarget }): Promise<void> {
  const slack = notifier(deps);
  const where = platformChannelLabel(deps) ?? 'the platform channel';
  let question: string;
  let when: string;
  if (input.target.kind === 'pulse') {
    const survey = await deps.store.surveys.getPulse(input.target.surveyId);
    if (!survey || survey.closedAt) return void (await slack.ephemeral(input.channel, input.user, surveyClosedNotice()));
    question = survey.questions.map((q) => q.text).join(' / ');
    when = `when the pulse closes, and only if at least ${survey.minAnswers} people answered`;
  } else {
    const asked = await deps.store.surveys.provisioningQuestion(input.target.requestId);
    if (asked?.requester !== input.user) return;
    question = deps.config.survey.postProvisioning.question;
    when = 'together with the next few answers';
  }
  await openFormAfterClick(deps, input, commentModal({ question, where, when, privateMetadata: JSON.stringify(input.target) }), 'the comment form');
}

/**
 * A submitted comment: checked and stored before the modal closes; `announce` (after the ack)
 * thanks the person. A pulse comment is held until the pulse closes, then posted without a name
 * among the others in random order, and only if the pulse had enough answers (see `closePulse`);
 * one after provisioning waits for the next batch of answers (see `releaseProvisioningFeedback`).
 */
export async function submitComment(
  deps: SurveyDeps,
  input: { user: string; target: CommentTarget; text: string | undefined },
): Promise<{ errors: ModalErrors; announce?: () => Promise<void> }> {
  const errors = checkFeedbackText(input.text, SURVEY.commentText);
  if (Object.keys(errors).length > 0) return { errors };
  const text = (input.text ?? '').trim();
  const now = deps.clock.now();
  const where = platformChannelLabel(deps) ?? 'the platform channel';
  const { target } = input;
  if (target.kind === 'pulse') {
    const survey = await deps.store.surveys.getPulse(target.surveyId);
    if (!survey || survey.closedAt)
      return {
        errors: { [SURVEY.commentText]: 'This pulse has closed, so it takes no more comments. `/platform feedback` reaches the platform team any time.' },
      };
    const item = await deps.store.surveys.addFeedback({ source: 'pulse', surveyId: survey.id, text, author: input.user, anonymous: true, status: 'held', now });
    await deps.store.appendEvent({ type: 'feedback_received', at: now, data: { feedbackId: item.id, source: 'pulse', surveyId: survey.id } });
    deps.log.info({ surveyId: survey.id }, 'pulse comment received; held until the pulse closes');
    return {
      errors: {},
      announce: async () => {
        await notifier(deps).ephemeral(target.channel, input.user, commentThanks(where, false, survey.minAnswers));
      },
    };
  }
  const asked = await deps.store.surveys.provisioningQuestion(target.requestId);
  if (asked?.requester !== input.user) return { errors: { [SURVEY.commentText]: 'This question was asked to someone else.' } };
  const item = await deps.store.surveys.addFeedback({
    source: 'provisioning',
    requestId: asked.requestId,
    text,
    author: input.user,
    anonymous: true,
    status: 'held',
    now,
  });
  await deps.store.appendEvent({ type: 'feedback_received', at: now, requestId: asked.requestId, data: { feedbackId: item.id, source: 'provisioning' } });
  deps.log.info('comment after provisioning received; held for the next batch');
  return {
    errors: {},
    announce: async () => {
      await notifier(deps).dm(input.user, commentThanks(where, true, deps.config.survey.minAnswers));
      await releaseProvisioningFeedback(deps, now);
    },
  };
}
