import type { ActionsBlock, Button } from '@slack/types';
import { requestRef } from '../../domain/requests.ts';
import { HOME, IDLE } from '../ids.ts';
import { escape, plain, textMessage, user, type SlackMessage } from '../text.ts';
import { dayLabel } from './reminders.ts';

/**
 * The messages of idle reclaim: the owner's question, the note in the team's channel, the
 * approvers' question, and the answers. Pure: src/workflows/lifecycle/idle.ts passes what they show.
 */

/** A namespace as these messages name it. */
export interface IdleNamespace {
  requestId: number;
  askId: number;
  namespace: string;
  clusterName: string;
  environment: string;
  owner: string;
  /** YYYY-MM-DD (local): the day of its last snapshot with running pods, or when it appeared. */
  idleSince: string;
  idleDays: number;
  /** Whether its team has a channel (`teams[].channel`); without one the request's thread is asked. */
  teamChannel: boolean;
}

/** Who is asked after the owner: the team in its channel, or the platform team in the request's thread. */
const teamAsked = (ns: Pick<IdleNamespace, 'teamChannel'>) =>
  ns.teamChannel ? "your team's channel is asked" : "the platform team is asked in the request's thread";

const name = (ns: IdleNamespace) => `\`${ns.namespace}\` on *${escape(ns.clusterName)}* (${ns.environment}, ${requestRef(ns.requestId)})`;
const idleFor = (ns: IdleNamespace) => `has run no pods for ${ns.idleDays} days (since ${dayLabel(ns.idleSince)})`;

const button = (actionId: string, label: string, value: string, style?: 'danger' | 'primary'): Button => ({
  type: 'button',
  action_id: actionId,
  text: plain(label),
  value,
  ...(style ? { style } : {}),
});

/** Keep it, Delete it (the delete form, as everywhere) and, for the owner, Not mine. */
function idleActions(ns: IdleNamespace, notMine: boolean): ActionsBlock {
  return {
    type: 'actions',
    block_id: `idle_${ns.askId}`,
    elements: [
      button(IDLE.keep, 'Keep it', String(ns.askId), 'primary'),
      button(HOME.delete, 'Delete it', String(ns.requestId), 'danger'),
      ...(notMine ? [button(IDLE.notMine, 'Not mine', String(ns.askId))] : []),
    ],
  };
}

/** To the owner (or, once they have left, to their team): the one question about an idle namespace. */
export function idleQuestion(ns: IdleNamespace, answerBy: string, snoozeDays: number, ownerLeft: boolean): SlackMessage {
  const who = ownerLeft
    ? `💤 The namespace ${name(ns)} ${idleFor(ns)}. ${user(ns.owner)}, who owns it, has left the workspace.`
    : `💤 Your namespace ${name(ns)} ${idleFor(ns)}. Do you still need it?`;
  const text = `${who}\n*Keep it* and you are not asked again for ${snoozeDays} days; *Delete it* frees its quota. Without an answer by ${dayLabel(answerBy)}, ${teamAsked(ns)}.`;
  return textMessage(text, [idleActions(ns, !ownerLeft)]);
}

/** In the team's channel: nobody answered, or the owner says it is not theirs. */
export function idleTeamNote(ns: IdleNamespace, askedOn: string, notMine: boolean, nextOn: string, deletes: boolean): SlackMessage {
  const why = notMine
    ? `${user(ns.owner)}, its owner, says it is not theirs: whose is it?`
    : `${user(ns.owner)}, who owns it, was asked on ${dayLabel(askedOn)} and has not answered.`;
  const next = deletes ? `Without an answer by ${dayLabel(nextOn)} it is deleted.` : `Without an answer by ${dayLabel(nextOn)} the approvers decide.`;
  return textMessage(`💤 ${name(ns)} ${idleFor(ns)}. ${why}\n${next}`, [idleActions(ns, false)]);
}

/** In the request's thread: nobody answered twice, and the environment's policy leaves it to an approver. */
export function idleApproversAsked(ns: IdleNamespace, askedOn: string): SlackMessage {
  return textMessage(
    `💤 ${name(ns)}, owned by ${user(ns.owner)}, ${idleFor(ns)}. Its owner was asked on ${dayLabel(askedOn)}, then its team; nobody answered. ${ns.environment} is not deleted without an approver: delete it or keep it.`,
    [idleActions(ns, false)],
  );
}

/** What the question becomes once someone pressed Keep it. */
export function idleKept(ns: Pick<IdleNamespace, 'namespace' | 'requestId'>, by: string, until: string): SlackMessage {
  return textMessage(`✅ \`${ns.namespace}\` (${requestRef(ns.requestId)}) is kept: ${user(by)} pressed Keep it. Not asked again before ${dayLabel(until)}.`);
}

/** What the owner's question becomes after Not mine. */
export function idleDisowned(ns: Pick<IdleNamespace, 'namespace' | 'requestId' | 'teamChannel'>): SlackMessage {
  const asked = teamAsked(ns);
  return textMessage(
    `👍 Noted: \`${ns.namespace}\` (${requestRef(ns.requestId)}) is not yours. ${asked.charAt(0).toUpperCase()}${asked.slice(1)} whose it is.`,
  );
}

/** A click on a question that is settled already (kept, deleted, pods ran again). */
export function idleSettled(namespace: string): SlackMessage {
  return textMessage(`This question about \`${namespace}\` is settled already: nothing more to do.`);
}

/** Not mine pressed by someone else than the person asked. */
export function idleNotYours(namespace: string, owner: string): SlackMessage {
  return textMessage(`Only ${user(owner)}, who was asked about \`${namespace}\`, can say it is not theirs.`);
}
