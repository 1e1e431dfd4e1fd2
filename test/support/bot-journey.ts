import type { SlackApiEmulator, SlackApiEmulatorOptions } from '../../src/playground/slack-api.ts';
import { sendBlockAction, sendSlashCommand, sendViewSubmission, valuesFor } from '../../src/playground/slack-requests.ts';
import { ACTION, BLOCK } from '../../src/slack/ids.ts';
import type { BotProcess } from './bot-process.ts';
import { APPROVALS, DEV_CHANNEL, PEOPLE, PLATFORM, SIGNING_SECRET } from './harness.ts';
import { waitFor } from './wait.ts';

/** The workspace bots started as processes talk to: the approvals, platform and developer channels. */
export const BOT_WORKSPACE: SlackApiEmulatorOptions = {
  channels: [
    { id: APPROVALS, name: 'platform-approvals', members: ['U0BOT', PEOPLE.alice, PEOPLE.dev] },
    { id: PLATFORM, name: 'platform', members: ['U0BOT', PEOPLE.alice] },
    { id: DEV_CHANNEL, name: 'payments-dev', members: [PEOPLE.dev] },
  ],
  users: [PEOPLE.dev, PEOPLE.alice].map((id) => ({ id, name: id.toLowerCase() })),
  userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [] }],
};

/** A bot in its own process, started cold, takes longer to answer than one inside the test. */
export const waitForBot = <T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000) =>
  waitFor(what, check, timeoutMs);

/** Requests payments-staging as the developer through `bot` and approves it as Alice. */
export async function requestAndApprove(slack: SlackApiEmulator, bot: BotProcess): Promise<void> {
  await sendSlashCommand(bot.baseUrl, SIGNING_SECRET, {
    text: 'new-namespace',
    userId: PEOPLE.dev,
    channelId: DEV_CHANNEL,
    triggerId: slack.issueTriggerId(PEOPLE.dev),
  });
  const view = await waitForBot('the form', () => slack.views[0]?.view);
  const values = valuesFor(view, {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: 'staging',
    [BLOCK.cluster]: 'dev-eu',
    [BLOCK.tier]: 'medium',
    [BLOCK.purpose]: 'Survives restarts',
  });
  await sendViewSubmission(bot.baseUrl, SIGNING_SECRET, { view, values, userId: PEOPLE.dev });
  const card = await waitForBot('the card', () => slack.messages(APPROVALS)[0]);
  await sendBlockAction(bot.baseUrl, SIGNING_SECRET, {
    userId: PEOPLE.alice,
    message: card,
    actionId: ACTION.approve,
    triggerId: slack.issueTriggerId(PEOPLE.alice),
  });
}

/** The developer's "namespace ready" DMs. */
export const readyDms = (slack: SlackApiEmulator) => slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('🎉'));
