import type { KnownBlock, MrkdwnElement } from '@slack/types';
import type { AdoptionReport, IdleNamespace, MetricChange, NewTeam, TrendPoint } from '../../domain/adoption.ts';
import { context, escape, formatPercent, mrkdwn, plain, plural, section, truncate, user } from '../text.ts';
import type { SlackMessage } from '../usage.ts';

/**
 * The weekly adoption digest as Block Kit (pure). Built to be read in ten seconds: what needs
 * attention first, then the key numbers with their week-over-week change, the 8-week trend, new
 * teams and idle namespaces. Lists are capped, every text is cut to Slack's limits, and the
 * whole message stays well under the ~12k characters Slack accepts in one message's blocks
 * (beyond that it answers `msg_blocks_too_long`, an undocumented limit), whatever the data.
 */

export interface DigestOptions {
  /** `digest`: the weekly post; `stats`: the ephemeral answer to `/platform stats`. */
  surface: 'digest' | 'stats';
  /** Team name → display name, from config. */
  teamNames?: Readonly<Record<string, string>>;
  /** Where the weekly digest is posted, mentioned in the stats answer. */
  platformChannel?: string | undefined;
  /** Most idle namespaces and new teams listed by name. */
  listLimit?: number;
  /**
   * Which week this is: the last complete one (the default), an earlier one, or the week in
   * progress with the local time its numbers run to.
   */
  period?: { kind: 'last' | 'past' } | { kind: 'so-far'; until: string };
  /** Slipway's workspace and app ids: idle namespaces link to its Home tab, where their owners extend or delete them. */
  home?: { teamId: string; appId: string } | undefined;
}

const SPARK = '▁▂▃▄▅▆▇█';
const MAX_FIELD = 2000;

/** `45s`, `4m 10s`, `42m`, `3h 5m`, `2d 4h`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** Bars scaled to the largest value; a week with no data (undefined) is `·`. */
export function sparkline(values: readonly (number | undefined)[]): string {
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  return values
    .map((v) => {
      if (v === undefined) return '·';
      if (max === 0) return SPARK[0];
      return SPARK[Math.min(SPARK.length - 1, Math.round((v / max) * (SPARK.length - 1)))];
    })
    .join('');
}

/** `↑ 4 (+50%)`, `↓ 12%`, `↑ 5 pts`, `→ same`, with ⚠️ on a regression; empty without a comparison. */
export function changeText(change: MetricChange): string {
  const { delta, relative, unit } = change;
  if (delta === undefined) return '';
  const warn = change.regression ? ' ⚠️' : '';
  if (Math.abs(delta) < 1e-9) return '→ same';
  const arrow = delta > 0 ? '↑' : '↓';
  const pct = relative === undefined ? undefined : `${Math.round(Math.abs(relative) * 100)}%`;
  if (unit === 'share') return `${arrow} ${Math.round(Math.abs(delta) * 100)} pts${warn}`;
  if (unit === 'duration') {
    if (relative !== undefined && Math.abs(relative) < 0.005) return '→ same';
    return `${arrow} ${pct ?? formatDuration(Math.abs(delta))}${warn}`;
  }
  const amount = Math.abs(delta);
  return `${arrow} ${amount}${pct ? ` (${delta > 0 ? '+' : '−'}${pct})` : ' (from 0)'}${warn}`;
}

function field(title: string, value: string, ...changes: string[]): MrkdwnElement {
  const change = changes.filter(Boolean).join(' · ');
  return mrkdwn(truncate(`*${title}*\n${value}${change ? `\n${change}` : ''}`, MAX_FIELD));
}

function regressionLine(c: MetricChange): string {
  const value = (v: number | undefined) => (c.unit === 'duration' ? formatDuration(v) : c.unit === 'share' ? formatPercent(v) : String(v ?? '–'));
  return `• *${c.label}* ${c.reason ?? 'worse'} (${value(c.previous)} → ${value(c.current)})`;
}

function keyNumbers(report: AdoptionReport, teamCount: number): MrkdwnElement[] {
  const { current: m, changes: c } = report;
  const decisions = m.approved + m.denied;
  return [
    field('Requests', String(m.requests), changeText(c.requests)),
    field(
      'Self-serve',
      decisions > 0
        ? `${formatPercent(m.selfServeShare)} auto-approved (${m.autoApproved} of ${plural(decisions, 'decision')}; ${m.denied} denied)`
        : 'no decisions',
      changeText(c.selfServeShare),
    ),
    field(
      'Time to ready',
      m.timeToReady.count > 0 ? `median ${formatDuration(m.timeToReady.median)} · p90 ${formatDuration(m.timeToReady.p90)}` : 'no namespace became ready',
      c.timeToReadyMedian.delta !== undefined ? `median ${changeText(c.timeToReadyMedian)}` : '',
      c.timeToReadyP90.delta !== undefined ? `p90 ${changeText(c.timeToReadyP90)}` : '',
    ),
    field(
      'Approval wait',
      m.approvalWait.count > 0
        ? `median ${formatDuration(m.approvalWait.median)} (${plural(m.approvalWait.count, 'decision')} by people)`
        : 'nobody had to wait',
      changeText(c.approvalWaitMedian),
    ),
    field(
      'Namespaces ready',
      `${m.namespacesReady}${m.runsEnded > 0 ? ` · ${m.runsFailed} of ${plural(m.runsEnded, 'run')} failed (${formatPercent(m.failureRate)})` : ''}`,
      changeText(c.namespacesReady),
      c.failureRate.regression ? `failure rate ${changeText(c.failureRate)}` : '',
    ),
    field(
      'First workload',
      m.timeToFirstWorkload.count > 0
        ? `median ${formatDuration(m.timeToFirstWorkload.median)} after ready (${plural(m.timeToFirstWorkload.count, 'namespace')})`
        : 'no new namespace started pods',
      changeText(c.timeToFirstWorkloadMedian),
    ),
    field('Namespaces in use', `${m.activeNamespaces} active · ${m.idleNamespaces} idle`, changeText(c.activeNamespaces)),
    field(
      'Teams',
      `${m.activeTeams.length} of ${teamCount} active · ${formatPercent(m.adoption)} adoption`,
      c.adoption.delta !== undefined ? `adoption ${changeText(c.adoption)}` : '',
    ),
  ];
}

function trendText(trend: readonly TrendPoint[]): string {
  const requests = trend.map((t) => t.requests);
  const medians = trend.map((t) => t.medianTimeToReadyMs);
  const first = trend[0];
  const last = trend.at(-1);
  const known = medians.filter((m): m is number => m !== undefined);
  const medianRange = known.length > 0 ? `${formatDuration(medians.find((m) => m !== undefined))} → ${formatDuration(medians.at(-1))}` : 'no data';
  return [
    `*Last ${trend.length} weeks* (weeks of ${first?.week.short ?? ''} → ${last?.week.short ?? ''})`,
    `\`${sparkline(requests)}\`  requests per week: ${requests.join(', ')}`,
    `\`${sparkline(medians)}\`  median time to ready: ${medianRange}${medians.includes(undefined) ? ' (· = nothing became ready)' : ''}`,
  ].join('\n');
}

function teamName(team: string, names: Readonly<Record<string, string>>): string {
  // Own keys only: a team read back from a cluster label must not find Object.prototype's.
  return escape((Object.hasOwn(names, team) ? names[team] : undefined) ?? team);
}

function newTeamsText(teams: readonly NewTeam[], names: Readonly<Record<string, string>>, limit: number): string {
  const shown = teams
    .slice(0, limit)
    .map((t) =>
      t.timeToFirstNamespaceMs === undefined
        ? `${teamName(t.team, names)} (no namespace yet)`
        : `${teamName(t.team, names)} (first namespace ${formatDuration(t.timeToFirstNamespaceMs)} after the first request)`,
    );
  const more = teams.length > limit ? ` and ${teams.length - limit} more` : '';
  return `🎉 *New to the platform:* ${shown.join(' · ')}${more}`;
}

/** A link that opens Slipway's Home tab (https://docs.slack.dev/interactivity/deep-linking). */
export function homeLink(home: { teamId: string; appId: string }): string {
  return `slack://app?team=${encodeURIComponent(home.teamId)}&id=${encodeURIComponent(home.appId)}&tab=home`;
}

function idleText(report: AdoptionReport, names: Readonly<Record<string, string>>, idleDays: number, home: DigestOptions['home']): string {
  const { total, namespaces } = report.idle;
  const end = report.current.week.end.getTime();
  const line = (ns: IdleNamespace) => {
    const days = Math.floor((end - Date.parse(ns.idleSince)) / 86_400_000);
    const owner = ns.owner ? ` · ${user(ns.owner)}${home && ns.requestId !== undefined ? ` (<${homeLink(home)}|their Home>)` : ''}` : '';
    const team = ns.team ? ` · ${teamName(ns.team, names)}` : '';
    const since = ns.neverRan ? `never ran a pod (${days} days)` : `no pods for ${days} days`;
    return `• \`${ns.namespace}\` on ${escape(ns.cluster)}${team}${owner} · ${since}${askedText(ns.asked, report.timeZone)}`;
  };
  const more = total > namespaces.length ? `\n…and ${total - namespaces.length} more` : '';
  return `💤 *Idle namespaces* (no running pods for ${idleDays}+ days): ${total}\n${namespaces.map(line).join('\n')}${more}`;
}

const ASKED_DAY = (timeZone: string) => new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric' });

/** Who the idle reclaim asked about an idle namespace and when, and how far it went. */
function askedText(asked: IdleNamespace['asked'], timeZone: string): string {
  if (!asked) return '';
  const on = (iso: string) => ASKED_DAY(timeZone).format(new Date(iso));
  const team = asked.teamToldAt ? `, team told ${on(asked.teamToldAt)}` : '';
  const outcome = asked.stage === 'kept' ? ' · kept' : asked.stage === 'approvers' ? ' · approvers asked' : '';
  return ` · asked ${user(asked.user)} ${on(asked.at)}${team}${outcome}`;
}

const quotaList = (quota: readonly { resource: string; amount: string }[]) => quota.map((q) => `${escape(q.resource)} ${q.amount}`).join(', ');

/** Namespaces deleted, expired and extended in the week, and the quota given back; nothing in a week without any. */
function lifecycleText(report: AdoptionReport): string | undefined {
  const { deleted, expired, extended, quotaReturned, reclaimed, reclaimedQuota } = report.lifecycle;
  if (deleted + expired + extended === 0) return undefined;
  const quota = quotaReturned.length > 0 ? `\nQuota returned: ${quotaList(quotaReturned)}` : '';
  const idle =
    reclaimed > 0
      ? `\n♻️ Reclaimed this week: ${plural(reclaimed, 'idle namespace')}${reclaimedQuota.length > 0 ? `, quota returned: ${quotaList(reclaimedQuota)}` : ''}`
      : '';
  return `🧹 *Day 2:* ${plural(deleted, 'namespace')} deleted · ${expired} expired · ${plural(extended, 'extension')}${truncate(quota + idle, 1000)}`;
}

function summaryText(report: AdoptionReport, teamCount: number, soFar: boolean): string {
  const m = report.current;
  const parts = [`${plural(m.requests, 'request')}`];
  if (m.selfServeShare !== undefined) parts.push(`${formatPercent(m.selfServeShare)} self-serve`);
  if (m.timeToReady.median !== undefined) parts.push(`median time to ready ${formatDuration(m.timeToReady.median)}`);
  parts.push(`${m.activeTeams.length} of ${teamCount} teams active`);
  const regressions = report.regressions.length > 0 ? ` · ⚠️ ${plural(report.regressions.length, 'metric')} got worse` : '';
  return `Platform adoption, ${m.week.label}${soFar ? ' (so far)' : ''}: ${parts.join(', ')}${regressions}`;
}

/** The digest (or the `/platform stats` answer) for a report. */
export function digestMessage(report: AdoptionReport, options: DigestOptions, settings: { idleDays: number }): SlackMessage {
  const names = options.teamNames ?? {};
  const limit = options.listLimit ?? 10;
  const m = report.current;
  const teamCount = m.teamsInConfig;
  const period = options.period ?? { kind: 'last' };
  const soFar = period.kind === 'so-far';
  const which =
    period.kind === 'so-far'
      ? `This week so far (to ${escape(period.until)}), compared with the whole of ${report.previous.week.label} · survey results come once the week is over`
      : `${period.kind === 'last' ? 'The last complete week, compared' : 'Compared'} with ${report.previous.week.label}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(truncate(`📊 Platform adoption · ${m.week.label}${soFar ? ' · so far' : ''}`, 150)) },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `${which} · weeks start on Monday, 00:00 ${escape(report.timeZone)}` +
            (options.surface === 'stats' && options.platformChannel ? ` · posted every week in <#${options.platformChannel}>` : ''),
        ),
      ],
    },
  ];

  if (report.regressions.length > 0) {
    blocks.push(section(`⚠️ *Needs attention*\n${report.regressions.map(regressionLine).join('\n')}`));
  }

  if (report.quiet) {
    const before = report.previous;
    const last =
      before.requests + before.namespacesReady > 0
        ? ` The week before: ${plural(before.requests, 'request')}, ${plural(before.namespacesReady, 'namespace')} ready.`
        : '';
    blocks.push(section(`😴 *${soFar ? 'Quiet so far' : 'A quiet week'}.* No requests, no decisions, nothing provisioned, and no namespace ran pods.${last}`));
    blocks.push(context(`${m.activeTeams.length} of ${teamCount} teams active · ${formatPercent(m.adoption)} adoption`));
  } else {
    blocks.push({ type: 'section', fields: keyNumbers(report, teamCount) });
  }

  blocks.push(section(trendText(report.trend)));
  if (m.newTeams.length > 0) blocks.push(section(newTeamsText(m.newTeams, names, limit)));
  const day2 = lifecycleText(report);
  if (day2) blocks.push(section(day2));
  if (report.idle.total > 0) blocks.push(section(idleText(report, names, settings.idleDays, options.home)));
  const otherWeek = soFar ? 'the last complete week: `/platform stats`' : 'this week so far: `/platform stats current`';
  blocks.push(
    context(
      options.surface === 'digest'
        ? 'How each number is computed: `docs/metrics.md` · Ask any time: `/platform stats` for the last complete week, `/platform stats current` for this week so far'
        : `How each number is computed: \`docs/metrics.md\` · For ${otherWeek} · for the week containing a date: \`/platform stats YYYY-MM-DD\``,
    ),
  );

  return { text: summaryText(report, teamCount, soFar), blocks };
}

/**
 * The message as plain text for a terminal (`slipway digest --dry-run`): mrkdwn marks dropped,
 * mentions shown as `@U123`, fields one per line.
 */
export function digestForTerminal(message: SlackMessage): string {
  const clean = (text: string) =>
    text
      .replace(/<@([A-Z0-9]+)>/g, '@$1')
      .replace(/<#([A-Z0-9]+)(\|[^>]*)?>/g, '#$1')
      .replace(/<((?:https?|slack):[^|>]+)\|([^>]+)>/g, '$2 ($1)')
      .replace(/\*([^*\n]+)\*/g, '$1')
      .replace(/`([^`\n]+)`/g, '$1')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const lines: string[] = [];
  for (const block of message.blocks) {
    if (block.type === 'header') {
      const title = clean(block.text.text);
      lines.push(title, '═'.repeat(Math.min(72, [...title].length)));
    } else if (block.type === 'context') {
      lines.push(...block.elements.map((e) => ('text' in e ? clean(e.text) : '')), '');
    } else if (block.type === 'section') {
      if (block.fields) {
        for (const f of block.fields) lines.push(clean(f.text).replace(/\n/g, '  ·  '));
        lines.push('');
      }
      if (block.text) lines.push(clean(block.text.text), '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
