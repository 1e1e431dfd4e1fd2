import { requestRef, type NamespaceRequest, type Run } from '../../domain/requests.ts';
import { decisionLine, retryActions } from './request-card.ts';
import type { SlackMessage } from '../usage.ts';
import { STEP_ICON, escape, user, textMessage } from '../text.ts';

/** To the requester, right after a valid submission. */
export function requestReceived(request: NamespaceRequest, autoApproved: boolean, approvalsChannel: string): SlackMessage {
  const ref = requestRef(request.id);
  const next = autoApproved
    ? 'It matches the self-serve policy, so it is approved and I am creating it now. I will message you here when it is ready (usually within a minute).'
    : `The platform team will review it in <#${approvalsChannel}>. I will message you here when they decide. You can follow the discussion in the request's thread.`;
  return textMessage(`Got it! Your request *${ref}* for namespace \`${request.namespace}\` (${request.environment}, ${request.tier}) is in.\n${next}`);
}

/** To the requester, when a person approves. */
export function requestApproved(request: NamespaceRequest): SlackMessage {
  return textMessage(
    `✅ ${user(request.decidedBy ?? 'unknown')} approved *${requestRef(request.id)}*. I am creating \`${request.namespace}\` now and will message you when it is ready.`,
  );
}

/** To the requester, when an approver denies, with the reason. */
export function requestDenied(request: NamespaceRequest): SlackMessage {
  return textMessage(
    `❌ ${user(request.decidedBy ?? 'unknown')} denied *${requestRef(request.id)}* (namespace \`${request.namespace}\`).\n>${escape(request.decisionReason ?? 'No reason given.').replace(/\n/g, '\n>')}\nReply in the request's thread or ask in the platform channel if you have questions; you can always send a new request with \`/platform new-namespace\`.`,
  );
}

/** In the card's thread: who decided. */
export function decisionPosted(request: NamespaceRequest): SlackMessage {
  return textMessage(decisionLine(request));
}

/** In the card's thread: one message, updated as the steps progress. */
export function runProgress(request: NamespaceRequest, clusterName: string, run: Run, describe: (step: string) => string): SlackMessage {
  const lines = run.steps.map((s) => {
    const attempts = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
    return `${STEP_ICON[s.status]} ${describe(s.name)}${attempts}`;
  });
  const title =
    run.status === 'done'
      ? `🎉 Provisioned \`${request.namespace}\` on ${escape(clusterName)}; ${user(request.requester)} has the commands to start:`
      : run.status === 'failed'
        ? `Provisioning \`${request.namespace}\` on ${escape(clusterName)} stopped:`
        : `Provisioning \`${request.namespace}\` on ${escape(clusterName)}…`;
  return textMessage(`${title}\n${lines.join('\n')}`);
}

/** In the card's thread: what failed, in plain words, with a Retry button for approvers. */
export function runFailed(step: string, reason: string, run: Run): SlackMessage {
  return textMessage(`❌ Step *${step}* failed: ${escape(reason)}\nFix the cause, then press Retry: provisioning continues from this step (approvers only).`, [
    retryActions(run),
  ]);
}

/** In the card's thread: an approver pressed Retry. */
export function runRetried(by: string): SlackMessage {
  return textMessage(`🔁 ${user(by)} pressed Retry; the run continues from the failed step.`);
}

/** To the requester, when provisioning failed. */
export function requesterRunFailed(request: NamespaceRequest): SlackMessage {
  return textMessage(
    `⚠️ Creating \`${request.namespace}\` (*${requestRef(request.id)}*) hit a problem. The platform team has the details in the request's thread and can retry; I will message you when it is ready.`,
  );
}

export interface ReadyInfo {
  clusterName: string;
  connectCommand: string;
}

/** To the requester: the namespace is ready, and how to start using it. */
export function namespaceReady(request: NamespaceRequest, info: ReadyInfo): SlackMessage {
  const commands = [info.connectCommand, `kubectl config set-context --current --namespace ${request.namespace}`];
  const text =
    `🎉 Your namespace \`${request.namespace}\` is ready on *${escape(info.clusterName)}* (*${requestRef(request.id)}*).\n` +
    `To start using it:\n\`\`\`\n${commands.join('\n')}\n\`\`\`\n` +
    `It comes with a ${request.tier} quota, container defaults, network policies and ${request.team} access. ` +
    'Pods without resource requests get sensible defaults.';
  return textMessage(text);
}

/** Ephemeral answers to approver clicks that change nothing. */
export const clickRefusals = {
  notApprover: (request: NamespaceRequest) =>
    textMessage(`Only the approvers in Slipway's config can decide on *${requestRef(request.id)}*. Ask in the thread if it is urgent.`),
  approverUnknown: (request: NamespaceRequest) =>
    textMessage(
      `I couldn't check with Slack whether you are an approver (it did not list the approver groups' members just now), so nothing was decided on *${requestRef(request.id)}*. Please try again in a minute.`,
    ),
  ownRequest: (request: NamespaceRequest) => textMessage(`You can't approve or deny your own request (*${requestRef(request.id)}*); another approver has to.`),
  alreadyDecided: (request: NamespaceRequest) =>
    textMessage(
      `*${requestRef(request.id)}* was already decided: ${decisionLine(request)}${request.decidedAt ? ` (${request.decidedAt.slice(0, 16).replace('T', ' ')} UTC)` : ''}.`,
    ),
  unknown: (id: number | undefined) =>
    textMessage(`I can't find ${id === undefined ? 'that request' : `request ${requestRef(id)}`}. It may have been removed.`),
  unknownRun: () => textMessage("I can't find that run. It may have been removed."),
  notRetryable: () => textMessage('That run is not failed any more, so there is nothing to retry.'),
};

/** To the person who clicked a button whose value is not one the bot wrote (a forged click). */
export function unknownButton(): SlackMessage {
  return textMessage("I don't recognise that button, so nothing happened.");
}

/** To the person who clicked a button whose form Slack would not open, where they clicked. */
export function modalNotOpened(what: string, reason: string): SlackMessage {
  return textMessage(`Sorry, I could not open ${what} (${escape(reason)}). Please try again.`);
}
