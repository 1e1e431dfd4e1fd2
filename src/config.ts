import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { isCronExpression } from './lib/schedule.ts';
import { isTimeZone } from './lib/calendar.ts';

// Names that end up in Kubernetes object names and label values.
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS label (a-z, 0-9, "-")');
const labelValue = z
  .string()
  .max(63)
  .regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, 'must be a valid Kubernetes label value');
const slackUserId = z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id like U0123ABCD');
const slackChannelId = z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel id like C0123ABCD');
const quantity = z.union([z.string(), z.number()]).transform(String);
const resourceList = z.record(z.string(), quantity);
const podSecurityLevel = z.enum(['privileged', 'baseline', 'restricted']);

const clusterCommon = {
  name: dnsLabel,
  displayName: z.string().min(1).max(75).optional(),
  environments: z.array(z.string()).optional(),
  connectCommand: z.string().optional(),
};
const iamRoleArn = z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN like arn:aws:iam::123456789012:role/name');

const clusterSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('kubeconfig'),
    ...clusterCommon,
    path: z.string().min(1),
    context: z.string().min(1),
  }),
  z.object({
    type: z.literal('eks'),
    ...clusterCommon,
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region like eu-west-1'),
    /** The EKS cluster's name in AWS (DescribeCluster). */
    clusterName: z.string().min(1).max(100),
    /** A role to assume for this cluster, on top of the standard AWS credential chain. */
    roleArn: iamRoleArn.optional(),
  }),
]);

const teamSchema = z.object({
  name: dnsLabel,
  displayName: z.string().min(1).max(75).optional(),
  costCenter: labelValue,
  group: z.string().min(1),
  clusterRole: z.string().min(1).optional(),
  /** On EKS clusters: the team's IAM role gets an access entry scoped to its namespaces. */
  iamRoleArn: iamRoleArn.optional(),
  /** The team's Slack user group: its members see the team's requests in full in `/platform status`. */
  slackUserGroup: z
    .string()
    .regex(/^S[A-Z0-9]+$/, 'must be a Slack user group id like S0123ABCD')
    .optional(),
  /** Where reminders about the team's namespaces go when their owner has left the workspace. */
  channel: slackChannelId.optional(),
  accessPolicyArn: z
    .string()
    .regex(/^arn:aws[\w-]*:eks::aws:cluster-access-policy\/.+$/, 'must be an EKS access policy ARN')
    .optional(),
});

const tierSchema = z.object({
  description: z.string().max(75).optional(),
  quota: resourceList,
  limits: z.object({
    defaultRequest: resourceList,
    default: resourceList,
    max: resourceList.optional(),
  }),
});

const environmentSchema = z.object({
  podSecurity: podSecurityLevel.default('baseline'),
  // "open" keeps egress to anywhere; "restricted" allows DNS and the namespace itself only.
  egress: z.enum(['open', 'restricted']).default('open'),
  /**
   * Namespaces here are never deleted without an approver's click, not even at expiry (the
   * approvers are asked instead). Default: true for an environment named `prod`.
   */
  protected: z.boolean().optional(),
});

// An empty list would match nothing, so the rule would silently never apply: leave the key out
// to mean "any", or list at least one value.
const ruleList = (what: string) =>
  z.array(z.string()).min(1, `an empty list matches no ${what}: list at least one, or leave the key out to allow any`).optional();
const autoApproveRule = z
  .object({
    environments: ruleList('environment'),
    tiers: ruleList('tier'),
    teams: ruleList('team'),
  })
  .refine((rule) => rule.environments ?? rule.tiers ?? rule.teams, {
    message: 'an auto-approve rule needs at least one of environments, tiers or teams',
  });

/**
 * What a change to a namespace does, one aspect at a time (`policy.change.withoutApprover`):
 * a tier whose quota grows nowhere or somewhere, an end date earlier or later (none is latest),
 * a new purpose, another team's access given or widened (view → the team's role), or taken back
 * or narrowed.
 */
export const CHANGE_ASPECTS = ['smallerTier', 'largerTier', 'shorterExpiry', 'longerExpiry', 'purpose', 'moreAccess', 'lessAccess'] as const;
export type ChangeAspect = (typeof CHANGE_ASPECTS)[number];
/** By default a change that only gives back (quota, time, access) or renames the purpose needs nobody. */
const CHANGE_WITHOUT_APPROVER: readonly ChangeAspect[] = ['smallerTier', 'shorterExpiry', 'purpose', 'lessAccess'];

// A cron expression, or `false` to turn the job off.
const jobSchedule = z.union([
  z.literal(false),
  z.string().refine(isCronExpression, 'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1", or false'),
]);
const SCHEDULE_DEFAULTS = {
  timezone: 'UTC',
  missedRunGraceMinutes: 360,
  jobs: { digest: '0 9 * * 1', usageRefresh: '*/30 * * * *', lifecycle: '*/5 * * * *', drift: '0 6 * * *' },
} as const;
const scheduleSchema = z.object({
  /** IANA zone of the job schedules and of the digest's weeks (Monday to Monday). */
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone like Europe/Berlin or UTC').default(SCHEDULE_DEFAULTS.timezone),
  /** A run missed while the bot was down runs once at start-up if its slot is at most this old. */
  missedRunGraceMinutes: z.number().int().min(0).max(10_080).default(SCHEDULE_DEFAULTS.missedRunGraceMinutes),
  jobs: z
    .object({
      digest: jobSchedule.default(SCHEDULE_DEFAULTS.jobs.digest),
      usageRefresh: jobSchedule.default(SCHEDULE_DEFAULTS.jobs.usageRefresh),
      /** Sends expiry reminders and notices and starts deletions that are due. */
      lifecycle: jobSchedule.default(SCHEDULE_DEFAULTS.jobs.lifecycle),
      /** Compares every managed namespace with what the golden path renders today. */
      drift: jobSchedule.default(SCHEDULE_DEFAULTS.jobs.drift),
    })
    .default(SCHEDULE_DEFAULTS.jobs),
});

// Surveys (README "Listening to developers"): a weekly pulse in channels, one question after a
// namespace is ready, and `/platform feedback`. Every field has a default.
const SURVEY_LABELS = ['Very hard', 'Hard', 'OK', 'Easy', 'Very easy'] as const;
const surveyLabels = z.array(z.string().trim().min(1).max(40)).length(5, 'must list 5 labels, for 1 to 5');
const surveyQuestion = z.object({
  /** Stable key: answers to the same id are compared from one pulse to the next. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a short key like "ease" (a-z, 0-9, "-")'),
  text: z.string().trim().min(1).max(150),
  labels: surveyLabels.optional(),
});
const surveySchema = z.object({
  /** Fewer answers than this: "not enough answers yet", and nothing else is shown. */
  minAnswers: z.number().int().min(2).max(1000).default(5),
  /** Labels of the 1-5 buttons, from 1 to 5. */
  labels: surveyLabels.default([...SURVEY_LABELS]),
  pulse: z
    .object({
      /** Channels the weekly pulse is posted to; the bot must be a member. None: no pulse. */
      channels: z.array(slackChannelId).default([]),
      /** When a pulse opens (cron, in schedule.timezone), or false. At most one opens a week. */
      schedule: jobSchedule.default('0 10 * * 2'),
      /** How long a pulse takes answers before it closes with its results. */
      durationDays: z.number().int().min(1).max(6).default(3),
      questions: z
        .array(surveyQuestion)
        .min(1)
        .max(2, 'a pulse asks one or two questions')
        .refine((qs) => new Set(qs.map((q) => q.id)).size === qs.length, 'question ids must differ')
        .default([{ id: 'ease', text: 'How easy was it to get what you needed from the platform this week?' }]),
    })
    .prefault({}),
  postProvisioning: z
    .object({
      /** Ask the requester one question when their namespace is ready. */
      enabled: z.boolean().default(true),
      question: z.string().trim().min(1).max(150).default('How easy was that?'),
      /** A person is asked at most once in this many days. */
      cooldownDays: z.number().int().min(0).max(365).default(14),
      /** One reminder after this many hours without an answer, or false for none. */
      reminderAfterHours: z.union([z.literal(false), z.number().int().min(1).max(168)]).default(24),
    })
    .prefault({}),
  feedback: z
    .object({
      /** `ask`: a modal with a "without my name" box (ticked); `always`: always anonymous, no modal. */
      anonymous: z.enum(['ask', 'always']).default('ask'),
      /**
       * Days after an anonymous item is posted during which replies in its thread are passed on
       * to its author; then the author is forgotten for good.
       */
      relayDays: z.number().int().min(1).max(365).default(30),
    })
    .prefault({}),
  /** How often pulses that are due are closed and reminders sent (cron), or false. */
  checkSchedule: jobSchedule.default('*/15 * * * *'),
});

// Day 2 (README "After ready"): reminders before a namespace's end date, extensions, the grace
// period after expiry and how long a deletion may take. Every field has a default.
const extendLimits = z.object({
  /** Days one extension may add without an approver. */
  maxDays: z.number().int().min(0).max(365),
  /** Days from creation a namespace may live at most, with every extension. */
  maxLifetimeDays: z.number().int().min(1).max(3650),
});
const EXTEND_DEFAULTS = { maxDays: 30, maxLifetimeDays: 180 } as const;
const lifecycleSchema = z.object({
  /** Reminders to the owner this many days before the end date, at `reminderTime`. */
  reminderDaysBefore: z
    .array(z.number().int().min(1).max(60))
    .max(5)
    .refine((days) => new Set(days).size === days.length, 'list each day once')
    .default([3, 1]),
  /** Local time (schedule.timezone) of reminders and of the final notice, HH:MM. */
  reminderTime: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time like 10:00')
    .default('10:00'),
  /** Hours between the final notice at expiry and the deletion, with one more chance to extend. */
  graceHours: z.number().int().min(0).max(720).default(24),
  /** A namespace still Terminating after this long is reported with what holds it. */
  terminatingTimeoutMinutes: z.number().int().min(1).max(1440).default(15),
  /** Extensions an owner may give themselves; `environments` overrides per environment. */
  extend: extendLimits.extend({ environments: z.record(z.string(), extendLimits.partial()).default({}) }).default({ ...EXTEND_DEFAULTS, environments: {} }),
  /** Idle reclaim: namespaces without running pods are asked about, then reclaimed (src/workflows/lifecycle/idle.ts). */
  idle: z
    .object({
      /** Days without running pods before the owner is asked, per environment; one not listed (and a protected one) is never asked. */
      afterDays: z.record(z.string(), z.number().int().min(1).max(365)).default({ dev: 14, staging: 30 }),
      /** Keep it: not asked again for this many days. */
      snoozeDays: z.number().int().min(1).max(365).default(30),
      /** Days to answer, before the team's channel hears about it and again before it is reclaimed. */
      answerDays: z.number().int().min(1).max(60).default(7),
      /**
       * Environments where a namespace nobody answered for is deleted; elsewhere the approvers are
       * asked. Left out: `dev`, unless `dev` is protected (see `idleDeletionAllowed`).
       */
      deleteWithoutAnswer: z.array(z.string()).optional(),
    })
    .prefault({}),
});

// Leader election (README "Running more than one replica"): with several replicas, one of them,
// holder of a coordination.k8s.io/v1 Lease, runs the scheduled jobs and resumes runs. The timings
// default to what Kubernetes' own controllers use (kube-controller-manager's --leader-elect-lease-duration,
// --leader-elect-renew-deadline and --leader-elect-retry-period).
export const LEADER_ELECTION_DEFAULTS = {
  enabled: false,
  leaseName: 'slipway-leader',
  leaseDurationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
} as const;
const leaderElectionSchema = z
  .object({
    /** Off: this process runs the jobs (one replica, the default). */
    enabled: z.boolean().default(LEADER_ELECTION_DEFAULTS.enabled),
    /** The cluster (in `clusters`) that holds the Lease; default: the one the pod runs in. */
    cluster: z.string().optional(),
    /** The Lease's namespace; default: the pod's (POD_NAMESPACE, else its ServiceAccount's). */
    namespace: dnsLabel.optional(),
    leaseName: z
      .string()
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase DNS subdomain')
      .default(LEADER_ELECTION_DEFAULTS.leaseName),
    /** How long a Lease not renewed keeps others from taking it (the Lease holds whole seconds). */
    leaseDurationSeconds: z.number().int().min(1).default(LEADER_ELECTION_DEFAULTS.leaseDurationSeconds),
    /** The leader gives up leading when it could not renew for this long. */
    renewDeadlineSeconds: z.number().positive().default(LEADER_ELECTION_DEFAULTS.renewDeadlineSeconds),
    /** How often the leader renews and the others try to take the Lease. */
    retryPeriodSeconds: z.number().positive().default(LEADER_ELECTION_DEFAULTS.retryPeriodSeconds),
  })
  // client-go's NewLeaderElector refuses the same: a leader must give up before its Lease lapses.
  .refine((l) => l.leaseDurationSeconds > l.renewDeadlineSeconds, {
    path: ['renewDeadlineSeconds'],
    message: 'must be less than leaseDurationSeconds (a leader gives up before its Lease lapses)',
  })
  .refine((l) => l.renewDeadlineSeconds > l.retryPeriodSeconds, {
    path: ['retryPeriodSeconds'],
    message: 'must be less than renewDeadlineSeconds (a leader tries to renew more than once before it gives up)',
  });

// Run claims (src/workflows/runs/claims.ts): the replica executing a durable run or a job's run
// renews its claim's heartbeat every `heartbeatSeconds`; a claim not renewed for `lapseSeconds`
// is taken over by another replica, which continues the run where it stood.
export const CLAIMS_DEFAULTS = { heartbeatSeconds: 5, lapseSeconds: 30 } as const;
const claimsSchema = z
  .object({
    heartbeatSeconds: z.number().positive().default(CLAIMS_DEFAULTS.heartbeatSeconds),
    lapseSeconds: z.number().positive().default(CLAIMS_DEFAULTS.lapseSeconds),
  })
  // A claim must survive a late heartbeat or two before another replica takes the run.
  .refine((c) => c.lapseSeconds >= 2 * c.heartbeatSeconds, {
    path: ['lapseSeconds'],
    message: 'must be at least twice heartbeatSeconds (a heartbeat that comes late must not lose the run)',
  });

export const configSchema = z
  .object({
    slack: z.object({
      approvalsChannel: slackChannelId,
      platformChannel: slackChannelId.optional(),
      /** With both, the digest links idle namespaces to Slipway's Home tab (slack://app?team=…&id=…&tab=home). */
      teamId: z
        .string()
        .regex(/^[TE][A-Z0-9]+$/, 'must be a Slack workspace id like T0123ABCD')
        .optional(),
      appId: z
        .string()
        .regex(/^A[A-Z0-9]+$/, 'must be a Slack app id like A0123ABCD')
        .optional(),
    }),
    approvers: z
      .object({
        users: z.array(slackUserId).default([]),
        userGroups: z.array(z.string().regex(/^S[A-Z0-9]+$/, 'must be a Slack user group id like S0123ABCD')).default([]),
      })
      .refine((a) => a.users.length + a.userGroups.length > 0, {
        message: 'list at least one approver in users or userGroups',
      }),
    clusters: z.array(clusterSchema).min(1),
    teams: z.array(teamSchema).min(1),
    environments: z.record(dnsLabel, environmentSchema).refine((envs) => Object.keys(envs).length > 0, {
      message: 'define at least one environment',
    }),
    tiers: z.record(dnsLabel, tierSchema).refine((tiers) => Object.keys(tiers).length > 0, {
      message: 'define at least one tier',
    }),
    namespaces: z
      .object({
        reserved: z.array(z.string()).default([]),
        clusterRole: z.string().min(1).default('edit'),
        allowFromNamespaces: z.array(dnsLabel).default([]),
        podSecurityVersion: z.string().default('latest'),
        maxExpiryDays: z.number().int().positive().default(90),
      })
      .default({
        reserved: [],
        clusterRole: 'edit',
        allowFromNamespaces: [],
        podSecurityVersion: 'latest',
        maxExpiryDays: 90,
      }),
    policy: z
      .object({
        autoApprove: z.array(autoApproveRule).default([]),
        /** Deletions by the owner that need no approver (protected environments always do). */
        delete: z.object({ autoApprove: z.array(autoApproveRule).default([]) }).default({ autoApprove: [] }),
        /** What a change to a namespace may do without an approver (see CHANGE_ASPECTS). */
        change: z
          .object({ withoutApprover: z.array(z.enum(CHANGE_ASPECTS)).default([...CHANGE_WITHOUT_APPROVER]) })
          .default({ withoutApprover: [...CHANGE_WITHOUT_APPROVER] }),
      })
      .default({ autoApprove: [], delete: { autoApprove: [] }, change: { withoutApprover: [...CHANGE_WITHOUT_APPROVER] } }),
    lifecycle: lifecycleSchema.prefault({}),
    provisioning: z
      .object({
        /** Attempts per step for failures that may pass (5xx, 429, 409, timeouts, resets). */
        maxAttempts: z.number().int().min(1).max(20).default(5),
        /** First backoff; it doubles per attempt (with jitter), capped at 30 s. */
        backoffBaseMs: z.number().int().min(0).default(500),
        /** A Kubernetes call that takes longer counts as a timeout and is retried. */
        requestTimeoutMs: z.number().int().positive().default(30_000),
      })
      .default({ maxAttempts: 5, backoffBaseMs: 500, requestTimeoutMs: 30_000 }),
    schedule: scheduleSchema.default(SCHEDULE_DEFAULTS),
    adoption: z
      .object({
        /** A namespace counts as active if it ran pods within this many days. */
        activeDays: z.number().int().min(1).max(90).default(7),
        /** A namespace with no running pods for this many days is listed as idle. */
        idleDays: z.number().int().min(1).max(365).default(14),
      })
      .default({ activeDays: 7, idleDays: 14 }),
    survey: surveySchema.prefault({}),
    drift: z
      .object({
        /** *Upgrade all N outdated*: the golden path re-applied to this many namespaces at a time (src/workflows/drift/upgrade.ts). */
        upgrade: z.object({ concurrency: z.number().int().min(1).max(50).default(5) }).prefault({}),
      })
      .prefault({}),
    leaderElection: leaderElectionSchema.prefault({}),
    claims: claimsSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const unique = (names: string[], path: string) => {
      const seen = new Set<string>();
      names.forEach((name, i) => {
        if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [path, i, 'name'], message: `duplicate name "${name}"` });
        seen.add(name);
      });
    };
    unique(
      config.clusters.map((c) => c.name),
      'clusters',
    );
    unique(
      config.teams.map((t) => t.name),
      'teams',
    );

    const envs = Object.keys(config.environments);
    const tiers = Object.keys(config.tiers);
    const teams = config.teams.map((t) => t.name);
    const mustBeIn = (values: string[] | undefined, known: string[], path: (string | number)[], what: string) =>
      values?.forEach((value, i) => {
        if (!known.includes(value)) {
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown ${what} "${value}" (known: ${known.join(', ')})` });
        }
      });
    config.clusters.forEach((c, i) => mustBeIn(c.environments, envs, ['clusters', i, 'environments'], 'environment'));
    config.policy.autoApprove.forEach((rule, i) => {
      mustBeIn(rule.environments, envs, ['policy', 'autoApprove', i, 'environments'], 'environment');
      mustBeIn(rule.tiers, tiers, ['policy', 'autoApprove', i, 'tiers'], 'tier');
      mustBeIn(rule.teams, teams, ['policy', 'autoApprove', i, 'teams'], 'team');
    });
    config.policy.delete.autoApprove.forEach((rule, i) => {
      const path = ['policy', 'delete', 'autoApprove', i];
      mustBeIn(rule.environments, envs, [...path, 'environments'], 'environment');
      mustBeIn(rule.tiers, tiers, [...path, 'tiers'], 'tier');
      mustBeIn(rule.teams, teams, [...path, 'teams'], 'team');
      rule.environments?.forEach((env, j) => {
        if (Object.hasOwn(config.environments, env) && isProtected(config.environments, env)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'environments', j],
            message: `"${env}" is protected: deleting a namespace there always needs an approver`,
          });
        }
      });
    });
    mustBeIn(Object.keys(config.lifecycle.extend.environments), envs, ['lifecycle', 'extend', 'environments'], 'environment');
    config.lifecycle.idle.deleteWithoutAnswer?.forEach((env, i) => {
      if (Object.hasOwn(config.environments, env) && isProtected(config.environments, env)) {
        ctx.addIssue({
          code: 'custom',
          path: ['lifecycle', 'idle', 'deleteWithoutAnswer', i],
          message: `"${env}" is protected: an idle namespace there is never deleted without an approver`,
        });
      }
    });
    const leaseCluster = config.leaderElection.cluster;
    if (leaseCluster !== undefined && !config.clusters.some((c) => c.name === leaseCluster)) {
      ctx.addIssue({
        code: 'custom',
        path: ['leaderElection', 'cluster'],
        message: `unknown cluster "${leaseCluster}" (known: ${config.clusters.map((c) => c.name).join(', ')})`,
      });
    }
    // The Home tab link needs both ids; one alone is a half-finished edit.
    const { teamId, appId } = config.slack;
    if ((teamId === undefined) !== (appId === undefined)) {
      const [missing, given] = teamId === undefined ? ['teamId', 'appId'] : ['appId', 'teamId'];
      ctx.addIssue({ code: 'custom', path: ['slack', missing], message: `required with slack.${given} (both link the digest to the Home tab)` });
    }
  });

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ClusterConfig = Config['clusters'][number];
export type TeamConfig = Config['teams'][number];
export type TierConfig = Config['tiers'][string];
export type EnvironmentConfig = Config['environments'][string];
export type SurveyConfig = Config['survey'];
export type LifecycleConfig = Config['lifecycle'];
export type LeaderElectionConfig = Config['leaderElection'];

/** Turns zod's issues into `path: message` lines, e.g. `clusters[0].context: required`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
    const message = issue.code === 'invalid_type' && issue.message.includes('received undefined') ? 'required' : issue.message;
    return `${path || '(root)'}: ${message}`;
  });
}

/** Validates an already-parsed YAML document; relative kubeconfig paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, source: string, baseDir = process.cwd()): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  const config = result.data;
  return Object.freeze({
    ...config,
    clusters: config.clusters.map((c) => (c.type === 'kubeconfig' ? { ...c, path: resolvePath(c.path, baseDir) } : c)),
  });
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(err);
    throw new ConfigError(path, [`${reason}. Copy slipway.config.example.yaml to ${path} and edit it, or point SLIPWAY_CONFIG at your config`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ConfigError(path, [`not valid YAML: ${err.message}`]);
    throw err;
  }
  return parseConfig(raw, path, dirname(resolve(path)));
}

function resolvePath(path: string, baseDir: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return resolve(baseDir, path);
}

/** Whether deleting a namespace in `environment` always needs an approver (default: `prod`). */
function isProtected(environments: Record<string, { protected?: boolean | undefined }>, environment: string): boolean {
  return environments[environment]?.protected ?? environment === 'prod';
}

export function isProtectedEnvironment(config: Config, environment: string): boolean {
  return Object.hasOwn(config.environments, environment) ? isProtected(config.environments, environment) : true;
}

/** Whether an idle namespace nobody answered for is deleted in `environment` (else approvers are asked). */
export function idleDeletionAllowed(config: Config, environment: string): boolean {
  return !isProtectedEnvironment(config, environment) && (config.lifecycle.idle.deleteWithoutAnswer ?? ['dev']).includes(environment);
}

/** How far an owner may extend a namespace in `environment` without an approver. */
export function extendLimitsFor(config: Config, environment: string): { maxDays: number; maxLifetimeDays: number } {
  const { environments, ...defaults } = config.lifecycle.extend;
  const own = Object.hasOwn(environments, environment) ? environments[environment] : undefined;
  return { maxDays: own?.maxDays ?? defaults.maxDays, maxLifetimeDays: own?.maxLifetimeDays ?? defaults.maxLifetimeDays };
}

export function findTeam(config: Config, name: string | undefined): TeamConfig | undefined {
  return config.teams.find((t) => t.name === name);
}

export function findCluster(config: Config, name: string | undefined): ClusterConfig | undefined {
  return config.clusters.find((c) => c.name === name);
}

export function clustersFor(config: Config, environment: string): ClusterConfig[] {
  return config.clusters.filter((c) => !c.environments || c.environments.includes(environment));
}

/** The command a developer runs to get credentials for a cluster, shown when a namespace is ready. */
export function connectCommand(cluster: ClusterConfig): string {
  if (cluster.connectCommand) return cluster.connectCommand;
  return cluster.type === 'eks'
    ? `aws eks update-kubeconfig --region ${cluster.region} --name ${cluster.clusterName}`
    : `kubectl config use-context ${cluster.context}`;
}
