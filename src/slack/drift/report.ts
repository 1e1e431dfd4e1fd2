import type { Button, KnownBlock } from '@slack/types';
import type { DriftScanRecord } from '../../domain/drift.ts';
import type { Difference } from '../../workflows/drift/compare.ts';
import { DRIFT } from '../ids.ts';
import { context, escape, mrkdwn, plain, plural, section, textMessage, truncate, type SlackMessage } from '../text.ts';

/** Namespaces shown in one answer; `slipway drift` prints them all. */
const SHOWN_NAMESPACES = 10;

export const driftValue = (v: string | undefined) => (v === undefined ? '_(none)_' : `\`${escape(truncate(v, 200))}\``);

function differenceLine(d: Difference): string {
  const by = d.manager ? ` · set by \`${escape(d.manager)}\`` : '';
  return `• *${d.kind}* ${escape(d.object)} \`${escape(d.field)}\`: ${driftValue(d.live)}, expected ${driftValue(d.expected)}${by}`;
}

export const button = (actionId: string, label: string, value: string, style?: 'primary' | 'danger'): Button => ({
  type: 'button',
  action_id: actionId,
  text: plain(label),
  value,
  ...(style ? { style } : {}),
});

/** A difference with where it is: the cluster and the request behind the namespace (Re-apply's value). */
type Located = Difference & { cluster: string; requestId: number };

/**
 * The drift report for approvers: the summary, then each namespace with its differences and a
 * Re-apply button, then per cluster an *Upgrade all N outdated* button (not in a report of one
 * namespace: the upgrade takes every outdated namespace of the cluster).
 */
export function driftMessage(
  report: {
    summary: string;
    differences: readonly Located[];
    clusters: readonly { cluster: string; error: string | undefined }[];
  },
  options: { upgrades: boolean } = { upgrades: true },
): SlackMessage {
  const byNamespace = new Map<string, Located[]>();
  for (const d of report.differences) {
    const key = `${d.cluster}/${d.namespace}`;
    byNamespace.set(key, [...(byNamespace.get(key) ?? []), d]);
  }
  const summary = `Drift: ${report.summary}.`;
  const blocks: KnownBlock[] = [section(`*${summary}*`)];
  for (const differences of [...byNamespace.values()].slice(0, SHOWN_NAMESPACES)) {
    const first = differences[0];
    if (!first) continue;
    const where = report.clusters.length > 1 ? ` on ${escape(first.cluster)}` : '';
    blocks.push({
      type: 'section',
      text: mrkdwn(`\`${escape(first.namespace)}\`${where}\n${differences.map(differenceLine).join('\n')}`),
      accessory: button(DRIFT.reapply, 'Re-apply…', String(first.requestId)),
    });
  }
  const hidden = byNamespace.size - SHOWN_NAMESPACES;
  if (hidden > 0) blocks.push(context(`…and ${hidden} more namespaces: \`slipway drift\` lists them all.`));
  const upgrades = report.clusters.flatMap(({ cluster }) => {
    const outdated = new Set(report.differences.filter((d) => d.cluster === cluster && d.kind === 'outdated').map((d) => d.namespace)).size;
    return outdated > 0 ? [button(DRIFT.upgrade, `Upgrade all ${outdated} outdated${report.clusters.length > 1 ? ` on ${cluster}` : ''}`, cluster)] : [];
  });
  if (options.upgrades && upgrades.length > 0) blocks.push({ type: 'actions', elements: upgrades.slice(0, 25) });
  for (const c of report.clusters) if (c.error !== undefined) blocks.push(context(`${escape(c.cluster)} did not answer: ${escape(truncate(c.error, 300))}`));
  const answered = report.clusters.some((c) => c.error === undefined);
  if (report.differences.length > 0)
    blocks.push(context('*edited*: changed by someone other than Slipway · *outdated*: the config changed since Slipway applied it.'));
  else if (answered) blocks.push(context('✅ As Slipway applied it: nothing to re-apply.'));
  return { text: summary, blocks };
}

export const driftRefused = (command: string): SlackMessage => textMessage(`Only approvers can see the drift report (\`${command} drift\`).`);
export const driftFailed = textMessage('Sorry, I could not compare the namespaces with the golden path. Please try again.');

/** The weekly digest's drift line: the drift job's latest counts, and where approvers act on them. */
export function driftDigestBlock(scan: DriftScanRecord, when: string): KnownBlock {
  const differing = scan.edited + scan.outdated > 0;
  const counts = differing
    ? `${scan.edited} edited by hand, ${scan.outdated} outdated (of ${plural(scan.namespaces, 'namespace')})`
    : `all ${plural(scan.namespaces, 'namespace')} match the golden path`;
  const hint = differing ? ' · approvers: `/platform drift` shows each difference, with *Re-apply* and *Upgrade all outdated*' : '';
  return section(`🧭 *Drift* (scan of ${escape(when)}): ${counts}${hint}`);
}
