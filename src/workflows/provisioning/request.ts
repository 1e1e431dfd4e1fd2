import type { ModalView } from '@slack/types';
import type { NamespaceRequest } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage } from '../../errors.ts';
import { newNamespaceModal } from '../../slack/provisioning/new-namespace-modal.ts';
import { requestCard } from '../../slack/provisioning/request-card.ts';
import { decisionPosted, requestReceived } from '../../slack/provisioning/messages.ts';
import { BLOCK } from '../../slack/ids.ts';
import { matchAutoApprove, describeRule } from './policy.ts';
import { cardContext, refreshCard } from './present.ts';
import { notifier, type MessageMetadata } from '../../slack/io/notifier.ts';
import { announceOutcome, recordProvisioning } from './provision.ts';
import { executeRun } from '../runs/engine.ts';
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

  // The same form submitted again (its first answer was lost) is that request, not a name taken.
  const submitted = await deps.store.findRequestBySourceView(submission.viewId);
  if (submitted?.requester === submission.user) return { ok: true, request: submitted, duplicate: true };
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

/** The metadata of a request's card in the approvals channel (Slack message metadata). */
const cardMetadata = (requestId: number): MessageMetadata => ({ event_type: 'slipway_request_card', event_payload: { request_id: requestId } });

/**
 * How many of the approvals channel's latest messages are searched for a card a dead replica
 * posted: it is looked for a claim's lapse after the request was made, so it is among the latest.
 */
const CARD_LOOKBACK = 200;

/**
 * What happens after a request is stored: policy decides (an auto-approval commits with its
 * provisioning run), the card goes to the approvals channel, the requester hears its id, and an
 * auto-approved request is provisioned at once. Safe to call again for a request whose card was
 * never recorded (its replica died first), `recovering`: a decision or a run is never made twice,
 * and a card the dead replica posted is found by its metadata rather than posted again.
 */
export async function announceRequest(deps: Deps, stored: NamespaceRequest, recovering = false): Promise<void> {
  const slack = notifier(deps);
  const rule = matchAutoApprove(deps.config, stored);
  let request = stored;
  let runId: number | undefined;
  if (rule) {
    const auto = await deps.store.transaction(async () => {
      const decision = await deps.store.decide(
        stored.id,
        { status: 'approved', by: 'policy', reason: `matches auto-approve rule: ${describeRule(rule)}`, auto: true },
        deps.clock.now(),
      );
      if (!decision.decided) return { ...decision, runId: undefined };
      await deps.store.appendEvent({
        type: 'request_approved',
        at: deps.clock.now(),
        actor: 'policy',
        team: decision.request.team,
        requestId: decision.request.id,
        data: { auto: true },
      });
      return { ...decision, runId: await recordProvisioning(deps, decision.request) };
      // The decision is compare-and-set and one active run per request a constraint (src/store/db.ts).
    }, 'read committed');
    request = auto.request;
    runId = auto.runId;
    if (auto.decided) deps.metrics.requests.inc({ outcome: 'auto_approved' });
  }

  const channel = deps.config.slack.approvalsChannel;
  const decided = request;
  // The card first: a request whose card is recorded is announced, and the requester is told at
  // most once, even when this replica dies halfway. Recovering, the card a replica that died
  // before recording it had posted is found by its metadata rather than posted again.
  const announced = (async () => {
    const metadata = cardMetadata(decided.id);
    const earlier = recovering ? await slack.find(channel, metadata, CARD_LOOKBACK) : undefined;
    if (earlier) deps.log.info({ requestId: decided.id }, 'the card was posted before the request was taken over; not posting it again');
    const ts = earlier ?? (await slack.post(channel, requestCard(decided, cardContext(deps, decided)), undefined, metadata));
    if (!ts) return;
    if (!(await deps.store.setCard(decided.id, { channel, ts }, deps.clock.now()))) {
      deps.log.warn({ requestId: decided.id }, 'another replica recorded a card for this request first');
      return;
    }
    if (decided.autoApproved) await slack.post(channel, decisionPosted(decided), ts);
    if (recovering) {
      // The request may have moved on while it was announced (its run, taken over, finished).
      const status = (await refreshCard(deps, decided.id))?.status;
      // One settled before it was announced: its outcome DM told the requester already.
      if (status !== 'pending' && status !== 'approved') return;
    }
    await slack.dm(decided.requester, requestReceived(decided, decided.autoApproved, channel));
  })();
  // An auto-approved request is provisioned at once; its progress joins the card's thread. Tracked
  // with the runs, so a replica stopping (SIGTERM) posts the card and the receipt before it exits.
  await deps.engine.runs.track(Promise.all([announced, runId === undefined ? undefined : executeRun(deps, runId, announced)]));
}

/** How many requests of each kind one look of `recoverOrphans` takes up; the rest, at the next look. */
const ORPHANS_PER_LOOK = 50;

/**
 * How far back a request that settled (ready, failed) before its announcement was finished still
 * gets its card: the approvals channel keeps a record of it. An older one is left alone rather
 * than posted long after the fact.
 */
export const SETTLED_ANNOUNCE_MS = 24 * 3_600_000;

/**
 * Finishes what a replica that died left undone after acking: requests stored whose card was never
 * posted (announced now: decided by policy, card, receipt) and outcomes reached but never told
 * (the ready or failed DM). Run by the replica that runs scheduled work, every few seconds, on
 * what is older than a run claim's lapse (`claims.lapseSeconds`: a live replica finishes such work
 * within a second), so a live replica's work in progress is left to it; `anyAge` at the start of
 * the only replica (no leader election), when every such request is a dead process's.
 * `busy` holds what this process is doing already, so a slow one is not started twice.
 */
export async function recoverOrphans(deps: Deps, busy: Set<string>, anyAge = false): Promise<void> {
  const before = new Date(deps.clock.now().getTime() - (anyAge ? 0 : deps.config.claims.lapseSeconds * 1000));
  const recover = (key: string, requestId: number, what: string, work: () => Promise<void>) => {
    if (busy.has(key)) return;
    busy.add(key);
    deps.log.warn({ requestId }, `${what} a request left unfinished`);
    void work()
      .catch((err: unknown) => deps.log.error({ err, requestId }, `could not finish ${what} a request`))
      .finally(() => busy.delete(key));
  };
  const settledSince = new Date(deps.clock.now().getTime() - SETTLED_ANNOUNCE_MS);
  for (const request of await deps.store.unannouncedRequests({ createdBefore: before, settledSince }, ORPHANS_PER_LOOK)) {
    recover(`announce:${request.id}`, request.id, 'announcing', () => announceRequest(deps, request, true));
  }
  for (const request of await deps.store.pendingOutcomes(before, ORPHANS_PER_LOOK)) {
    recover(`outcome:${request.id}`, request.id, 'telling the outcome of', () => announceOutcome(deps, request.id));
  }
}
