import { z } from 'zod';
import { MANAGED_SELECTOR } from '../../cluster/client.ts';
import { LABEL } from '../../cluster/manifests.ts';
import { isProtectedEnvironment, type Config } from '../../config.ts';
import type { LifecycleRequest, ManagedNamespace } from '../../domain/lifecycle.ts';
import { requestRef, type Click, type NamespaceRequest } from '../../domain/requests.ts';
import { namespaceChanged, type Deps, type RunKindHandlers } from '../../deps.ts';
import { decideAsk } from './asks.ts';
import { ClusterError, errorMessage } from '../../errors.ts';
import { BLOCK, LIMITS } from '../../slack/ids.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { openForm } from '../../slack/io/open-form.ts';
import {
  deleteAccepted,
  deleteDecisionForRequester,
  deleteModal,
  deleteRefusals,
  deletionFailed,
  deletionProgress,
  deletionRefused,
  deletionRequestDecided,
  deletionRequested,
  deletionStarted,
  namespaceDeleted,
  ownerDeletionFailed,
  wrongName,
  type DeleteAsk,
  type DeletePath,
  type Unattended,
} from '../../slack/lifecycle/delete.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { describeRule, matchRule } from '../provisioning/policy.ts';
import { clusterName, eksAccess } from '../provisioning/present.ts';
import type { FieldErrors } from '../provisioning/validate.ts';
import { startRun } from '../runs/engine.ts';

/**
 * Deleting a namespace Slipway made, as a request like any other: the owner or an approver asks
 * (`/platform delete`, a Delete button) and confirms by typing the name; `policy.delete` decides
 * whether it goes at once or an approver decides in the original request's thread; then a durable
 * run removes the team's EKS access to it, deletes it and waits until it is gone. At expiry the
 * lifecycle sweep deletes through `deleteExpired`, without a form.
 */

// ---------------------------------------------------------------------------------------------
// The run: steps, progress, endings
// ---------------------------------------------------------------------------------------------

interface DeleteStep {
  name: string;
  after?: readonly string[];
  appliesTo?(deps: Deps, request: NamespaceRequest): boolean;
  describe(deps: Deps, request: NamespaceRequest): string;
  apply(deps: Deps, request: NamespaceRequest): Promise<void>;
}

/** Slowest wait between two looks at a Terminating namespace. */
const MAX_POLL_MS = 10_000;

/**
 * Waits until the namespace controller has emptied and removed the namespace. One that stays
 * Terminating longer than `lifecycle.terminatingTimeoutMinutes` (counted from its
 * deletionTimestamp) fails the step with what holds it, so an approver can free it and press Retry.
 */
async function waitUntilGone(deps: Deps, request: NamespaceRequest): Promise<void> {
  const timeoutMinutes = deps.config.lifecycle.terminatingTimeoutMinutes;
  const started = deps.clock.now();
  for (let look = 0; ; look++) {
    const status = await deps.clusters.namespaceDeletion(request.cluster, request.namespace);
    if (status.gone) return;
    const where = `Namespace "${request.namespace}" on cluster "${request.cluster}"`;
    if (status.phase !== 'Terminating') {
      throw new ClusterError(`${where} is ${status.phase}, not being deleted: someone may have made it again. Check it, then press Retry.`, {
        transient: false,
      });
    }
    // Counted from this attempt's start when that is later: after Retry (or a restart) the
    // namespace controller gets the whole time again to finish what was freed.
    const since = Math.max(status.since?.getTime() ?? 0, started.getTime());
    if (deps.clock.now().getTime() - since >= timeoutMinutes * 60_000) {
      const held = status.heldBy.length > 0 ? status.heldBy.join('; ') : 'the namespace controller has not said yet';
      throw new ClusterError(
        `${where} is still Terminating after ${timeoutMinutes} minutes. What holds it: ${held}. Remove what holds it (e.g. the finalizers of a controller that is gone), then press Retry.`,
        { transient: false },
      );
    }
    if (deps.engine.runs.draining) {
      // Shutting down: a transient failure leaves the step pending; the next start looks again.
      throw new ClusterError(`${where} is still Terminating; Slipway looks again after its restart.`, { transient: true });
    }
    await Promise.race([deps.engine.sleep(Math.min(MAX_POLL_MS, 500 * 2 ** look)), deps.engine.runs.stopped]);
  }
}

const DELETE_STEPS: readonly DeleteStep[] = [
  {
    // First, so the team loses its EKS rights in a namespace before the namespace goes.
    name: 'revoke-eks-access',
    appliesTo: (deps, request) => eksAccess(deps.config, request.cluster, request.team) !== undefined,
    describe: (deps, request) => {
      const access = eksAccess(deps.config, request.cluster, request.team);
      return `EKS: \`${request.namespace}\` leaves the scope of \`${access?.policyArn.split('/').pop()}\` for \`${access?.principalArn}\` (the association, and the access entry, go when nothing is left in them)`;
    },
    async apply(deps, request) {
      const access = eksAccess(deps.config, request.cluster, request.team);
      if (access) await deps.clusters.revokeNamespaceAccess(request.cluster, { ...access, namespace: request.namespace });
    },
  },
  {
    name: 'delete-namespace',
    after: ['revoke-eks-access'],
    describe: (_deps, request) =>
      `Delete namespace \`${request.namespace}\` (only while it is labelled \`${MANAGED_SELECTOR}\` and \`${LABEL.requestId}=${requestRef(request.id)}\`)`,
    async apply(deps, request) {
      await deps.clusters.deleteNamespace(request.cluster, request.namespace, request.id);
    },
  },
  {
    name: 'wait-until-gone',
    after: ['delete-namespace'],
    describe: (deps, request) =>
      `Wait until \`${request.namespace}\` and everything in it is gone (Terminating for more than ${deps.config.lifecycle.terminatingTimeoutMinutes} minutes is reported)`,
    apply: waitUntilGone,
  },
];

function deleteSteps(deps: Deps, request: NamespaceRequest): DeleteStep[] {
  return DELETE_STEPS.filter((s) => !s.appliesTo || s.appliesTo(deps, request));
}

function describeStep(deps: Deps, request: NamespaceRequest, name: string): string {
  return DELETE_STEPS.find((s) => s.name === name)?.describe(deps, request) ?? name;
}

/** Who asked for the latest deletion of this namespace, and why (from the event log). */
async function lastAsk(deps: Deps, requestId: number): Promise<DeleteAsk | Unattended> {
  const event = (await deps.store.eventsFor(requestId)).filter((e) => e.type === 'delete_requested').at(-1);
  if (event?.actor === 'idle') return 'idle';
  if (!event || event.actor === 'expiry' || event.actor === undefined) return 'expiry';
  return { by: event.actor, reason: typeof event.data.reason === 'string' ? event.data.reason : undefined };
}

async function ownerOf(deps: Deps, request: NamespaceRequest): Promise<string> {
  return (await deps.store.lifecycle.get(request.id))?.owner ?? request.requester;
}

/** Deletion as a kind of durable run (src/workflows/runs/engine.ts). */
export const deletionRuns: RunKindHandlers = {
  prepare(deps, request) {
    const cluster = clusterName(deps, request.cluster);
    return {
      step(name) {
        const step = DELETE_STEPS.find((s) => s.name === name);
        return step && { after: step.after, apply: () => step.apply(deps, request) };
      },
      progress: (run) => deletionProgress(request, cluster, run, (name) => describeStep(deps, request, name)),
    };
  },
  async done(deps, request, run) {
    const ask = await lastAsk(deps, request.id);
    await notifier(deps).dm(await ownerOf(deps, request), namespaceDeleted(request, clusterName(deps, request.cluster), ask));
    // Recorded after the owner's message: a deletion without this event is told at the next start.
    await deps.store.appendEvent({
      type: 'namespace_deleted',
      at: deps.clock.now(),
      actor: typeof ask === 'string' ? ask : ask.by,
      team: request.team,
      requestId: request.id,
      data: {
        runId: run.id,
        namespace: request.namespace,
        cluster: request.cluster,
        tier: (await deps.store.lifecycle.get(request.id))?.tier ?? request.tier,
        outsideSlipway: false,
      },
    });
    deps.log.info({ requestId: request.id, runId: run.id }, 'namespace deleted');
    await namespaceChanged(deps, request.id);
  },
  async failed(deps, request, run, step, error) {
    // A namespace that is not this request's own is refused for good: there is nothing to retry.
    const refused = error instanceof ClusterError && error.code === 'namespace_not_managed';
    await deps.store.appendEvent({
      // Not `run_failed`: that counts provisioning failures in the digest's failure rate.
      type: refused ? 'delete_refused' : 'delete_failed',
      at: deps.clock.now(),
      team: request.team,
      requestId: request.id,
      data: { runId: run.id, kind: 'delete', step, error: errorMessage(error), status: error instanceof ClusterError ? error.status : undefined },
    });
    const slack = notifier(deps);
    const reason = errorMessage(error);
    if (request.card) {
      await slack.post(request.card.channel, refused ? deletionRefused(request, reason) : deletionFailed(request, step, reason, run), request.card.ts);
    }
    await slack.dm(await ownerOf(deps, request), refused ? deletionRefused(request, reason) : ownerDeletionFailed(request));
  },
};

/** How far back the start-up looks for deletions whose owner was not told. */
const UNTOLD_LOOKBACK_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * At start-up, before runs resume: tells the owners of deletions that finished just before the
 * bot stopped (the run was recorded done, the owner's message and the event were not).
 */
export async function announceDeletions(deps: Deps): Promise<void> {
  const since = new Date(deps.clock.now().getTime() - UNTOLD_LOOKBACK_MS);
  for (const runId of await deps.store.lifecycle.untoldDeletions(since)) {
    const run = await deps.store.getRun(runId);
    const request = run && (await deps.store.getRequest(run.requestId));
    if (run && request) await deletionRuns.done(deps, request, run);
  }
}

/**
 * Moves the namespace to `deleting` (compare-and-set) and drops its pending reminders; false when
 * it is already being deleted or gone. A namespace left `deleting` without a deletion run (the bot
 * stopped between the two) may start again.
 */
async function beginDeletion(deps: Deps, request: NamespaceRequest): Promise<boolean> {
  const now = deps.clock.now();
  const lifecycle = deps.store.lifecycle;
  const state = (await lifecycle.get(request.id))?.state;
  const fresh = (state === 'active' || state === 'expired') && (await lifecycle.transition(request.id, state, 'deleting', now));
  const halfStarted = state === 'deleting' && (await deps.store.latestRun(request.id))?.kind !== 'delete';
  if (fresh || halfStarted) await lifecycle.replaceTimers(request.id, [], now);
  return fresh || halfStarted;
}

/** Says in the original request's thread who is deleting it, then runs the deletion. */
async function runDeletion(deps: Deps, request: NamespaceRequest, ask: DeleteAsk | Unattended): Promise<void> {
  const card = request.card;
  const announced = card ? notifier(deps).post(card.channel, deletionStarted(request, ask), card.ts) : undefined;
  const steps = deleteSteps(deps, request).map((s) => s.name);
  await Promise.all([announced, startRun(deps, request, 'delete', steps, announced)]);
}

async function recordAsk(deps: Deps, request: NamespaceRequest, ask: DeleteAsk | Unattended, data: Record<string, unknown>): Promise<void> {
  await deps.store.appendEvent({
    type: 'delete_requested',
    at: deps.clock.now(),
    actor: typeof ask === 'string' ? ask : ask.by,
    team: request.team,
    requestId: request.id,
    data: { namespace: request.namespace, cluster: request.cluster, ...(typeof ask !== 'string' && ask.reason ? { reason: ask.reason } : {}), ...data },
  });
}

/**
 * The lifecycle sweep's deletion at the end of the grace period: no form, actor `expiry`. Never
 * for a protected environment (the approvers are asked instead). Resolves true once the deletion
 * run has started; the run goes on in the background (the engine tracks it for shutdown), since
 * waiting for a namespace to empty may take minutes.
 */
export function deleteExpired(deps: Deps, requestId: number): Promise<boolean> {
  return deleteUnattended(deps, requestId, 'expiry');
}

/**
 * The idle reclaim's deletion (src/workflows/lifecycle/idle.ts) when nobody answered twice and
 * `lifecycle.idle.deleteWithoutAnswer` lists the environment: as `deleteExpired`, actor `idle`.
 */
export function deleteIdle(deps: Deps, requestId: number): Promise<boolean> {
  return deleteUnattended(deps, requestId, 'idle');
}

async function deleteUnattended(deps: Deps, requestId: number, why: Unattended): Promise<boolean> {
  const request = await deps.store.getRequest(requestId);
  if (!request) return false;
  if (isProtectedEnvironment(deps.config, request.environment)) {
    deps.log.warn({ requestId, why }, 'not deleting a namespace in a protected environment without an approver');
    return false;
  }
  if (!(await beginDeletion(deps, request))) return false;
  await recordAsk(deps, request, why, { auto: true, why });
  // An owner's ask still waiting for an approver has nothing left to decide.
  const waiting = await deps.store.lifecycle.openRequestFor(requestId, 'delete');
  if (waiting) await deps.store.lifecycle.decideRequest(waiting.id, 'withdrawn', why, deps.clock.now());
  void runDeletion(deps, request, why).catch((err: unknown) => deps.log.error({ err, requestId, why }, 'could not run an unattended deletion'));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Asking: the command, the Delete buttons and the form
// ---------------------------------------------------------------------------------------------

/**
 * How a deletion asked by this person goes ahead, or undefined when they may not ask: approvers
 * delete at once; the owner at once where a `policy.delete` rule matches and the environment is
 * not protected; otherwise the owner's ask waits for an approver.
 */
export function deletePath(config: Config, request: NamespaceRequest, who: { owner: boolean; approver: boolean }): DeletePath | undefined {
  if (who.approver) return { at: 'once', why: 'approver' };
  if (!who.owner) return undefined;
  if (isProtectedEnvironment(config, request.environment)) return { at: 'approval', why: 'protected' };
  const rule = matchRule(config, config.policy.delete.autoApprove, request);
  return rule ? { at: 'once', why: 'policy', rule: describeRule(rule) } : { at: 'approval', why: 'no-rule' };
}

type Check = { path: DeletePath; refusal?: undefined } | { refusal: SlackMessage };

/** Whether `user` may ask to delete this namespace now, and how it would go. */
async function checkAsk(deps: Deps, ns: ManagedNamespace, user: string): Promise<Check> {
  const request = ns.request;
  if (ns.state === 'deleted') return { refusal: deleteRefusals.unknown(request.namespace) };
  // `deleting` without a deletion run: the bot stopped between the two, so it may be asked again.
  if (ns.state === 'deleting' && (await deps.store.latestRun(request.id))?.kind === 'delete') return { refusal: deleteRefusals.deleting(request) };
  const waiting = await deps.store.lifecycle.openRequestFor(request.id, 'delete');
  if (waiting) return { refusal: deleteRefusals.waiting(request, waiting) };
  const path = deletePath(deps.config, request, { owner: ns.owner === user, approver: await isApprover(deps, user) });
  return path ? { path } : { refusal: deleteRefusals.notAllowed(request, ns.owner) };
}

/** What the delete form carries in its private_metadata; read back with `readMetadata`. */
export const deleteFormMetadata = z.object({ requestId: z.number().int().positive(), channel: z.string() });

/** The delete form's answer when its private_metadata is not what the bot wrote (forged or stale). */
export const staleDeleteForm: FieldErrors = { [BLOCK.deleteConfirm]: 'This form is out of date. Close it and ask to delete again.' };

async function showForm(deps: Deps, ns: ManagedNamespace, user: string, triggerId: string, channel: string, tell: (m: SlackMessage) => Promise<unknown>) {
  const check = await checkAsk(deps, ns, user);
  if (check.refusal) {
    await tell(check.refusal);
    return;
  }
  const metadata = JSON.stringify({ requestId: ns.request.id, channel });
  await openForm(deps, triggerId, deleteModal(ns.request, clusterName(deps, ns.request.cluster), check.path, metadata), 'the delete form', tell);
}

/** `/platform delete <namespace> [cluster]`: the delete form, or why not. */
export async function openDeleteFormForCommand(
  deps: Deps,
  command: { user: string; channel: string; triggerId: string; command: string },
  args: string,
  tell: (message: SlackMessage) => Promise<unknown>,
): Promise<void> {
  const [name, cluster] = args.trim().split(/\s+/).filter(Boolean);
  if (!name) {
    await tell(deleteRefusals.usage(command.command));
    return;
  }
  const found = (await deps.store.lifecycle.findByName(name)).filter((ns) => !cluster || ns.request.cluster === cluster);
  const [only] = found;
  if (!only) {
    await deps.store.appendEvent({
      type: 'delete_refused',
      at: deps.clock.now(),
      actor: command.user,
      data: { namespace: name.slice(0, LIMITS.name), reason: 'not_managed' },
    });
    await tell(deleteRefusals.unknown(name.slice(0, LIMITS.name)));
    return;
  }
  if (found.length > 1) {
    await tell(
      deleteRefusals.ambiguous(
        name,
        found.map((ns) => ns.request.cluster),
      ),
    );
    return;
  }
  await showForm(deps, only, command.user, command.triggerId, command.channel, tell);
}

/**
 * A Delete button (Home, the expiry reminder) whose value is the request id: opens the same form.
 * Answers go where the person clicked, or by DM from a surface without a channel (Home) or when
 * Slack refuses the ephemeral there (a channel the bot is not in).
 */
export async function openDeleteForm(deps: Deps, requestId: number | undefined, click: Click & { triggerId: string }): Promise<void> {
  const slack = notifier(deps);
  const tell = async (message: SlackMessage) => (click.channel && (await slack.ephemeral(click.channel, click.user, message))) || slack.dm(click.user, message);
  const ns = requestId === undefined ? undefined : await deps.store.lifecycle.get(requestId);
  if (!ns) {
    await tell(deleteRefusals.unknownButton());
    return;
  }
  await showForm(deps, ns, click.user, click.triggerId, click.channel, tell);
}

export type DeleteSubmission = { errors: FieldErrors; proceed?: undefined } | { errors?: undefined; proceed(): Promise<void> };

/**
 * The delete form was sent. Checks the typed name and the reason, and records the decision before
 * the modal closes (field errors otherwise); `proceed` does the rest after the ack: the deletion, or
 * the request to the approvers in the original request's thread.
 */
export async function confirmDeletion(deps: Deps, requestId: number, user: string, typed: string, reason: string | undefined): Promise<DeleteSubmission> {
  const ns = await deps.store.lifecycle.get(requestId);
  if (!ns) return { errors: staleDeleteForm };
  const request = ns.request;
  if (typed.trim() !== request.namespace) return { errors: { [BLOCK.deleteConfirm]: wrongName(request.namespace) } };
  const why = reason?.trim() || undefined;
  if (why && why.length > LIMITS.deleteReason) return { errors: { [BLOCK.deleteReason]: `Keep it under ${LIMITS.deleteReason} characters.` } };
  const check = await checkAsk(deps, ns, user);
  if (check.refusal) return { errors: { [BLOCK.deleteConfirm]: check.refusal.text.replace(/[*`]/g, '') } };
  const ask: DeleteAsk = { by: user, reason: why };
  const slack = notifier(deps);

  if (check.path.at === 'once') {
    if (!(await beginDeletion(deps, request))) return { errors: { [BLOCK.deleteConfirm]: deleteRefusals.deleting(request).text.replace(/`/g, '') } };
    await recordAsk(deps, request, ask, { auto: true, why: check.path.why });
    return {
      proceed: async () => {
        await slack.dm(user, deleteAccepted(request, check.path));
        await runDeletion(deps, request, ask);
      },
    };
  }

  const opened = await deps.store.lifecycle.openRequest({ requestId, kind: 'delete', requestedBy: user, reason: why }, deps.clock.now());
  if (!opened.created) return { errors: { [BLOCK.deleteConfirm]: deleteRefusals.waiting(request, opened.request).text.replace(/[*`]/g, '') } };
  await recordAsk(deps, request, ask, { auto: false, why: check.path.why, lifecycleRequestId: opened.request.id });
  return {
    proceed: async () => {
      const where = request.card ?? { channel: deps.config.slack.approvalsChannel, ts: undefined };
      const ts = await slack.post(where.channel, deletionRequested(request, opened.request, check.path), where.ts);
      if (ts) await deps.store.lifecycle.setRequestMessage(opened.request.id, { channel: where.channel, ts });
      await slack.dm(user, deleteAccepted(request, check.path));
      // Home shows that the deletion waits.
      await namespaceChanged(deps, requestId);
    },
  };
}

/** Why this person may not decide on this deletion request now, or undefined when they may. */
async function decisionRefusal(deps: Deps, request: NamespaceRequest, ask: LifecycleRequest, user: string): Promise<SlackMessage | undefined> {
  if (ask.status !== 'pending') return deleteRefusals.decided(request, ask);
  if (!(await isApprover(deps, user))) return deleteRefusals.notApprover(request);
  if (ask.requestedBy === user) return deleteRefusals.ownAsk(request);
  return undefined;
}

/** An approver's Approve or Deny on a deletion request: one decision wins (compare-and-set). */
export async function decideDeletion(deps: Deps, askId: number | undefined, click: Click, status: 'approved' | 'denied'): Promise<void> {
  const slack = notifier(deps);
  const refuse = async (message: SlackMessage) => void (await slack.toClicker(click, message));
  const ask = askId === undefined ? undefined : await deps.store.lifecycle.getRequestById(askId);
  const request = ask?.kind === 'delete' ? await deps.store.getRequest(ask.requestId) : undefined;
  if (!ask || !request) return refuse(deleteRefusals.unknownAsk());
  const refusal = await decisionRefusal(deps, request, ask, click.user);
  if (refusal) return refuse(refusal);

  const { decided, request: now } = await decideAsk(deps, 'delete', request, ask, status, click.user);
  if (!decided) return refuse(deleteRefusals.decided(request, now));
  const started = status === 'approved' && (await beginDeletion(deps, request));
  if (now.message) await slack.update(now.message.channel, now.message.ts, deletionRequestDecided(request, now));
  await slack.dm(now.requestedBy, deleteDecisionForRequester(request, now));
  if (started) await runDeletion(deps, request, { by: now.requestedBy, reason: now.reason });
  // Home no longer shows it waiting (a deletion redraws it again when done).
  else await namespaceChanged(deps, request.id);
}
