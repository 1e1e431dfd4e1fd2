/**
 * The demo's Slack workspace, made from the config it runs with: the channels Slipway posts to
 * (approvals, platform, pulse, team channels) plus #general, and three people to play the story
 * (a developer, an approver, a second developer) with the bot in every channel.
 */
import type { Config } from '../config.ts';
import type { ChannelSpec, UserGroupSpec, UserSpec } from './slack-api.ts';

export interface Person {
  readonly id: string;
  readonly name: string;
  /** What the person plays in the story, shown in the person switcher. */
  readonly role: string;
}

export interface DemoWorkspace {
  readonly people: readonly Person[];
  readonly users: readonly UserSpec[];
  readonly channels: readonly ChannelSpec[];
  readonly userGroups: readonly UserGroupSpec[];
  /** Where a person starts: the channel the story begins in. */
  readonly startChannel: string;
}

export const BOT_USER = 'U0BOT';
const GENERAL = 'C0GENERAL';

/** The people and channels for `config`: the approver is the first approver the config names. */
export function demoWorkspace(config: Config): DemoWorkspace {
  const firstApprover = config.approvers.users[0] ?? 'U0ALICE';
  const people: Person[] = [
    { id: 'U0DEV', name: 'dana', role: 'developer' },
    { id: firstApprover, name: 'alice', role: 'approver' },
    { id: 'U0DEV2', name: 'sam', role: 'second developer' },
  ];
  const everyone = [BOT_USER, ...people.map((p) => p.id)];
  // Other approvers the config names exist too, so lookups of them work; nobody plays them.
  const others = config.approvers.users.filter((id) => !people.some((p) => p.id === id));
  const users: UserSpec[] = [
    ...people.map((p) => ({ id: p.id, name: p.name, realName: p.name[0]?.toUpperCase() + p.name.slice(1), tz: config.schedule.timezone })),
    ...others.map((id) => ({ id, name: id.slice(2).toLowerCase() })),
  ];
  const named = new Map<string, string>([[GENERAL, 'general']]);
  named.set(config.slack.approvalsChannel, 'platform-approvals');
  if (config.slack.platformChannel) named.set(config.slack.platformChannel, 'platform');
  config.survey.pulse.channels.forEach((id, i) => named.set(id, i === 0 ? 'developers' : `developers-${i + 1}`));
  for (const team of config.teams) if (team.channel) named.set(team.channel, `${team.name}-team`);
  const channels = [...named].map(([id, name]) => ({ id, name, members: everyone }));
  const userGroups = config.approvers.userGroups.map((id) => ({ id, handle: id.slice(1).toLowerCase(), users: [firstApprover] }));
  return { people, users, channels, userGroups, startChannel: GENERAL };
}
