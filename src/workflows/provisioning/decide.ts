import { z } from 'zod';
import { requestRef, type Click, type NamespaceRequest } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { BLOCK, LIMITS } from '../../slack/ids.ts';
import { clickRefusals, decisionPosted, requestApproved, requestDenied, runRetried } from '../../slack/provisioning/messages.ts';
import { denyReasonModal } from '../../slack/provisioning/new-namespace-modal.ts';
import { openFormAfterClick } from '../../slack/io/open-form.ts';
import { refreshCard } from './present.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { recordProvisioning } from './provision.ts';
import { executeRun } from '../runs/engine.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import type { FieldErrors } from './validate.ts';
import { approverStatus, isApprover } from './approvers.ts';

type Refusal = 'alreadyDecided' | 'notApprover' | 'approverUnknown' | 'ownRequest';

/**
 * Why this user may not decide on this request now, or undefined when they may. When Slack could
 * not list an approver group's members, nobody outside the config's list decides (fail closed).
 */
async function refusal(deps: Deps, request: NamespaceRequest, user: string): Promise<Refusal | undefined> {
  if (request.status !== 'pending') return 'alreadyDecided';
  const approver = await approverStatus(deps, user);
  if (approver === undefined) return 'approverUnknown';
  if (!approver) return 'notApprover';
  if (request.requester === user) return 'ownRequest';
  return undefined;
}

/** Answers the clicker only, where they clicked (by DM from the Home tab). */
async function tell(deps: Deps, click: Click, message: SlackMessage): Promise<void> {
  await notifier(deps).toClicker(click, message);
}

function refuse(deps: Deps, click: Click, request: NamespaceRequest, why: Refusal): Promise<void> {
  return tell(deps, click, clickRefusals[why](request));
}

/**
 * What an approver's Approve click came to, recorded before the click is acked: a refusal to
 * show the clicker, or the approval with its provisioning run (undefined when one was active).
 */
export type Approval = { refused: SlackMessage } | { request: NamespaceRequest; runId: number | undefined };

/**
 * Records an Approve click: one decision wins, even when several approvers click at once, and the
 * decision commits with its provisioning run, so a replica that dies after acking the click leaves
 * a run that another one continues, never an approved request with nothing to provision it.
 * `requestId` is undefined when the button's value was not an id (a forged click).
 */
export async function recordApproval(deps: Deps, requestId: number | undefined, click: Click): Promise<Approval> {
  const request = requestId === undefined ? undefined : await deps.store.getRequest(requestId);
  if (requestId === undefined || !request) return { refused: clickRefusals.unknown(requestId) };
  const why = await refusal(deps, request, click.user);
  if (why) return { refused: clickRefusals[why](request) };
  return await deps.store.transaction(async (): Promise<Approval> => {
    const { decided, request: now } = await deps.store.decide(requestId, { status: 'approved', by: click.user }, deps.clock.now());
    if (!decided) return { refused: clickRefusals.alreadyDecided(now) };
    await deps.store.appendEvent({ type: 'request_approved', at: deps.clock.now(), actor: click.user, team: now.team, requestId, data: { auto: false } });
    return { request: now, runId: await recordProvisioning(deps, now) };
    // The decision is compare-and-set and one active run per request a constraint (src/store/db.ts).
  }, 'read committed');
}

/**
 * After an Approve click is recorded and acked: the clicker hears a refusal, or the cluster work
 * starts while the card, the thread and the requester hear of the decision. `afterDecision` runs
 * beside provisioning (the Home tab redraws the approver's queue).
 */
export async function finishApproval(
  deps: Deps,
  approval: Approval,
  click: Click,
  afterDecision?: (request: NamespaceRequest) => Promise<void>,
): Promise<void> {
  if ('refused' in approval) return tell(deps, click, approval.refused);
  const { request: now, runId } = approval;
  deps.metrics.requests.inc({ outcome: 'approved' });
  deps.log.info({ requestId: now.id, by: click.user }, 'request approved');

  // The cluster work starts at once; Slack (which may be rate limiting) catches up beside it.
  const slack = notifier(deps);
  const announced = (async () => {
    await refreshCard(deps, now.id);
    if (now.card) await slack.post(now.card.channel, decisionPosted(now), now.card.ts);
    await slack.dm(now.requester, requestApproved(now));
  })();
  // Tracked with the runs, so a replica stopping (SIGTERM) tells the approval before it exits.
  await deps.engine.runs.track(Promise.all([announced, runId === undefined ? undefined : executeRun(deps, runId, announced), afterDecision?.(now)]));
}

/** An approver's Approve click, recorded and followed through (`recordApproval`, `finishApproval`). */
export async function approve(
  deps: Deps,
  requestId: number | undefined,
  click: Click,
  afterDecision?: (request: NamespaceRequest) => Promise<void>,
): Promise<void> {
  await finishApproval(deps, await recordApproval(deps, requestId, click), click, afterDecision);
}

/** An approver's Deny click: opens the reason modal, or says why they cannot deny. */
export async function openDenyForm(deps: Deps, requestId: number | undefined, click: Click & { triggerId: string }): Promise<void> {
  const request = requestId === undefined ? undefined : await deps.store.getRequest(requestId);
  if (requestId === undefined || !request) return tell(deps, click, clickRefusals.unknown(requestId));
  const why = await refusal(deps, request, click.user);
  if (why) return refuse(deps, click, request, why);
  const metadata: DenyFormMetadata = { requestId, channel: click.channel };
  await openFormAfterClick(deps, click, denyReasonModal(requestRef(requestId), JSON.stringify(metadata)), 'the deny form');
}

/** What the deny form carries in its private_metadata; read back with `readMetadata`. */
export const denyFormMetadata = z.object({ requestId: z.number().int().positive(), channel: z.string() });
export type DenyFormMetadata = z.infer<typeof denyFormMetadata>;

/** The deny form's answer when its private_metadata is not what the bot wrote (forged or stale). */
export const staleDenyForm: FieldErrors = { [BLOCK.denyReason]: 'This form is out of date. Close it and click Deny on the request again.' };

/** Checks a deny reason before the modal closes; errors show under the reason field. */
export async function checkDeny(deps: Deps, requestId: number, user: string, reason: string): Promise<FieldErrors> {
  const trimmed = reason.trim();
  if (trimmed.length < 3) return { [BLOCK.denyReason]: 'Tell the requester why, in a few words.' };
  if (trimmed.length > LIMITS.denyReason) return { [BLOCK.denyReason]: `Keep it under ${LIMITS.denyReason} characters.` };
  const request = await deps.store.getRequest(requestId);
  if (!request) return { [BLOCK.denyReason]: `Request ${requestRef(requestId)} no longer exists.` };
  const why = await refusal(deps, request, user);
  if (why) return { [BLOCK.denyReason]: clickRefusals[why](request).text.replace(/\*/g, '') };
  return {};
}

/**
 * Records a denial with its reason. Returns field errors when someone decided in the meantime;
 * otherwise the card, the thread and the requester hear about it.
 */
export async function deny(deps: Deps, requestId: number, user: string, reason: string): Promise<FieldErrors> {
  const errors = await checkDeny(deps, requestId, user, reason);
  if (Object.keys(errors).length > 0) return errors;
  const { decided, request } = await deps.store.decide(requestId, { status: 'denied', by: user, reason: reason.trim() }, deps.clock.now());
  if (!decided) return { [BLOCK.denyReason]: clickRefusals.alreadyDecided(request).text.replace(/\*/g, '') };
  deps.metrics.requests.inc({ outcome: 'denied' });
  await deps.store.appendEvent({ type: 'request_denied', at: deps.clock.now(), actor: user, team: request.team, requestId });
  deps.log.info({ requestId, by: user }, 'request denied');
  return {};
}

/** After a denial is recorded: update the card, post in the thread, tell the requester. */
export async function announceDenial(deps: Deps, requestId: number): Promise<void> {
  const request = await deps.store.getRequest(requestId);
  if (!request || request.status !== 'denied') return;
  const slack = notifier(deps);
  await refreshCard(deps, requestId);
  if (request.card) await slack.post(request.card.channel, decisionPosted(request), request.card.ts);
  await slack.dm(request.requester, requestDenied(request));
}

/** An approver's Retry click on a failed run: continues from the failed step. */
export async function retryRun(deps: Deps, runId: number | undefined, click: Click): Promise<void> {
  const run = runId === undefined ? undefined : await deps.store.getRun(runId);
  const request = run && (await deps.store.getRequest(run.requestId));
  if (runId === undefined || !run || !request) return tell(deps, click, clickRefusals.unknownRun());
  if (!(await isApprover(deps, click.user))) return refuse(deps, click, request, 'notApprover');
  if (!(await deps.store.reopenRun(runId, deps.clock.now()))) return tell(deps, click, clickRefusals.notRetryable());
  await deps.store.appendEvent({ type: 'run_retried', at: deps.clock.now(), actor: click.user, team: request.team, requestId: request.id, data: { runId } });
  if (request.card) await notifier(deps).post(request.card.channel, runRetried(click.user), request.card.ts);
  await executeRun(deps, runId);
}
