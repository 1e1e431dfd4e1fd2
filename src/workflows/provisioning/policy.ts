import type { Config } from '../../config.ts';
import type { RequestInput } from '../../domain/requests.ts';

export type AutoApproveRule = Config['policy']['autoApprove'][number];

/**
 * The auto-approve rule a request matches, if any. Within a rule every listed dimension must
 * match (environments AND tiers AND teams); a request needs to match one rule.
 */
export function matchAutoApprove(config: Config, request: Pick<RequestInput, 'environment' | 'tier' | 'team'>): AutoApproveRule | undefined {
  return matchRule(config, config.policy.autoApprove, request);
}

/** The first of `rules` (auto-approve rules of any policy) that the request matches, if any. */
export function matchRule(
  config: Config,
  rules: readonly AutoApproveRule[],
  request: Pick<RequestInput, 'environment' | 'tier' | 'team'>,
): AutoApproveRule | undefined {
  // A rule that leaves a dimension out allows any value of the config's, never an unknown one.
  const known =
    Object.hasOwn(config.environments, request.environment) && Object.hasOwn(config.tiers, request.tier) && config.teams.some((t) => t.name === request.team);
  if (!known) return undefined;
  return rules.find(
    (rule) =>
      (!rule.environments || rule.environments.includes(request.environment)) &&
      (!rule.tiers || rule.tiers.includes(request.tier)) &&
      (!rule.teams || rule.teams.includes(request.team)),
  );
}

/** A short description of a rule, for the card and the thread. */
export function describeRule(rule: AutoApproveRule): string {
  const parts = [
    rule.environments && `environment ${rule.environments.join(' or ')}`,
    rule.tiers && `size ${rule.tiers.join(' or ')}`,
    rule.teams && `team ${rule.teams.join(' or ')}`,
  ].filter(Boolean);
  return parts.join(', ');
}
