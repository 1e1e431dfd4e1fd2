import type { Config } from '../../config.ts';
import type { ExtraAccess, NamespaceSettings } from '../../domain/lifecycle.ts';
import { escape, truncate } from '../text.ts';

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
