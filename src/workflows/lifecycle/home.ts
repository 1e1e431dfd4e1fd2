import { z } from 'zod';
import { findTeam } from '../../config.ts';
import type { ManagedNamespace } from '../../domain/lifecycle.ts';
import { requestRef, type Click } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { localParts } from '../../lib/calendar.ts';
import { notifier, slackErrorCode } from '../../slack/io/notifier.ts';
import { openForm } from '../../slack/io/open-form.ts';
import {
  HOME_APPROVALS,
  HOME_LIFECYCLE_APPROVALS,
  HOME_OPEN_REQUESTS,
  HOME_PAGE_SIZE,
  homeView,
  namespaceDetailsModal,
  namespaceGone,
  type ApproverQueue,
  type NamespaceLine,
  type NamespacePage,
} from '../../slack/lifecycle/home.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { decideChangeRequest } from './change.ts';
import { decideDeletion } from './delete.ts';
import { decideExtension } from './extend.ts';
import { approve, openDenyForm } from '../provisioning/decide.ts';
import { clusterName } from '../provisioning/present.ts';
import { requestForm } from '../provisioning/request.ts';
import { requestStatus } from '../provisioning/status.ts';

/** What the Home view keeps in its private_metadata (HomeMetadata), read back when it is reopened. */
export const homeMetadata = z.object({ offset: z.number().int().min(0) });

/** Today in the configured time zone, YYYY-MM-DD. */
export function localToday(deps: Pick<Deps, 'config' | 'clock'>): string {
  const { year, month, day } = localParts(deps.clock.now(), deps.config.schedule.timezone);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const ASK_KINDS = ['change', 'extend', 'delete'] as const;

/**
 * The lines of these namespaces: cluster and team names from config, usage from the snapshots
 * (one query), and the asks about each that wait for an approver.
 */
export async function namespaceLines(deps: Pick<Deps, 'config' | 'store'>, namespaces: readonly ManagedNamespace[]): Promise<NamespaceLine[]> {
  const usage = await deps.store.adoption.usageOf(namespaces.map((ns) => ns.request.id));
  const lines: NamespaceLine[] = [];
  for (const namespace of namespaces) {
    const waiting: (typeof ASK_KINDS)[number][] = [];
    for (const kind of ASK_KINDS) {
      if ((await deps.store.lifecycle.openRequestFor(namespace.request.id, kind)) !== undefined) waiting.push(kind);
    }
    lines.push({
      namespace,
      clusterName: clusterName(deps, namespace.request.cluster),
      teamName: findTeam(deps.config, namespace.request.team)?.displayName ?? namespace.request.team,
      usage: usage.get(namespace.request.id),
      waiting,
    });
  }
  return lines;
}

/** A page of namespaces from a paged store query; an offset past the end shows the last page. */
export async function namespacePage(
  deps: Pick<Deps, 'config' | 'store'>,
  read: (page: { limit: number; offset: number }) => Promise<{ namespaces: ManagedNamespace[]; total: number }>,
  offset: number,
  pageSize: number,
): Promise<NamespacePage> {
  let start = Math.max(0, Math.floor(offset));
  let result = await read({ limit: pageSize, offset: start });
  if (result.namespaces.length === 0 && result.total > 0) {
    start = Math.floor((result.total - 1) / pageSize) * pageSize;
    result = await read({ limit: pageSize, offset: start });
  }
  return { lines: await namespaceLines(deps, result.namespaces), offset: start, total: result.total, pageSize };
}

async function approverQueue(deps: Deps): Promise<ApproverQueue> {
  const { requests, total } = await deps.store.pendingRequests(HOME_APPROVALS);
  const lifecycle: ApproverQueue['lifecycle'] = [];
  for (const request of await deps.store.lifecycle.openRequests(HOME_LIFECYCLE_APPROVALS)) {
    lifecycle.push({ request, namespace: await deps.store.getRequest(request.requestId) });
  }
  return { requests, total, lifecycle };
}

/**
 * Publishes a person's Home tab (`views.publish`): the page of their namespaces starting at
 * `offset`, their open requests and, for approvers, what waits on them. A Slack failure is
 * logged and counted; the next opening or change publishes again.
 */
export async function publishHome(deps: Deps, user: string, offset = 0): Promise<void> {
  const started = performance.now();
  try {
    const approver = await isApprover(deps, user);
    const view = homeView({
      user,
      today: localToday(deps),
      namespaces: await namespacePage(deps, (page) => deps.store.lifecycle.ownedBy(user, page), offset, HOME_PAGE_SIZE),
      openRequests: await deps.store.openRequestsBy(user, HOME_OPEN_REQUESTS + 1),
      approvals: approver ? await approverQueue(deps) : undefined,
    });
    await deps.slack.views.publish({ user_id: user, view });
    deps.log.debug({ blocks: view.blocks.length, ms: Math.round(performance.now() - started) }, 'home published');
  } catch (err) {
    deps.log.warn({ error: slackErrorCode(err) }, 'could not publish a Home tab');
    deps.metrics.slackErrors.inc({ method: 'views.publish', error: slackErrorCode(err) });
  }
}

/**
 * The `namespaceChanged` hook: redraws the Home of the namespace's owner, and of its requester
 * when that is someone else (a transfer changes both).
 */
export async function refreshHomeFor(deps: Deps, requestId: number): Promise<void> {
  const request = await deps.store.getRequest(requestId);
  if (!request) return;
  const owner = (await deps.store.lifecycle.get(requestId))?.owner ?? request.requester;
  await Promise.all([...new Set([owner, request.requester])].map((user) => publishHome(deps, user)));
}

/**
 * Approve on the Home tab: the same decision as on the card. Once it is recorded, the approver's
 * Home shows the queue without it and the requester's the request provisioning, while the cluster
 * work goes on.
 */
export function approveFromHome(deps: Deps, requestId: number | undefined, user: string): Promise<void> {
  return approve(deps, requestId, { user, channel: '' }, async (request) => {
    await Promise.all([publishHome(deps, user), ...(request.requester !== user ? [publishHome(deps, request.requester)] : [])]);
  });
}

/**
 * Approve or Deny on an extension or deletion ask on the Home tab: the same decision as in the
 * request's thread (refusals come by DM, the Home tab has no channel); then the approver's Home
 * shows the queue without it.
 */
export async function decideAskFromHome(deps: Deps, askId: number | undefined, user: string, approved: boolean): Promise<void> {
  const click = { user, channel: '' };
  const ask = askId === undefined ? undefined : await deps.store.lifecycle.getRequestById(askId);
  if (ask?.kind === 'extend') await decideExtension(deps, askId, approved, click);
  else if (ask?.kind === 'change') await decideChangeRequest(deps, askId, click, approved ? 'approved' : 'denied');
  else await decideDeletion(deps, askId, click, approved ? 'approved' : 'denied');
  await publishHome(deps, user);
}

/** Deny on the Home tab opens the same reason form as on the card (its answer redraws the Home). */
export function denyFromHome(deps: Deps, requestId: number | undefined, user: string, triggerId: string): Promise<void> {
  return openDenyForm(deps, requestId, { user, channel: '', triggerId });
}

/** "Request a namespace" on the Home tab: the request form, as `/platform new-namespace` opens it. */
export async function requestFromHome(deps: Deps, user: string, triggerId: string): Promise<void> {
  return openForm(deps, triggerId, await requestForm(deps, user), 'the request form', (message) => notifier(deps).dm(user, message));
}

/**
 * Details of a namespace in a modal: the same lines as on Home with the owner, then the request
 * and its latest run as `/platform status` shows them to this person (in full for the owner's
 * side and approvers, the id, name and state for anyone else).
 */
export async function showNamespaceDetails(deps: Deps, requestId: number | undefined, click: Click & { triggerId: string }): Promise<void> {
  const namespace = requestId === undefined ? undefined : await deps.store.lifecycle.get(requestId);
  if (requestId === undefined || !namespace || namespace.state === 'deleted') {
    await notifier(deps).toClicker(click, namespaceGone(requestId));
    return;
  }
  const [line] = await namespaceLines(deps, [namespace]);
  if (!line) return;
  const status = await requestStatus(deps, click.user, requestRef(requestId));
  await openForm(deps, click.triggerId, namespaceDetailsModal(line, localToday(deps), status.blocks), 'the namespace details', (message) =>
    notifier(deps).toClicker(click, message),
  );
}
