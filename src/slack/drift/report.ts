import type { KnownBlock } from '@slack/types';
import type { Difference } from '../../workflows/drift/compare.ts';
import { context, escape, section, textMessage, truncate, type SlackMessage } from '../text.ts';

/** Namespaces shown in one answer; `slipway drift` prints them all. */
const SHOWN_NAMESPACES = 10;

function differenceLine(d: Difference): string {
  const value = (v: string | undefined) => (v === undefined ? '_(none)_' : `\`${escape(truncate(v, 200))}\``);
  const by = d.manager ? ` · set by \`${escape(d.manager)}\`` : '';
  return `• *${d.kind}* ${escape(d.object)} \`${escape(d.field)}\`: ${value(d.live)}, expected ${value(d.expected)}${by}`;
}

/** The drift report for approvers: the summary, then each namespace with its differences. */
export function driftMessage(report: {
  summary: string;
  differences: readonly Difference[];
  clusters: readonly { cluster: string; error: string | undefined }[];
}): SlackMessage {
  const byNamespace = new Map<string, Difference[]>();
  for (const d of report.differences) byNamespace.set(d.namespace, [...(byNamespace.get(d.namespace) ?? []), d]);
  const summary = `Drift: ${report.summary}.`;
  const blocks: KnownBlock[] = [section(`*${summary}*`)];
  for (const [namespace, differences] of [...byNamespace.entries()].slice(0, SHOWN_NAMESPACES)) {
    blocks.push(section(`\`${escape(namespace)}\`\n${differences.map(differenceLine).join('\n')}`));
  }
  const hidden = byNamespace.size - SHOWN_NAMESPACES;
  if (hidden > 0) blocks.push(context(`…and ${hidden} more namespaces: \`slipway drift\` lists them all.`));
  for (const c of report.clusters) if (c.error !== undefined) blocks.push(context(`${escape(c.cluster)} did not answer: ${escape(truncate(c.error, 300))}`));
  blocks.push(context('*edited*: changed by someone other than Slipway · *outdated*: the config changed since Slipway applied it.'));
  return { text: summary, blocks };
}

export const driftRefused = (command: string): SlackMessage => textMessage(`Only approvers can see the drift report (\`${command} drift\`).`);
export const driftFailed = textMessage('Sorry, I could not compare the namespaces with the golden path. Please try again.');
