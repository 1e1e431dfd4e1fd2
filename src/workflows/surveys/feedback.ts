import { randomInt } from 'node:crypto';
import type { Deps } from '../../deps.ts';
import { SURVEY, SURVEY_LIMITS } from '../../slack/ids.ts';
import {
  alreadyDone,
  doneModal,
  doneNotice,
  feedbackPost,
  notPlatformTeam,
  relayConfirmation,
  relayedReply,
  relayImpossible,
  type FeedbackContext,
} from '../../slack/surveys/feedback.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import type { FeedbackItem } from '../../domain/surveys.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { openFormAfterClick } from '../../slack/io/open-form.ts';
import { notifier } from '../../slack/io/notifier.ts';
import type { Click } from '../../domain/requests.ts';

/**
 * Closing the loop: feedback items (comments, ratings of 1 or 2, `/platform feedback`) each
 * become their own message in the platform channel; the platform team replies in its thread and
 * Slipway relays the reply to the author by DM; "Mark done" records what changed, tells the
 * author, and lists it in the digest. The author's id is read from the store only to send them
 * a DM, and is never logged, posted or put in a metric.
 */

/** Field errors of a survey or feedback modal, by block id (`response_action: errors`). */
export type ModalErrors = Record<string, string>;

type FeedbackDeps = Pick<Deps, 'config' | 'store' | 'slack' | 'log' | 'metrics' | 'clock'>;

/** `<#C0PLATFORM>`, or the words used when no platform channel is configured. */
export function platformChannelLabel(deps: Pick<Deps, 'config'>): string | undefined {
  const channel = deps.config.slack.platformChannel;
  return channel ? `<#${channel}>` : undefined;
}

/** The question and label an item refers to, and its author when they chose to be named. */
export async function feedbackContext(deps: Pick<Deps, 'config' | 'store'>, item: FeedbackItem): Promise<FeedbackContext> {
  const { survey } = deps.config;
  let question: string | undefined;
  let labels: readonly string[] = survey.labels;
  if (item.source === 'pulse' && item.surveyId !== undefined) {
    const questions = (await deps.store.surveys.getPulse(item.surveyId))?.questions ?? [];
    const q = questions.find((x) => x.id === item.question);
    // A comment is about the whole pulse; a rating about one of its questions.
    question = item.question === undefined ? questions.map((x) => x.text).join(' / ') || undefined : q?.text;
    labels = q?.labels ?? labels;
  } else if (item.source === 'provisioning') {
    question = survey.postProvisioning.question;
  }
  return {
    question,
    label: item.score !== undefined ? labels[item.score - 1] : undefined,
    named: item.anonymous ? undefined : await deps.store.surveys.authorOf(item.id),
  };
}

/**
 * Posts every pending item to the platform channel, each as its own message, in random order
 * (so the order says nothing about who answered when). An item is claimed before it is posted;
 * one that could not be posted is pending again and goes out with the next call (the
 * `survey-close` job calls this every run). Returns how many were posted.
 */
export async function postPendingFeedback(deps: FeedbackDeps): Promise<number> {
  const channel = deps.config.slack.platformChannel;
  const ids = await deps.store.surveys.pendingFeedback();
  if (ids.length === 0) return 0;
  if (!channel) {
    deps.log.warn({ items: ids.length }, 'feedback waits: set slack.platformChannel so it can be posted');
    return 0;
  }
  for (let i = ids.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [ids[i], ids[j]] = [ids[j] ?? 0, ids[i] ?? 0];
  }
  const slack = notifier(deps);
  let posted = 0;
  for (const id of ids) {
    if (!(await deps.store.surveys.claimFeedback(id))) continue;
    const item = await deps.store.surveys.getFeedback(id);
    if (!item) continue;
    const ts = await slack.post(channel, feedbackPost(item, await feedbackContext(deps, item)));
    if (!ts) {
      await deps.store.surveys.unclaimFeedback(id);
      continue;
    }
    await deps.store.surveys.markFeedbackPosted(id, channel, ts, deps.clock.now());
    deps.metrics.feedbackPosted.inc({ source: item.source });
    deps.log.info({ feedbackId: id, source: item.source }, 'feedback posted to the platform channel');
    posted += 1;
  }
  return posted;
}

/**
 * The relay window: `survey.feedback.relayDays` after an anonymous item was posted, its author is
 * forgotten (replies can no longer be passed on). Run by the `survey-close` job and at start-up.
 */
export async function forgetOldAuthors(deps: Pick<Deps, 'config' | 'store' | 'log'>, now: Date): Promise<number> {
  const forgotten = await deps.store.surveys.forgetAuthors(new Date(now.getTime() - deps.config.survey.feedback.relayDays * 86_400_000));
  if (forgotten > 0) deps.log.info({ items: forgotten }, 'relay window over: authors of anonymous feedback forgotten');
  return forgotten;
}

/**
 * At start-up: authors stored in plain text by an older version are sealed with the survey key,
 * authors past the relay window are forgotten, and items left half-posted by a stopped process
 * go out now.
 */
export async function resumeFeedback(deps: FeedbackDeps): Promise<void> {
  const sealed = await deps.store.surveys.sealPlainAuthors();
  if (sealed > 0) deps.log.info({ items: sealed }, 'feedback authors stored in plain text are now sealed with the survey key');
  await forgetOldAuthors(deps, deps.clock.now());
  await deps.store.surveys.resetPostingFeedback();
  await postPendingFeedback(deps);
}

/** `/platform feedback`: stores it, posts it (named or not), and says where it went. */
export async function submitFeedback(deps: FeedbackDeps, input: { user: string; text: string; anonymous: boolean }): Promise<{ where: string | undefined }> {
  const item = await deps.store.surveys.addFeedback({
    source: 'command',
    text: input.text.trim(),
    author: input.user,
    anonymous: input.anonymous,
    status: 'pending',
    now: deps.clock.now(),
  });
  await deps.store.appendEvent({
    type: 'feedback_received',
    at: deps.clock.now(),
    data: { feedbackId: item.id, source: 'command', anonymous: input.anonymous },
  });
  deps.log.info({ feedbackId: item.id, anonymous: input.anonymous }, 'feedback received');
  await postPendingFeedback(deps);
  return { where: platformChannelLabel(deps) };
}

/** Checks feedback text before a modal closes; errors show under the field. */
export function checkFeedbackText(text: string | undefined, block: string): ModalErrors {
  const trimmed = (text ?? '').trim();
  if (trimmed.length < 2) return { [block]: 'Write a few words.' };
  if (trimmed.length > SURVEY_LIMITS.comment) return { [block]: `Keep it under ${SURVEY_LIMITS.comment} characters.` };
  return {};
}

/** A message in the platform channel: if it replies in a feedback item's thread, relay it. */
export async function relayReply(deps: FeedbackDeps, message: { channel: string; threadTs: string; ts: string; user: string; text: string }): Promise<void> {
  if (message.channel !== deps.config.slack.platformChannel || message.threadTs === message.ts) return;
  const item = await deps.store.surveys.feedbackByMessage(message.channel, message.threadTs);
  if (!item) return;
  const author = await deps.store.surveys.authorOf(item.id);
  // The author answering in their own thread (named feedback): nothing to pass on.
  if (author === message.user) return;
  // Slack delivers events at least once: a reply is relayed once.
  if (!(await deps.store.surveys.recordRelay(message.channel, message.ts, item.id, deps.clock.now()))) return;
  const slack = notifier(deps);
  const tellReplier = (m: ReturnType<typeof relayConfirmation>) =>
    deps.slack.chat
      .postEphemeral({ channel: message.channel, user: message.user, thread_ts: message.threadTs, text: m.text, blocks: m.blocks })
      .catch((err: unknown) => deps.log.warn({ err, feedbackId: item.id }, 'could not confirm the relay to the replier'));
  if (!author) {
    await tellReplier(relayImpossible());
    return;
  }
  const sent = await slack.dm(author, relayedReply({ original: item.text, reply: message.text, by: message.user }));
  if (!sent) return;
  deps.log.info({ feedbackId: item.id }, 'reply relayed to the author');
  await tellReplier(relayConfirmation());
}

/** "Mark done": the platform team says what changed. Only approvers may. */
export async function openDoneForm(deps: Deps, input: Click & { token: string; triggerId: string }): Promise<void> {
  const item = await deps.store.surveys.feedbackByToken(input.token);
  const tell = (m: SlackMessage) => notifier(deps).ephemeral(input.channel, input.user, m);
  if (!item || item.text === undefined) return void (await tell(notPlatformTeam()));
  if (!(await isApprover(deps, input.user))) return void (await tell(notPlatformTeam()));
  if (item.doneAt) return void (await tell(alreadyDone(item)));
  await openFormAfterClick(deps, input, doneModal(item), 'the "Mark done" form');
}

/** Records what changed; field errors keep the modal open. */
export async function markDone(deps: Deps, input: { token: string; user: string; text: string | undefined }): Promise<ModalErrors> {
  const text = (input.text ?? '').trim();
  if (text.length < 3) return { [SURVEY.doneText]: 'Say in a few words what changed.' };
  if (text.length > SURVEY_LIMITS.doneText) return { [SURVEY.doneText]: `Keep it under ${SURVEY_LIMITS.doneText} characters.` };
  if (!(await isApprover(deps, input.user))) return { [SURVEY.doneText]: notPlatformTeam().text };
  const item = await deps.store.surveys.feedbackByToken(input.token);
  if (!item) return { [SURVEY.doneText]: 'This feedback no longer exists.' };
  if (!(await deps.store.surveys.markDone(item.id, input.user, text, deps.clock.now()))) {
    return { [SURVEY.doneText]: alreadyDone(item).text.replace(/\*/g, '') };
  }
  await deps.store.appendEvent({ type: 'feedback_done', at: deps.clock.now(), actor: input.user, data: { feedbackId: item.id, source: item.source } });
  deps.log.info({ feedbackId: item.id, by: input.user }, 'feedback marked done');
  return {};
}

/** After "done" is recorded: the post shows it, and the author hears "you said → we did". */
export async function announceDone(deps: FeedbackDeps, token: string): Promise<void> {
  const item = await deps.store.surveys.feedbackByToken(token);
  if (!item?.doneAt) return;
  const slack = notifier(deps);
  if (item.channel && item.ts) await slack.update(item.channel, item.ts, feedbackPost(item, await feedbackContext(deps, item)));
  const author = await deps.store.surveys.authorOf(item.id);
  if (author && item.text !== undefined) await slack.dm(author, doneNotice({ said: item.text, did: item.doneText ?? '', by: item.doneBy ?? '' }));
}
