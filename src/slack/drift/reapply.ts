import type { KnownBlock } from '@slack/types';
import type { Difference } from '../../workflows/drift/compare.ts';
import { DRIFT } from '../ids.ts';
import { context, escape, section, textMessage, truncate, user, type SlackMessage } from '../text.ts';
import { button, driftValue } from './report.ts';

/** Lines of a preview; the rest is counted. */
const SHOWN_CHANGES = 30;

interface Target {
  namespace: string;
  cluster: string;
  requestId: number;
}

function changeLine(d: Difference): string {
  const by = d.manager ? ` (set by \`${escape(d.manager)}\`)` : '';
  return `• ${escape(d.object)} \`${escape(d.field)}\`: ${driftValue(d.live)} → ${driftValue(d.expected)}${by}`;
}

/**
 * What Re-apply will change, from a server-side dry run, with Confirm. Nothing to change: no
 * button, just the news.
 */
export function reapplyPreview(target: Target, preview: { changes: readonly Difference[]; kept: readonly Difference[] }): SlackMessage {
  const { changes, kept } = preview;
  const where = `\`${escape(target.namespace)}\` on ${escape(target.cluster)}`;
  const stays =
    kept.length > 0
      ? [
          context(
            truncate(
              `Stays as it is, not Slipway's to take back (Slipway does not set it): ${kept.map((d) => `${escape(d.object)} \`${escape(d.field)}\`${d.manager ? ` (set by \`${escape(d.manager)}\`)` : ''}`).join(', ')}`,
              3000,
            ),
          ),
        ]
      : [];
  if (changes.length === 0) {
    return textMessage(`Re-applying the golden path to ${where} would change nothing: Slipway's fields match what it applies today.`, stays);
  }
  const text = `Re-applying the golden path to ${where} will change ${changes.length === 1 ? '1 field' : `${changes.length} fields`}:`;
  const more = changes.length - SHOWN_CHANGES;
  const blocks: KnownBlock[] = [
    section(`*${text}*\n${changes.slice(0, SHOWN_CHANGES).map(changeLine).join('\n')}${more > 0 ? `\n…and ${more} more` : ''}`),
    ...stays,
    context(
      'A server-side dry run of the apply. Slipway takes back only the fields it sets (server-side apply with force); what only others set stays as it is.',
    ),
    { type: 'actions', elements: [button(DRIFT.reapplyConfirm, 'Re-apply now', String(target.requestId), 'primary')] },
  ];
  return { text, blocks };
}

export const reapplyDone = (target: Target, by: string): SlackMessage =>
  textMessage(`✅ ${user(by)} re-applied the golden path to \`${escape(target.namespace)}\` on ${escape(target.cluster)}.`);

export const reapplyFailed = (namespace: string, error: string): SlackMessage =>
  textMessage(`❌ Could not re-apply \`${escape(namespace)}\`: ${escape(truncate(error, 1500))}`);

export const reapplyGone = textMessage('That namespace is no longer a ready Slipway namespace, so there is nothing to re-apply.');

export const driftActionRefused = textMessage('Only approvers can re-apply the golden path or upgrade namespaces.');
