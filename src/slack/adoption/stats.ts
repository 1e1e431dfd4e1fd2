import { escape, truncate, textMessage } from '../text.ts';
import type { SlackMessage } from '../usage.ts';

export function statsFailed(reason: string): SlackMessage {
  const text = `Sorry, I could not compute the stats (${escape(reason)}). Please try again in a minute.`;
  return textMessage(text);
}

/** `/platform stats` with a week it cannot show: what it takes instead. */
export function statsWeekProblem(command: string, given: string, problem: string | undefined): SlackMessage {
  const why = problem ? `${escape(problem.charAt(0).toUpperCase() + problem.slice(1))}.` : `\`${escape(truncate(given.trim(), 40))}\` is not a week I know.`;
  const text = `${why} Try \`${command} stats\` (the last complete week), \`${command} stats current\` (this week so far) or \`${command} stats YYYY-MM-DD\` (the week containing that date).`;
  return textMessage(text);
}
