import { FIELD_MANAGER } from '../../cluster/client.ts';
import { goldenPathObjects } from '../../cluster/manifests.ts';
import type { Deps } from '../../deps.ts';
import type { Click, NamespaceRequest } from '../../domain/requests.ts';
import { errorMessage } from '../../errors.ts';
import { driftActionRefused, reapplyDone, reapplyFailed, reapplyGone, reapplyPreview } from '../../slack/drift/reapply.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { currentStepInput } from '../provisioning/present.ts';
import { stepsFor } from '../provisioning/steps.ts';
import { compareAccess } from './access.ts';
import { appliedChanges, compareNamespace, type Difference, type LiveObject } from './compare.ts';

/**
 * Re-apply: the golden path of one namespace's request applied again as it renders today, through
 * the provisioning steps themselves (the namespace first, guarded as at provisioning; then the
 * rest side by side; on EKS the access entry). Server-side apply with force and an apply
 * configuration of only the fields Slipway sets: Slipway takes back its own fields, and fields only
 * other managers set stay theirs.
 */

/** What the answer to a click says, and whether it replaces the message clicked (the preview). */
export interface DriftAnswer {
  message: SlackMessage;
  replaceOriginal: boolean;
}

/** A request whose namespace is there to re-apply: ready, and not on its way out. */
export async function reapplicable(deps: Pick<Deps, 'store'>, requestId: number | undefined): Promise<NamespaceRequest | undefined> {
  const request = requestId === undefined ? undefined : await deps.store.getRequest(requestId);
  if (!request || request.status !== 'ready') return undefined;
  const state = (await deps.store.lifecycle.get(request.id))?.state;
  return state === undefined || state === 'active' || state === 'expired' ? request : undefined;
}

/** Applies a request's golden path again. Idempotent; a ClusterError says whether a retry may help. */
export async function reapplyNamespace(deps: Pick<Deps, 'config' | 'store' | 'clusters'>, request: NamespaceRequest): Promise<void> {
  const input = await currentStepInput(deps, request);
  const [first, ...rest] = stepsFor(input);
  if (first) await first.apply(input, deps.clusters);
  await Promise.all(rest.map((step) => step.apply(input, deps.clusters)));
}

/** What Re-apply would do to a namespace. */
export interface ReapplyPreview {
  /** Each field the apply changes: `live` now, `expected` after, `manager` who set it. */
  changes: Difference[];
  /**
   * Differences from the golden path that the apply leaves as they are: fields Slipway does not
   * set (another manager's extra quota entry), so they are not Slipway's to take back.
   */
  kept: Difference[];
}

/**
 * What re-applying would change: each golden-path object read as it stands and applied as a
 * server-side dry run (force, dryRun=All), the two compared field by field.
 */
export async function previewReapply(deps: Pick<Deps, 'config' | 'store' | 'clusters'>, request: NamespaceRequest): Promise<ReapplyPreview> {
  const { path, access } = await currentStepInput(deps, request);
  const objects = goldenPathObjects(path);
  const [live, after, accessChanges] = await Promise.all([
    Promise.all(objects.map((o) => deps.clusters.readObject(request.cluster, o) as Promise<LiveObject | undefined>)),
    Promise.all(objects.map((o) => deps.clusters.apply(request.cluster, o, { dryRun: true }) as Promise<LiveObject>)),
    access ? deps.clusters.readNamespaceAccess(request.cluster, access.principalArn).then((a) => compareAccess(request.namespace, access, a)) : [],
  ]);
  const present = live.flatMap((o) => (o ? [o] : []));
  const kept = compareNamespace(path, present, FIELD_MANAGER).filter((d) => d.expected === undefined && d.field !== '(object)');
  // EKS has no dry run; the grant adds the namespace to the scope, but leaves a cluster-wide scope alone.
  const widened = (d: Difference) => d.field === 'accessScope.type';
  return {
    changes: [...appliedChanges(live, after, FIELD_MANAGER), ...accessChanges.filter((d) => !widened(d))],
    kept: [...kept, ...accessChanges.filter(widened)],
  };
}

const targetOf = (request: NamespaceRequest) => ({ namespace: request.namespace, cluster: request.cluster, requestId: request.id });

/**
 * *Re-apply…* (`confirm` false: the dry run's preview, with a confirm button) and *Re-apply now*
 * (`confirm` true: applied for real), for approvers only; others are refused.
 */
export async function reapplyFromClick(deps: Deps, requestId: number | undefined, click: Click, confirm: boolean): Promise<DriftAnswer> {
  if (!(await isApprover(deps, click.user))) return { message: driftActionRefused, replaceOriginal: false };
  const request = await reapplicable(deps, requestId);
  if (!request) return { message: reapplyGone, replaceOriginal: false };
  const log = deps.log.child({ requestId: request.id, cluster: request.cluster, user: click.user });
  const event = { at: deps.clock.now(), actor: click.user, team: request.team, requestId: request.id };
  if (!confirm) {
    try {
      const preview = await previewReapply(deps, request);
      await deps.store.appendEvent({ ...event, type: 'drift_reapply_previewed', data: { namespace: request.namespace, changes: preview.changes.length } });
      return { message: reapplyPreview(targetOf(request), preview), replaceOriginal: false };
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not preview a re-apply');
      return { message: reapplyFailed(request.namespace, errorMessage(err)), replaceOriginal: false };
    }
  }
  try {
    await reapplyNamespace(deps, request);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'could not re-apply');
    await deps.store.appendEvent({ ...event, type: 'drift_reapply_failed', data: { namespace: request.namespace, error: errorMessage(err) } });
    return { message: reapplyFailed(request.namespace, errorMessage(err)), replaceOriginal: true };
  }
  await deps.store.appendEvent({ ...event, type: 'drift_reapplied', data: { namespace: request.namespace, cluster: request.cluster } });
  log.info('golden path re-applied');
  return { message: reapplyDone(targetOf(request), click.user), replaceOriginal: true };
}
