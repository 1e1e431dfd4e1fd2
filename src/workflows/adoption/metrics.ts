import type { Deps } from '../../deps.ts';
import type { AdoptionStore, NamespaceState } from '../../store/adoption.ts';
import { DAY_MS, lastCompleteWeek, shiftWeek, type Week } from '../../lib/calendar.ts';
import type {
  AdoptionReport,
  Distribution,
  IdleAsked,
  IdleNamespace,
  LifecycleWeek,
  MetricChange,
  MetricKey,
  MetricUnit,
  WeekMetrics,
} from '../../domain/adoption.ts';
import { formatQuantity, sumResources } from '../../lib/quantity.ts';

/**
 * Adoption metrics: the one place they are defined, from events and usage snapshots only. Every
 * definition here is written down in docs/metrics.md; change both together.
 */

export const TREND_WEEKS = 8;

type Rule =
  | { kind: 'rise-percent'; percent: number }
  | { kind: 'drop-percent'; percent: number }
  | { kind: 'rise-points'; points: number }
  | { kind: 'drop-points'; points: number }
  | { kind: 'drop' };

interface MetricDefinition {
  key: MetricKey;
  label: string;
  unit: MetricUnit;
  value(m: WeekMetrics): number | undefined;
  /** When it counts as a regression; none: shown with its change but never highlighted. */
  rule?: Rule;
}

/** The compared metrics and their regression thresholds (docs/metrics.md, "Regressions"). */
export const METRICS: readonly MetricDefinition[] = [
  { key: 'requests', label: 'Requests', unit: 'count', value: (m) => m.requests },
  { key: 'selfServeShare', label: 'Self-serve share', unit: 'share', value: (m) => m.selfServeShare, rule: { kind: 'drop-points', points: 0.1 } },
  { key: 'namespacesReady', label: 'Namespaces ready', unit: 'count', value: (m) => m.namespacesReady },
  {
    key: 'timeToReadyMedian',
    label: 'Median time to ready',
    unit: 'duration',
    value: (m) => m.timeToReady.median,
    rule: { kind: 'rise-percent', percent: 20 },
  },
  { key: 'timeToReadyP90', label: 'p90 time to ready', unit: 'duration', value: (m) => m.timeToReady.p90, rule: { kind: 'rise-percent', percent: 20 } },
  {
    key: 'approvalWaitMedian',
    label: 'Median approval wait',
    unit: 'duration',
    value: (m) => m.approvalWait.median,
    rule: { kind: 'rise-percent', percent: 20 },
  },
  {
    key: 'timeToFirstWorkloadMedian',
    label: 'Median time to first workload',
    unit: 'duration',
    value: (m) => m.timeToFirstWorkload.median,
    rule: { kind: 'rise-percent', percent: 20 },
  },
  { key: 'activeNamespaces', label: 'Active namespaces', unit: 'count', value: (m) => m.activeNamespaces, rule: { kind: 'drop-percent', percent: 20 } },
  { key: 'idleNamespaces', label: 'Idle namespaces', unit: 'count', value: (m) => m.idleNamespaces },
  { key: 'activeTeams', label: 'Active teams', unit: 'count', value: (m) => m.activeTeams.length },
  { key: 'adoption', label: 'Adoption', unit: 'share', value: (m) => m.adoption, rule: { kind: 'drop' } },
  { key: 'newTeams', label: 'New teams', unit: 'count', value: (m) => m.newTeams.length },
  { key: 'failureRate', label: 'Failure rate', unit: 'share', value: (m) => m.failureRate, rule: { kind: 'rise-points', points: 0.05 } },
];

export interface MetricsSettings {
  timeZone: string;
  teams: readonly string[];
  activeDays: number;
  idleDays: number;
}

export function metricsSettings(config: Deps['config']): MetricsSettings {
  return {
    timeZone: config.schedule.timezone,
    teams: config.teams.map((t) => t.name),
    activeDays: config.adoption.activeDays,
    idleDays: config.adoption.idleDays,
  };
}

/**
 * The report behind the digest and `/platform stats`: the last complete week before `now` (or the
 * given week), the week before it, their changes, the 8-week trend and the idle namespaces. Every
 * figure is read for its own window (ranges of indexes, and rows the store writes as events and
 * snapshots come in), so its cost follows the weeks shown, not the length of the history.
 */
export async function adoptionReport(
  deps: Pick<Deps, 'store' | 'config'>,
  now: Date,
  options: { week?: Week; idleLimit?: number } = {},
): Promise<AdoptionReport> {
  const settings = metricsSettings(deps.config);
  const store = deps.store.adoption;
  const week = options.week ?? lastCompleteWeek(now, settings.timeZone);
  const before = shiftWeek(week, -1, settings.timeZone);
  const weeks = Array.from({ length: TREND_WEEKS }, (_, i) => shiftWeek(week, i - (TREND_WEEKS - 1), settings.timeZone));
  // Each week's times to ready, read once for the trend and the two compared weeks.
  const readyByWeek = new Map<string, number[]>();
  for (const w of weeks) readyByWeek.set(w.monday, await store.readyMs(w.start, w.end));
  const readyIn = async (w: Week) => readyByWeek.get(w.monday) ?? (await store.readyMs(w.start, w.end));
  const idleFrom = (w: Week) => new Date(w.end.getTime() - settings.idleDays * DAY_MS);
  // The current week's idle namespaces, counted and listed in one pass.
  const idle = await store.idleNamespaces(idleFrom(week), week.end, options.idleLimit ?? 10);
  const current = await weekMetrics(store, await readyIn(week), idle.total, settings, week);
  const previous = await weekMetrics(store, await readyIn(before), await store.idleCount(idleFrom(before), before.end), settings, before);
  const changes = compare(current, previous);
  const quiet = current.requests === 0 && current.approved + current.denied === 0 && current.runsEnded === 0 && current.activeNamespaces === 0;
  const trend: AdoptionReport['trend'] = [];
  for (const w of weeks) {
    const inWeek = await readyIn(w);
    trend.push({
      week: w,
      requests: await store.countRequests(w.start, w.end),
      namespacesReady: inWeek.length,
      medianTimeToReadyMs: distribution(inWeek).median,
    });
  }
  return {
    timeZone: settings.timeZone,
    current,
    previous,
    changes,
    regressions: METRICS.map((m) => changes[m.key]).filter((c) => c.regression),
    trend,
    idle: {
      total: idle.total,
      namespaces: await describeIdle(store, idle.oldest, week.end, {
        ownerOf: async (requestId) => (await deps.store.lifecycle.get(requestId))?.owner,
        askedOf: (requestId, idleSince) => askedAbout(deps, requestId, idleSince),
      }),
    },
    lifecycle: await lifecycleWeek(deps, week),
    quiet,
  };
}

/** Every metric of one week (`week.start <= t < week.end`, local Monday to Monday). */
async function weekMetrics(
  store: AdoptionStore,
  readyMs: readonly number[],
  idleNamespaces: number,
  settings: MetricsSettings,
  week: Week,
): Promise<WeekMetrics> {
  const { start, end } = week;
  const counts = await store.eventCounts(start, end);
  const decisions = counts.approved + counts.denied;
  const runsEnded = counts.ready + counts.runsFailed;

  const active = await store.activeByTeam(new Date(end.getTime() - settings.activeDays * DAY_MS), end);
  const configTeams = new Set(settings.teams);
  const activeTeams = new Set<string>();
  for (const { team } of active) if (team && configTeams.has(team)) activeTeams.add(team);
  for (const team of await store.teamsWithRequests(start, end)) if (configTeams.has(team)) activeTeams.add(team);

  return {
    week,
    requests: counts.requests,
    approved: counts.approved,
    autoApproved: counts.autoApproved,
    denied: counts.denied,
    selfServeShare: decisions > 0 ? counts.autoApproved / decisions : undefined,
    namespacesReady: counts.ready,
    timeToReady: distribution(readyMs),
    approvalWait: distribution(await store.approvalWaitMs(start, end)),
    timeToFirstWorkload: distribution(await store.firstWorkloadMs(start, end)),
    activeNamespaces: active.reduce((n, a) => n + a.namespaces, 0),
    idleNamespaces,
    activeTeams: [...activeTeams].sort(),
    teamsInConfig: configTeams.size,
    adoption: configTeams.size > 0 ? activeTeams.size / configTeams.size : undefined,
    newTeams: (await store.newTeams(start, end)).map((t) => ({
      team: t.team,
      firstRequestAt: t.firstRequestAt,
      timeToFirstNamespaceMs: t.firstReadyAt === undefined ? undefined : Date.parse(t.firstReadyAt) - Date.parse(t.firstRequestAt),
    })),
    runsFailed: counts.runsFailed,
    runsEnded,
    failureRate: runsEnded > 0 ? counts.runsFailed / runsEnded : undefined,
  };
}

/**
 * The listed idle namespaces, longest idle first (as the store orders them). A namespace's latest
 * snapshot before the idle window is when it stopped running pods, or when it appeared if it
 * never ran any: that is how long it has been idle.
 */
async function describeIdle(
  store: AdoptionStore,
  states: readonly NamespaceState[],
  end: Date,
  people: { ownerOf(requestId: number): Promise<string | undefined>; askedOf(requestId: number, idleSince: string): Promise<IdleAsked | undefined> },
): Promise<IdleNamespace[]> {
  const { ownerOf, askedOf } = people;
  const described: IdleNamespace[] = [];
  for (const s of states) {
    described.push({
      cluster: s.cluster,
      namespace: s.namespace,
      team: s.team,
      requestId: s.requestId,
      // The owner now (a transfer moves it); the requester for namespaces Slipway does not track.
      owner: s.requestId === undefined ? undefined : ((await ownerOf(s.requestId)) ?? (await store.requester(s.requestId))),
      idleSince: s.at,
      neverRan: (await store.lastRunning(s, end)) === undefined,
      asked: s.requestId === undefined ? undefined : await askedOf(s.requestId, s.at),
    });
  }
  return described;
}

/** The idle reclaim's question about this idle period (one asked in an earlier period does not count). */
async function askedAbout(deps: Pick<Deps, 'store'>, requestId: number, idleSince: string): Promise<IdleAsked | undefined> {
  const ask = await deps.store.idle.latestOf(requestId);
  if (!ask || ask.idleSince !== idleSince) return undefined;
  return { user: ask.askedUser, at: ask.askedAt, teamToldAt: ask.teamToldAt, stage: ask.stage };
}

/**
 * Day 2 in a week: namespaces deleted (each once, whoever deleted it), namespaces that reached
 * their end date, extensions, and the quota the deleted ones gave back: their tiers' quotas
 * summed per resource (the tier from the request's `request_submitted` event; a namespace
 * without one, or whose tier left the config, adds nothing).
 */
async function lifecycleWeek(deps: Pick<Deps, 'store' | 'config'>, week: Week): Promise<LifecycleWeek> {
  const counts = await deps.store.adoption.lifecycleCounts(week.start, week.end);
  const quotaOf = (deleted: typeof counts.deleted) => {
    const quotas = deleted.flatMap(({ tier }) => (tier !== undefined && Object.hasOwn(deps.config.tiers, tier) ? [deps.config.tiers[tier]?.quota ?? {}] : []));
    return [...sumResources(quotas)].map(([resource, quantity]) => ({ resource, amount: formatQuantity(quantity) }));
  };
  const reclaimed = counts.deleted.filter((d) => d.reclaimed);
  return {
    deleted: counts.deleted.length,
    expired: counts.expired,
    extended: counts.extended,
    quotaReturned: quotaOf(counts.deleted),
    reclaimed: reclaimed.length,
    reclaimedQuota: quotaOf(reclaimed),
  };
}

/** Median and p90 by linear interpolation between the closest ranks (numpy's default, Excel's PERCENTILE.INC). */
export function distribution(values: readonly number[]): Distribution {
  // A typed array sorts numbers natively, several times faster than a compare function.
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, median: percentile(sorted, 0.5), p90: percentile(sorted, 0.9) };
}

export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] ?? 0;
  const b = sorted[high] ?? a;
  return a + (b - a) * (rank - low);
}

function compare(current: WeekMetrics, previous: WeekMetrics): Record<MetricKey, MetricChange> {
  const out = {} as Record<MetricKey, MetricChange>;
  for (const def of METRICS) {
    const cur = def.value(current);
    const prev = def.value(previous);
    const delta = cur !== undefined && prev !== undefined ? cur - prev : undefined;
    const relative = delta !== undefined && prev !== undefined && prev !== 0 ? delta / prev : undefined;
    const reason = def.rule ? regressionReason(def.rule, delta, relative) : undefined;
    out[def.key] = { key: def.key, label: def.label, unit: def.unit, current: cur, previous: prev, delta, relative, regression: reason !== undefined, reason };
  }
  return out;
}

function regressionReason(rule: Rule, delta: number | undefined, relative: number | undefined): string | undefined {
  if (delta === undefined) return undefined;
  const pct = (x: number) => `${Math.round(Math.abs(x) * 100)}%`;
  const pts = (x: number) => `${Math.round(Math.abs(x) * 100)} points`;
  // A tiny tolerance so that exactly 20% (from rounded inputs) still counts.
  const eps = 1e-9;
  switch (rule.kind) {
    case 'rise-percent':
      return relative !== undefined && relative * 100 >= rule.percent - eps ? `up ${pct(relative)}` : undefined;
    case 'drop-percent':
      return relative !== undefined && -relative * 100 >= rule.percent - eps ? `down ${pct(relative)}` : undefined;
    case 'rise-points':
      return delta >= rule.points - eps ? `up ${pts(delta)}` : undefined;
    case 'drop-points':
      return -delta >= rule.points - eps ? `down ${pts(delta)}` : undefined;
    case 'drop':
      return delta < -eps ? (relative !== undefined ? `down ${pct(relative)}` : 'down') : undefined;
  }
}
