import type { ModalView } from '@slack/types';
import type { NamespaceRequest } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage } from '../../errors.ts';
import { newNamespaceModal } from '../../slack/provisioning/new-namespace-modal.ts';
import { requestCard } from '../../slack/provisioning/request-card.ts';
import { decisionPosted, requestReceived } from '../../slack/provisioning/messages.ts';
import { BLOCK } from '../../slack/ids.ts';
import { matchAutoApprove, describeRule } from './policy.ts';
import { cardContext } from './present.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { startProvisioning } from './provision.ts';
import { checkNameFree, checkRequestFields, type FieldErrors } from './validate.ts';
import type { RequestFields } from '../../domain/requests.ts';

/** The request form, prefilled with the name typed after the command and the user's last choices. */
export async function requestForm(deps: Pick<Deps, 'config' | 'store'>, user: string, name?: string): Promise<ModalView> {
  const last = await deps.store.lastRequestBy(user);
  return newNamespaceModal(deps.config, {
    name: name?.trim() || undefined,
    team: last?.team,
    cluster: last?.cluster,
  });
}

export type SubmitResult = { ok: true; request: NamespaceRequest; duplicate: boolean } | { ok: false; errors: FieldErrors };

/**
 * Validates a submitted form, builds what the request will need, and stores it. Nothing is stored
 * when there are errors.
 * A redelivered submission of the same view returns the request it already created.
 */
export async function submitRequest(deps: Deps, submission: { user: string; viewId: string; fields: RequestFields }): Promise<SubmitResult> {
  const checked = checkRequestFields(deps.config, submission.fields, deps.clock.now());
  if (!checked.ok) return { ok: false, errors: checked.errors };

  // Everything a stored request needs is built first (the objects to apply, the card): a request
  // that could not be provisioned or shown to approvers is refused here, not stored for good.
  const draft: NamespaceRequest = {
    ...checked.input,
    requester: submission.user,
    id: 0,
    status: 'pending',
    autoApproved: false,
    decidedBy: undefined,
    decidedAt: undefined,
    decisionReason: undefined,
    card: undefined,
    createdAt: deps.clock.now().toISOString(),
  };
  try {
    requestCard(draft, cardContext(deps, draft));
  } catch (err) {
    deps.log.error({ err, user: submission.user }, 'a submitted request could not be prepared; nothing was stored');
    return {
      ok: false,
      errors: { [BLOCK.name]: `Slipway could not prepare this request (${errorMessage(err)}). Nothing was saved; please tell the platform team.` },
    };
  }

  const nameErrors = await checkNameFree(deps, checked.input, checked.derivedName);
  if (Object.keys(nameErrors).length > 0) return { ok: false, errors: nameErrors };

  const result = await deps.store.insertRequest({ ...checked.input, requester: submission.user, sourceViewId: submission.viewId }, deps.clock.now());
  if (!result.created && result.reason === 'name_taken') {
    // Someone else took the name between the check and the insert.
    return { ok: false, errors: { [BLOCK.name]: `${checked.input.namespace} was just requested by someone else. Pick another name.` } };
  }
  if (result.created) {
    deps.metrics.requests.inc({ outcome: 'submitted' });
    await deps.store.appendEvent({
      type: 'request_submitted',
      at: deps.clock.now(),
      actor: submission.user,
      team: result.request.team,
      requestId: result.request.id,
      data: { namespace: result.request.namespace, cluster: result.request.cluster, environment: result.request.environment, tier: result.request.tier },
    });
  }
  return { ok: true, request: result.request, duplicate: !result.created };
}

/**
 * What happens after a request is stored: the requester hears its id, policy decides, the card
 * goes to the approvals channel, and an auto-approved request is provisioned at once.
 */
export async function announceRequest(deps: Deps, stored: NamespaceRequest): Promise<void> {
  const slack = notifier(deps);
  const rule = matchAutoApprove(deps.config, stored);
  let request = stored;
  if (rule) {
    const decision = await deps.store.decide(
      stored.id,
      { status: 'approved', by: 'policy', reason: `matches auto-approve rule: ${describeRule(rule)}`, auto: true },
      deps.clock.now(),
    );
    request = decision.request;
    if (decision.decided) {
      deps.metrics.requests.inc({ outcome: 'auto_approved' });
      await deps.store.appendEvent({
        type: 'request_approved',
        at: deps.clock.now(),
        actor: 'policy',
        team: request.team,
        requestId: request.id,
        data: { auto: true },
      });
    }
  }

  const channel = deps.config.slack.approvalsChannel;
  const decided = request;
  const announced = (async () => {
    await slack.dm(decided.requester, requestReceived(decided, decided.autoApproved, channel));
    const ts = await slack.post(channel, requestCard(decided, cardContext(deps, decided)));
    if (!ts) return;
    await deps.store.setCard(decided.id, { channel, ts }, deps.clock.now());
    if (decided.autoApproved) await slack.post(channel, decisionPosted(decided), ts);
  })();
  // An auto-approved request is provisioned at once; its progress joins the card's thread.
  await Promise.all([announced, decided.status === 'approved' ? startProvisioning(deps, decided, announced) : undefined]);
}
