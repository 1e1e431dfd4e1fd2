import { clustersFor, findCluster, findTeam, type Config } from '../../config.ts';
import { requestRef, type RequestInput } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { errorMessage } from '../../errors.ts';
import { BLOCK, LIMITS } from '../../slack/ids.ts';
import { DAY_MS } from '../../lib/calendar.ts';
import type { RequestFields } from '../../domain/requests.ts';

/** Field errors keyed by the input block they belong under. */
export type FieldErrors = Partial<Record<(typeof BLOCK)[keyof typeof BLOCK], string>>;

export type Checked = { ok: true; input: Omit<RequestInput, 'requester'>; derivedName: boolean } | { ok: false; errors: FieldErrors };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ALWAYS_RESERVED = ['default'];

/**
 * Why a namespace name is not acceptable, or undefined when it is. Names in
 * `namespaces.allowFromNamespaces` are reserved too: every Slipway namespace lets their pods in.
 * `derived` is for the name made from team and environment when none was typed, so the message
 * speaks of that name rather than of something the person wrote.
 */
export function nameProblem(config: Config, name: string, derived = false): string | undefined {
  const subject = derived ? `Without a name typed here it would be "${name}", which` : undefined;
  if (name.length > LIMITS.name) {
    return subject
      ? `${subject} is too long (${name.length} characters, at most ${LIMITS.name}). Type a shorter name.`
      : `Too long: ${name.length} characters, at most ${LIMITS.name}.`;
  }
  if (!DNS_LABEL.test(name)) {
    const lower = name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
    const hint = lower && DNS_LABEL.test(lower) && lower !== name ? ` Try "${lower}".` : '';
    return `Use lowercase letters, digits and "-", starting and ending with a letter or digit.${hint}`;
  }
  if (name.startsWith('kube-')) {
    return subject
      ? `${subject} starts with "kube-": such names are reserved for Kubernetes itself. Type another name.`
      : 'Names starting with "kube-" are reserved for Kubernetes itself.';
  }
  const { reserved, allowFromNamespaces } = config.namespaces;
  if (ALWAYS_RESERVED.includes(name) || reserved.includes(name) || allowFromNamespaces.includes(name)) {
    return subject
      ? `${subject} is reserved. Type a name that says what it is for, e.g. "${name}-sandbox".`
      : `"${name}" is reserved. Pick a name that says what it is for, e.g. "${name}-sandbox".`;
  }
  return undefined;
}

/** Checks what can be checked without I/O: known choices, the name's form, lengths, the expiry. */
export function checkRequestFields(config: Config, fields: RequestFields, now: Date): Checked {
  const errors: FieldErrors = {};
  const team = findTeam(config, fields.team);
  if (!team) errors[BLOCK.team] = 'Choose your team.';
  // Only the config's own keys: a crafted value such as `constructor` or `__proto__` would
  // otherwise find something on Object.prototype.
  const environment = fields.environment !== undefined && Object.hasOwn(config.environments, fields.environment) ? fields.environment : undefined;
  if (!environment) errors[BLOCK.environment] = 'Choose an environment.';
  const tier = fields.tier !== undefined && Object.hasOwn(config.tiers, fields.tier) ? fields.tier : undefined;
  if (!tier) errors[BLOCK.tier] = 'Choose a size.';
  const cluster = findCluster(config, fields.cluster);
  if (!cluster) {
    errors[BLOCK.cluster] = 'Choose a cluster.';
  } else if (environment && cluster.environments && !cluster.environments.includes(environment)) {
    const fits = clustersFor(config, environment);
    errors[BLOCK.cluster] =
      `${cluster.displayName ?? cluster.name} is not for ${environment}.` +
      (fits.length ? ` Choose ${fits.map((c) => c.displayName ?? c.name).join(' or ')}.` : '');
  }

  const typed = fields.name?.trim() ?? '';
  const derivedName = typed === '';
  const name = derivedName && team && environment ? `${team.name}-${environment}` : typed;
  // A derived name is checked like a typed one: `<team>-<environment>` can be reserved too.
  if (name !== '') {
    const problem = nameProblem(config, name, derivedName);
    if (problem) errors[BLOCK.name] = problem;
  }

  const purpose = fields.purpose?.trim() ?? '';
  if (purpose.length < 3) errors[BLOCK.purpose] = 'Say in a few words what the namespace is for.';
  else if (purpose.length > LIMITS.purpose) errors[BLOCK.purpose] = `Keep it under ${LIMITS.purpose} characters (now ${purpose.length}).`;

  const expiresOn = fields.expiresOn || undefined;
  if (expiresOn) {
    const problem = expiryProblem(expiresOn, now, config.namespaces.maxExpiryDays);
    if (problem) errors[BLOCK.expiry] = problem;
  }

  if (Object.keys(errors).length > 0 || !team || !environment || !tier || !cluster) return { ok: false, errors };
  return {
    ok: true,
    derivedName,
    input: { namespace: name, team: team.name, environment, cluster: cluster.name, tier, purpose, expiresOn },
  };
}

/** Why an end date is not acceptable (not a date, not after today, too far ahead), or undefined. */
export function expiryProblem(date: string, now: Date, maxDays: number): string | undefined {
  const day = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(day)) return 'Pick a date from the calendar.';
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  if (day <= today) return 'Pick a date after today.';
  if (day - today > maxDays * DAY_MS) return `Pick a date at most ${maxDays} days ahead.`;
  return undefined;
}

/** How long the form waits for a cluster to say whether a name exists: Slack allows 3 s in all. */
const CLUSTER_CHECK_TIMEOUT_MS = 1500;

/** Checks that no live request holds the name and that the cluster has no such namespace. */
export async function checkNameFree(
  deps: Pick<Deps, 'store' | 'clusters' | 'config'>,
  input: Omit<RequestInput, 'requester'>,
  derivedName: boolean,
): Promise<FieldErrors> {
  const cluster = findCluster(deps.config, input.cluster);
  const clusterName = cluster?.displayName ?? input.cluster;
  const taken = (why: string): FieldErrors => ({
    [BLOCK.name]: derivedName ? `${input.namespace} ${why}. Enter another name, e.g. "${input.namespace}-2".` : `${input.namespace} ${why}. Pick another name.`,
  });

  const live = await deps.store.findLiveRequest(input.cluster, input.namespace);
  if (live) return taken(`is already requested on ${clusterName} (${requestRef(live.id)})`);
  try {
    const existing = await deps.clusters.readNamespace(input.cluster, input.namespace, { timeoutMs: CLUSTER_CHECK_TIMEOUT_MS });
    if (existing) return taken(`already exists on ${clusterName}`);
  } catch (err) {
    return {
      [BLOCK.cluster]: `I couldn't check ${clusterName} for the name: ${errorMessage(err)} Try again in a minute, or tell the platform team.`,
    };
  }
  return {};
}
