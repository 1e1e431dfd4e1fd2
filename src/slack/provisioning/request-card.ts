import type { ActionsBlock, KnownBlock } from '@slack/types';
import { requestRef, type NamespaceRequest, type Run } from '../../domain/requests.ts';
import { ACTION, BLOCK } from '../ids.ts';
import type { SlackMessage } from '../usage.ts';
import { decisionActions, STEP_ICON, context, escape, mrkdwn, plain, section, truncate, user } from '../text.ts';

/** What a request card shows besides the request itself; names are display names. */
export interface CardContext {
  teamName: string;
  clusterName: string;
  /** One line per provisioning step: the exact defaults the namespace gets. */
  defaults: readonly string[];
  run?: Run | undefined;
}

/** The request card posted to the approvals channel, in its current state. */
export function requestCard(request: NamespaceRequest, ctx: CardContext): SlackMessage {
  const ref = requestRef(request.id);
  const fields = [
    `*Requested by*\n${user(request.requester)}`,
    `*Team*\n${escape(ctx.teamName)}`,
    `*Environment*\n${request.environment}`,
    `*Cluster*\n${escape(ctx.clusterName)}`,
    `*Size*\n${request.tier}`,
    `*Expires*\n${request.expiresOn ?? 'never'}`,
  ];
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(truncate(`${ref}: namespace ${request.namespace}`, 150)) },
    { type: 'section', fields: fields.map(mrkdwn) },
    section(`*Why*\n>${escape(request.purpose).replace(/\n/g, '\n>')}`),
    {
      type: 'section',
      text: mrkdwn(truncate(`*What it gets*\n${ctx.defaults.map((d) => `• ${d}`).join('\n')}`, 3000)),
    },
    { type: 'divider' },
    ...statusBlocks(request, ctx.run),
  ];
  return {
    text: `${ref}: ${user(request.requester)} requests namespace ${request.namespace} (${request.environment}, ${request.tier}) on ${ctx.clusterName} — ${statusWord(request, ctx.run)}`,
    blocks,
  };
}

function statusWord(request: NamespaceRequest, run: Run | undefined): string {
  if (request.status === 'pending') return 'waiting for approval';
  if (request.status === 'denied') return 'denied';
  if (request.status === 'ready') return 'ready';
  if (request.status === 'failed' || run?.status === 'failed') return 'provisioning failed';
  return 'provisioning';
}

function statusBlocks(request: NamespaceRequest, run: Run | undefined): KnownBlock[] {
  if (request.status === 'pending') {
    const actions = decisionActions(BLOCK.decision, { approve: ACTION.approve, deny: ACTION.deny }, request.id);
    return [context('Waiting for an approver. Discuss in the thread.'), actions];
  }
  const blocks: KnownBlock[] = [context(decisionLine(request))];
  if (request.status === 'denied') return blocks;
  if (run) {
    const steps = run.steps.map((s) => `${STEP_ICON[s.status]} ${s.name}`).join('   ');
    blocks.push(section(`*${statusTitle(request, run)}*\n${steps}`));
  }
  if (run?.status === 'failed') blocks.push(retryActions(run));
  return blocks;
}

function statusTitle(request: NamespaceRequest, run: Run): string {
  if (request.status === 'ready') return `Ready: ${request.namespace}`;
  if (run.status === 'failed') return 'Provisioning failed';
  return 'Provisioning…';
}

export function decisionLine(request: NamespaceRequest): string {
  if (request.status === 'denied') {
    return `❌ Denied by ${user(request.decidedBy ?? 'unknown')}${request.decisionReason ? `: ${escape(request.decisionReason)}` : ''}`;
  }
  if (request.autoApproved) return '⚡ Approved automatically by policy';
  return `✅ Approved by ${user(request.decidedBy ?? 'unknown')}`;
}

export function retryActions(run: Run): ActionsBlock {
  return {
    type: 'actions',
    block_id: `run_${run.id}`,
    elements: [{ type: 'button', action_id: ACTION.retry, text: plain('Retry'), style: 'primary', value: String(run.id) }],
  };
}
