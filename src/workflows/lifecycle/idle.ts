import { findTeam, idleDeletionAllowed, isProtectedEnvironment, type Config } from '../../config.ts';
import type { IdleAsk } from '../../domain/idle.ts';
import type { ManagedNamespace } from '../../domain/lifecycle.ts';
import type { Click, NamespaceRequest } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { notifier } from '../../slack/io/notifier.ts';
import {
  idleApproversAsked,
  idleDisowned,
  idleKept,
  idleNotYours,
  idleQuestion,
  idleSettled,
  idleTeamNote,
  type IdleNamespace,
} from '../../slack/lifecycle/idle.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { clusterName } from '../provisioning/present.ts';
import { deleteIdle } from './delete.ts';
import { newPresence, postToApprovers, tellOwner } from './expiry.ts';
import { localDate } from './timers.ts';

/**
 * Idle reclaim, as a conversation (part of the `lifecycle` job). A namespace whose latest usage
 * snapshot shows no running pods for `lifecycle.idle.afterDays` of its environment (never in a
 * protected one) gets one question to its owner: Keep it (not asked again for `snoozeDays`),
 * Delete it (the delete form) or Not mine (its team's channel is asked). Without an answer within
 * `answerDays` the team's channel hears about it; after a second period without one it is deleted
 * where `deleteWithoutAnswer` lists the environment, otherwise the approvers are asked in the
 * request's thread. Pods running again, or the namespace going another way, end the conversation.
 *
 * Cost: detection reads the latest states without pods older than each environment's threshold
 * (an index range, db/0006), less those asked or kept quiet; follow-ups read only the
 * conversations whose next step is due (db/0009).
 */

const DAY_MS = 86_400_000;
/** Conversations and candidates read per sweep; the rest wait for the next one. */
const SWEEP_LIMIT = 200;
/** The stages in which a question is still open to an answer. */
const OPEN = ['asked', 'team_told'] as const;

interface Tally {
  asked: number;
  teamsTold: number;
  deletions: number;
  approversAsked: number;
  ended: number;
  failed: number;
}

const days = (n: number) => n * DAY_MS;
const later = (now: Date, n: number) => new Date(now.getTime() + days(n));

/** Days without running pods before the owner is asked, or undefined when never. */
export function idleAfterDays(config: Config, environment: string): number | undefined {
  if (isProtectedEnvironment(config, environment)) return undefined;
  return config.lifecycle.idle.afterDays[environment];
}

export async function sweepIdle(deps: Deps, now: Date): Promise<string> {
  const tally: Tally = { asked: 0, teamsTold: 0, deletions: 0, approversAsked: 0, ended: 0, failed: 0 };
  for (const ask of await deps.store.idle.due(now, SWEEP_LIMIT)) await nextStep(deps, now, ask, tally);
  await askOwners(deps, now, tally);
  const parts = [
    `${tally.asked} idle asked`,
    `${tally.teamsTold} idle teams told`,
    `${tally.deletions} idle deletions started`,
    `${tally.approversAsked} idle approvers asked`,
    `${tally.ended} idle no longer`,
    ...(tally.failed > 0 ? [`${tally.failed} idle messages not delivered`] : []),
  ];
  return parts.join(', ');
}

/** How the messages name a namespace in a conversation. */
function idleNamespace(deps: Deps, ns: ManagedNamespace, ask: Pick<IdleAsk, 'id' | 'idleSince'>, now: Date): IdleNamespace {
  return {
    requestId: ns.request.id,
    askId: ask.id,
    namespace: ns.request.namespace,
    clusterName: clusterName(deps, ns.request.cluster),
    environment: ns.request.environment,
    owner: ns.owner,
    idleSince: localDate(deps.config, new Date(ask.idleSince)),
    idleDays: Math.floor((now.getTime() - Date.parse(ask.idleSince)) / DAY_MS),
    teamChannel: findTeam(deps.config, ns.request.team)?.channel !== undefined,
  };
}

/** The first question, to each namespace idle long enough that nothing is open or quiet about. */
async function askOwners(deps: Deps, now: Date, tally: Tally): Promise<void> {
  const idle = deps.config.lifecycle.idle;
  const presence = newPresence();
  for (const environment of Object.keys(deps.config.environments)) {
    const afterDays = idleAfterDays(deps.config, environment);
    if (afterDays === undefined) continue;
    for (const candidate of await deps.store.idle.candidates(environment, new Date(now.getTime() - days(afterDays)), now, SWEEP_LIMIT)) {
      const ns = await deps.store.lifecycle.get(candidate.requestId);
      // Expiring, being deleted or gone: the expiry and the deletion speak for it.
      if (ns?.state !== 'active') continue;
      const nextAt = later(now, idle.answerDays);
      const ask = await deps.store.idle.open({ requestId: ns.request.id, idleSince: candidate.idleSince, askedUser: ns.owner, nextAt }, now);
      if (!ask) continue;
      const view = idleNamespace(deps, ns, ask, now);
      const answerBy = localDate(deps.config, nextAt);
      const outcome = await tellOwner(deps, ns.request, ns.owner, presence, (ownerLeft) => idleQuestion(view, answerBy, idle.snoozeDays, ownerLeft));
      if (!outcome.delivered) {
        await deps.store.idle.forget(ask.id);
        tally.failed += 1;
        continue;
      }
      await deps.store.idle.setAskedTo(ask.id, outcome.to);
      tally.asked += 1;
      await deps.store.appendEvent({
        type: 'idle_asked',
        at: now,
        team: ns.request.team,
        requestId: ns.request.id,
        data: { askId: ask.id, owner: ns.owner, to: outcome.to, idleSince: candidate.idleSince, idleDays: view.idleDays, answerBy: nextAt.toISOString() },
      });
    }
  }
}

/** The next step of a conversation nobody answered: the team's channel, then deletion or the approvers. */
async function nextStep(deps: Deps, now: Date, ask: IdleAsk, tally: Tally): Promise<void> {
  const store = deps.store;
  const ns = await store.lifecycle.get(ask.requestId);
  const ended =
    ns?.state !== 'active'
      ? (ns?.state ?? 'gone')
      : (await store.idle.runningNow(ask.requestId))
        ? 'running'
        : (await store.lifecycle.openRequestFor(ask.requestId, 'delete'))
          ? 'delete_requested'
          : undefined;
  if (!ns || ended) {
    // A deletion waiting for an approver is an answer: not asked again while they decide (a snooze).
    const quietUntil = ended === 'delete_requested' ? later(now, deps.config.lifecycle.idle.snoozeDays) : undefined;
    if (await store.idle.close(ask.id, OPEN, 'ended', 'idle', now, quietUntil)) {
      tally.ended += 1;
      await recordStep(deps, ask, 'idle_ended', now, undefined, { why: ended });
    }
    return;
  }
  const view = idleNamespace(deps, ns, ask, now);
  const deletes = idleDeletionAllowed(deps.config, ns.request.environment);
  if (ask.stage === 'asked') {
    const nextAt = later(now, deps.config.lifecycle.idle.answerDays);
    if (!(await store.idle.toldTeam(ask.id, 'asked', nextAt, false, now))) return;
    const note = idleTeamNote(view, localDate(deps.config, new Date(ask.askedAt)), false, localDate(deps.config, nextAt), deletes);
    if (await toTeam(deps, ns.request, note)) tally.teamsTold += 1;
    else tally.failed += 1;
    await recordStep(deps, ask, 'idle_team_told', now, undefined, { notMine: false, deletesAt: deletes ? nextAt.toISOString() : undefined });
    return;
  }
  if (deletes) {
    if (!(await store.idle.close(ask.id, ['team_told'], 'deleting', 'idle', now))) return;
    await recordStep(deps, ask, 'idle_reclaimed', now, 'idle', { tier: ns.tier, environment: ns.request.environment });
    if (await deleteIdle(deps, ns.request.id)) tally.deletions += 1;
    return;
  }
  // Kept quiet as long as a snooze: the approvers are not asked again every sweep.
  if (!(await store.idle.close(ask.id, ['team_told'], 'approvers', 'idle', now, later(now, deps.config.lifecycle.idle.snoozeDays)))) return;
  const asked = await postToApprovers(deps, ns.request, idleApproversAsked(view, localDate(deps.config, new Date(ask.askedAt))));
  if (asked) tally.approversAsked += 1;
  else tally.failed += 1;
  await recordStep(deps, ask, 'idle_approvers_asked', now, undefined, { environment: ns.request.environment });
}

async function recordStep(deps: Deps, ask: IdleAsk, type: string, now: Date, actor: string | undefined, data: Record<string, unknown>): Promise<void> {
  const request = await deps.store.getRequest(ask.requestId);
  await deps.store.appendEvent({ type, at: now, actor, team: request?.team, requestId: ask.requestId, data: { askId: ask.id, ...data } });
}

/** In the team's channel, or in the request's thread when the team has none. */
async function toTeam(deps: Deps, request: NamespaceRequest, message: SlackMessage): Promise<boolean> {
  const channel = findTeam(deps.config, request.team)?.channel;
  if (channel) return (await notifier(deps).post(channel, message)) !== undefined;
  return (await postToApprovers(deps, request, message)) !== undefined;
}

type IdleClick = Click & { message?: { channel: string; ts: string } | undefined };

/** Keep it: whoever got the question (the owner, their team, an approver) keeps the namespace. */
export async function keepIdle(deps: Deps, askId: number | undefined, click: IdleClick): Promise<void> {
  const slack = notifier(deps);
  const now = deps.clock.now();
  const ask = askId === undefined ? undefined : await deps.store.idle.get(askId);
  const ns = ask && (await deps.store.lifecycle.get(ask.requestId));
  if (!ask || !ns) return void (await slack.toClicker(click, idleSettled('this namespace')));
  const until = later(now, deps.config.lifecycle.idle.snoozeDays);
  if (ns.state !== 'active' || !(await deps.store.idle.close(ask.id, [...OPEN, 'approvers'], 'kept', click.user, now, until))) {
    return void (await slack.toClicker(click, idleSettled(ns.request.namespace)));
  }
  await recordStep(deps, ask, 'idle_kept', now, click.user, { stage: ask.stage, until: until.toISOString() });
  const kept = idleKept({ namespace: ns.request.namespace, requestId: ns.request.id }, click.user, localDate(deps.config, until));
  if (click.message) await slack.update(click.message.channel, click.message.ts, kept);
  if (click.user !== ns.owner) await slack.dm(ns.owner, kept);
}

/** Not mine: the person asked says the namespace is not theirs; its team's channel is asked. */
export async function disownIdle(deps: Deps, askId: number | undefined, click: IdleClick): Promise<void> {
  const slack = notifier(deps);
  const now = deps.clock.now();
  const ask = askId === undefined ? undefined : await deps.store.idle.get(askId);
  const ns = ask && (await deps.store.lifecycle.get(ask.requestId));
  if (!ask || !ns) return void (await slack.toClicker(click, idleSettled('this namespace')));
  if (click.user !== ask.askedUser) return void (await slack.toClicker(click, idleNotYours(ns.request.namespace, ask.askedUser)));
  const nextAt = later(now, deps.config.lifecycle.idle.answerDays);
  if (ns.state !== 'active' || !(await deps.store.idle.toldTeam(ask.id, 'asked', nextAt, true, now))) {
    return void (await slack.toClicker(click, idleSettled(ns.request.namespace)));
  }
  await recordStep(deps, ask, 'idle_not_mine', now, click.user, {});
  const deletes = idleDeletionAllowed(deps.config, ns.request.environment);
  const view = idleNamespace(deps, ns, ask, now);
  const note = idleTeamNote(view, localDate(deps.config, new Date(ask.askedAt)), true, localDate(deps.config, nextAt), deletes);
  const told = await toTeam(deps, ns.request, note);
  await recordStep(deps, ask, 'idle_team_told', now, undefined, { notMine: true, delivered: told, deletesAt: deletes ? nextAt.toISOString() : undefined });
  if (click.message) await slack.update(click.message.channel, click.message.ts, idleDisowned(view));
}
