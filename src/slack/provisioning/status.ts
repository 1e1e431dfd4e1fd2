import type { KnownBlock } from '@slack/types';
import { requestRef, type NamespaceRequest, type Run } from '../../domain/requests.ts';
import { decisionLine } from './request-card.ts';
import type { SlackMessage } from '../usage.ts';
import { STEP_ICON, context, escape, section, truncate, user, textMessage } from '../text.ts';

/** A request's state in a few words, as `/platform status` and the Home tab say it. */
export const STATUS_WORD = {
  pending: '⏳ waiting for approval',
  approved: '⚙️ provisioning',
  denied: '❌ denied',
  ready: '✅ ready',
  failed: '⚠️ provisioning failed',
} as const;

/** `/platform status …`: the request, its decision and each step of its latest run. */
export function statusMessage(request: NamespaceRequest, clusterName: string, run: Run | undefined): SlackMessage {
  const ref = requestRef(request.id);
  const summary =
    `*${ref}* · namespace \`${request.namespace}\` on ${escape(clusterName)} · ${STATUS_WORD[request.status]}\n` +
    `Requested by ${user(request.requester)} for ${request.team} (${request.environment}, ${request.tier}) on ${request.createdAt.slice(0, 16).replace('T', ' ')} UTC`;
  const blocks: KnownBlock[] = [section(summary)];
  if (request.status !== 'pending') blocks.push(context(decisionLine(request)));
  if (run) {
    const lines = run.steps.map((s) => {
      const attempts = s.attempts === 1 ? '1 attempt' : `${s.attempts} attempts`;
      const error = s.lastError && s.status !== 'done' ? `\n      last error: ${escape(truncate(s.lastError, 300))}` : '';
      return `${STEP_ICON[s.status]} *${s.name}*: ${s.status}, ${attempts}${error}`;
    });
    blocks.push(section(`*Run ${run.id}* (${run.status})\n${lines.join('\n')}`));
  }
  return { text: summary, blocks };
}

/** `/platform status …` for someone who is not the requester, on the team or an approver. */
export function statusSummary(request: NamespaceRequest): SlackMessage {
  const summary = `*${requestRef(request.id)}* · namespace \`${request.namespace}\` · ${STATUS_WORD[request.status]}`;
  return {
    text: summary,
    blocks: [section(summary), context('The requester, their team and the approvers see the details.')],
  };
}

export function statusNotFound(query: string): SlackMessage {
  const text = query
    ? `I found no request or namespace called \`${escape(query)}\`. Use a request id like \`R-12\` or a namespace name.`
    : 'Which request? Try `/platform status R-12` or `/platform status <namespace>`.';
  return textMessage(text);
}

export function statusFailed(): SlackMessage {
  const text = 'Sorry, I could not look that request up. Please try again.';
  return textMessage(text);
}
