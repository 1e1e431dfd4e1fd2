import type { AdoptionReport } from '../workflows/adoption-metrics.ts';
import { digestMessage, type DigestOptions } from './digest.ts';
import { escape, section } from './text.ts';
import type { SlackMessage } from './usage.ts';

/** `/platform stats`: the digest's numbers for the last complete week, for whoever asks (ephemeral). */
export function statsMessage(report: AdoptionReport, options: Omit<DigestOptions, 'surface'>, settings: { idleDays: number }): SlackMessage {
  return digestMessage(report, { ...options, surface: 'stats' }, settings);
}

export function statsFailed(reason: string): SlackMessage {
  const text = `Sorry, I could not compute the stats (${escape(reason)}). Please try again in a minute.`;
  return { text, blocks: [section(text)] };
}
