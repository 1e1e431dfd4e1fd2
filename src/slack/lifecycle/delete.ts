import type { ActionsBlock, ModalView } from '@slack/types';
import type { LifecycleRequest } from '../../domain/lifecycle.ts';
import { requestRef, type NamespaceRequest, type Run } from '../../domain/requests.ts';
import { ACTION, BLOCK, CALLBACK, LIMITS } from '../ids.ts';
import { retryActions } from '../provisioning/request-card.ts';
import { escape, multilineInput, plain, section, STEP_ICON, textMessage, truncate, user, type SlackMessage } from '../text.ts';

/** How a deletion goes ahead, as policy decided it for the person who asked (src/workflows/lifecycle/delete.ts). */
export type DeletePath = { at: 'once'; why: 'approver' } | { at: 'once'; why: 'policy'; rule: string } | { at: 'approval'; why: 'protected' | 'no-rule' };

/** Who asked for a deletion and why, as the thread and the owner read it. */
/** A deletion nobody asked for in a form: at the end of the grace period, or of an idle conversation. */
export type Unattended = 'expiry' | 'idle';

export interface DeleteAsk {
  by: string;
  reason: string | undefined;
}

/** The sentence that says what happens after the form is sent. */
function pathSentence(path: DeletePath, environment: string): string {
  switch (path.why) {
    case 'approver':
      return 'You are an approver, so it is deleted as soon as you confirm.';
    case 'policy':
      return `Policy lets owners delete these namespaces (${escape(path.rule)}), so it is deleted as soon as you confirm.`;
    case 'protected':
      return `*${escape(environment)}* is a protected environment: an approver decides in the request's thread before anything is deleted.`;
    case 'no-rule':
      return "An approver decides in the request's thread before anything is deleted.";
  }
}

/** The delete form: the namespace's name typed out as confirmation (as GitHub does for repositories), and an optional reason. */
export function deleteModal(request: NamespaceRequest, clusterName: string, path: DeletePath, privateMetadata: string): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.deleteNamespace,
    private_metadata: privateMetadata,
    title: plain('Delete namespace'),
    submit: plain(path.at === 'once' ? 'Delete' : 'Ask to delete'),
    close: plain('Cancel'),
    blocks: [
      section(
        `*Delete \`${request.namespace}\`* on *${escape(clusterName)}* (${requestRef(request.id)}, ${escape(request.team)}, ${escape(request.environment)}).\n` +
          'Everything in it goes with it: workloads, services, config, secrets and volume claims. This cannot be undone.',
      ),
      section(pathSentence(path, request.environment)),
      {
        type: 'input',
        block_id: BLOCK.deleteConfirm,
        label: plain(truncate(`Type ${request.namespace} to confirm`, 2000)),
        element: { type: 'plain_text_input', action_id: ACTION.input, max_length: LIMITS.name, placeholder: plain(request.namespace) },
      },
      {
        ...multilineInput({
          blockId: BLOCK.deleteReason,
          label: 'Why?',
          minLength: 0,
          maxLength: LIMITS.deleteReason,
          placeholder: 'e.g. The load tests are over',
        }),
        optional: true,
      },
    ],
  };
}

/** The field error when the typed name is not the namespace's. */
export function wrongName(namespace: string): string {
  return `That is not the name. Type ${namespace} exactly to confirm.`;
}

const reasonLine = (reason: string | undefined) => (reason ? `\n>${escape(reason).replace(/\n/g, '\n>')}` : '');

/** In the original request's thread: a deletion is under way. */
export function deletionStarted(request: NamespaceRequest, ask: DeleteAsk | Unattended): SlackMessage {
  if (ask === 'idle') return textMessage(`🗑️ \`${request.namespace}\` ran no pods and nobody answered for it: Slipway is reclaiming it.`);
  const who = ask === 'expiry' ? `\`${request.namespace}\` expired and its grace period is over` : `${user(ask.by)} is deleting \`${request.namespace}\``;
  return textMessage(`🗑️ ${who}.${ask === 'expiry' ? '' : reasonLine(ask.reason)}`);
}

/** In the original request's thread: someone asks to delete; approvers decide here. */
export function deletionRequested(request: NamespaceRequest, ask: LifecycleRequest, path: DeletePath): SlackMessage {
  const why = path.why === 'protected' ? ` (${escape(request.environment)} is protected)` : '';
  const text = `🗑️ ${user(ask.requestedBy)} asks to delete \`${request.namespace}\`${why}. An approver decides:${reasonLine(ask.reason)}`;
  const actions: ActionsBlock = {
    type: 'actions',
    block_id: `delete_request_${ask.id}`,
    elements: [
      { type: 'button', action_id: ACTION.approveDelete, text: plain('Approve deletion'), style: 'danger', value: String(ask.id) },
      { type: 'button', action_id: ACTION.denyDelete, text: plain('Deny'), value: String(ask.id) },
    ],
  };
  return { text, blocks: [section(text), actions] };
}

/** The deletion request once decided: who, without its buttons. */
export function deletionRequestDecided(request: NamespaceRequest, ask: LifecycleRequest): SlackMessage {
  const verdict = ask.status === 'approved' ? `✅ Approved by ${user(ask.decidedBy ?? 'unknown')}` : `❌ Denied by ${user(ask.decidedBy ?? 'unknown')}`;
  return textMessage(`🗑️ ${user(ask.requestedBy)} asked to delete \`${request.namespace}\`.${reasonLine(ask.reason)}\n${verdict}`);
}

/** To the person who asked, once the form is sent. */
export function deleteAccepted(request: NamespaceRequest, path: DeletePath): SlackMessage {
  return path.at === 'once'
    ? textMessage(`🗑️ Deleting \`${request.namespace}\` (*${requestRef(request.id)}*) now. Its owner hears when it is gone.`)
    : textMessage(
        `🗑️ Your request to delete \`${request.namespace}\` (*${requestRef(request.id)}*) is waiting for an approver in the request's thread. I will message you when they decide.`,
      );
}

/** To the person who asked, when an approver decided. */
export function deleteDecisionForRequester(request: NamespaceRequest, ask: LifecycleRequest): SlackMessage {
  return ask.status === 'approved'
    ? textMessage(`✅ ${user(ask.decidedBy ?? 'unknown')} approved deleting \`${request.namespace}\` (*${requestRef(request.id)}*); it is being deleted now.`)
    : textMessage(
        `❌ ${user(ask.decidedBy ?? 'unknown')} denied deleting \`${request.namespace}\` (*${requestRef(request.id)}*), so it stays. Ask in the request's thread if you have questions.`,
      );
}

/** In the thread: one message, updated as the deletion's steps progress. */
export function deletionProgress(request: NamespaceRequest, clusterName: string, run: Run, describe: (step: string) => string): SlackMessage {
  const lines = run.steps.map((s) => `${STEP_ICON[s.status]} ${describe(s.name)}${s.attempts > 1 ? ` (attempt ${s.attempts})` : ''}`);
  const where = `\`${request.namespace}\` from ${escape(clusterName)}`;
  const title =
    run.status === 'done' ? `🗑️ Deleted ${where}; its name is free again.` : run.status === 'failed' ? `Deleting ${where} stopped:` : `Deleting ${where}…`;
  return textMessage(`${title}\n${lines.join('\n')}`);
}

/** In the thread: the step that failed and why, with Retry for approvers. */
export function deletionFailed(request: NamespaceRequest, step: string, reason: string, run: Run): SlackMessage {
  return textMessage(
    `❌ Deleting \`${request.namespace}\`: step *${step}* failed: ${escape(reason)}\nFix the cause, then press Retry: the deletion continues from this step (approvers only).`,
    [retryActions(run)],
  );
}

/** In the thread and to the owner: Slipway would not delete it, and why. */
export function deletionRefused(request: NamespaceRequest, reason: string): SlackMessage {
  return textMessage(`🚫 Slipway did not delete \`${request.namespace}\` (*${requestRef(request.id)}*): ${escape(reason)}`);
}

/** To the owner: the namespace is gone. */
export function namespaceDeleted(request: NamespaceRequest, clusterName: string, ask: DeleteAsk | Unattended): SlackMessage {
  const by =
    ask === 'expiry'
      ? 'after its expiry date and grace period'
      : ask === 'idle'
        ? 'after it ran no pods and nobody answered for it'
        : `as ${user(ask.by)} asked${reasonLine(ask.reason)}`;
  return textMessage(
    `🗑️ Your namespace \`${request.namespace}\` on *${escape(clusterName)}* (*${requestRef(request.id)}*) is deleted, ${by}\nIts name is free for a new request (\`/platform new-namespace\`).`,
  );
}

/** To the owner: the deletion is stuck; the platform team has the details. */
export function ownerDeletionFailed(request: NamespaceRequest): SlackMessage {
  return textMessage(
    `⚠️ Deleting \`${request.namespace}\` (*${requestRef(request.id)}*) hit a problem. The platform team has the details in the request's thread and can retry; I will message you when it is gone.`,
  );
}

/** Answers to `/platform delete` and Delete buttons that open no form. */
export const deleteRefusals = {
  usage: (command: string) => textMessage(`Usage: \`${command} delete <namespace> [cluster]\`, e.g. \`${command} delete payments-dev\`.`),
  unknown: (namespace: string) =>
    textMessage(
      `Slipway has no namespace named \`${escape(namespace)}\`. It deletes only namespaces it created for a request (and that are not deleted yet), never anything else.`,
    ),
  ambiguous: (namespace: string, clusters: string[]) =>
    textMessage(
      `There is a \`${escape(namespace)}\` on several clusters (${clusters.map(escape).join(', ')}): add the cluster, e.g. \`delete ${escape(namespace)} ${escape(clusters[0] ?? '')}\`.`,
    ),
  notAllowed: (request: NamespaceRequest, owner: string) =>
    textMessage(`Only its owner (${user(owner)}) or an approver can delete \`${request.namespace}\`. Ask them, or ask in the request's thread.`),
  deleting: (request: NamespaceRequest) => textMessage(`\`${request.namespace}\` is already being deleted. Its request's thread shows how far it got.`),
  waiting: (request: NamespaceRequest, ask: LifecycleRequest) =>
    textMessage(`${user(ask.requestedBy)} already asked to delete \`${request.namespace}\`; an approver decides in the request's thread.`),
  unknownAsk: () => textMessage("I can't find that deletion request. It may have been removed."),
  unknownButton: () => textMessage("I can't find that namespace, so nothing happened. It may be deleted already."),
  notApprover: (request: NamespaceRequest) => textMessage(`Only the approvers in Slipway's config can decide on deleting \`${request.namespace}\`.`),
  ownAsk: (request: NamespaceRequest) => textMessage(`You asked to delete \`${request.namespace}\` yourself, so another approver has to decide.`),
  decided: (request: NamespaceRequest, ask: LifecycleRequest) =>
    ask.status === 'withdrawn'
      ? textMessage(`\`${request.namespace}\` is being deleted at its expiry, so this request has nothing left to decide.`)
      : textMessage(`Deleting \`${request.namespace}\` was already ${ask.status} by ${user(ask.decidedBy ?? 'unknown')}.`),
};
