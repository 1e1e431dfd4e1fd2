import type { PlainTextElement, MrkdwnElement } from '@slack/types';

export const plain = (text: string): PlainTextElement => ({ type: 'plain_text', text: truncate(text, 3000), emoji: true });
export const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text: truncate(text, 3000) });

/** Cuts text to Slack's limit for a field, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Escapes user text for mrkdwn: Slack treats &, < and > as control characters. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const user = (id: string): string => `<@${id}>`;

/** How a provisioning step's state shows in Slack. */
export const STEP_ICON = { pending: '▫️', running: '⏳', done: '✅', failed: '❌' } as const;
