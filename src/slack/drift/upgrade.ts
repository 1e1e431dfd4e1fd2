import type { UpgradeCounts } from '../../domain/drift.ts';
import { DRIFT } from '../ids.ts';
import { escape, plural, section, textMessage, truncate, user, type SlackMessage } from '../text.ts';
import { button } from './report.ts';

interface UpgradeView {
  cluster: string;
  status: 'running' | 'failed' | 'done';
  startedBy: string;
  concurrency: number;
  counts: UpgradeCounts;
}

const total = (c: UpgradeCounts) => c.pending + c.running + c.done + c.failed;

/** The thread's first message: what the upgrade does and how far it is, redrawn as it goes. */
export function upgradeProgress(u: UpgradeView): SlackMessage {
  const n = total(u.counts);
  const what = `${plural(n, 'outdated namespace')} on ${escape(u.cluster)}`;
  const head =
    u.status === 'done'
      ? `✅ Upgraded ${what} to today's golden path`
      : u.status === 'failed'
        ? `⛔ Upgrade of ${what} stopped at a failure`
        : `⏳ Upgrading ${what} to today's golden path, ${u.concurrency} at a time`;
  const left = u.counts.pending + u.counts.running;
  const progress = `${u.counts.done} of ${n} done${u.counts.failed > 0 ? ` · ${u.counts.failed} failed` : ''}${u.status !== 'done' && left > 0 ? ` · ${left} to go` : ''}`;
  const text = `${head} (started by ${user(u.startedBy)}): ${progress}.`;
  return textMessage(text);
}

/** The reply when a namespace failed for good: the upgrade stops, and Resume continues it. */
export function upgradeStopped(input: { upgradeId: number; namespace: string; error: string; counts: UpgradeCounts }): SlackMessage {
  const left = input.counts.pending + input.counts.running + input.counts.failed;
  const text = `❌ \`${escape(input.namespace)}\` could not be re-applied, so the upgrade stopped (${input.counts.done} done, ${left} left): ${escape(truncate(input.error, 1500))}`;
  return {
    text,
    blocks: [
      section(`${text}\nFix the cause, then *Resume*: the namespaces already done are not applied again.`),
      { type: 'actions', elements: [button(DRIFT.resume, 'Resume', String(input.upgradeId), 'primary')] },
    ],
  };
}

export const upgradeResumed = (by: string, left: number): SlackMessage =>
  textMessage(`▶️ ${user(by)} resumed the upgrade: ${plural(left, 'namespace')} to go.`);

export const upgradeFinished = (done: number): SlackMessage => textMessage(`✅ Upgrade finished: ${plural(done, 'namespace')} re-applied.`);

export const upgradeStarted = (n: number, cluster: string, channel: string): SlackMessage =>
  textMessage(`Upgrading ${plural(n, 'outdated namespace')} on ${escape(cluster)}: progress in the thread in <#${channel}>.`);

export const upgradeNothing = (cluster: string): SlackMessage => textMessage(`No namespace on ${escape(cluster)} is outdated: nothing to upgrade.`);

export const upgradeBusy = (cluster: string): SlackMessage =>
  textMessage(`An upgrade of ${escape(cluster)} is already running; its progress is in its thread.`);

export const upgradeNotStopped = textMessage('This upgrade is not stopped (someone resumed it already, or it finished).');

export const upgradeScanFailed = (cluster: string, error: string): SlackMessage =>
  textMessage(`Could not compare the namespaces on ${escape(cluster)} with the golden path, so nothing was upgraded: ${escape(truncate(error, 1500))}`);
