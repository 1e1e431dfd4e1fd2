import type { ChatPostMessageResponse } from '@slack/web-api';
import type { Click, NamespaceRequest } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { answerConfirmation, parseReadyValue, provisioningQuestionBlocks, provisioningReminder } from '../../slack/surveys/blocks.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import { escape, mrkdwn } from '../../slack/text.ts';
import type { RequestTiming } from '../../domain/surveys.ts';
import { DAY_MS, formatLocal, weekContaining } from '../../lib/calendar.ts';
import { postPendingFeedback } from './feedback.ts';
import { notifier } from '../../slack/io/notifier.ts';

/**
 * The one question after provisioning: "How easy was that?" under the "ready" DM, stored with
 * the request so the digest can relate it to time to ready and approval wait. Not annoying: at
 * most once per `cooldownDays` per person, never to someone who muted surveys or answered a
 * survey this week, and at most one reminder.
 */

/** Reminders are not sent for questions older than this (the bot was down a long time). */
const REMINDER_HORIZON_MS = 7 * DAY_MS;

type SurveyDeps = Pick<Deps, 'config' | 'store' | 'slack' | 'log' | 'metrics' | 'clock'>;

/**
 * How a request went, from its events (as docs/metrics.md defines time to ready and approval
 * wait), recorded with the question so the digest relates answers to it without a join.
 */
export async function requestTiming(deps: Pick<Deps, 'store'>, requestId: number): Promise<RequestTiming> {
  const events = await deps.store.eventsFor(requestId);
  const at = (type: string) => {
    const e = events.find((x) => x.type === type);
    return e ? Date.parse(e.at) : undefined;
  };
  const submitted = at('request_submitted');
  const ready = at('namespace_ready');
  const approval = events.filter((e) => e.type === 'request_approved').at(-1);
  const selfServe = approval?.data.auto === true;
  const approvedAt = approval ? Date.parse(approval.at) : undefined;
  return {
    readyMs: submitted !== undefined && ready !== undefined ? ready - submitted : undefined,
    approvalWaitMs: !selfServe && submitted !== undefined && approvedAt !== undefined ? approvedAt - submitted : undefined,
    selfServe,
  };
}

/** Whether the person answered this week's pulse or a question after provisioning within 7 days. */
export async function answeredThisWeek(deps: Pick<Deps, 'config' | 'store'>, user: string, now: Date): Promise<boolean> {
  const pulse = await deps.store.surveys.pulseForWeek(weekContaining(now, deps.config.schedule.timezone).monday);
  if (pulse && (await deps.store.surveys.answeredPulse(pulse.id, user))) return true;
  return await deps.store.surveys.answeredProvisioningSince(user, new Date(now.getTime() - 7 * DAY_MS));
}

/**
 * The ready DM, with the question added when the requester may be asked; `delivered` records
 * where it went once the DM is sent. The question is claimed in the database first, so two
 * namespaces ready at the same moment ask once. Never throws: a problem here costs the
 * question, not the ready message.
 */
export async function withProvisioningQuestion(
  deps: SurveyDeps,
  request: NamespaceRequest,
  message: SlackMessage,
): Promise<{ message: SlackMessage; delivered(sent: ChatPostMessageResponse): void }> {
  const none = { message, delivered: () => undefined };
  try {
    const settings = deps.config.survey.postProvisioning;
    const now = deps.clock.now();
    if (!settings.enabled || (await deps.store.surveys.isMuted(request.requester))) return none;
    // Someone who answered a survey this week is not asked again that week.
    if (await answeredThisWeek(deps, request.requester, now)) return none;
    const claim = await deps.store.surveys.claimProvisioningQuestion({
      requestId: request.id,
      requester: request.requester,
      since: new Date(now.getTime() - settings.cooldownDays * DAY_MS),
      now,
      timing: await requestTiming(deps, request.id),
    });
    if (claim.outcome === 'already-asked' || claim.outcome === 'cooldown') return none;
    const blocks = provisioningQuestionBlocks({ requestId: request.id, question: settings.question, labels: deps.config.survey.labels });
    return {
      message: { text: message.text, blocks: [...message.blocks, ...blocks] },
      delivered: async (sent) => {
        if (sent.channel && sent.ts) await deps.store.surveys.setProvisioningMessage(request.id, sent.channel, sent.ts);
        deps.log.info({ requestId: request.id }, 'asked the question after provisioning');
      },
    };
  } catch (err) {
    deps.log.warn({ err, requestId: request.id }, 'could not prepare the question after provisioning');
    return none;
  }
}

/** A click on the question's scale: only the requester may answer; they can change it. */
export async function answerProvisioning(deps: SurveyDeps, click: Click & { value: string | undefined }): Promise<void> {
  const slack = notifier(deps);
  const parsed = parseReadyValue(click.value);
  const asked = parsed && (await deps.store.surveys.provisioningQuestion(parsed.requestId));
  if (!parsed || !asked || asked.requester !== click.user) {
    const text = 'This question was asked to someone else, so your click was not counted.';
    return void (await slack.ephemeral(click.channel, click.user, { text, blocks: [{ type: 'section', text: mrkdwn(escape(text)) }] }));
  }
  const now = deps.clock.now();
  const tz = deps.config.schedule.timezone;
  const week = weekContaining(now, tz);
  const labels = deps.config.survey.labels;
  const { previous, locked } = await deps.store.surveys.recordProvisioningAnswer({
    requestId: asked.requestId,
    author: click.user,
    score: parsed.score,
    now,
    changeableFrom: week.start,
  });
  if (locked) {
    const text = `Your answer (${previous ?? '?'} · ${labels[(previous ?? 1) - 1] ?? ''}) is already counted in a weekly report, so it stays as it is. Thanks for it!`;
    return void (await slack.ephemeral(click.channel, click.user, { text, blocks: [{ type: 'section', text: mrkdwn(escape(text)) }] }));
  }
  deps.metrics.surveyAnswers.inc({ survey: 'post_provisioning' });
  await deps.store.appendEvent({
    type: 'survey_answered',
    at: now,
    requestId: asked.requestId,
    data: { survey: 'post_provisioning', score: parsed.score, changed: previous !== undefined },
  });
  deps.log.info('answer after provisioning recorded');
  // Changeable until its week is over: from then on it is in a weekly report.
  const until = `before ${formatLocal(week.end, tz).replace(/ \d{4},/, ',')}`;
  await slack.ephemeral(
    click.channel,
    click.user,
    answerConfirmation({ question: deps.config.survey.postProvisioning.question, score: parsed.score, label: labels[parsed.score - 1] ?? '', previous, until }),
  );
  await releaseProvisioningFeedback(deps, now);
}

/**
 * Low ratings and comments after provisioning go to the platform channel in batches: only once
 * `survey.minAnswers` answers have come in since the last batch, in random order, so none can be
 * matched to the namespace that just became ready. Returns how many items were released.
 */
export async function releaseProvisioningFeedback(deps: SurveyDeps, now: Date): Promise<number> {
  const released = await deps.store.surveys.releaseProvisioningBatch(deps.config.survey.minAnswers, now);
  if (released.length > 0) {
    deps.log.info({ items: released.length }, 'feedback after provisioning released');
    await postPendingFeedback(deps);
  }
  return released.length;
}

/**
 * The `survey-remind` job: the one reminder for questions unanswered after
 * `reminderAfterHours`. Someone who muted surveys or answered a survey this week is not
 * reminded; their reminder is used up all the same.
 */
export async function sendReminders(deps: SurveyDeps, now: Date): Promise<string> {
  const settings = deps.config.survey.postProvisioning;
  if (!settings.enabled || settings.reminderAfterHours === false) return 'reminders are off';
  const due = await deps.store.surveys.dueReminders(new Date(now.getTime() - settings.reminderAfterHours * 3_600_000));
  let sent = 0;
  let skipped = 0;
  for (const q of due) {
    if (!(await deps.store.surveys.markReminded(q.requestId, now))) continue;
    const stale = now.getTime() - Date.parse(q.askedAt) > REMINDER_HORIZON_MS;
    if (stale || (await deps.store.surveys.isMuted(q.requester)) || (await answeredThisWeek(deps, q.requester, now))) {
      skipped += 1;
      continue;
    }
    const message = provisioningReminder({ requestId: q.requestId, namespace: q.namespace, question: settings.question, labels: deps.config.survey.labels });
    if (await notifier(deps).dm(q.requester, message)) sent += 1;
  }
  if (sent > 0) deps.log.info({ reminders: sent }, 'reminders sent');
  return `${sent} reminder(s) sent${skipped > 0 ? `, ${skipped} not needed (muted, answered this week, or too old)` : ''}`;
}
