import type { ActionsBlock, Button } from '@slack/types';
import { requestRef } from '../../domain/requests.ts';
import { HOME, LIFECYCLE } from '../ids.ts';
import { escape, plain, plural, textMessage, user, type SlackMessage } from '../text.ts';

/**
 * The messages of a namespace's end: reminders before its end date, the final notice on it, and
 * what the approvers read when a protected namespace's grace period is over. Pure: the workflow
 * (src/workflows/lifecycle/expiry.ts) passes what they show.
 */

/** A namespace as these messages name it. */
export interface EndingNamespace {
  requestId: number;
  namespace: string;
  clusterName: string;
  environment: string;
  owner: string;
  /** YYYY-MM-DD, the last day. */
  expiresOn: string;
}

/** What an Extend button carries: the end date its message was about, so a stale click does nothing. */
export interface ExtendValue {
  requestId: number;
  days: number;
  from: string;
}

const DAY_LABEL = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' });

/** `Tue Oct 27` for `2026-10-27`. */
export function dayLabel(date: string): string {
  const p: Record<string, string> = {};
  for (const part of DAY_LABEL.formatToParts(new Date(`${date}T00:00:00Z`))) p[part.type] = part.value;
  return `${p.weekday} ${p.month} ${p.day}`;
}

const extendButton = (ns: EndingNamespace, days: number): Button => ({
  type: 'button',
  action_id: `${LIFECYCLE.extend}_${days}`,
  text: plain(`Extend ${plural(days, 'day')}`),
  value: JSON.stringify({ requestId: ns.requestId, days, from: ns.expiresOn } satisfies ExtendValue),
});

const deleteButton = (ns: EndingNamespace, label: string): Button => ({
  type: 'button',
  action_id: HOME.delete,
  text: plain(label),
  style: 'danger',
  value: String(ns.requestId),
});

/** The buttons of a reminder or notice: extend by each of `days`, and delete now when offered. */
export function endActions(ns: EndingNamespace, days: readonly number[], withDelete: string | undefined): ActionsBlock {
  return {
    type: 'actions',
    block_id: `namespace_end_${ns.requestId}`,
    elements: [...days.map((d) => extendButton(ns, d)), ...(withDelete ? [deleteButton(ns, withDelete)] : [])],
  };
}

/** The days offered on reminders and notices. */
export const EXTEND_CHOICES = [7, 30] as const;

const where = (ns: EndingNamespace) => `\`${ns.namespace}\` on *${escape(ns.clusterName)}* (${ns.environment}, ${requestRef(ns.requestId)})`;

/** Said to the team channel and the approvers when the owner has left the workspace. */
const ownerLeftLine = (ns: EndingNamespace) =>
  `${user(ns.owner)}, who owns it, has left the workspace: an approver can hand it over with \`/platform transfer ${ns.namespace} @person\`.`;

/** Before the end date: to the owner, or (`ownerLeft`) to the team's channel and the approvers. */
export function expiryReminder(ns: EndingNamespace, daysLeft: number, ownerLeft: boolean): SlackMessage {
  const when = daysLeft === 1 ? 'tomorrow' : `in ${plural(daysLeft, 'day')}`;
  const subject = ownerLeft ? 'The namespace' : 'Your namespace';
  const lines = [
    `⏳ ${subject} ${where(ns)} reaches its end date ${when}, on ${dayLabel(ns.expiresOn)}.`,
    ...(ownerLeft ? [ownerLeftLine(ns)] : []),
    'Still using it? Extend it. Done with it? Delete it now and give its quota back.',
  ];
  return textMessage(lines.join('\n'), [endActions(ns, EXTEND_CHOICES, 'Delete now')]);
}

/**
 * On the end date (`today`, local; a later day after a downtime). `deleteAt` is when the grace
 * period ends (local time, for people); in a protected environment nothing is deleted then
 * without an approver.
 */
export function finalNotice(ns: EndingNamespace, deleteAt: string, isProtected: boolean, ownerLeft: boolean, today: string): SlackMessage {
  const subject = ownerLeft ? 'The namespace' : 'Your namespace';
  const next = isProtected
    ? `${ns.environment} is protected: after ${deleteAt} the platform team decides whether to delete it.`
    : `It will be deleted after ${deleteAt} unless it is extended.`;
  // Late after a downtime, the end date is not today: the notice says which day it was.
  const when = today === ns.expiresOn ? `today (${dayLabel(ns.expiresOn)})` : `on ${dayLabel(ns.expiresOn)}`;
  const lines = [`⌛ ${subject} ${where(ns)} reached its end date ${when}.`, next, ...(ownerLeft ? [ownerLeftLine(ns)] : [])];
  return textMessage(lines.join('\n'), [endActions(ns, EXTEND_CHOICES, undefined)]);
}

/** In the request's thread: a protected namespace's grace period is over; an approver decides. */
export function protectedGraceOver(ns: EndingNamespace): SlackMessage {
  return textMessage(
    `⌛ ${where(ns)}, owned by ${user(ns.owner)}, passed its end date (${dayLabel(ns.expiresOn)}) and its grace period is over. ${ns.environment} is protected, so Slipway does not delete it on its own: an approver deletes it or extends it.`,
    [endActions(ns, EXTEND_CHOICES, 'Delete')],
  );
}
