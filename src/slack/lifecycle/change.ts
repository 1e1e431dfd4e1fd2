import type { ActionsBlock } from '@slack/types';
import type { ChangeAspect, Config } from '../../config.ts';
import type { ExtraAccess, NamespaceSettings } from '../../domain/lifecycle.ts';
import { requestRef } from '../../domain/requests.ts';
import type { QuotaShortfall } from '../../lib/quantity.ts';
import { CHANGE } from '../ids.ts';
import { escape, plain, textMessage, truncate, user, type SlackMessage } from '../text.ts';

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
  const actions: ActionsBlock = {
    type: 'actions',
    block_id: `change_decision_${input.id}`,
    elements: [
      { type: 'button', action_id: CHANGE.approve, text: plain('Approve'), style: 'primary', value: String(input.id) },
      { type: 'button', action_id: CHANGE.deny, text: plain('Deny'), style: 'danger', value: String(input.id) },
    ],
  };
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
