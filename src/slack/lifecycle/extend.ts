import { requestRef } from '../../domain/requests.ts';
import { LIFECYCLE } from '../ids.ts';
import { decisionActions, plural, textMessage, user, type SlackMessage } from '../text.ts';
import { dayLabel, type EndingNamespace } from './reminders.ts';

/**
 * Extensions: what the clicker, the owner and the approvers read. An extension within
 * `lifecycle.extend` happens at once; beyond `maxDays` it is a request in the original request's
 * thread with Approve / Deny; past `maxLifetimeDays` it is refused with the reason.
 */

const named = (ns: EndingNamespace) => `\`${ns.namespace}\` (${ns.environment}, ${requestRef(ns.requestId)})`;

/** The limits of `lifecycle.extend` for the namespace's environment. */
export interface ExtendLimits {
  maxDays: number;
  maxLifetimeDays: number;
}

/** In place of the message whose Extend was clicked, and to the owner when someone else extended it. */
export function extended(ns: EndingNamespace, from: string, by: string, approvedBy?: string): SlackMessage {
  const how = approvedBy ? `, approved by ${user(approvedBy)}` : '';
  return textMessage(`✅ ${named(ns)} now ends on ${dayLabel(ns.expiresOn)} instead of ${dayLabel(from)}: extended by ${user(by)}${how}.`);
}

/** In the original request's thread: an extension beyond what an owner may add alone. */
export function extensionRequest(ns: EndingNamespace, input: { id: number; by: string; to: string; days: number; limits: ExtendLimits }): SlackMessage {
  const actions = decisionActions(`extension_decision_${input.id}`, { approve: LIFECYCLE.extensionApprove, deny: LIFECYCLE.extensionDeny }, input.id);
  return textMessage(
    `🕒 ${user(input.by)} asks to extend ${named(ns)} by ${plural(input.days, 'day')}, to ${dayLabel(input.to)} (it ends on ${dayLabel(ns.expiresOn)} now). In ${ns.environment} an owner may add ${plural(input.limits.maxDays, 'day')} at a time without an approver.`,
    [actions],
  );
}

/** The extension request once decided (its buttons gone), and what the requester hears. */
export function extensionDecided(ns: EndingNamespace, input: { by: string; to: string; approved: boolean; requestedBy: string }): SlackMessage {
  return textMessage(
    input.approved
      ? `✅ ${user(input.by)} approved the extension of ${named(ns)} asked by ${user(input.requestedBy)}: it now ends on ${dayLabel(input.to)}.`
      : `❌ ${user(input.by)} denied the extension of ${named(ns)} to ${dayLabel(input.to)} asked by ${user(input.requestedBy)}; it still ends on ${dayLabel(ns.expiresOn)}.`,
  );
}

/** To the clicker, when the extension went to the approvers. */
export function extensionAsked(ns: EndingNamespace, input: { to: string; approvalsChannel: string; limits: ExtendLimits }): SlackMessage {
  return textMessage(
    `🕒 Extending ${named(ns)} to ${dayLabel(input.to)} is more than the ${plural(input.limits.maxDays, 'day')} an owner may add at a time in ${ns.environment}, so I asked the platform team in <#${input.approvalsChannel}> (in the request's thread). You will hear from me when they decide.`,
  );
}

/** Why an Extend click changed nothing, said to the clicker only. */
export const extendRefusals = {
  unknown: () => textMessage("I can't find that namespace. It may have been deleted."),
  gone: (ns: EndingNamespace) => textMessage(`${named(ns)} is deleted or being deleted, so there is nothing to extend.`),
  noEnd: (ns: EndingNamespace) => textMessage(`${named(ns)} has no end date, so there is nothing to extend.`),
  notAllowed: (ns: EndingNamespace) => textMessage(`Only ${user(ns.owner)}, who owns ${named(ns)}, or an approver can extend it.`),
  stale: (ns: EndingNamespace) => textMessage(`${named(ns)} was extended already: it ends on ${dayLabel(ns.expiresOn)} now. Nothing changed.`),
  pastLifetime: (ns: EndingNamespace, input: { to: string; lastDay: string; limits: ExtendLimits }) =>
    textMessage(
      `❌ ${named(ns)} can't be extended to ${dayLabel(input.to)}: a namespace in ${ns.environment} lives at most ${plural(input.limits.maxLifetimeDays, 'day')}, so its last possible day is ${dayLabel(input.lastDay)}. Request a new namespace if you need one for longer.`,
    ),
  alreadyAsked: (ns: EndingNamespace, to: string) =>
    textMessage(`An extension of ${named(ns)} to ${dayLabel(to)} is already waiting for the platform team. Nothing changed.`),
};

/** Why a click on Approve / Deny of an extension changed nothing. */
export const extensionDecisionRefusals = {
  unknown: () => textMessage("I can't find that extension request."),
  notApprover: () => textMessage("Only the approvers in Slipway's config can decide on extensions."),
  own: () => textMessage("You can't decide on an extension you asked for; another approver has to."),
  decided: (by: string | undefined, status: string) => textMessage(`That extension was already ${status}${by ? ` by ${user(by)}` : ''}. Nothing changed.`),
};
