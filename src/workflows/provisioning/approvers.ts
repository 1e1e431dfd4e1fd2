import type { Config } from '../../config.ts';
import type { Deps } from '../../deps.ts';

/*
 * Who may approve requests, retry runs and close feedback: approvers from config and members of
 * Slack user groups. The members come from deps.userGroups (src/slack/io/user-groups.ts), which
 * keeps the groups below in memory and fresh, so a check on the way to an ack does not wait on Slack.
 */

/** Every user group the bot authorizes people against: the approvers' and the teams'. */
export function authorizingGroups(config: Config): string[] {
  const teams = config.teams.flatMap((team) => (team.slackUserGroup ? [team.slackUserGroup] : []));
  return [...new Set([...config.approvers.userGroups, ...teams])];
}

/** Lists the authorizing user groups now and keeps them fresh until `deps.userGroups.stop()`. */
export function watchAuthorizingGroups(deps: Deps): Promise<void> {
  return deps.userGroups.watch(authorizingGroups(deps.config));
}

/**
 * Whether the user is an approver: listed in config, or a member of a listed user group.
 * Undefined when that depends on a group Slack could not list just now.
 */
export async function approverStatus(deps: Deps, user: string): Promise<boolean | undefined> {
  const { users, userGroups } = deps.config.approvers;
  return users.includes(user) || memberOf(deps, userGroups, user);
}

/** Whether the user is an approver; a membership that could not be checked counts as no. */
export async function isApprover(deps: Deps, user: string): Promise<boolean> {
  return (await approverStatus(deps, user)) === true;
}

/**
 * Whether the user is in one of these Slack user groups: true as soon as one group has them,
 * undefined when none has them but a group's members could not be listed.
 */
export async function memberOf(deps: Deps, userGroups: readonly string[], user: string): Promise<boolean | undefined> {
  const lists = await Promise.all(userGroups.map((group) => deps.userGroups.members(group)));
  if (lists.some((members) => members?.includes(user))) return true;
  return lists.includes(undefined) ? undefined : false;
}

/** Whether the user is in one of these Slack user groups; a group that could not be listed counts as not containing them. */
export async function inUserGroups(deps: Deps, userGroups: readonly string[], user: string): Promise<boolean> {
  return (await memberOf(deps, userGroups, user)) === true;
}
