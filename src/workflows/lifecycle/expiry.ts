import { findTeam, isProtectedEnvironment } from '../../config.ts';
import type { LifecycleTimer, ManagedNamespace } from '../../domain/lifecycle.ts';
import type { NamespaceRequest } from '../../domain/requests.ts';
import { namespaceChanged, type Deps } from '../../deps.ts';
import { formatLocal } from '../../lib/calendar.ts';
import { expiryReminder, finalNotice, protectedGraceOver, type EndingNamespace } from '../../slack/lifecycle/reminders.ts';
import { notifier, slackErrorCode } from '../../slack/io/notifier.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { clusterName } from '../provisioning/present.ts';
import { deleteExpired } from './delete.ts';
import { daysBetween, graceEnd, localDate } from './timers.ts';

/**
 * The lifecycle sweep (the `lifecycle` job): what is due of the namespaces' timers is sent, once.
 * It reads only the timers that are due (src/store/lifecycle.ts), so its cost follows what is due,
 * not how many namespaces exist. Per namespace, only the latest thing due happens: after a
 * downtime across a reminder's time the latest reminder is sent and older ones are dropped; a
 * final notice that is due makes reminders moot. A timer is claimed before its message goes out
 * (never twice), and given back when the message could not be sent (tried again next sweep, up
 * to MAX_ATTEMPTS).
 */

/** Timers read per sweep; the rest wait for the next one (every 5 minutes by default). */
const SWEEP_LIMIT = 1000;
const MAX_ATTEMPTS = 3;

interface Tally {
  reminded: number;
  notices: number;
  deletions: number;
  approversAsked: number;
  skipped: number;
  failed: number;
}

/** Whether people are still in the workspace, asked once per sweep. */
type Presence = Map<string, Promise<boolean>>;

export async function sweepLifecycle(deps: Deps, now: Date): Promise<string> {
  const due = await deps.store.lifecycle.dueTimers(now, SWEEP_LIMIT);
  const byNamespace = new Map<number, LifecycleTimer[]>();
  for (const timer of due) byNamespace.set(timer.requestId, [...(byNamespace.get(timer.requestId) ?? []), timer]);
  const tally: Tally = { reminded: 0, notices: 0, deletions: 0, approversAsked: 0, skipped: 0, failed: 0 };
  const presence: Presence = new Map();
  for (const [requestId, timers] of byNamespace) await sweepNamespace(deps, now, requestId, timers, tally, presence);
  const parts = [
    `${tally.reminded} reminded`,
    `${tally.notices} final notices`,
    `${tally.deletions} deletions started`,
    `${tally.approversAsked} protected asked approvers`,
    `${tally.skipped} timers dropped`,
    ...(tally.failed > 0 ? [`${tally.failed} not delivered (tried again next sweep)`] : []),
    ...(due.length === SWEEP_LIMIT ? ['more due: the next sweep continues'] : []),
  ];
  return parts.join(', ');
}

async function sweepNamespace(deps: Deps, now: Date, requestId: number, timers: LifecycleTimer[], tally: Tally, presence: Presence): Promise<void> {
  const lifecycle = deps.store.lifecycle;
  const drop = async (dropped: LifecycleTimer[]) => {
    for (const timer of dropped) if (await lifecycle.claimTimer(timer.id, 'skipped', now)) tally.skipped += 1;
  };
  const ns = await lifecycle.get(requestId);
  // Deleted (or being deleted) since: nothing more to say about it.
  if (!ns || ns.state === 'deleted' || ns.state === 'deleting') return drop(timers);
  const latest = (kind: LifecycleTimer['kind']) => timers.filter((t) => t.kind === kind).at(-1);
  const expiry = latest('expiry');
  const grace = latest('grace_end');
  if (expiry && ns.state === 'active') {
    // The notice starts the grace period from now, so a grace end that came due meanwhile waits.
    await drop(timers.filter((t) => t !== expiry));
    return sendFinalNotice(deps, now, ns, expiry, tally, presence);
  }
  // Expired already: a notice Slack refused is sent again, and the grace period ends as planned.
  if (expiry) await sendFinalNotice(deps, now, ns, expiry, tally, presence);
  if (grace) {
    await drop(timers.filter((t) => t !== grace && t !== expiry));
    return endGrace(deps, now, ns, grace, tally);
  }
  if (expiry) return drop(timers.filter((t) => t !== expiry));
  const reminders = timers.filter((t) => t.kind === 'reminder');
  const reminder = reminders.at(-1);
  await drop(reminders.slice(0, -1));
  if (reminder) await sendReminder(deps, now, ns, reminder, tally, presence);
}

async function sendReminder(deps: Deps, now: Date, ns: ManagedNamespace, timer: LifecycleTimer, tally: Tally, presence: Presence): Promise<void> {
  const lifecycle = deps.store.lifecycle;
  const daysLeft = ns.expiresOn === undefined ? 0 : daysBetween(localDate(deps.config, now), ns.expiresOn);
  // Extended or expired meanwhile (its timers were replaced), or the end date is today: no reminder.
  if (ns.state !== 'active' || !ns.expiresOn || daysLeft < 1) {
    if (await lifecycle.claimTimer(timer.id, 'skipped', now)) tally.skipped += 1;
    return;
  }
  if (!(await lifecycle.claimTimer(timer.id, 'done', now))) return;
  const ending = endingNamespace(deps, ns, ns.expiresOn);
  const outcome = await tellOwner(deps, ns.request, ns.owner, presence, (ownerLeft) => expiryReminder(ending, daysLeft, ownerLeft));
  if (!outcome.delivered) return giveBack(deps, timer, tally);
  tally.reminded += 1;
  await deps.store.appendEvent({
    type: 'reminded',
    at: now,
    team: ns.request.team,
    requestId: ns.request.id,
    data: { daysLeft, daysBefore: timer.daysBefore, expiresOn: ns.expiresOn, to: outcome.to },
  });
}

async function sendFinalNotice(deps: Deps, now: Date, ns: ManagedNamespace, timer: LifecycleTimer, tally: Tally, presence: Presence): Promise<void> {
  const lifecycle = deps.store.lifecycle;
  if ((ns.state !== 'active' && ns.state !== 'expired') || !ns.expiresOn) {
    if (await lifecycle.claimTimer(timer.id, 'skipped', now)) tally.skipped += 1;
    return;
  }
  if (!(await lifecycle.claimTimer(timer.id, 'done', now))) return;
  let graceUntil = ns.graceUntil ? new Date(ns.graceUntil) : graceEnd(deps.config, now);
  if (ns.state === 'active') {
    // The grace period runs from the notice, even when the notice is late (the bot was down).
    graceUntil = graceEnd(deps.config, now);
    if (!(await lifecycle.transition(ns.request.id, 'active', 'expired', now, graceUntil))) return;
    await lifecycle.replaceTimers(ns.request.id, [{ kind: 'grace_end', dueAt: graceUntil }], now);
  }
  const isProtected = isProtectedEnvironment(deps.config, ns.request.environment);
  const deleteAt = formatLocal(graceUntil, deps.config.schedule.timezone);
  const ending = endingNamespace(deps, ns, ns.expiresOn);
  const outcome = await tellOwner(deps, ns.request, ns.owner, presence, (ownerLeft) =>
    finalNotice(ending, deleteAt, isProtected, ownerLeft, localDate(deps.config, now)),
  );
  if (ns.state === 'active') {
    await deps.store.appendEvent({
      type: 'expiring',
      at: now,
      team: ns.request.team,
      requestId: ns.request.id,
      data: { expiresOn: ns.expiresOn, graceUntil: graceUntil.toISOString(), protected: isProtected, to: outcome.to },
    });
    await namespaceChanged(deps, ns.request.id);
  }
  if (!outcome.delivered) return giveBack(deps, timer, tally);
  tally.notices += 1;
}

async function endGrace(deps: Deps, now: Date, ns: ManagedNamespace, timer: LifecycleTimer, tally: Tally): Promise<void> {
  const lifecycle = deps.store.lifecycle;
  if (ns.state !== 'expired' || !ns.expiresOn) {
    if (await lifecycle.claimTimer(timer.id, 'skipped', now)) tally.skipped += 1;
    return;
  }
  if (!(await lifecycle.claimTimer(timer.id, 'done', now))) return;
  if (isProtectedEnvironment(deps.config, ns.request.environment)) {
    // Never deleted without an approver's click: they are asked in the request's thread.
    const asked = await postToApprovers(deps, ns.request, protectedGraceOver(endingNamespace(deps, ns, ns.expiresOn)));
    if (!asked) return giveBack(deps, timer, tally);
    // The approvers are asked to delete it: a deletion asked by the expiry, decided by a person.
    await deps.store.appendEvent({
      type: 'delete_requested',
      at: now,
      actor: 'expiry',
      team: ns.request.team,
      requestId: ns.request.id,
      data: { namespace: ns.request.namespace, cluster: ns.request.cluster, why: 'expiry', protected: true, expiresOn: ns.expiresOn },
    });
    tally.approversAsked += 1;
    return;
  }
  // The deletion is a durable run of its own (src/workflows/lifecycle/delete.ts): the sweep only starts it.
  if (await deleteExpired(deps, ns.request.id)) tally.deletions += 1;
}

async function giveBack(deps: Deps, timer: LifecycleTimer, tally: Tally): Promise<void> {
  tally.failed += 1;
  if (timer.attempts + 1 < MAX_ATTEMPTS) await deps.store.lifecycle.releaseTimer(timer.id, 'not delivered');
  else deps.log.warn({ requestId: timer.requestId, kind: timer.kind, attempts: timer.attempts + 1 }, 'lifecycle message not delivered; giving up');
}

/** A namespace as the messages about its end name it. */
export function endingNamespace(deps: Deps, ns: ManagedNamespace, expiresOn: string): EndingNamespace {
  return {
    requestId: ns.request.id,
    namespace: ns.request.namespace,
    clusterName: clusterName(deps, ns.request.cluster),
    environment: ns.request.environment,
    owner: ns.owner,
    expiresOn,
  };
}

/**
 * A message for the owner: by DM while they are in the workspace; once they have left, to their
 * team's channel (when it has one) and to the approvers in the request's thread.
 */
export async function tellOwner(
  deps: Deps,
  request: NamespaceRequest,
  owner: string,
  presence: Presence,
  message: (ownerLeft: boolean) => SlackMessage,
): Promise<{ delivered: boolean; to: 'owner' | 'team' }> {
  let present = presence.get(owner);
  if (!present) presence.set(owner, (present = isInWorkspace(deps, owner)));
  if (await present) return { delivered: (await notifier(deps).dm(owner, message(false))) !== undefined, to: 'owner' };
  const team = findTeam(deps.config, request.team);
  const sent = await Promise.all([team?.channel ? notifier(deps).post(team.channel, message(true)) : undefined, postToApprovers(deps, request, message(true))]);
  return { delivered: sent.some((place) => place !== undefined), to: 'team' };
}

/**
 * Whether a person is still in the workspace: `users.info` says `deleted: true` for deactivated
 * accounts. When Slack cannot say (an outage), they count as present and the DM is tried.
 */
async function isInWorkspace(deps: Deps, user: string): Promise<boolean> {
  try {
    const res = await deps.slack.users.info({ user });
    return res.user?.deleted !== true;
  } catch (err) {
    if (slackErrorCode(err) === 'user_not_found') return false;
    deps.log.warn({ error: slackErrorCode(err) }, 'could not look up a namespace owner; trying the DM');
    return true;
  }
}

/** In the original request's thread (the approvals channel when there is no card); the message's place. */
export async function postToApprovers(deps: Deps, request: NamespaceRequest, message: SlackMessage): Promise<{ channel: string; ts: string } | undefined> {
  const channel = request.card?.channel ?? deps.config.slack.approvalsChannel;
  const ts = await notifier(deps).post(channel, message, request.card?.ts);
  return ts ? { channel, ts } : undefined;
}

/** A sweep-wide cache of who is in the workspace (see `tellOwner`). */
export function newPresence(): Presence {
  return new Map();
}
