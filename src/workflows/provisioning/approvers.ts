import type { Deps } from '../../deps.ts';

/* Who may approve requests, retry runs and close feedback: approvers from config and members of Slack user groups. */

const GROUP_CACHE_MS = 5 * 60 * 1000;
const groupCache = new WeakMap<Deps['slack'], Map<string, { users: string[]; at: number }>>();

/** Whether the user is an approver: listed in config, or a member of a listed user group. */
export async function isApprover(deps: Deps, user: string): Promise<boolean> {
  const { users, userGroups } = deps.config.approvers;
  return users.includes(user) || inUserGroups(deps, userGroups, user);
}

/**
 * Whether the user is in one of these Slack user groups. Members are cached for a few minutes;
 * a group that cannot be listed counts as not containing the user.
 */
export async function inUserGroups(deps: Deps, userGroups: readonly string[], user: string): Promise<boolean> {
  let cache = groupCache.get(deps.slack);
  if (!cache) groupCache.set(deps.slack, (cache = new Map()));
  for (const group of userGroups) {
    const now = deps.clock.now().getTime();
    let entry = cache.get(group);
    if (!entry || now - entry.at > GROUP_CACHE_MS) {
      try {
        const res = await deps.slack.usergroups.users.list({ usergroup: group });
        entry = { users: res.users ?? [], at: now };
        cache.set(group, entry);
      } catch (err) {
        deps.log.warn({ err, group }, 'could not list user group members');
        continue;
      }
    }
    if (entry.users.includes(user)) return true;
  }
  return false;
}
