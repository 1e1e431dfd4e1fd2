import type { ActionsBlock, Button, HomeView, KnownBlock, ModalView } from '@slack/types';
import type { LifecycleRequest, LifecycleRequestKind, ManagedNamespace, NamespaceUsage } from '../../domain/lifecycle.ts';
import { requestRef, type NamespaceRequest } from '../../domain/requests.ts';
import { HOME } from '../ids.ts';
import { STATUS_WORD } from '../provisioning/status.ts';
import { context, escape, mrkdwn, plain, plural, section, truncate, user, type SlackMessage } from '../text.ts';

/**
 * Day 2 as people see it: the Home tab (their namespaces, their open requests and, for approvers,
 * what waits on them), the answer to `/platform list` and a namespace's details. Pure functions
 * of what the workflows read (src/workflows/lifecycle/home.ts, list.ts).
 */

/**
 * Namespaces per page: two blocks each on the Home tab, one in a list. With the other sections
 * capped below, a Home tab stays under Slack's 100 blocks and a list under a message's 50
 * (docs.slack.dev/reference/block-kit/blocks), whatever the numbers: test/unit/home-view.test.ts.
 */
export const HOME_PAGE_SIZE = 20;
export const LIST_PAGE_SIZE = 20;
/** At most this many of a person's open requests and of an approver's queue are shown. */
export const HOME_OPEN_REQUESTS = 5;
export const HOME_APPROVALS = 8;
export const HOME_LIFECYCLE_APPROVALS = 5;

/** A namespace with what the lines about it need besides the store's record. */
export interface NamespaceLine {
  namespace: ManagedNamespace;
  clusterName: string;
  teamName: string;
  usage: NamespaceUsage | undefined;
  /** Asks about it (a change, an extension, a deletion) waiting for an approver. */
  waiting: readonly LifecycleRequestKind[];
}

const WAITING_WORD: Record<LifecycleRequestKind, string> = { change: 'the change', extend: 'the extension', delete: 'the deletion' };

/** A page of namespaces: `offset` of the first, `total` of all. */
export interface NamespacePage {
  lines: NamespaceLine[];
  offset: number;
  total: number;
  pageSize: number;
}

export interface ApproverQueue {
  requests: NamespaceRequest[];
  total: number;
  /** Extensions beyond policy, deletions and changes waiting for an approver, with the namespace's request. */
  lifecycle: { request: LifecycleRequest; namespace: NamespaceRequest | undefined }[];
}

export interface HomeInput {
  user: string;
  /** Today in the configured time zone, YYYY-MM-DD: days left and ages count from it. */
  today: string;
  namespaces: NamespacePage;
  openRequests: NamespaceRequest[];
  /** Undefined for someone who is not an approver. */
  approvals: ApproverQueue | undefined;
}

/** What the Home view keeps between a click and the next publish. */
export interface HomeMetadata {
  offset: number;
}

const DAY_MS = 86_400_000;

/** Whole days from `from` to `to`, both YYYY-MM-DD. */
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** `expires 2026-12-20 (16 days left)`, `expires today`, `no end date`. */
export function expiryText(namespace: ManagedNamespace, today: string): string {
  if (!namespace.expiresOn) return 'no end date';
  const left = daysBetween(today, namespace.expiresOn);
  if (left > 0) return `expires ${namespace.expiresOn} (${plural(left, 'day')} left)`;
  if (left === 0) return `expires today (${namespace.expiresOn})`;
  return `expired on ${namespace.expiresOn}`;
}

/** Active with running pods, or idle and since when (with the last time pods ran). */
export function usageText(usage: NamespaceUsage | undefined): string {
  if (!usage) return '⚪ not seen by a usage refresh yet';
  if (usage.runningPods > 0) return `🟢 active: ${plural(usage.runningPods, 'pod')} running (seen ${usage.since.slice(0, 10)})`;
  if (usage.lastRunningAt) return `⚪ idle: pods last ran ${usage.lastRunningAt.slice(0, 10)}, none since ${usage.since.slice(0, 10)}`;
  return '⚪ idle: no pods have run yet';
}

function stateText(namespace: ManagedNamespace): string | undefined {
  if (namespace.state === 'expired')
    return `⌛ past its end date: deleted after ${namespace.graceUntil?.slice(0, 16).replace('T', ' ') ?? 'the grace period'} UTC unless extended`;
  if (namespace.state === 'deleting') return '🗑️ being deleted';
  return undefined;
}

/** The two lines that describe a namespace wherever it is listed. */
export function namespaceText(line: NamespaceLine, today: string, options: { owner?: boolean } = {}): string {
  const { namespace: ns } = line;
  const request = ns.request;
  const age = Math.max(0, daysBetween(request.createdAt.slice(0, 10), today));
  const first = `*\`${request.namespace}\`* · ${escape(line.clusterName)} · ${escape(line.teamName)} · ${request.environment} · ${ns.tier}`;
  const details = [`${requestRef(request.id)}`, ...(options.owner ? [`owner ${user(ns.owner)}`] : []), `age ${plural(age, 'day')}`, expiryText(ns, today)];
  const state = stateText(ns);
  const waiting = line.waiting.length > 0 ? [`🕒 Waiting for an approver in the request's thread: ${line.waiting.map((k) => WAITING_WORD[k]).join(', ')}`] : [];
  return [first, details.join(' · '), state ?? usageText(line.usage), ...waiting].join('\n');
}

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', text: plain(text), action_id: actionId, value, ...(style ? { style } : {}) };
}

/** The days the Extend buttons offer, as in the reminders. */
export const EXTEND_DAYS = [7, 30] as const;

/** What an Extend button carries: the lifecycle feature checks `from` is still the end date. */
export interface ExtendButtonValue {
  requestId: number;
  days: number;
  from: string;
}

/** Extend 7 / Extend 30 (with an end date), Change (while active), Delete and Details; only Details while it is going away. */
export function namespaceButtons(namespace: ManagedNamespace): Button[] {
  const requestId = namespace.request.id;
  const details = button('Details', HOME.details, String(requestId));
  if (namespace.state === 'deleting') return [details];
  const from = namespace.expiresOn;
  const extend = from
    ? EXTEND_DAYS.map((days) => button(`Extend ${days} days`, `${HOME.extend}_${days}`, JSON.stringify({ requestId, days, from } satisfies ExtendButtonValue)))
    : [];
  const change = namespace.state === 'active' ? [button('Change', HOME.change, String(requestId))] : [];
  return [...extend, ...change, button('Delete', HOME.delete, String(requestId), 'danger'), details];
}

function pageLabel(page: NamespacePage): string {
  if (page.total === 0) return '';
  const last = Math.min(page.offset + page.lines.length, page.total);
  return page.total > page.lines.length ? `showing ${page.offset + 1}–${last} of ${page.total}` : `${plural(page.total, 'namespace')}`;
}

/** Previous / Show more buttons of a paged list; `value` makes each button's value from an offset. */
function pagingButtons(page: NamespacePage, actionId: string, value: (offset: number) => string): Button[] {
  const buttons: Button[] = [];
  if (page.offset > 0) buttons.push({ ...button('Previous', actionId, value(Math.max(0, page.offset - page.pageSize))), action_id: `${actionId}_previous` });
  const next = page.offset + page.lines.length;
  if (next < page.total) buttons.push(button(`Show more (${page.total - next} left)`, actionId, value(next)));
  return buttons;
}

function actions(blockId: string, elements: Button[]): ActionsBlock {
  return { type: 'actions', block_id: blockId, elements };
}

function namespaceBlocks(page: NamespacePage, today: string): KnownBlock[] {
  if (page.total === 0) {
    return [section("You don't own any namespaces yet. Request one and it shows up here, with its end date and whether it is in use.")];
  }
  return page.lines.flatMap((line) => [section(namespaceText(line, today)), actions(`ns_${line.namespace.request.id}`, namespaceButtons(line.namespace))]);
}

function openRequestBlocks(requests: readonly NamespaceRequest[]): KnownBlock[] {
  if (requests.length === 0) return [];
  const shown = requests.slice(0, HOME_OPEN_REQUESTS);
  const lines = shown.map((r) => `• *${requestRef(r.id)}* \`${r.namespace}\` (${r.environment}, ${r.tier}): ${STATUS_WORD[r.status]}`);
  return [
    { type: 'header', text: plain('Your open requests') },
    section(lines.join('\n')),
    ...(requests.length > shown.length ? [context('`/platform status <request>` shows any request step by step.')] : []),
  ];
}

function approvalBlocks(queue: ApproverQueue, approver: string): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'header', text: plain('Waiting for you') }];
  if (queue.total === 0 && queue.lifecycle.length === 0) return [...blocks, context('Nothing waits for an approver right now.')];
  for (const r of queue.requests.slice(0, HOME_APPROVALS)) {
    const text = `*${requestRef(r.id)}* · ${user(r.requester)} asks for \`${r.namespace}\` (${r.team}, ${r.environment}, ${r.tier})\n${escape(truncate(r.purpose, 300))}`;
    blocks.push(section(text));
    // Nobody decides on their own request: no buttons there (the click is checked again anyway).
    blocks.push(
      r.requester === approver
        ? context('Your own request: another approver decides.')
        : actions(`approval_${r.id}`, [button('Approve', HOME.approve, String(r.id), 'primary'), button('Deny', HOME.deny, String(r.id), 'danger')]),
    );
  }
  const moreRequests = queue.total - Math.min(queue.total, HOME_APPROVALS);
  if (moreRequests > 0) blocks.push(context(`${plural(moreRequests, 'more request')} in the approvals channel.`));
  // Extension, deletion and change asks, decided here as in the request's thread (the same compare-and-set).
  for (const { request: ask, namespace } of queue.lifecycle.slice(0, HOME_LIFECYCLE_APPROVALS)) {
    const what = ask.kind === 'extend' ? `extend to ${ask.expiresOn ?? '?'}` : ask.kind === 'change' ? 'change' : 'delete';
    const where = namespace ? `\`${namespace.namespace}\` (${requestRef(namespace.id)})` : requestRef(ask.requestId);
    blocks.push(section(`${user(ask.requestedBy)} asks to *${what}* ${where}${ask.reason ? `\n>${escape(truncate(ask.reason, 300))}` : ''}`));
    blocks.push(
      ask.requestedBy === approver
        ? context('Your own ask: another approver decides.')
        : actions(`ask_${ask.id}`, [
            button(ask.kind === 'delete' ? 'Approve deletion' : 'Approve', HOME.approveAsk, String(ask.id), ask.kind === 'delete' ? 'danger' : 'primary'),
            button('Deny', HOME.denyAsk, String(ask.id)),
          ]),
    );
  }
  return blocks;
}

/**
 * The Home tab of one person: a page of their namespaces (with the count), their open requests
 * and, for approvers, the queue. At most 100 blocks whatever the numbers (checked by tests).
 */
export function homeView(input: HomeInput): HomeView {
  const { namespaces: page } = input;
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('Your namespaces') },
    context(page.total === 0 ? 'None yet.' : `You own ${plural(page.total, 'namespace')}${page.total > page.lines.length ? ` (${pageLabel(page)})` : ''}.`),
    actions('home_top', [button('Request a namespace', HOME.request, 'new', 'primary')]),
    ...namespaceBlocks(page, input.today),
  ];
  const paging = pagingButtons(page, HOME.page, String);
  if (paging.length > 0) blocks.push(actions('home_paging', paging));
  blocks.push(...openRequestBlocks(input.openRequests));
  if (input.approvals) blocks.push({ type: 'divider' }, ...approvalBlocks(input.approvals, input.user));
  const metadata: HomeMetadata = { offset: page.offset };
  return { type: 'home', blocks, private_metadata: JSON.stringify(metadata) };
}

/** Who `/platform list` was asked about, in words. */
export type ListScope = { kind: 'mine' } | { kind: 'team'; team: string; teamName: string } | { kind: 'person'; user: string } | { kind: 'all' };

function scopeTitle(scope: ListScope): string {
  switch (scope.kind) {
    case 'mine':
      return 'Your namespaces';
    case 'team':
      return `Namespaces of ${escape(scope.teamName)}`;
    case 'person':
      return `Namespaces owned by ${user(scope.user)}`;
    case 'all':
      return 'All namespaces';
  }
}

/** `/platform list …`: one page, one section per namespace with a Details button; paged within 50 blocks. */
export function namespaceList(scope: ListScope, page: NamespacePage, today: string, pageValue: (offset: number) => string): SlackMessage {
  const title = scopeTitle(scope);
  if (page.total === 0) {
    const text = `${title}: none.`;
    return { text, blocks: [section(text), context('`/platform new-namespace` requests one.')] };
  }
  const summary = `${title}: ${pageLabel(page)}`;
  const blocks: KnownBlock[] = [section(`*${summary}*`)];
  for (const line of page.lines) {
    blocks.push({
      type: 'section',
      text: mrkdwn(namespaceText(line, today, { owner: scope.kind !== 'mine' })),
      accessory: button('Details', HOME.details, String(line.namespace.request.id)),
    });
  }
  const paging = pagingButtons(page, HOME.listPage, pageValue);
  if (paging.length > 0) blocks.push(actions('list_paging', paging));
  return { text: summary, blocks };
}

export function listUsage(command: string, problem: string): SlackMessage {
  const text = `${problem} Try \`${command} list\` (yours), \`${command} list <team>\`, \`${command} list @person\` or \`${command} list all\` (approvers).`;
  return { text, blocks: [section(text)] };
}

/** The details of a namespace, as a modal opened from its Details button. */
export function namespaceDetailsModal(line: NamespaceLine, today: string, more: readonly KnownBlock[]): ModalView {
  const ns = line.namespace;
  return {
    type: 'modal',
    callback_id: HOME.detailsModal,
    title: plain(truncate(ns.request.namespace, 24)),
    close: plain('Close'),
    blocks: [section(namespaceText(line, today, { owner: true })), ...more],
  };
}

/** A click on a namespace that no longer exists (deleted, or a forged value). */
export function namespaceGone(requestId: number | undefined): SlackMessage {
  const text = requestId === undefined ? 'That button does not name a namespace.' : `Namespace ${requestRef(requestId)} no longer exists.`;
  return { text, blocks: [section(text)] };
}
