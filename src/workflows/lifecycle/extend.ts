import { z } from 'zod';
import { extendLimitsFor } from '../../config.ts';
import type { ManagedNamespace } from '../../domain/lifecycle.ts';
import type { Click, NamespaceRequest } from '../../domain/requests.ts';
import { errorMessage } from '../../errors.ts';
import { namespaceChanged, type Deps } from '../../deps.ts';
import { notifier } from '../../slack/io/notifier.ts';
import {
  extended,
  extendRefusals,
  extensionAsked,
  extensionDecided,
  extensionDecisionRefusals,
  extensionRequest,
  type ExtendLimits,
} from '../../slack/lifecycle/extend.ts';
import type { ExtendValue } from '../../slack/lifecycle/reminders.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { currentStepInput } from '../provisioning/present.ts';
import { endingNamespace, postToApprovers } from './expiry.ts';
import { localDate, shiftDate, timersFor } from './timers.ts';

/**
 * Extending a namespace's end date from an Extend button (reminders, the final notice, Home).
 * Within `lifecycle.extend` for its environment it happens at once; more days than `maxDays` at
 * a time become a request decided by the approvers in the original request's thread; beyond
 * `maxLifetimeDays` from its creation it is refused with the reason. The owner and approvers may
 * extend. Decisions are compare-and-set: one wins, the others hear who was first.
 */

/** What an Extend button carries (src/slack/lifecycle/reminders.ts), as read back from a click. */
export const extendValue: z.ZodType<ExtendValue> = z.object({
  requestId: z.number().int().positive(),
  days: z.number().int().min(1).max(3650),
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});

/** A click on a message, with the message it was on (to redraw it). */
export type MessageClick = Click & { message: { channel: string; ts: string } | undefined };

/** Only to the clicker: where they clicked, or in the app's DM after a click on the Home tab. */
const tell = (deps: Deps, click: Click, message: SlackMessage) => notifier(deps).toClicker(click, message);

/** The last day a namespace may live with every extension: its creation's local date plus maxLifetimeDays. */
function lastPossibleDay(deps: Deps, ns: ManagedNamespace, limits: ExtendLimits): string {
  return shiftDate(localDate(deps.config, new Date(ns.request.createdAt)), limits.maxLifetimeDays);
}

/** An Extend click. `value` is undefined when the button's value is not one the bot wrote. */
export async function extendFromClick(deps: Deps, value: ExtendValue | undefined, click: MessageClick): Promise<void> {
  const ns = value && (await deps.store.lifecycle.get(value.requestId));
  if (!value || !ns) return void (await tell(deps, click, extendRefusals.unknown()));
  const ending = endingNamespace(deps, ns, ns.expiresOn ?? value.from);
  if (ns.state === 'deleted' || ns.state === 'deleting') return void (await tell(deps, click, extendRefusals.gone(ending)));
  if (!ns.expiresOn) return void (await tell(deps, click, extendRefusals.noEnd(ending)));
  if (click.user !== ns.owner && !(await isApprover(deps, click.user))) return void (await tell(deps, click, extendRefusals.notAllowed(ending)));
  // A click on an older reminder after the namespace was extended: that reminder's offer is over.
  if (ns.expiresOn !== value.from) return void (await tell(deps, click, extendRefusals.stale(ending)));

  const to = shiftDate(ns.expiresOn, value.days);
  const limits = extendLimitsFor(deps.config, ns.request.environment);
  const lastDay = lastPossibleDay(deps, ns, limits);
  if (to > lastDay) return void (await tell(deps, click, extendRefusals.pastLifetime(ending, { to, lastDay, limits })));
  if (value.days > limits.maxDays) return askApprovers(deps, ns, { to, days: value.days, limits }, click);

  const done = await applyExtension(deps, ns, to, click.user);
  if (!done) return void (await tell(deps, click, extendRefusals.gone(ending)));
  // The message with the button now says what happened, so no old offer stays clickable.
  if (click.message) await notifier(deps).update(click.message.channel, click.message.ts, done);
  else await tell(deps, click, done);
}

/**
 * The namespace's end-date annotation follows the extension (server-side apply of the namespace
 * object alone, as a change does). The extension stands if the cluster does not answer: the drift
 * scan then reports the annotation, and Re-apply sets it.
 */
async function annotateEnd(deps: Deps, request: NamespaceRequest): Promise<void> {
  try {
    await deps.clusters.apply(request.cluster, (await currentStepInput(deps, request)).path.namespace);
  } catch (err) {
    deps.log.warn({ requestId: request.id, err: errorMessage(err) }, 'could not update the end-date annotation of an extended namespace');
  }
}

/**
 * Moves the end date and replaces the timers (reminders for the new date; an expired namespace in
 * its grace period becomes active again). Returns the message that says so, or undefined when
 * the namespace is being deleted. The owner hears of it when someone else extended it.
 */
async function applyExtension(deps: Deps, ns: ManagedNamespace, to: string, by: string, approvedBy?: string): Promise<SlackMessage | undefined> {
  const now = deps.clock.now();
  const from = ns.expiresOn ?? to;
  if (!(await deps.store.lifecycle.setExpiry(ns.request.id, to, timersFor(deps.config, to, now), now))) return undefined;
  await deps.store.appendEvent({
    type: 'extended',
    at: now,
    actor: approvedBy ?? by,
    team: ns.request.team,
    requestId: ns.request.id,
    data: { from, to, by, ...(approvedBy ? { approvedBy } : {}), wasExpired: ns.state === 'expired' },
  });
  deps.log.info({ requestId: ns.request.id, from, to }, 'namespace extended');
  await annotateEnd(deps, ns.request);
  await namespaceChanged(deps, ns.request.id);
  const message = extended(endingNamespace(deps, ns, to), from, by, approvedBy);
  if (by !== ns.owner || approvedBy) await notifier(deps).dm(ns.owner, message);
  return message;
}

async function askApprovers(deps: Deps, ns: ManagedNamespace, input: { to: string; days: number; limits: ExtendLimits }, click: Click): Promise<void> {
  const now = deps.clock.now();
  const ending = endingNamespace(deps, ns, ns.expiresOn ?? input.to);
  const { created, request } = await deps.store.lifecycle.openRequest(
    { requestId: ns.request.id, kind: 'extend', requestedBy: click.user, expiresOn: input.to },
    now,
  );
  if (!created) return void (await tell(deps, click, extendRefusals.alreadyAsked(ending, request.expiresOn ?? input.to)));
  const place = await postToApprovers(deps, ns.request, extensionRequest(ending, { id: request.id, by: click.user, ...input }));
  if (place) await deps.store.lifecycle.setRequestMessage(request.id, place);
  await deps.store.appendEvent({
    type: 'extension_requested',
    at: now,
    actor: click.user,
    team: ns.request.team,
    requestId: ns.request.id,
    data: { lifecycleRequestId: request.id, from: ns.expiresOn, to: input.to, days: input.days },
  });
  await namespaceChanged(deps, ns.request.id);
  await tell(
    deps,
    click,
    extensionAsked(ending, { to: input.to, approvalsChannel: place?.channel ?? deps.config.slack.approvalsChannel, limits: input.limits }),
  );
}

/** An approver's Approve or Deny on an extension request; `id` undefined for a forged value. */
export async function decideExtension(deps: Deps, id: number | undefined, approved: boolean, click: Click): Promise<void> {
  const request = id === undefined ? undefined : await deps.store.lifecycle.getRequestById(id);
  const ns = request && (await deps.store.lifecycle.get(request.requestId));
  if (id === undefined || !request || request.kind !== 'extend' || !ns || !request.expiresOn) {
    return void (await tell(deps, click, extensionDecisionRefusals.unknown()));
  }
  if (!(await isApprover(deps, click.user))) return void (await tell(deps, click, extensionDecisionRefusals.notApprover()));
  if (request.requestedBy === click.user) return void (await tell(deps, click, extensionDecisionRefusals.own()));
  const now = deps.clock.now();
  const decision = await deps.store.lifecycle.decideRequest(id, approved ? 'approved' : 'denied', click.user, now);
  if (!decision.decided) return void (await tell(deps, click, extensionDecisionRefusals.decided(decision.request.decidedBy, decision.request.status)));
  const to = request.expiresOn;
  await deps.store.appendEvent({
    type: 'extension_decided',
    at: now,
    actor: click.user,
    team: ns.request.team,
    requestId: ns.request.id,
    data: { lifecycleRequestId: id, approved, to },
  });
  deps.log.info({ requestId: ns.request.id, lifecycleRequestId: id, approved }, 'extension decided');
  // Extended further meanwhile (within policy): approving it moves nothing back.
  const moves = approved && ns.expiresOn !== undefined && to > ns.expiresOn;
  const applied = moves ? await applyExtension(deps, ns, to, request.requestedBy, click.user) : undefined;
  if (moves && !applied) return void (await tell(deps, click, extendRefusals.gone(endingNamespace(deps, ns, to))));
  const outcome = extensionDecided(endingNamespace(deps, ns, ns.expiresOn ?? to), { by: click.user, to, approved, requestedBy: request.requestedBy });
  if (request.message) await notifier(deps).update(request.message.channel, request.message.ts, outcome);
  if (!approved) await namespaceChanged(deps, ns.request.id);
  // The owner heard through applyExtension; the one who asked hears here when it is someone else.
  if (!applied || request.requestedBy !== ns.owner) await notifier(deps).dm(request.requestedBy, outcome);
}
