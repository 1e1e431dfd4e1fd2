import { DEFAULT_ACCESS_POLICY_ARN } from '../../cluster/eks/eks.ts';
import { buildGoldenPath } from '../../cluster/manifests.ts';
import { findCluster, findTeam, type Config } from '../../config.ts';
import type { NamespaceRequest, Run } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { requestCard, type CardContext } from '../../slack/provisioning/request-card.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import { errorMessage } from '../../errors.ts';
import { findStep, stepsFor, type StepInput } from './steps.ts';

export function stepInput(deps: Pick<Deps, 'config'>, request: NamespaceRequest): StepInput {
  return {
    cluster: request.cluster,
    requestId: request.id,
    access: eksAccess(deps.config, request.cluster, request.team),
    path: buildGoldenPath(deps.config, {
      namespace: request.namespace,
      team: request.team,
      environment: request.environment,
      tier: request.tier,
      requestId: request.id,
      requester: request.requester,
      purpose: request.purpose,
      expiresOn: request.expiresOn,
    }),
  };
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

/** Describes a step by name for one request, for progress messages. */
export function stepDescriber(deps: Pick<Deps, 'config'>, request: NamespaceRequest): (name: string) => string {
  const input = stepInput(deps, request);
  return (name) => findStep(name)?.describe(input) ?? name;
}

/**
 * Slack calls made on the side of a workflow. The store already holds the truth, so a Slack
 * failure is logged and the workflow goes on; it never leaves a request half-done.
 *
 * A failure is logged without the person (a DM may be the relay of an anonymous reply, an
 * ephemeral the confirmation of a pulse answer) and without the error object, whose request
 * (kept on network errors) holds the recipient and the text.
 */
export function notifier(deps: Pick<Deps, 'slack' | 'log' | 'metrics'>) {
  const attempt = async <T>(method: string, what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      deps.log.warn({ error: slackErrorCode(err), reason: errorMessage(err), what }, 'slack call failed');
      deps.metrics.slackErrors.inc({ method, error: slackErrorCode(err) });
      return undefined;
    }
  };
  return {
    post: (channel: string, message: SlackMessage, threadTs?: string) =>
      attempt('chat.postMessage', `post to ${channel}`, async () => {
        const res = await deps.slack.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
        });
        return res.ts;
      }),
    update: (channel: string, ts: string, message: SlackMessage) =>
      attempt('chat.update', `update ${channel}/${ts}`, () =>
        deps.slack.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
      ),
    ephemeral: (channel: string, user: string, message: SlackMessage) =>
      attempt('chat.postEphemeral', `ephemeral in ${channel}`, () =>
        deps.slack.chat.postEphemeral({ channel, user, text: message.text, blocks: message.blocks }),
      ),
    /** Messages the person in the app's DM. */
    dm: (user: string, message: SlackMessage) =>
      attempt('chat.postMessage', 'dm', () =>
        deps.slack.chat.postMessage({ channel: user, text: message.text, blocks: message.blocks, unfurl_links: false }),
      ),
  };
}

/** Slack's error code (`channel_not_found`, `ratelimited`…) or the client's error kind. */
export function slackErrorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const data = 'data' in err ? err.data : undefined;
    if (data && typeof data === 'object' && 'error' in data && typeof data.error === 'string') return data.error;
    if ('code' in err && typeof err.code === 'string') return err.code;
  }
  return 'unknown';
}

/** Redraws the request card from the store's current state. */
export async function refreshCard(deps: Deps, requestId: number): Promise<void> {
  const request = deps.store.getRequest(requestId);
  if (!request?.card) return;
  const run = deps.store.latestRun(requestId);
  await notifier(deps).update(request.card.channel, request.card.ts, requestCard(request, cardContext(deps, request, run)));
}
