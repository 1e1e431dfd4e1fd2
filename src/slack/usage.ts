import { section, type SlackMessage } from './text.ts';

export type { SlackMessage };

/** The ephemeral answer to `/platform`, `/platform help` and unknown subcommands. */
export function usageMessage(command: string, unknown?: string): SlackMessage {
  const intro = unknown
    ? `I don't know \`${command} ${unknown}\`. Here is what I can do:`
    : 'Slipway gets you a ready-to-use Kubernetes namespace without a ticket.';
  const commands = [
    `\`${command} new-namespace [name]\`: request a namespace (opens a short form)`,
    `\`${command} status <request id or namespace>\`: where a request stands, step by step`,
    `\`${command} list [team | @person | all]\`: namespaces with their end dates and whether they are in use (yours by default; \`all\` for approvers)`,
    `\`${command} stats [current | YYYY-MM-DD]\`: adoption numbers for last week (what the weekly digest shows), this week so far, or the week of a date`,
    `\`${command} feedback [text]\`: tell the platform team anything (you choose whether your name shows)`,
    `\`${command} delete <namespace>\`: delete a namespace you own (you type its name to confirm; policy may ask an approver)`,
    `\`${command} change <namespace>\`: change a namespace's size, end date, purpose or other teams' access (policy may ask an approver)`,
    `\`${command} transfer <namespace> @person\`: hand a namespace you own over to someone else`,
    `\`${command} drift [namespace]\`: for approvers, how namespaces differ from what the golden path renders today (edited by hand, or outdated)`,
    `\`${command} surveys off\` / \`on\`: stop or allow questions by DM`,
    `\`${command} help\`: show this message`,
  ];
  return {
    text: `${intro}\n${commands.join('\n')}`,
    blocks: [section(intro), section(commands.map((c) => `• ${c}`).join('\n'))],
  };
}
