import { DEFAULT_ACCESS_POLICY_ARN } from '../../cluster/eks/access-entries.ts';
import { buildGoldenPath } from '../../cluster/manifests.ts';
import { findCluster, findTeam, type Config } from '../../config.ts';
import type { NamespaceSettings } from '../../domain/lifecycle.ts';
import type { NamespaceRequest, Run } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { notifier } from '../../slack/io/notifier.ts';
import { requestCard, type CardContext } from '../../slack/provisioning/request-card.ts';
import { findStep, stepsFor, type StepInput } from './steps.ts';

/**
 * What a request's namespace is built from: the request as submitted, or, with `settings`, as its
 * changes since have left it (tier, end date, purpose, other teams' access).
 */
export function stepInput(deps: Pick<Deps, 'config'>, request: NamespaceRequest, settings?: NamespaceSettings): StepInput {
  return {
    cluster: request.cluster,
    requestId: request.id,
    access: eksAccess(deps.config, request.cluster, request.team),
    path: buildGoldenPath(deps.config, {
      namespace: request.namespace,
      team: request.team,
      environment: request.environment,
      tier: settings?.tier ?? request.tier,
      requestId: request.id,
      requester: request.requester,
      purpose: settings ? settings.purpose : request.purpose,
      expiresOn: settings ? settings.expiresOn : request.expiresOn,
      access: settings?.access,
    }),
  };
}

/**
 * The namespace as it should be today: its request with the settings its changes recorded. Access
 * for a team the config no longer names is left out: its binding is then reported as outdated.
 */
export async function currentStepInput(deps: Pick<Deps, 'config' | 'store'>, request: NamespaceRequest): Promise<StepInput> {
  const settings = await deps.store.lifecycle.settingsOf(request.id);
  const access = settings?.access.filter((a) => findTeam(deps.config, a.team) !== undefined);
  return stepInput(deps, request, settings && access ? { ...settings, access } : undefined);
}

/** The EKS access a team gets on a cluster: only on EKS clusters, only for teams with a role. */
export function eksAccess(config: Config, clusterName: string, teamName: string): StepInput['access'] {
  const cluster = findCluster(config, clusterName);
  const team = findTeam(config, teamName);
  if (cluster?.type !== 'eks' || !team?.iamRoleArn) return undefined;
  return { principalArn: team.iamRoleArn, policyArn: team.accessPolicyArn ?? DEFAULT_ACCESS_POLICY_ARN };
}

export function clusterName(deps: Pick<Deps, 'config'>, name: string): string {
  const cluster = findCluster(deps.config, name);
  return cluster?.displayName ?? name;
}

export function cardContext(deps: Pick<Deps, 'config'>, request: NamespaceRequest, run?: Run): CardContext {
  const input = stepInput(deps, request);
  const team = findTeam(deps.config, request.team);
  return {
    teamName: team?.displayName ?? request.team,
    clusterName: clusterName(deps, request.cluster),
    defaults: stepsFor(input).map((s) => s.describe(input)),
    run,
  };
}

/** Describes a step by name for one request's rendered input, for progress messages. */
export function stepDescriber(input: StepInput): (name: string) => string {
  return (name) => findStep(name)?.describe(input) ?? name;
}

/** Redraws the request card from the store's current state; returns the request as drawn. */
export async function refreshCard(deps: Deps, requestId: number): Promise<NamespaceRequest | undefined> {
  const request = await deps.store.getRequest(requestId);
  if (!request?.card) return request;
  const run = await deps.store.latestRun(requestId);
  await notifier(deps).update(request.card.channel, request.card.ts, requestCard(request, cardContext(deps, request, run)));
  return request;
}
