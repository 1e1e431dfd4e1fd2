import { describePermission, requiredPermissions } from '../../cluster/permissions.ts';
import type { Config } from '../../config.ts';
import { errorMessage } from '../../errors.ts';
import { slackErrorCode } from '../../slack/io/notifier.ts';
import { checkDatabase } from './doctor-database.ts';
import { checkLease } from './doctor-lease.ts';
import { checkSurveys } from './doctor-surveys.ts';
import type { DoctorDeps, DoctorLine, Verdict } from './doctor-lines.ts';

export type { DoctorDeps, DoctorLine, Verdict } from './doctor-lines.ts';

const CLUSTER_TIMEOUT_MS = 5000;
/** The ValidatingAdmissionPolicy in deploy/admission-policy.yaml; a refusal by it names it. */
const ADMISSION_POLICY = 'slipway-managed-namespaces-only';
/** A name the policy refuses; only ever used in a dry run. */
const PROBE_NAMESPACE = 'kube-slipway-doctor';

/** Bot scopes the workflows use, and why; user groups are read only when approvers or teams use them. */
function requiredScopes(config: Config): Record<string, string> {
  return {
    commands: '/platform',
    'chat:write': 'request cards, threads and messages',
    'im:write': 'messages to requesters',
    'im:history': 'whether an outcome a dead replica was telling went out',
    'users:read': 'names of people',
    'channels:read': 'checking public channels',
    'groups:read': 'checking private channels',
    ...(config.approvers.userGroups.length > 0 || config.teams.some((t) => t.slackUserGroup)
      ? { 'usergroups:read': 'approvers and teams listed as user groups' }
      : {}),
    ...(config.slack.platformChannel ? { 'files:write': "the digest's chart" } : {}),
  };
}

async function checkSlack(deps: DoctorDeps): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = [];
  let scopes: string[] | undefined;
  try {
    const auth = await deps.slack.auth.test();
    scopes = auth.response_metadata?.scopes;
    lines.push({ area: 'slack', check: 'auth.test', verdict: 'ok', detail: `signed in as ${auth.user ?? auth.user_id} in ${auth.team ?? auth.team_id}` });
  } catch (err) {
    const code = slackErrorCode(err);
    const detail = code.startsWith('slack_webapi_')
      ? `could not reach the Slack API (${code}): check SLACK_API_URL and the network`
      : `Slack rejected SLACK_BOT_TOKEN: ${code}`;
    return [{ area: 'slack', check: 'auth.test', verdict: 'fail', detail }];
  }
  const missing = Object.entries(requiredScopes(deps.config)).filter(([scope]) => !scopes?.includes(scope));
  lines.push(
    missing.length === 0
      ? { area: 'slack', check: 'scopes', verdict: 'ok', detail: `has ${Object.keys(requiredScopes(deps.config)).join(', ')}` }
      : {
          area: 'slack',
          check: 'scopes',
          verdict: 'fail',
          detail: `missing ${missing.map(([scope, why]) => `${scope} (${why})`).join(', ')}: add them in manifest.yml / OAuth & Permissions and reinstall`,
        },
  );
  const channels = [
    ['approvals channel', deps.config.slack.approvalsChannel],
    ...(deps.config.slack.platformChannel ? [['platform channel', deps.config.slack.platformChannel] as const] : []),
  ] as const;
  for (const [what, id] of channels) {
    try {
      const info = await deps.slack.conversations.info({ channel: id });
      const name = info.channel?.name ? `#${info.channel.name}` : id;
      lines.push(
        info.channel?.is_member
          ? { area: 'slack', check: what, verdict: 'ok', detail: `${name} exists and the bot is in it` }
          : { area: 'slack', check: what, verdict: 'fail', detail: `${name} exists but the bot is not in it: /invite the bot there` },
      );
    } catch (err) {
      const code = slackErrorCode(err);
      const detail =
        code === 'channel_not_found'
          ? `${id} does not exist, or is private and the bot is not in it: check slack.${what === 'approvals channel' ? 'approvalsChannel' : 'platformChannel'} and /invite the bot`
          : `${id}: ${code}`;
      lines.push({ area: 'slack', check: what, verdict: 'fail', detail });
    }
  }
  return lines;
}

async function checkCluster(deps: DoctorDeps, name: string): Promise<DoctorLine[]> {
  const area = `cluster ${name}`;
  const lines: DoctorLine[] = [];
  const eks = deps.clusters.eksCluster(name);
  if (eks) {
    try {
      const info = await eks.describe();
      lines.push({ area, check: 'DescribeCluster', verdict: 'ok', detail: `${info.endpoint} (authentication mode ${info.authenticationMode ?? 'unknown'})` });
      const teamsWithRoles = deps.config.teams.filter((t) => t.iamRoleArn).length;
      if (teamsWithRoles > 0 && info.authenticationMode === 'CONFIG_MAP') {
        lines.push({
          area,
          check: 'access entries',
          verdict: 'fail',
          detail: `${teamsWithRoles} team(s) have an IAM role, but access entries need authentication mode API or API_AND_CONFIG_MAP`,
        });
      }
    } catch (err) {
      return [...lines, { area, check: 'DescribeCluster', verdict: 'fail', detail: errorMessage(err) }];
    }
  }
  let version: string;
  try {
    version = await deps.clusters.serverVersion(name, { timeoutMs: CLUSTER_TIMEOUT_MS });
    lines.push({ area, check: 'API server', verdict: 'ok', detail: `reachable, Kubernetes ${version}` });
  } catch (err) {
    return [...lines, { area, check: 'API server', verdict: 'fail', detail: errorMessage(err) }];
  }
  const permissions = requiredPermissions(deps.config);
  const answers = await Promise.all(
    permissions.map(async (p) => {
      try {
        return { p, allowed: await deps.clusters.canI(name, p), error: undefined };
      } catch (err) {
        return { p, allowed: false, error: errorMessage(err) };
      }
    }),
  );
  const denied = answers.filter((a) => !a.allowed);
  if (denied.length === 0) {
    lines.push({ area, check: 'RBAC', verdict: 'ok', detail: `all ${permissions.length} permissions Slipway needs are granted` });
  }
  for (const { p, error } of denied) {
    lines.push({
      area,
      check: 'RBAC',
      verdict: 'fail',
      detail: error ? `could not check ${describePermission(p)}: ${error}` : `missing: ${describePermission(p)} (to ${p.why}); see deploy/rbac.yaml`,
    });
  }
  // The probe is a create: without that permission it would only repeat the RBAC failure.
  const canCreateNamespaces = answers.some((a) => a.allowed && a.p.verb === 'create' && a.p.resource === 'namespaces');
  if (canCreateNamespaces) lines.push(await checkAdmissionPolicy(deps, name, version));
  return lines;
}

/**
 * Whether deploy/admission-policy.yaml is in force, found by a dry-run create of a namespace it
 * refuses (nothing is stored, and no permission beyond rbac.yaml is needed). A warning, not a
 * failure: Slipway works without it, but RBAC alone lets its identity write into any namespace.
 */
async function checkAdmissionPolicy(deps: DoctorDeps, name: string, version: string): Promise<DoctorLine> {
  const line = (verdict: Verdict, detail: string): DoctorLine => ({ area: `cluster ${name}`, check: 'admission policy', verdict, detail });
  try {
    await deps.clusters.dryRunCreateNamespace(name, PROBE_NAMESPACE, { timeoutMs: CLUSTER_TIMEOUT_MS });
  } catch (err) {
    const message = errorMessage(err);
    if (message.includes(ADMISSION_POLICY)) {
      return line('ok', `deploy/admission-policy.yaml is in force: it refused namespace "${PROBE_NAMESPACE}" (dry run)`);
    }
    return line('warn', `could not check deploy/admission-policy.yaml: ${message}`);
  }
  const [, major = '0', minor = '0'] = /^v?(\d+)\.(\d+)/.exec(version) ?? [];
  const risk = "Slipway's identity can write into any namespace, kube-system included (see the README's Security section)";
  return Number(major) > 1 || Number(minor) >= 30
    ? line('warn', `deploy/admission-policy.yaml is not in force: apply it; until then ${risk}`)
    : line('warn', `Kubernetes ${version} cannot enforce deploy/admission-policy.yaml (it needs 1.30): ${risk}`);
}

/** Every check `slipway doctor` runs, in order: config is valid by the time this is called. */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorLine[]> {
  const config: DoctorLine = {
    area: 'config',
    check: 'slipway.config.yaml',
    verdict: 'ok',
    detail: `${deps.config.clusters.length} cluster(s), ${deps.config.teams.length} team(s), ${Object.keys(deps.config.tiers).length} tier(s)`,
  };
  const slack = await checkSlack(deps);
  const surveys = slack.some((l) => l.check === 'auth.test' && l.verdict === 'ok') ? await checkSurveys(deps) : [];
  const clusters = await Promise.all(deps.config.clusters.map((c) => checkCluster(deps, c.name)));
  const [database, lease] = await Promise.all([checkDatabase(deps), checkLease(deps)]);
  return [config, ...database, ...slack, ...surveys, ...clusters.flat(), ...lease];
}

const MARK: Record<Verdict, string> = { ok: '✔ ok', fail: '✘ FAIL', warn: '! warn' };

/** A plain-text table, one line per check. */
export function formatDoctor(lines: readonly DoctorLine[]): string {
  const rows = lines.map((l) => [l.area, l.check, MARK[l.verdict], l.detail]);
  const header = ['AREA', 'CHECK', 'RESULT', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const failed = lines.filter((l) => l.verdict === 'fail').length;
  const verdict = failed === 0 ? 'All checks passed.' : `${failed} check(s) failed: Slipway will not work fully until they are fixed.`;
  return [format(header), ...rows.map(format), '', verdict].join('\n');
}
