import type { Week } from '../lib/calendar.ts';

/** The adoption report: computed by the adoption workflows, shown by the digest's builders. */

export interface Distribution {
  /** How many values the figures are computed from. */
  count: number;
  median: number | undefined;
  p90: number | undefined;
}

export interface NewTeam {
  team: string;
  firstRequestAt: string;
  /** First request → the team's first namespace ready; undefined while it has none. */
  timeToFirstNamespaceMs: number | undefined;
}

export interface WeekMetrics {
  week: Week;
  requests: number;
  /** Decisions in the week: approvals (by people and by policy) and denials. */
  approved: number;
  autoApproved: number;
  denied: number;
  /** Auto-approved share of the week's decisions; undefined when nothing was decided. */
  selfServeShare: number | undefined;
  namespacesReady: number;
  /** Request submitted → namespace ready, ms, for namespaces ready in the week. */
  timeToReady: Distribution;
  /** Request submitted → a person's decision, ms, for decisions in the week. */
  approvalWait: Distribution;
  /** Namespace ready → first running pod seen, ms, for first workloads seen in the week. */
  timeToFirstWorkload: Distribution;
  /** Namespaces with running pods within `activeDays` before the week's end. */
  activeNamespaces: number;
  /** Namespaces present for `idleDays` before the week's end without a running pod. */
  idleNamespaces: number;
  /** Teams in config with a request in the week or an active namespace. */
  activeTeams: string[];
  teamsInConfig: number;
  /** Active teams out of the teams in config. */
  adoption: number | undefined;
  newTeams: NewTeam[];
  runsFailed: number;
  /** Runs that ended in the week: ready or failed. */
  runsEnded: number;
  failureRate: number | undefined;
}

export interface TrendPoint {
  week: Week;
  requests: number;
  namespacesReady: number;
  medianTimeToReadyMs: number | undefined;
}

export interface IdleNamespace {
  cluster: string;
  namespace: string;
  team: string | undefined;
  requestId: number | undefined;
  /** The requester, from the request's events. */
  owner: string | undefined;
  /** Since when it has had no running pod (or existed without ever running one). */
  idleSince: string;
  neverRan: boolean;
  /** The idle reclaim's question about this idle period: who was asked and when, and how far it went. */
  asked: IdleAsked | undefined;
}

export interface IdleAsked {
  user: string;
  at: string;
  /** When nobody answered (or the owner said Not mine) and the team's channel heard about it. */
  teamToldAt: string | undefined;
  stage: 'asked' | 'team_told' | 'kept' | 'deleting' | 'approvers' | 'ended';
}

export type MetricKey =
  | 'requests'
  | 'selfServeShare'
  | 'namespacesReady'
  | 'timeToReadyMedian'
  | 'timeToReadyP90'
  | 'approvalWaitMedian'
  | 'timeToFirstWorkloadMedian'
  | 'activeNamespaces'
  | 'idleNamespaces'
  | 'activeTeams'
  | 'adoption'
  | 'newTeams'
  | 'failureRate';

export type MetricUnit = 'count' | 'share' | 'duration';

export interface MetricChange {
  key: MetricKey;
  label: string;
  unit: MetricUnit;
  current: number | undefined;
  previous: number | undefined;
  /** current − previous, when both exist. */
  delta: number | undefined;
  /** delta / previous, when previous is not 0. */
  relative: number | undefined;
  /** Moved the wrong way past its threshold (see REGRESSION_RULES). */
  regression: boolean;
  /** Why it is a regression, in words: `up 35%`. */
  reason: string | undefined;
}

export interface AdoptionReport {
  timeZone: string;
  current: WeekMetrics;
  previous: WeekMetrics;
  changes: Record<MetricKey, MetricChange>;
  regressions: MetricChange[];
  /** The last TREND_WEEKS weeks, oldest first, ending with the current week. Empty weeks are zeros. */
  trend: TrendPoint[];
  /** Idle at the end of the current week, longest idle first (at most `idleLimit`), and how many in all. */
  idle: { total: number; namespaces: IdleNamespace[] };
  /** Day 2 in the current week (docs/metrics.md, "Lifecycle"). */
  lifecycle: LifecycleWeek;
  /** Whether the current week had any activity at all (requests, decisions, runs, running namespaces). */
  quiet: boolean;
}

/** What day 2 did in a week: namespaces deleted, expired and extended, and the quota given back. */
export interface LifecycleWeek {
  deleted: number;
  expired: number;
  extended: number;
  /** The summed tier quota of the deleted namespaces, per resource (`requests.cpu` → `6`), in config order. */
  quotaReturned: { resource: string; amount: string }[];
  /** Of the deleted ones, those asked about as idle before (idle reclaim), and the quota they gave back. */
  reclaimed: number;
  reclaimedQuota: { resource: string; amount: string }[];
}
