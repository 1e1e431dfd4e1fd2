import type { UsageSnapshotInput } from '../../src/store/adoption.ts';
import type { EventInput } from '../../src/store/events.ts';
import { distribution, type MetricsSettings } from '../../src/workflows/adoption/metrics.ts';
import type { IdleNamespace, TrendPoint, WeekMetrics } from '../../src/domain/adoption.ts';
import type { Week } from '../../src/lib/calendar.ts';

/**
 * The adoption metrics computed the plain way, straight from docs/metrics.md, over every raw event
 * and usage snapshot held in memory: what the store's indexed and derived rows must agree with.
 * Rows are given in the order they were written (it breaks ties between snapshots of a namespace
 * at the same moment: the later written holds).
 */

const DAY_MS = 86_400_000;

interface Ev {
  at: string;
  type: string;
  actor: string | undefined;
  team: string | undefined;
  requestId: number | undefined;
  auto: boolean;
}

/** A usage snapshot with its time as ISO text and the namespace's key (cluster/namespace). */
type Snap = Omit<UsageSnapshotInput, 'at'> & { at: string; key: string };

export class RawMetrics {
  private readonly events: Ev[];
  private readonly snaps: Snap[];

  constructor(
    events: readonly EventInput[],
    snapshots: readonly UsageSnapshotInput[],
    private readonly settings: MetricsSettings,
  ) {
    this.events = events.map((e) => ({
      at: e.at.toISOString(),
      type: e.type,
      actor: e.actor,
      team: e.team,
      requestId: e.requestId,
      auto: e.data?.auto === true,
    }));
    // Time order; written order among equal times (a stable sort).
    this.snaps = snapshots
      .map((s) => ({ ...s, at: s.at.toISOString(), key: `${s.cluster}/${s.namespace}` }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  private inWindow<T extends { at: string }>(rows: readonly T[], from: Date, to: Date): T[] {
    const a = from.toISOString();
    const b = to.toISOString();
    return rows.filter((r) => r.at >= a && r.at < b);
  }

  /** From an event to each submission of its request. */
  private sinceSubmission(e: Ev): number[] {
    if (e.requestId === undefined) return [];
    return this.events.filter((s) => s.type === 'request_submitted' && s.requestId === e.requestId).map((s) => Date.parse(e.at) - Date.parse(s.at));
  }

  private readyMs(from: Date, to: Date): number[] {
    return this.inWindow(this.events, from, to)
      .filter((e) => e.type === 'namespace_ready')
      .flatMap((e) => this.sinceSubmission(e));
  }

  /** Each namespace's latest snapshot before `at`, where it says present. */
  private presentAt(at: Date): Map<string, Snap> {
    const cut = at.toISOString();
    const latest = new Map<string, Snap>();
    for (const s of this.snaps) if (s.at < cut) latest.set(s.key, s);
    return new Map([...latest].filter(([, s]) => s.present));
  }

  private active(from: Date, to: Date): Map<string, string | undefined> {
    const active = new Map<string, string | undefined>();
    for (const s of this.presentAt(from).values()) if (s.runningPods > 0) active.set(s.key, s.team);
    for (const s of this.inWindow(this.snaps, from, to)) if (s.present && s.runningPods > 0) active.set(s.key, s.team);
    return active;
  }

  private idle(from: Date, to: Date): Snap[] {
    const window = this.inWindow(this.snaps, from, to);
    return [...this.presentAt(from).values()].filter(
      (s) => s.runningPods === 0 && !window.some((r) => r.key === s.key && (r.runningPods > 0 || !r.present || r.requestId !== s.requestId)),
    );
  }

  week(week: Week): WeekMetrics {
    const { start, end } = week;
    const events = this.inWindow(this.events, start, end);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    const approved = count('request_approved');
    const autoApproved = events.filter((e) => e.type === 'request_approved' && e.auto).length;
    const denied = count('request_denied');
    const ready = count('namespace_ready');
    const runsFailed = count('run_failed');
    const decisions = approved + denied;
    const runsEnded = ready + runsFailed;

    const waits = events.filter((e) => (e.type === 'request_approved' && !e.auto) || e.type === 'request_denied').flatMap((e) => this.sinceSubmission(e));
    const firstWorkloads = this.inWindow(this.snaps, start, end)
      .filter((u) => u.runningPods > 0)
      .filter((u) => !this.snaps.some((p) => p.key === u.key && p.requestId === u.requestId && p.runningPods > 0 && p.at < u.at))
      .flatMap((u) =>
        u.requestId === undefined
          ? []
          : this.events.filter((r) => r.type === 'namespace_ready' && r.requestId === u.requestId).map((r) => Date.parse(u.at) - Date.parse(r.at)),
      );

    const active = this.active(new Date(end.getTime() - this.settings.activeDays * DAY_MS), end);
    const configTeams = new Set(this.settings.teams);
    const submitted = events.filter((e) => e.type === 'request_submitted');
    const activeTeams = new Set([...active.values(), ...submitted.map((e) => e.team)].filter((t): t is string => t !== undefined && configTeams.has(t)));

    const startIso = start.toISOString();
    const newTeams = [...new Set(submitted.map((e) => e.team).filter((t): t is string => t !== undefined))]
      .filter((team) => !this.events.some((e) => e.type === 'request_submitted' && e.team === team && e.at < startIso))
      .map((team) => {
        const firstRequestAt =
          submitted
            .filter((e) => e.team === team)
            .map((e) => e.at)
            .sort()[0] ?? '';
        const firstReadyAt = this.events
          .filter((e) => e.type === 'namespace_ready' && e.team === team && e.at >= startIso)
          .map((e) => e.at)
          .sort()[0];
        return { team, firstRequestAt, timeToFirstNamespaceMs: firstReadyAt === undefined ? undefined : Date.parse(firstReadyAt) - Date.parse(firstRequestAt) };
      })
      .sort((a, b) => (a.firstRequestAt < b.firstRequestAt ? -1 : 1));

    return {
      week,
      requests: submitted.length,
      approved,
      autoApproved,
      denied,
      selfServeShare: decisions > 0 ? autoApproved / decisions : undefined,
      namespacesReady: ready,
      timeToReady: distribution(this.readyMs(start, end)),
      approvalWait: distribution(waits),
      timeToFirstWorkload: distribution(firstWorkloads),
      activeNamespaces: active.size,
      idleNamespaces: this.idle(new Date(end.getTime() - this.settings.idleDays * DAY_MS), end).length,
      activeTeams: [...activeTeams].sort(),
      teamsInConfig: configTeams.size,
      adoption: configTeams.size > 0 ? activeTeams.size / configTeams.size : undefined,
      newTeams,
      runsFailed,
      runsEnded,
      failureRate: runsEnded > 0 ? runsFailed / runsEnded : undefined,
    };
  }

  trendPoint(week: Week): TrendPoint {
    const ready = this.readyMs(week.start, week.end);
    const requests = this.inWindow(this.events, week.start, week.end).filter((e) => e.type === 'request_submitted').length;
    return { week, requests, namespacesReady: ready.length, medianTimeToReadyMs: distribution(ready).median };
  }

  /** Idle at the end of `week`, longest idle first, then by namespace and cluster. */
  idleAtEnd(week: Week, limit: number): { total: number; namespaces: IdleNamespace[] } {
    const end = week.end.toISOString();
    const idle = this.idle(new Date(week.end.getTime() - this.settings.idleDays * DAY_MS), week.end).sort((a, b) =>
      a.at < b.at ? -1 : a.at > b.at ? 1 : a.namespace.localeCompare(b.namespace) || (a.cluster < b.cluster ? -1 : 1),
    );
    return {
      total: idle.length,
      namespaces: idle.slice(0, limit).map((s) => ({
        cluster: s.cluster,
        namespace: s.namespace,
        team: s.team,
        requestId: s.requestId,
        owner: this.events
          .filter((e) => e.type === 'request_submitted' && e.requestId !== undefined && e.requestId === s.requestId)
          .sort((a, b) => (a.at < b.at ? -1 : 1))[0]?.actor,
        idleSince: s.at,
        neverRan: !this.snaps.some((r) => r.key === s.key && r.requestId === s.requestId && r.runningPods > 0 && r.at < end),
        // The histories this model generates have no idle reclaim conversations.
        asked: undefined,
      })),
    };
  }
}
