import type { KubernetesObject, V1LimitRange, V1Namespace, V1ResourceQuota, V1RoleBinding } from '@kubernetes/client-node';
import type { ModalView } from '@slack/types';
import { z } from 'zod';
import { accessBindingName, buildAccessBindings, buildGoldenPath, OBJECT_NAMES } from '../../cluster/manifests.ts';
import { findTeam, type ChangeAspect, type Config } from '../../config.ts';
import type { ChangeFields, ExtraAccess, LifecycleRequest, ManagedNamespace, NamespaceSettings } from '../../domain/lifecycle.ts';
import type { Click, NamespaceRequest } from '../../domain/requests.ts';
import { namespaceChanged, type Deps, type RunKindHandlers } from '../../deps.ts';
import { ClusterError, errorMessage } from '../../errors.ts';
import { parseQuantity, quotaShortfalls, type QuotaShortfall } from '../../lib/quantity.ts';
import { BLOCK, LIMITS } from '../../slack/ids.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { openForm } from '../../slack/io/open-form.ts';
import {
  changeAccepted,
  changeApplied,
  changeApplying,
  changeDecisionForRequester,
  changeDiff,
  changeFailed,
  changeProgress,
  changeRefusals,
  changeRefusedForUsage,
  changeRequest,
  changeRequestDecided,
  ownerChangeFailed,
  type ChangedNamespace,
} from '../../slack/lifecycle/change.ts';
import { changeNamespaceModal } from '../../slack/provisioning/new-namespace-modal.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { expiryProblem, type FieldErrors } from '../provisioning/validate.ts';
import { startRun } from '../runs/engine.ts';
import { decideAsk } from './asks.ts';
import { timersFor } from './timers.ts';

/**
 * Changing a namespace (`/platform change`, *Change* on Home): its tier, end date, purpose and
 * extra team access. What a change does is split into aspects (`ChangeAspect`); `policy.change`
 * says which of them need nobody, and any other needs an approver who is not the one who asked.
 */

// ---------------------------------------------------------------------------------------------
// Policy: what a change does, and who decides it
// ---------------------------------------------------------------------------------------------

/**
 * Whether `to` grows anything over `from`: a quota or a per-container maximum that is higher, or
 * one that `to` leaves out (no limit). A tier that grows nothing is smaller, even where it keeps
 * values; a value that is not a quantity counts as growing, so it is never waved through.
 */
export function tierDirection(config: Config, from: string, to: string): 'same' | 'smaller' | 'larger' {
  if (from === to) return 'same';
  const before = Object.hasOwn(config.tiers, from) ? config.tiers[from] : undefined;
  const after = Object.hasOwn(config.tiers, to) ? config.tiers[to] : undefined;
  if (!before || !after) return 'larger';
  const grows = (old: Readonly<Record<string, string>> | undefined, next: Readonly<Record<string, string>> | undefined) =>
    Object.entries(old ?? {}).some(([resource, value]) => {
      const now = next?.[resource];
      if (now === undefined) return true;
      const [a, b] = [parseQuantity(value), parseQuantity(now)];
      return !a || !b || b.value > a.value;
    });
  return grows(before.quota, after.quota) || grows(before.limits.max, after.limits.max) ? 'larger' : 'smaller';
}

/** How an end date moves: none is the latest of all. */
function expiryDirection(from: string | undefined, to: string | undefined): 'same' | 'shorter' | 'longer' {
  if (from === to) return 'same';
  if (to === undefined) return 'longer';
  if (from === undefined) return 'shorter';
  return to < from ? 'shorter' : 'longer';
}

const RANK: Readonly<Record<ExtraAccess['role'], number>> = { view: 1, edit: 2 };

/** Another team's access, team by team: given or widened, taken back or narrowed. */
function accessDirections(from: readonly ExtraAccess[], to: readonly ExtraAccess[]): { more: boolean; less: boolean } {
  const rank = (list: readonly ExtraAccess[], team: string) => {
    const access = list.find((a) => a.team === team);
    return access ? RANK[access.role] : 0;
  };
  const teams = new Set([...from, ...to].map((a) => a.team));
  let more = false;
  let less = false;
  for (const team of teams) {
    const [before, after] = [rank(from, team), rank(to, team)];
    if (after > before) more = true;
    if (after < before) less = true;
  }
  return { more, less };
}

/** Everything `to` changes about a namespace whose settings are `from`, in a stable order. */
export function changeAspects(config: Config, from: NamespaceSettings, to: NamespaceSettings): ChangeAspect[] {
  const aspects: ChangeAspect[] = [];
  const tier = tierDirection(config, from.tier, to.tier);
  if (tier !== 'same') aspects.push(tier === 'smaller' ? 'smallerTier' : 'largerTier');
  const expiry = expiryDirection(from.expiresOn, to.expiresOn);
  if (expiry !== 'same') aspects.push(expiry === 'shorter' ? 'shorterExpiry' : 'longerExpiry');
  if (from.purpose !== to.purpose) aspects.push('purpose');
  const access = accessDirections(from.access, to.access);
  if (access.more) aspects.push('moreAccess');
  if (access.less) aspects.push('lessAccess');
  return aspects;
}

export interface ChangeDecision {
  /** What the change does; empty when it changes nothing. */
  aspects: ChangeAspect[];
  /** The aspects that `policy.change` does not let through alone: an approver decides these. */
  needApprover: ChangeAspect[];
}

/**
 * What `policy.change` says of a change. Being an approver does not let one's own change through:
 * the requester never approves their own, so a change that needs an approver waits for another.
 */
export function decideChange(config: Config, from: NamespaceSettings, to: NamespaceSettings): ChangeDecision {
  const aspects = changeAspects(config, from, to);
  const allowed = new Set(config.policy.change.withoutApprover);
  return { aspects, needApprover: aspects.filter((a) => !allowed.has(a)) };
}

/** Whether `user` may decide a change that `requestedBy` asked for: an approver, and not the asker. */
export function mayDecideChange(user: string, requestedBy: string, isApprover: boolean): boolean {
  return isApprover && user !== requestedBy;
}

// ---------------------------------------------------------------------------------------------
// Plan: the objects a change touches
// ---------------------------------------------------------------------------------------------

/** What applying a change does on the cluster; an object that does not change is not in it. */
export interface ChangePlan {
  /** The quota to be, when any of its values goes down or appears: live usage must fit it first. */
  checkQuota: Record<string, string> | undefined;
  /** Applied with server-side apply, as the golden path renders them with the new settings. */
  namespace: V1Namespace | undefined;
  quota: V1ResourceQuota | undefined;
  limitRange: V1LimitRange | undefined;
  /**
   * RoleBindings deleted: access taken back, and access whose role changes, since a binding's
   * roleRef cannot be changed in place (the API server refuses it) and is made again.
   */
  deleteBindings: string[];
  /** RoleBindings applied: access given, or made again with its new role. */
  applyBindings: V1RoleBinding[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The objects that differ between the namespace rendered with `from` and with `to`. */
export function planChange(config: Config, request: NamespaceRequest, from: NamespaceSettings, to: NamespaceSettings): ChangePlan {
  const render = (settings: NamespaceSettings) =>
    buildGoldenPath(config, {
      namespace: request.namespace,
      team: request.team,
      environment: request.environment,
      tier: settings.tier,
      requestId: request.id,
      requester: request.requester,
      purpose: settings.purpose,
      expiresOn: settings.expiresOn,
    });
  const [before, after] = [render(from), render(to)];
  const hardBefore = before.quota.spec?.hard ?? {};
  const hardAfter = after.quota.spec?.hard ?? {};
  const lowers = Object.entries(hardAfter).some(([resource, value]) => {
    const [old, next] = [hardBefore[resource], parseQuantity(value)];
    const previous = old === undefined ? undefined : parseQuantity(old);
    return !previous || !next || next.value < previous.value;
  });

  const roleOf = (list: readonly ExtraAccess[], team: string) => list.find((a) => a.team === team)?.role;
  const gone = from.access.filter((a) => roleOf(to.access, a.team) !== a.role).map((a) => accessBindingName(a.team));
  const fresh = to.access.filter((a) => roleOf(from.access, a.team) !== a.role);
  return {
    checkQuota: lowers ? { ...hardAfter } : undefined,
    namespace: same(before.namespace, after.namespace) ? undefined : after.namespace,
    quota: same(before.quota, after.quota) ? undefined : after.quota,
    limitRange: same(before.limitRange, after.limitRange) ? undefined : after.limitRange,
    deleteBindings: gone,
    applyBindings: buildAccessBindings(config, request.namespace, request.team, fresh),
  };
}

// ---------------------------------------------------------------------------------------------
// The run: the plan's objects as steps
// ---------------------------------------------------------------------------------------------

interface ChangeStep {
  name: string;
  after?: readonly string[];
  describe: string;
  apply(): Promise<void>;
}

const CHECK_USAGE = 'check-usage';

/** What the change of this request applies: its latest approved change, from its settings today. */
async function pendingChange(deps: Deps, requestId: number): Promise<{ ask: LifecycleRequest; from: NamespaceSettings; to: NamespaceSettings } | undefined> {
  const ask = await deps.store.lifecycle.lastApproved(requestId, 'change');
  const from = await deps.store.lifecycle.settingsOf(requestId);
  return ask?.change && from ? { ask, from, to: ask.change } : undefined;
}

/** The live usage of the namespace that does not fit `hard`; undefined when it has no quota. */
async function shortfallsOf(deps: Deps, request: NamespaceRequest, hard: Readonly<Record<string, string>>, timeoutMs?: number) {
  const used = await deps.clusters.quotaUsed(request.cluster, request.namespace, OBJECT_NAMES.quota, timeoutMs ? { timeoutMs } : {});
  return quotaShortfalls(hard, used ?? {});
}

/**
 * The steps that apply a plan: live usage checked again first when the quota goes down (it may
 * have grown since the form), then only the objects that differ, each with server-side apply, and
 * the bindings taken back deleted (before a binding of the same name is made again).
 */
function changeSteps(deps: Deps, request: NamespaceRequest, plan: ChangePlan, to: NamespaceSettings): ChangeStep[] {
  const steps: ChangeStep[] = [];
  const after = plan.checkQuota ? [CHECK_USAGE] : [];
  const hard = plan.checkQuota;
  if (hard) {
    steps.push({
      name: CHECK_USAGE,
      describe: `Check that what runs in \`${request.namespace}\` fits the ${to.tier} quota (its ResourceQuota's \`status.used\`)`,
      async apply() {
        const shortfalls = await shortfallsOf(deps, request, hard);
        if (shortfalls.length > 0) {
          const over = shortfalls.map((s) => `${s.resource}: ${s.used} in use, ${s.hard} allowed (${s.over} over)`).join('; ');
          throw new ClusterError(`What runs in ${request.namespace} does not fit the ${to.tier} tier: ${over}. Free that much, then press Retry.`, {
            transient: false,
          });
        }
      },
    });
  }
  const applied = (object: KubernetesObject | undefined, name: string, describe: string, extraAfter: readonly string[] = []) => {
    if (object) steps.push({ name, after: [...after, ...extraAfter], describe, apply: async () => void (await deps.clusters.apply(request.cluster, object)) });
  };
  applied(plan.namespace, 'apply-namespace', `Apply namespace \`${request.namespace}\` (end date and purpose annotations)`);
  applied(plan.quota, 'apply-quota', `Apply ResourceQuota \`${OBJECT_NAMES.quota}\` of the ${to.tier} tier`);
  applied(plan.limitRange, 'apply-limits', `Apply LimitRange \`${OBJECT_NAMES.limits}\` of the ${to.tier} tier`);
  for (const name of plan.deleteBindings) {
    steps.push({
      name: `delete-${name}`,
      after,
      describe: `Delete RoleBinding \`${name}\` (access taken back or changed)`,
      apply: async () => void (await deps.clusters.deleteRoleBinding(request.cluster, request.namespace, name)),
    });
  }
  for (const binding of plan.applyBindings) {
    const name = binding.metadata?.name ?? '';
    const deletedFirst = plan.deleteBindings.includes(name) ? [`delete-${name}`] : [];
    const subject = binding.subjects?.[0]?.name ?? '?';
    applied(binding, `apply-${name}`, `Apply RoleBinding \`${name}\`: group \`${subject}\` → ClusterRole \`${binding.roleRef.name}\``, deletedFirst);
  }
  return steps;
}

async function preparedSteps(deps: Deps, request: NamespaceRequest): Promise<ChangeStep[]> {
  const change = await pendingChange(deps, request.id);
  return change ? changeSteps(deps, request, planChange(deps.config, request, change.from, change.to), change.to) : [];
}

const changedNamespace = (request: NamespaceRequest): ChangedNamespace => ({
  requestId: request.id,
  namespace: request.namespace,
  environment: request.environment,
});

/** Changing a namespace as a kind of durable run (src/workflows/runs/engine.ts). */
export const changeRuns: RunKindHandlers = {
  async prepare(deps, request) {
    const steps = await preparedSteps(deps, request);
    const ns = changedNamespace(request);
    return {
      step(name) {
        const step = steps.find((s) => s.name === name);
        return step && { after: step.after, apply: () => step.apply() };
      },
      progress: (run) => changeProgress(ns, run, (name) => steps.find((s) => s.name === name)?.describe ?? name),
    };
  },
  async done(deps, request, run) {
    const change = await pendingChange(deps, request.id);
    if (!change) return;
    const now = deps.clock.now();
    const lines = changeDiff(deps.config, change.from, change.to);
    if (!(await deps.store.lifecycle.applySettings(request.id, change.to, now))) {
      deps.log.warn({ requestId: request.id, runId: run.id }, 'a change was applied to a namespace that is no longer active; its settings are not recorded');
    } else if (change.from.expiresOn !== change.to.expiresOn) {
      // A new end date gets its own reminders; none at all when the end date is taken away.
      await deps.store.lifecycle.replaceTimers(request.id, change.to.expiresOn ? timersFor(deps.config, change.to.expiresOn, now) : [], now);
    }
    await deps.store.appendEvent({
      type: 'namespace_changed',
      at: now,
      actor: change.ask.requestedBy,
      team: request.team,
      requestId: request.id,
      data: { runId: run.id, lifecycleRequestId: change.ask.id, aspects: changeAspects(deps.config, change.from, change.to), lines },
    });
    deps.log.info({ requestId: request.id, runId: run.id }, 'namespace changed');
    const slack = notifier(deps);
    const message = changeApplied(changedNamespace(request), lines);
    if (request.card) await slack.post(request.card.channel, message, request.card.ts);
    await slack.dm(change.ask.requestedBy, message);
    await namespaceChanged(deps, request.id);
  },
  async failed(deps, request, run, step, error) {
    const change = await pendingChange(deps, request.id);
    await deps.store.appendEvent({
      type: 'change_failed',
      at: deps.clock.now(),
      team: request.team,
      requestId: request.id,
      data: { runId: run.id, kind: 'change', step, error: errorMessage(error), status: error instanceof ClusterError ? error.status : undefined },
    });
    const slack = notifier(deps);
    const ns = changedNamespace(request);
    if (request.card) await slack.post(request.card.channel, changeFailed(ns, step, errorMessage(error), run), request.card.ts);
    await slack.dm(change?.ask.requestedBy ?? request.requester, ownerChangeFailed(ns));
  },
};

// ---------------------------------------------------------------------------------------------
// Asking: the command, the Change button and the form
// ---------------------------------------------------------------------------------------------

/** What the change form carries in its private_metadata; read back with `readMetadata`. */
export const changeFormMetadata = z.object({ requestId: z.number().int().positive() });

/** Whether this person may change the namespace: its owner, its requester, or an approver. */
async function mayChange(deps: Deps, ns: ManagedNamespace, user: string): Promise<boolean> {
  return user === ns.owner || user === ns.request.requester || (await isApprover(deps, user));
}

/** Why the namespace cannot be changed now, or undefined when it can. */
async function changeBlocked(deps: Deps, ns: ManagedNamespace): Promise<SlackMessage | undefined> {
  const named = changedNamespace(ns.request);
  if (ns.state !== 'active') return changeRefusals.notActive(named);
  const waiting = await deps.store.lifecycle.openRequestFor(ns.request.id, 'change');
  if (waiting) return changeRefusals.waiting(named, waiting);
  if ((await deps.store.latestRun(ns.request.id))?.status === 'running') return changeRefusals.running(named);
  return undefined;
}

/** The teams other than the owning one, and who of them has which access today. */
async function changeForm(deps: Deps, ns: ManagedNamespace): Promise<ModalView | undefined> {
  const settings = await deps.store.lifecycle.settingsOf(ns.request.id);
  if (!settings) return undefined;
  return changeNamespaceModal(deps.config, {
    namespace: ns.request.namespace,
    privateMetadata: JSON.stringify({ requestId: ns.request.id }),
    tier: settings.tier,
    expiresOn: settings.expiresOn,
    purpose: settings.purpose,
    otherTeams: deps.config.teams.map((t) => t.name).filter((t) => t !== ns.request.team),
    edit: settings.access.filter((a) => a.role === 'edit').map((a) => a.team),
    view: settings.access.filter((a) => a.role === 'view').map((a) => a.team),
  });
}

async function showChangeForm(deps: Deps, ns: ManagedNamespace, user: string, triggerId: string, tell: (m: SlackMessage) => Promise<unknown>) {
  if (!(await mayChange(deps, ns, user))) return void (await tell(changeRefusals.notAllowed(changedNamespace(ns.request), ns.owner)));
  const blocked = await changeBlocked(deps, ns);
  const form = blocked ? undefined : await changeForm(deps, ns);
  if (!form) return void (await tell(blocked ?? changeRefusals.notActive(changedNamespace(ns.request))));
  await openForm(deps, triggerId, form, 'the change form', tell);
}

/** `/platform change <namespace> [cluster]`: the change form, or (only to them) why not. */
export async function openChangeFormForCommand(
  deps: Deps,
  command: { user: string; triggerId: string; command: string },
  args: string,
  tell: (message: SlackMessage) => Promise<unknown>,
): Promise<void> {
  const [name, cluster] = args.trim().split(/\s+/).filter(Boolean);
  if (!name) return void (await tell(changeRefusals.usage(command.command)));
  const found = (await deps.store.lifecycle.findByName(name)).filter((ns) => !cluster || ns.request.cluster === cluster);
  const [only] = found;
  if (!only) return void (await tell(changeRefusals.unknown(name.slice(0, LIMITS.name))));
  if (found.length > 1)
    return void (await tell(
      changeRefusals.ambiguous(
        name,
        found.map((ns) => ns.request.cluster),
      ),
    ));
  await showChangeForm(deps, only, command.user, command.triggerId, tell);
}

/** *Change* on a namespace (Home): the same form; answers where the person clicked, or by DM. */
export async function openChangeForm(deps: Deps, requestId: number | undefined, click: Click & { triggerId: string }): Promise<void> {
  const tell = (message: SlackMessage) => notifier(deps).toClicker(click, message);
  const ns = requestId === undefined ? undefined : await deps.store.lifecycle.get(requestId);
  if (!ns || ns.state === 'deleted') return void (await tell(changeRefusals.unknown(ns?.request.namespace ?? '?')));
  await showChangeForm(deps, ns, click.user, click.triggerId, tell);
}

/** Checks the form against the config: a known size, a purpose, an end date in range, other teams' access. */
export function checkChangeFields(
  config: Config,
  request: NamespaceRequest,
  today: NamespaceSettings,
  fields: ChangeFields,
  now: Date,
): { settings: NamespaceSettings; errors?: undefined } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const tier = fields.tier !== undefined && Object.hasOwn(config.tiers, fields.tier) ? fields.tier : undefined;
  if (!tier) errors[BLOCK.tier] = 'Choose a size.';
  const purpose = fields.purpose?.trim() ?? '';
  if (purpose.length < 3) errors[BLOCK.purpose] = 'Say in a few words what the namespace is for.';
  else if (purpose.length > LIMITS.purpose) errors[BLOCK.purpose] = `Keep it under ${LIMITS.purpose} characters (now ${purpose.length}).`;
  const expiresOn = fields.expiresOn || undefined;
  // Today's end date stays acceptable even where it is further than a new request may ask.
  const expiry = expiresOn && expiresOn !== today.expiresOn ? expiryProblem(expiresOn, now, config.namespaces.maxExpiryDays) : undefined;
  if (expiry) errors[BLOCK.expiry] = expiry;
  const known = (team: string) => team !== request.team && findTeam(config, team) !== undefined;
  const unknown = [...fields.edit, ...fields.view].filter((team) => !known(team));
  if (unknown.length > 0) errors[BLOCK.accessEdit] = `Choose other configured teams (not ${request.team} itself).`;
  const both = fields.edit.filter((team) => fields.view.includes(team));
  if (both.length > 0) errors[BLOCK.accessView] = `${both.join(', ')}: either the same access or read-only, not both.`;
  if (!tier || Object.keys(errors).length > 0) return { errors };
  const access: ExtraAccess[] = [
    ...[...new Set(fields.edit)].map((team) => ({ team, role: 'edit' as const })),
    ...[...new Set(fields.view)].map((team) => ({ team, role: 'view' as const })),
  ].sort((a, b) => a.team.localeCompare(b.team));
  return { settings: { tier, expiresOn, purpose, access } };
}

/** How long the form waits for the cluster's live usage: Slack allows 3 s in all. */
const USAGE_CHECK_TIMEOUT_MS = 1500;

/** Plain text for a field error (a modal shows no mrkdwn there). */
const fieldText = (message: SlackMessage) => message.text.replace(/[*`]/g, '');

export type ChangeSubmission = { errors: FieldErrors; proceed?: undefined } | { errors?: undefined; proceed(): Promise<void> };

/**
 * The change form was sent. Checks it, refuses a smaller quota that live usage does not fit, and
 * records the change request (decided at once by policy when no aspect needs an approver) before
 * the modal closes; `proceed` does the rest after the ack.
 */
export async function submitChange(deps: Deps, requestId: number, user: string, fields: ChangeFields): Promise<ChangeSubmission> {
  const ns = await deps.store.lifecycle.get(requestId);
  const from = await deps.store.lifecycle.settingsOf(requestId);
  if (!ns || !from) return { errors: { [BLOCK.tier]: changeRefusals.stale() } };
  const request = ns.request;
  const named = changedNamespace(request);
  if (!(await mayChange(deps, ns, user))) return { errors: { [BLOCK.tier]: fieldText(changeRefusals.notAllowed(named, ns.owner)) } };
  const blocked = await changeBlocked(deps, ns);
  if (blocked) return { errors: { [BLOCK.tier]: fieldText(blocked) } };
  const checked = checkChangeFields(deps.config, request, from, fields, deps.clock.now());
  if (checked.errors) return { errors: checked.errors };
  const to = checked.settings;
  const decision = decideChange(deps.config, from, to);
  if (decision.aspects.length === 0) return { errors: { [BLOCK.tier]: changeRefusals.nothing() } };

  const plan = planChange(deps.config, request, from, to);
  if (plan.checkQuota) {
    let shortfalls: QuotaShortfall[];
    try {
      shortfalls = await shortfallsOf(deps, request, plan.checkQuota, USAGE_CHECK_TIMEOUT_MS);
    } catch (err) {
      return { errors: { [BLOCK.tier]: changeRefusals.usageUnknown(errorMessage(err)) } };
    }
    if (shortfalls.length > 0) {
      await deps.store.appendEvent({
        type: 'change_refused',
        at: deps.clock.now(),
        actor: user,
        team: request.team,
        requestId,
        data: { reason: 'usage', tier: to.tier, shortfalls: shortfalls.map((s) => ({ ...s })) },
      });
      return { errors: { [BLOCK.tier]: fieldText(changeRefusedForUsage(named, to.tier, shortfalls)) } };
    }
  }

  const now = deps.clock.now();
  const opened = await deps.store.lifecycle.openRequest({ requestId, kind: 'change', requestedBy: user, change: to }, now);
  if (!opened.created) return { errors: { [BLOCK.tier]: fieldText(changeRefusals.waiting(named, opened.request)) } };
  const lines = changeDiff(deps.config, from, to);
  const atOnce = decision.needApprover.length === 0;
  await deps.store.appendEvent({
    type: 'change_requested',
    at: now,
    actor: user,
    team: request.team,
    requestId,
    data: { lifecycleRequestId: opened.request.id, aspects: decision.aspects, needApprover: decision.needApprover, lines },
  });
  const slack = notifier(deps);
  if (atOnce) {
    await deps.store.lifecycle.decideRequest(opened.request.id, 'approved', 'policy', now);
    return {
      proceed: async () => {
        await slack.dm(user, changeAccepted(named, true));
        await runChange(deps, request, changeApplying(named, user, lines));
      },
    };
  }
  return {
    proceed: async () => {
      const where = request.card ?? { channel: deps.config.slack.approvalsChannel, ts: undefined };
      const message = changeRequest(named, { id: opened.request.id, by: user, lines, needApprover: decision.needApprover });
      const ts = await slack.post(where.channel, message, where.ts);
      if (ts) await deps.store.lifecycle.setRequestMessage(opened.request.id, { channel: where.channel, ts });
      await slack.dm(user, changeAccepted(named, false));
      // Home shows that the change waits.
      await namespaceChanged(deps, requestId);
    },
  };
}

/** Says in the original request's thread what is changing, then applies it with a change run. */
async function runChange(deps: Deps, request: NamespaceRequest, announcement: SlackMessage | undefined): Promise<void> {
  const card = request.card;
  const announced = card && announcement ? notifier(deps).post(card.channel, announcement, card.ts) : undefined;
  const steps = (await preparedSteps(deps, request)).map((s) => s.name);
  await Promise.all([announced, startRun(deps, request, 'change', steps, announced)]);
}

/** An approver's Approve or Deny on a change in the thread: one decision wins (compare-and-set). */
export async function decideChangeRequest(deps: Deps, askId: number | undefined, click: Click, status: 'approved' | 'denied'): Promise<void> {
  const slack = notifier(deps);
  const refuse = async (message: SlackMessage) => void (await slack.toClicker(click, message));
  const ask = askId === undefined ? undefined : await deps.store.lifecycle.getRequestById(askId);
  const request = ask?.kind === 'change' ? await deps.store.getRequest(ask.requestId) : undefined;
  if (!ask || !request) return refuse(changeRefusals.unknownAsk());
  const named = changedNamespace(request);
  if (ask.status !== 'pending') return refuse(changeRefusals.decided(named, ask));
  if (!(await isApprover(deps, click.user))) return refuse(changeRefusals.notApprover(named));
  if (!mayDecideChange(click.user, ask.requestedBy, true)) return refuse(changeRefusals.ownAsk(named));
  if ((await deps.store.lifecycle.get(request.id))?.state !== 'active') {
    // Expired or being deleted since it was asked: nothing is left to decide.
    const { decided, request: withdrawn } = await deps.store.lifecycle.decideRequest(ask.id, 'withdrawn', click.user, deps.clock.now());
    if (decided && withdrawn.message) await slack.update(withdrawn.message.channel, withdrawn.message.ts, changeRequestDecided(named, withdrawn, []));
    return refuse(changeRefusals.notActive(named));
  }

  const { decided, request: now } = await decideAsk(deps, 'change', request, ask, status, click.user);
  if (!decided) return refuse(changeRefusals.decided(named, now));
  const from = await deps.store.lifecycle.settingsOf(request.id);
  const lines = from && now.change ? changeDiff(deps.config, from, now.change) : [];
  if (now.message) await slack.update(now.message.channel, now.message.ts, changeRequestDecided(named, now, lines));
  await slack.dm(now.requestedBy, changeDecisionForRequester(named, now));
  if (status === 'approved') await runChange(deps, request, undefined);
  // Home no longer shows it waiting (an approved change redraws it again when applied).
  else await namespaceChanged(deps, request.id);
}
