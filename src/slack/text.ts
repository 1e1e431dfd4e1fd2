import type { ActionsBlock, InputBlock, KnownBlock, MrkdwnElement, PlainTextElement } from '@slack/types';
import { ACTION } from './ids.ts';

export const plain = (text: string): PlainTextElement => ({ type: 'plain_text', text: truncate(text, 3000), emoji: true });
export const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text: truncate(text, 3000) });
export const section = (text: string): KnownBlock => ({ type: 'section', text: mrkdwn(text) });
export const context = (text: string): KnownBlock => ({ type: 'context', elements: [mrkdwn(text)] });

/** A message for chat.postMessage and friends: `text` is the notification and fallback, `blocks` what shows. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** A message whose blocks say the same as its text, optionally followed by more blocks. */
/** Approve (primary) and Deny (danger) for an approver, both carrying `value` (the id of what is decided). */
export function decisionActions(blockId: string, actionIds: { approve: string; deny: string }, value: number): ActionsBlock {
  return {
    type: 'actions',
    block_id: blockId,
    elements: [
      { type: 'button', action_id: actionIds.approve, text: plain('Approve'), style: 'primary', value: String(value) },
      { type: 'button', action_id: actionIds.deny, text: plain('Deny'), style: 'danger', value: String(value) },
    ],
  };
}

export const textMessage = (text: string, extra: KnownBlock[] = []): SlackMessage => ({ text, blocks: [section(text), ...extra] });

/** `1 request`, `2 requests`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Cuts text to Slack's limit for a field, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Escapes user text for mrkdwn: Slack treats &, < and > as control characters. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const user = (id: string): string => `<@${id}>`;

/** `68%`: a share from 0 to 1, rounded to a whole percent; `–` when there is none. */
export function formatPercent(share: number | undefined): string {
  return share === undefined ? '–' : `${Math.round(share * 100)}%`;
}

/** A modal's free-text question: an input block around a multi-line field with its length limits. */
export function multilineInput(input: {
  blockId: string;
  label: string;
  hint?: string;
  minLength: number;
  maxLength: number;
  placeholder: string;
  initial?: string | undefined;
}): InputBlock {
  return {
    type: 'input',
    block_id: input.blockId,
    label: plain(input.label),
    ...(input.hint ? { hint: plain(input.hint) } : {}),
    element: {
      type: 'plain_text_input',
      action_id: ACTION.input,
      multiline: true,
      min_length: input.minLength,
      max_length: input.maxLength,
      ...(input.initial ? { initial_value: truncate(input.initial, input.maxLength) } : {}),
      placeholder: plain(input.placeholder),
    },
  };
}

/** How a provisioning step's state shows in Slack. */
export const STEP_ICON = { pending: '▫️', running: '⏳', done: '✅', failed: '❌' } as const;
