import type { ChangeAspect, Config } from '../../config.ts';
import type { ExtraAccess, LifecycleRequest, NamespaceSettings } from '../../domain/lifecycle.ts';
import { requestRef, type Run } from '../../domain/requests.ts';
import type { QuotaShortfall } from '../../lib/quantity.ts';
import { CHANGE } from '../ids.ts';
import { retryActions } from '../provisioning/request-card.ts';
import { decisionActions, escape, STEP_ICON, textMessage, truncate, user, type SlackMessage } from '../text.ts';

/**
 * Changes to a namespace as people read them in the request's thread: one line per setting that
 * changes, `before → after`, and for a tier the quota values that move with it.
 */

const NONE = 'none';

/** `requests.cpu 2 → 16`, for each quota resource whose value differs between the two tiers. */
function quotaMoves(config: Config, from: string, to: string): string[] {
  const quota = (tier: string) => (Object.hasOwn(config.tiers, tier) ? (config.tiers[tier]?.quota ?? {}) : {});
  const [before, after] = [quota(from), quota(to)];
  const resources = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return resources.filter((r) => before[r] !== after[r]).map((r) => `${r} ${before[r] ?? NONE} → ${after[r] ?? NONE}`);
}

const accessOf = (list: readonly ExtraAccess[], team: string) => list.find((a) => a.team === team)?.role ?? NONE;

/** The lines of a change from `from` to `to`; empty when nothing changes. User text is escaped. */
export function changeDiff(config: Config, from: NamespaceSettings, to: NamespaceSettings): string[] {
  const lines: string[] = [];
  if (from.tier !== to.tier) {
    const moves = quotaMoves(config, from.tier, to.tier);
    lines.push(`tier ${from.tier} → ${to.tier}${moves.length > 0 ? `: ${moves.join(', ')}` : ''}`);
  }
  if (from.expiresOn !== to.expiresOn) lines.push(`end date ${from.expiresOn ?? NONE} → ${to.expiresOn ?? NONE}`);
  if (from.purpose !== to.purpose) {
    const quoted = (purpose: string) => `“${escape(truncate(purpose.replace(/\s+/g, ' '), 200))}”`;
    lines.push(`purpose ${quoted(from.purpose)} → ${quoted(to.purpose)}`);
  }
  const teams = [...new Set([...from.access, ...to.access].map((a) => a.team))].sort();
  for (const team of teams) {
    const [before, after] = [accessOf(from.access, team), accessOf(to.access, team)];
    if (before !== after) lines.push(`access for ${team} ${before} → ${after}`);
  }
  return lines;
}

/** The namespace a change is about, as its messages name it. */
export interface ChangedNamespace {
  requestId: number;
  namespace: string;
  environment: string;
}

const named = (ns: ChangedNamespace) => `\`${ns.namespace}\` (${ns.environment}, ${requestRef(ns.requestId)})`;

/** Why a change waits for an approver: the aspects `policy.change` does not let through alone. */
const ASPECT: Readonly<Record<ChangeAspect, string>> = {
  smallerTier: 'a smaller tier',
  largerTier: 'a larger tier',
  shorterExpiry: 'an earlier end date',
  longerExpiry: 'a later end date',
  purpose: 'a new purpose',
  moreAccess: 'more access for another team',
  lessAccess: 'less access for another team',
};

const bullets = (lines: readonly string[]) => lines.map((line) => `• ${line}`).join('\n');

/** In the original request's thread: a change that needs an approver, with Approve / Deny. */
export function changeRequest(
  ns: ChangedNamespace,
  input: { id: number; by: string; lines: readonly string[]; needApprover: readonly ChangeAspect[] },
): SlackMessage {
  const actions = decisionActions(`change_decision_${input.id}`, CHANGE, input.id);
  const why = input.needApprover.map((a) => ASPECT[a]).join(', ');
  return textMessage(`✏️ ${user(input.by)} asks to change ${named(ns)}:\n${bullets(input.lines)}\nAn approver decides ${why} (not the one who asked).`, [
    actions,
  ]);
}

/** To the asker and in the thread: a smaller quota that the namespace's live usage does not fit. */
export function changeRefusedForUsage(ns: ChangedNamespace, tier: string, shortfalls: readonly QuotaShortfall[]): SlackMessage {
  const lines = shortfalls.map((s) => `${s.resource}: ${s.used} in use, ${s.hard} allowed (${s.over} over)`);
  return textMessage(
    `❌ ${named(ns)} stays as it is: what runs in it uses more than the ${tier} tier allows.\n${bullets(lines)}\nFree that much first, or choose a larger tier.`,
  );
}

/** In the thread, when policy lets a change through without an approver: what is being applied. */
export function changeApplying(ns: ChangedNamespace, by: string, lines: readonly string[]): SlackMessage {
  return textMessage(`✏️ ${user(by)} is changing ${named(ns)} (policy.change needs no approver for this):\n${bullets(lines)}`);
}

/** The change request once decided: who decided, without its buttons. */
export function changeRequestDecided(ns: ChangedNamespace, ask: LifecycleRequest, lines: readonly string[]): SlackMessage {
  const by = user(ask.decidedBy ?? 'unknown');
  const verdict =
    ask.status === 'approved'
      ? `✅ Approved by ${by}`
      : ask.status === 'withdrawn'
        ? `Withdrawn: the namespace is past its end date or being deleted.`
        : `❌ Denied by ${by}`;
  const diff = lines.length > 0 ? `:\n${bullets(lines)}` : '';
  return textMessage(`✏️ ${user(ask.requestedBy)} asked to change ${named(ns)}${diff}\n${verdict}`);
}

/** To the person who asked, once the form closed: applied now, or waiting for an approver. */
export function changeAccepted(ns: ChangedNamespace, atOnce: boolean): SlackMessage {
  return atOnce
    ? textMessage(`✏️ Changing ${named(ns)} now; I will tell you when it is done. The request's thread shows each step.`)
    : textMessage(`✏️ Your change to ${named(ns)} is waiting for an approver in the request's thread. I will tell you what they decide.`);
}

/** To the person who asked, when an approver decided. */
export function changeDecisionForRequester(ns: ChangedNamespace, ask: LifecycleRequest): SlackMessage {
  return ask.status === 'approved'
    ? textMessage(`✅ ${user(ask.decidedBy ?? 'unknown')} approved your change to ${named(ns)}; it is being applied now.`)
    : textMessage(
        `❌ ${user(ask.decidedBy ?? 'unknown')} denied your change to ${named(ns)}, so it stays as it is. Ask in the request's thread if you have questions.`,
      );
}

/** The change run's progress in the thread, one line per step. */
export function changeProgress(ns: ChangedNamespace, run: Run, describe: (step: string) => string): SlackMessage {
  const lines = run.steps.map((s) => `${STEP_ICON[s.status]} ${describe(s.name)}${s.attempts > 1 ? ` (attempt ${s.attempts})` : ''}`);
  const title = run.status === 'done' ? `✏️ Changed ${named(ns)}.` : run.status === 'failed' ? `Changing ${named(ns)} stopped:` : `Changing ${named(ns)}…`;
  return textMessage(`${title}\n${lines.join('\n')}`);
}

/** In the thread and to the one who asked: the change is applied. */
export function changeApplied(ns: ChangedNamespace, lines: readonly string[]): SlackMessage {
  return textMessage(`✅ ${named(ns)} is changed:\n${bullets(lines)}`);
}

/** In the thread: the step that failed and why, with Retry for approvers. */
export function changeFailed(ns: ChangedNamespace, step: string, reason: string, run: Run): SlackMessage {
  return textMessage(
    `❌ Changing ${named(ns)}: step *${step}* failed: ${escape(reason)}\nFix the cause, then press Retry: the change continues from this step (approvers only).`,
    [retryActions(run)],
  );
}

/** To the one who asked: the change is stuck; the platform team has the details. */
export function ownerChangeFailed(ns: ChangedNamespace): SlackMessage {
  return textMessage(`⚠️ Changing ${named(ns)} hit a problem. The platform team has the details in the request's thread and can retry.`);
}

export const changeRefusals = {
  usage: (command: string) => textMessage(`Usage: \`${command} change <namespace> [cluster]\`, e.g. \`${command} change payments-dev\`.`),
  unknown: (namespace: string) =>
    textMessage(`Slipway has no live namespace named \`${escape(namespace)}\`. It changes only namespaces it created for a request.`),
  ambiguous: (namespace: string, clusters: readonly string[]) =>
    textMessage(
      `There is a \`${escape(namespace)}\` on several clusters (${clusters.map(escape).join(', ')}): add the cluster, e.g. \`change ${escape(namespace)} ${escape(clusters[0] ?? '')}\`.`,
    ),
  notAllowed: (ns: ChangedNamespace, owner: string) =>
    textMessage(`Only its owner (${user(owner)}), the one who requested it or an approver can change ${named(ns)}. Ask them, or ask in the request's thread.`),
  notActive: (ns: ChangedNamespace) => textMessage(`${named(ns)} cannot be changed now: it is past its end date or being deleted.`),
  waiting: (ns: ChangedNamespace, ask: LifecycleRequest) =>
    textMessage(`${user(ask.requestedBy)} already asked to change ${named(ns)}; an approver decides in the request's thread. Ask again once it is decided.`),
  running: (ns: ChangedNamespace) =>
    textMessage(`${named(ns)} is being changed right now; the request's thread shows how far it got. Ask again once it is done.`),
  nothing: () => 'This is how the namespace is today: change something, or close the form.',
  stale: () => 'This form is out of date. Close it and open the change form again.',
  usageUnknown: (reason: string) => `Slipway could not read what the namespace uses now, so it cannot check a smaller size: ${reason} Try again.`,
  unknownAsk: () => textMessage("I can't find that change request. It may have been removed."),
  notApprover: (ns: ChangedNamespace) => textMessage(`Only the approvers in Slipway's config can decide on a change to ${named(ns)}.`),
  ownAsk: (ns: ChangedNamespace) => textMessage(`You asked for this change to ${named(ns)} yourself, so another approver has to decide.`),
  decided: (ns: ChangedNamespace, ask: LifecycleRequest) =>
    ask.status === 'withdrawn'
      ? textMessage(`This change to ${named(ns)} has nothing left to decide: the namespace is past its end date or being deleted.`)
      : textMessage(`This change to ${named(ns)} was already ${ask.status} by ${user(ask.decidedBy ?? 'unknown')}.`),
};
