import { requestRef, type NamespaceRequest } from '../../domain/requests.ts';
import { escape, textMessage, user, type SlackMessage } from '../text.ts';

/** What `/platform transfer` answers and tells, built from domain values only. */

const named = (request: NamespaceRequest) => `\`${request.namespace}\` (*${requestRef(request.id)}*, ${escape(request.cluster)})`;

/** To the new owner. */
export function transferredToYou(request: NamespaceRequest, from: string, by: string): SlackMessage {
  const who = by === from ? user(from) : `${user(by)} (for ${user(from)})`;
  return textMessage(
    `📦 ${who} handed ${named(request)} over to you. You own it now: expiry reminders come to you, and you can extend or delete it (\`/platform delete ${request.namespace}\`).`,
  );
}

/** To the previous owner. */
export function transferredAway(request: NamespaceRequest, to: string, by: string, from: string): SlackMessage {
  const who = by === from ? 'You' : user(by);
  return textMessage(`📦 ${who} handed ${named(request)} over to ${user(to)}; they own it now.`);
}

/** In the original request's thread. */
export function transferNoted(request: NamespaceRequest, from: string, to: string, by: string): SlackMessage {
  return textMessage(`📦 ${user(by)} handed \`${request.namespace}\` over from ${user(from)} to ${user(to)}.`);
}

/** To the person who typed the command. */
export function transferDone(request: NamespaceRequest, to: string): SlackMessage {
  return textMessage(`Done: ${user(to)} owns ${named(request)} now; both of you have a message from me.`);
}

export const transferRefusals = {
  usage: (command: string) =>
    textMessage(`Usage: \`${command} transfer <namespace> @person\` (pick the person from Slack's list, so the mention becomes a link).`),
  unescaped: (command: string) =>
    textMessage(
      `I can't tell who that is: pick the person from Slack's list as you type \`@\`, so the mention becomes a link, e.g. \`${command} transfer payments-dev @alex\`.`,
    ),
  unknown: (namespace: string) => textMessage(`Slipway has no namespace named \`${escape(namespace)}\` (only live namespaces it created can change hands).`),
  ambiguous: (namespace: string, clusters: string[]) =>
    textMessage(`There is a \`${escape(namespace)}\` on several clusters (${clusters.map(escape).join(', ')}): add the cluster after the name.`),
  notAllowed: (request: NamespaceRequest, owner: string) =>
    textMessage(`Only its owner (${user(owner)}) or an approver can hand \`${request.namespace}\` over to someone else.`),
  alreadyOwner: (request: NamespaceRequest, to: string) => textMessage(`${user(to)} already owns \`${request.namespace}\`.`),
  notAPerson: (to: string) => textMessage(`${user(to)} can't own a namespace: they are not an active person in this workspace (a bot, or deactivated).`),
  lookupFailed: (to: string) => textMessage(`I could not check who ${user(to)} is in Slack just now, so nothing changed. Please try again.`),
  changed: (request: NamespaceRequest) => textMessage(`\`${request.namespace}\` changed hands or state meanwhile, so nothing changed. Check it and try again.`),
  notActive: (request: NamespaceRequest) => textMessage(`\`${request.namespace}\` is being deleted, so it can't change hands.`),
};
