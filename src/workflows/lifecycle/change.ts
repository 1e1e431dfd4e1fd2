import type { V1LimitRange, V1Namespace, V1ResourceQuota, V1RoleBinding } from '@kubernetes/client-node';
import { accessBindingName, buildAccessBindings, buildGoldenPath } from '../../cluster/manifests.ts';
import type { ChangeAspect, Config } from '../../config.ts';
import type { ExtraAccess, NamespaceSettings } from '../../domain/lifecycle.ts';
import type { NamespaceRequest } from '../../domain/requests.ts';
import { parseQuantity } from '../../lib/quantity.ts';

/**
 * Changing a namespace (`/platform change`, *Change* on Home): its tier, end date, purpose and
 * extra team access. What a change does is split into aspects (`ChangeAspect`); `policy.change`
 * says which of them need nobody, and any other needs an approver who is not the one who asked.
 */

// ---------------------------------------------------------------------------------------------
// Policy: what a change does, and who decides it
// ---------------------------------------------------------------------------------------------

/**
 * Whether `to` grows anything over `from`: a quota or a per-container maximum that is higher, or
 * one that `to` leaves out (no limit). A tier that grows nothing is smaller, even where it keeps
 * values; a value that is not a quantity counts as growing, so it is never waved through.
 */
export function tierDirection(config: Config, from: string, to: string): 'same' | 'smaller' | 'larger' {
  if (from === to) return 'same';
  const before = Object.hasOwn(config.tiers, from) ? config.tiers[from] : undefined;
  const after = Object.hasOwn(config.tiers, to) ? config.tiers[to] : undefined;
  if (!before || !after) return 'larger';
  const grows = (old: Readonly<Record<string, string>> | undefined, next: Readonly<Record<string, string>> | undefined) =>
    Object.entries(old ?? {}).some(([resource, value]) => {
      const now = next?.[resource];
      if (now === undefined) return true;
      const [a, b] = [parseQuantity(value), parseQuantity(now)];
      return !a || !b || b.value > a.value;
    });
  return grows(before.quota, after.quota) || grows(before.limits.max, after.limits.max) ? 'larger' : 'smaller';
}

/** How an end date moves: none is the latest of all. */
function expiryDirection(from: string | undefined, to: string | undefined): 'same' | 'shorter' | 'longer' {
  if (from === to) return 'same';
  if (to === undefined) return 'longer';
  if (from === undefined) return 'shorter';
  return to < from ? 'shorter' : 'longer';
}

const RANK: Readonly<Record<ExtraAccess['role'], number>> = { view: 1, edit: 2 };

/** Another team's access, team by team: given or widened, taken back or narrowed. */
function accessDirections(from: readonly ExtraAccess[], to: readonly ExtraAccess[]): { more: boolean; less: boolean } {
  const rank = (list: readonly ExtraAccess[], team: string) => {
    const access = list.find((a) => a.team === team);
    return access ? RANK[access.role] : 0;
  };
  const teams = new Set([...from, ...to].map((a) => a.team));
  let more = false;
  let less = false;
  for (const team of teams) {
    const [before, after] = [rank(from, team), rank(to, team)];
    if (after > before) more = true;
    if (after < before) less = true;
  }
  return { more, less };
}

/** Everything `to` changes about a namespace whose settings are `from`, in a stable order. */
export function changeAspects(config: Config, from: NamespaceSettings, to: NamespaceSettings): ChangeAspect[] {
  const aspects: ChangeAspect[] = [];
  const tier = tierDirection(config, from.tier, to.tier);
  if (tier !== 'same') aspects.push(tier === 'smaller' ? 'smallerTier' : 'largerTier');
  const expiry = expiryDirection(from.expiresOn, to.expiresOn);
  if (expiry !== 'same') aspects.push(expiry === 'shorter' ? 'shorterExpiry' : 'longerExpiry');
  if (from.purpose !== to.purpose) aspects.push('purpose');
  const access = accessDirections(from.access, to.access);
  if (access.more) aspects.push('moreAccess');
  if (access.less) aspects.push('lessAccess');
  return aspects;
}

export interface ChangeDecision {
  /** What the change does; empty when it changes nothing. */
  aspects: ChangeAspect[];
  /** The aspects that `policy.change` does not let through alone: an approver decides these. */
  needApprover: ChangeAspect[];
}

/**
 * What `policy.change` says of a change. Being an approver does not let one's own change through:
 * the requester never approves their own, so a change that needs an approver waits for another.
 */
export function decideChange(config: Config, from: NamespaceSettings, to: NamespaceSettings): ChangeDecision {
  const aspects = changeAspects(config, from, to);
  const allowed = new Set(config.policy.change.withoutApprover);
  return { aspects, needApprover: aspects.filter((a) => !allowed.has(a)) };
}

/** Whether `user` may decide a change that `requestedBy` asked for: an approver, and not the asker. */
export function mayDecideChange(user: string, requestedBy: string, isApprover: boolean): boolean {
  return isApprover && user !== requestedBy;
}

// ---------------------------------------------------------------------------------------------
// Plan: the objects a change touches
// ---------------------------------------------------------------------------------------------

/** What applying a change does on the cluster; an object that does not change is not in it. */
export interface ChangePlan {
  /** The quota to be, when any of its values goes down or appears: live usage must fit it first. */
  checkQuota: Record<string, string> | undefined;
  /** Applied with server-side apply, as the golden path renders them with the new settings. */
  namespace: V1Namespace | undefined;
  quota: V1ResourceQuota | undefined;
  limitRange: V1LimitRange | undefined;
  /**
   * RoleBindings deleted: access taken back, and access whose role changes, since a binding's
   * roleRef cannot be changed in place (the API server refuses it) and is made again.
   */
  deleteBindings: string[];
  /** RoleBindings applied: access given, or made again with its new role. */
  applyBindings: V1RoleBinding[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The objects that differ between the namespace rendered with `from` and with `to`. */
export function planChange(config: Config, request: NamespaceRequest, from: NamespaceSettings, to: NamespaceSettings): ChangePlan {
  const render = (settings: NamespaceSettings) =>
    buildGoldenPath(config, {
      namespace: request.namespace,
      team: request.team,
      environment: request.environment,
      tier: settings.tier,
      requestId: request.id,
      requester: request.requester,
      purpose: settings.purpose,
      expiresOn: settings.expiresOn,
    });
  const [before, after] = [render(from), render(to)];
  const hardBefore = before.quota.spec?.hard ?? {};
  const hardAfter = after.quota.spec?.hard ?? {};
  const lowers = Object.entries(hardAfter).some(([resource, value]) => {
    const [old, next] = [hardBefore[resource], parseQuantity(value)];
    const previous = old === undefined ? undefined : parseQuantity(old);
    return !previous || !next || next.value < previous.value;
  });

  const roleOf = (list: readonly ExtraAccess[], team: string) => list.find((a) => a.team === team)?.role;
  const gone = from.access.filter((a) => roleOf(to.access, a.team) !== a.role).map((a) => accessBindingName(a.team));
  const fresh = to.access.filter((a) => roleOf(from.access, a.team) !== a.role);
  return {
    checkQuota: lowers ? { ...hardAfter } : undefined,
    namespace: same(before.namespace, after.namespace) ? undefined : after.namespace,
    quota: same(before.quota, after.quota) ? undefined : after.quota,
    limitRange: same(before.limitRange, after.limitRange) ? undefined : after.limitRange,
    deleteBindings: gone,
    applyBindings: buildAccessBindings(config, request.namespace, request.team, fresh),
  };
}
