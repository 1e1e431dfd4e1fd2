// Benchmark: computing the weekly digest and `/platform stats` over a large history
// (`npm run bench:digest`).
//
// - Generates a seeded, realistic history: 2 years, 500 teams in config (they onboard over time, so
//   adoption grows), up to 20,000 namespace names (40 per team, re-requested after deletion),
//   3 clusters (one per environment), and exactly 1,000,000 events as the workflows write them (request_submitted,
//   request_approved with data.auto, request_denied, run_started, step_done, run_failed,
//   run_retried, namespace_ready, namespace_deleted), plus exactly 100,000 usage snapshots: the
//   rows the usage refresh writes (appeared, started or stopped running pods, deleted) for a
//   seeded sample of the namespace incarnations.
// - Surveys, written through `store.surveys` as the workflows write them: a weekly pulse of two
//   questions (one a week, each open three days, closed with its low ratings settled) holding
//   exactly 100,000 answers from the requesters of onboarded teams, scores drifting up over time;
//   the question after provisioning asked for 40,000 ready namespaces and answered for exactly
//   20,000; and 400 comments, 150 of them marked done ("you said → we did").
// - Writes it through the Store (`appendEvent`, `adoption.insertSnapshots`), in one transaction
//   per database, into three SQLite files: the first 10%, 50% and 100% of the events (in time
//   order) with the snapshots up to the same moment.
// - On each, "now" is the first Monday 09:00 (Europe/Berlin) after the data ends, as for the
//   scheduled digest, and it times (median of BENCH_DIGEST_RUNS, after one warm-up):
//   report (every metric, both weeks, the 8-week trend, idle namespaces), surveys (the survey
//   section: latest pulse and its trend, the question after provisioning by time to ready and
//   approval, done items), blocks (Block Kit), chart (SVG → PNG), digest = all of
//   them together (`composeDigest`, the chart drawn while the text is built: what the job computes before it talks to
//   Slack), text = `prepareDigest` alone (digest without the chart), and stats (what
//   `/platform stats` computes after its ack: synchronous, so also how long it holds the event
//   loop; stats_max_ms is the slowest run).
//
// Prints a table, then as the last line one JSON object. Exits 1 if the digest breaks a Block Kit
// limit or the run exceeds its time bound. Missing a target (at 100%: digest < 60 ms, stats < 20
// ms; digest growth from 10% to 100% of the history ≤ 1.3x) is reported, and fails the run only
// with BENCH_ENFORCE_TARGETS=1.
//
// Knobs: BENCH_DIGEST_EVENTS (default 1000000), BENCH_DIGEST_SNAPSHOTS (100000), BENCH_DIGEST_RUNS (7),
// BENCH_DIGEST_DEADLINE_S (300: the time bound; writing the history takes most of it),
// BENCH_DIGEST_SURVEY_ANSWERS (100000), BENCH_DIGEST_PROVISIONING_ANSWERS (20000),
// BENCH_DIGEST_DIR=dir (write the databases there, empty, and keep them, e.g. to profile queries).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig, type Config } from '../src/config.ts';
import { digestMessage } from '../src/slack/adoption/digest.ts';
import type { UsageSnapshotInput } from '../src/store/adoption.ts';
import { Store } from '../src/store/store.ts';
import { adoptionReport } from '../src/workflows/adoption/metrics.ts';
import { weekContaining, shiftWeek, zonedTime, localParts, addDays } from '../src/lib/calendar.ts';
import { renderTrendChart } from '../src/chart/trend-chart.ts';
import { composeDigest, digestChart, platformStats, prepareDigest } from '../src/workflows/adoption/digest.ts';
import { surveyDigest } from '../src/workflows/surveys/report.ts';
import type { RequestTiming, SurveyQuestion } from '../src/domain/surveys.ts';
import { validateMessageBlocks } from '../src/playground/slack-api.ts';
import { exampleConfigDocument } from '../test/support/config.ts';
import { seededRandom } from '../src/lib/random.ts';
import { positiveInt, runBench, endWithSummary, type BenchRun } from './lib/run.ts';
import { median, round } from './lib/stats.ts';
import { table } from './lib/table.ts';
import { timeRuns } from './lib/time.ts';

const EVENTS = positiveInt(process.env.BENCH_DIGEST_EVENTS, 1_000_000);
const SNAPSHOTS = positiveInt(process.env.BENCH_DIGEST_SNAPSHOTS, 100_000);
const RUNS = positiveInt(process.env.BENCH_DIGEST_RUNS, 7);
const SURVEY_ANSWERS = positiveInt(process.env.BENCH_DIGEST_SURVEY_ANSWERS, 100_000);
const PROVISIONING_ANSWERS = positiveInt(process.env.BENCH_DIGEST_PROVISIONING_ANSWERS, 20_000);
const TEAMS = 500;
const NAMES_PER_TEAM = 40;
// Name slots 0-23 are dev namespaces, 24-33 staging, 34-39 prod: each name lives on one cluster.
const envOfSlot = (slot: number) => (slot < 24 ? 0 : slot < 34 ? 1 : 2);
const CLUSTERS = ['dev-eu', 'staging-eu', 'prod-eu'] as const;
const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const TIME_ZONE = 'Europe/Berlin';
const TARGET_DIGEST_MS = 60;
const TARGET_STATS_MS = 20;
const TARGET_DIGEST_GROWTH = 1.3;
const DEADLINE_MS = positiveInt(process.env.BENCH_DIGEST_DEADLINE_S, 300) * 1000;
/** BENCH_DIGEST_DIR: write the databases there, and keep them. */
const KEEP_DIR = process.env.BENCH_DIGEST_DIR;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const START = Date.parse('2024-11-25T08:00:00Z');
const SPAN = 104 * WEEK;
const STEPS = ['namespace', 'resource-quota', 'limit-range', 'network-policies', 'role-binding'];

/** One database's figures; the times are medians of RUNS, in ms. */
interface Row {
  share: number;
  events: number;
  snapshots: number;
  namespaces: number;
  weeks: number;
  build_s: number;
  report_ms: number;
  blocks_ms: number;
  chart_ms: number;
  survey_ms: number;
  digest_ms: number;
  text_ms: number;
  stats_ms: number;
  stats_max_ms: number;
  blocks: number;
  block_chars: number;
  survey_answers: number;
  provisioning_answers: number;
}

/** What measuring one database needs to know about the history written into it. */
interface Built {
  share: number;
  path: string;
  events: number;
  namespaces: number;
  weeks: number;
  build_s: number;
  last: number;
}

async function main(run: BenchRun): Promise<number> {
  const dir = KEEP_DIR ?? run.tempDir('slipway-bench-digest-');
  const config = benchConfig();
  const built = await buildDatabases(dir);
  await warmUpChart();
  const rows: Row[] = [];
  const problems: string[] = [];
  for (const db of built) {
    const measured = await measureDatabase(db, config);
    rows.push(measured.row);
    problems.push(...measured.problems);
  }
  printTable(rows);
  const [at10, at50, full] = rows;
  if (!full || !at10 || !at50) throw new Error('missing rows');
  const growth = {
    digest: full.digest_ms / at10.digest_ms,
    text: full.text_ms / at10.text_ms,
    report: full.report_ms / at10.report_ms,
    stats: full.stats_ms / at10.stats_ms,
  };
  const targets = [
    { name: `digest < ${TARGET_DIGEST_MS} ms`, met: full.digest_ms < TARGET_DIGEST_MS },
    { name: `stats < ${TARGET_STATS_MS} ms`, met: full.stats_ms < TARGET_STATS_MS },
    { name: `digest growth ≤ ${TARGET_DIGEST_GROWTH}x`, met: growth.digest <= TARGET_DIGEST_GROWTH },
  ];
  const met = targets.every((t) => t.met);
  console.log(
    `\ndigest = report + surveys + blocks + chart (what the job computes before it talks to Slack); stats = what /platform stats computes after its ack.\n` +
      `Digest message: ${full.blocks} blocks, ${full.block_chars} characters of Block Kit JSON; Block Kit problems: ${problems.length === 0 ? 'none' : problems.join('; ')}.\n` +
      `Growth from 10% to 100% of the data (10x): digest ${growth.digest.toFixed(2)}x, text ${growth.text.toFixed(2)}x, report ${growth.report.toFixed(2)}x, stats ${growth.stats.toFixed(2)}x.\n` +
      `Targets at 100%: ${targets.map((t) => `${t.name} ${t.met ? 'met' : 'NOT MET'}`).join('; ')}. Total ${((Date.now() - run.started) / 1000).toFixed(1)} s.`,
  );
  const summary = {
    bench: 'digest',
    events: full.events,
    snapshots: full.snapshots,
    survey_answers: full.survey_answers,
    post_provisioning_answers: full.provisioning_answers,
    teams: TEAMS,
    namespaces: full.namespaces,
    digest_ms: round(full.digest_ms, 1),
    report_ms: round(full.report_ms, 1),
    chart_ms: round(full.chart_ms, 1),
    survey_ms: round(full.survey_ms, 1),
    text_ms: round(full.text_ms, 1),
    stats_ms: round(full.stats_ms, 1),
    stats_max_ms: round(full.stats_max_ms, 1),
    digest_ms_at_10pct: round(at10.digest_ms, 1),
    digest_ms_at_50pct: round(at50.digest_ms, 1),
    report_ms_at_10pct: round(at10.report_ms, 1),
    report_ms_at_50pct: round(at50.report_ms, 1),
    text_ms_at_10pct: round(at10.text_ms, 1),
    stats_ms_at_10pct: round(at10.stats_ms, 1),
    stats_ms_at_50pct: round(at50.stats_ms, 1),
    digest_growth: round(growth.digest, 2),
    text_growth: round(growth.text, 2),
    report_growth: round(growth.report, 2),
    stats_growth: round(growth.stats, 2),
    target_digest_ms: TARGET_DIGEST_MS,
    target_stats_ms: TARGET_STATS_MS,
    target_digest_growth: TARGET_DIGEST_GROWTH,
    target_met: met,
  };
  return endWithSummary(summary, { ok: problems.length === 0, targetsMet: met });
}

/** The chart code and resvg load and JIT on first use: warm them up before any measurement. */
async function warmUpChart(): Promise<void> {
  const sample = Array.from({ length: 8 }, (_, i) => ({ label: `W${i}`, requests: i * 10, medianTimeToReadyMs: i * 60_000 }));
  for (let i = 0; i < 5; i++) await renderTrendChart(sample, 'warm-up');
}

/** Times every part of the digest and the stats on one database, and prints what the digest says. */
async function measureDatabase(db: Built, config: Config): Promise<{ row: Row; problems: string[] }> {
  const store = await Store.open(db.path);
  try {
    // The scheduled digest: the Monday 09:00 after the data ends.
    const week = shiftWeek(weekContaining(new Date(db.last), TIME_ZONE), 1, TIME_ZONE);
    const now = new Date(week.start.getTime() + 9 * HOUR);
    const deps = { store, config };

    const report = await time(() => adoptionReport(deps, now));
    const blocks = await time(() => digestMessage(report.value, { surface: 'digest' }, { idleDays: config.adoption.idleDays }));
    const chart = await time(() => digestChart(report.value));
    const reported = report.value.current.week;
    const surveysTimed = await time(() => surveyDigest(deps, now, reported, report.value.trend[0]?.week.start ?? reported.start, report.value.trend.length));
    const digest = await time(async () => {
      const composed = await composeDigest(deps, now);
      await composed.chart;
      return composed.message;
    });
    const text = await time(() => prepareDigest(deps, now));
    const stats = await time(() => platformStats(deps, now));
    const problems = validateMessageBlocks(digest.value.blocks).map((p) => `${db.share * 100}%: ${p.message} at ${p.pointer}`);
    const row: Row = {
      share: db.share,
      events: db.events,
      snapshots: await store.adoption.snapshotCount(),
      namespaces: db.namespaces,
      weeks: db.weeks,
      build_s: db.build_s,
      report_ms: median(report.ms),
      blocks_ms: median(blocks.ms),
      chart_ms: median(chart.ms),
      survey_ms: median(surveysTimed.ms),
      digest_ms: median(digest.ms),
      text_ms: median(text.ms),
      stats_ms: median(stats.ms),
      stats_max_ms: Math.max(...stats.ms),
      blocks: digest.value.blocks.length,
      block_chars: JSON.stringify(digest.value.blocks).length,
      survey_answers: (await store.sql.prepare<[], number>('SELECT COUNT(*) FROM pulse_answers').pluck().get()) ?? 0,
      provisioning_answers: (await store.sql.prepare<[], number>('SELECT COUNT(*) FROM provisioning_answers WHERE score IS NOT NULL').pluck().get()) ?? 0,
    };
    const m = report.value.current;
    const survey = surveysTimed.value;
    console.log(
      `  ${db.share * 100}%: week of ${m.week.label}: ${m.requests} requests, ${m.namespacesReady} ready, median ${Math.round((m.timeToReady.median ?? 0) / 1000)} s, ` +
        `${m.activeNamespaces} active / ${m.idleNamespaces} idle namespaces, ${m.activeTeams.length}/${m.teamsInConfig} teams, ${report.value.regressions.length} regression(s); ` +
        `pulse ${survey.pulse?.results[0]?.summary.mean?.toFixed(2) ?? '–'} (${survey.pulse?.respondents ?? 0} of ${survey.pulse?.eligible ?? 0}), ` +
        `after provisioning ${survey.provisioning?.summary.mean?.toFixed(2) ?? '–'} (${survey.provisioning?.answered ?? 0} of ${survey.provisioning?.asked ?? 0} asked)`,
    );
    return { row, problems };
  } finally {
    await store.close();
  }
}

/** Runs `fn` once to warm up, then RUNS times timed: the times in ms and the last value. */
const time = <T>(fn: () => T | Promise<T>) => timeRuns(fn, RUNS);

function printTable(rows: readonly Row[]): void {
  const layout = table(
    [
      ['data', 5],
      ['events', 9],
      ['snapshots', 9],
      ['answers', 8],
      ['ns names', 8],
      ['weeks', 5],
      ['write s', 7],
      ['report', 7],
      ['surveys', 7],
      ['blocks', 7],
      ['chart', 7],
      ['digest', 7],
      ['text', 7],
      ['stats', 7],
      ['max', 7],
    ],
    ' ',
  );
  console.log(`\n${layout.header}   (ms, median of ${RUNS}; max: slowest stats)`);
  for (const r of rows) {
    const ms = [r.report_ms, r.survey_ms, r.blocks_ms, r.chart_ms, r.digest_ms, r.text_ms, r.stats_ms, r.stats_max_ms].map((n) => n.toFixed(1));
    console.log(
      layout.row([`${r.share * 100}%`, r.events, r.snapshots, r.survey_answers + r.provisioning_answers, r.namespaces, r.weeks, r.build_s.toFixed(1), ...ms]),
    );
  }
}

// ------------------------------------------------------------------ the history

// Deterministic: the same history every run.
const random = seededRandom(0x5eed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
/** Log-normal with the given median; spread 1 ≈ a factor e either way. */
const lognormal = (median: number, spread = 1) => {
  const u = Math.max(1e-12, random());
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return median * Math.exp(spread * z);
};

interface GenEvent {
  at: number;
  type: string;
  actor: string | undefined;
  team: string;
  requestId: number;
  data: Record<string, unknown> | undefined;
}

interface Incarnation {
  requestId: number;
  team: string;
  cluster: string;
  namespace: string;
  readyAt: number;
  deletedAt: number | undefined;
}

const teamName = (i: number) => `team-${String(i).padStart(3, '0')}`;

/** Requests through the office hours of weekdays, like people send them. */
function officeHours(t: number): number {
  const p = localParts(new Date(t), TIME_ZONE);
  const day = p.weekday >= 6 ? addDays(p.year, p.month, p.day, 8 - p.weekday) : { year: p.year, month: p.month, day: p.day };
  const hour = 8 + Math.floor(random() * 10);
  return zonedTime(day.year, day.month, day.day, hour, Math.floor(random() * 60), TIME_ZONE).getTime() + Math.floor(random() * 60_000);
}

function generate(): { events: GenEvent[]; incarnations: Incarnation[] } {
  const events: GenEvent[] = [];
  const incarnations: Incarnation[] = [];
  // Onboarding spreads over the first 85% of the span, slowly at first.
  const requests: { at: number; team: number }[] = [];
  // ~9.2 events per request plus deletions: the per-team rate is set so that 2 years hold EVENTS.
  const teamWeeks = Array.from({ length: TEAMS }, (_, i) => (SPAN - 0.9 * SPAN * (i / TEAMS) ** 1.3) / WEEK).reduce((a, b) => a + b, 0);
  const perTeamWeek = EVENTS / 10.6 / teamWeeks;
  for (let i = 0; i < TEAMS; i++) {
    const onboard = START + 0.9 * SPAN * (i / TEAMS) ** 1.3;
    const rate = (perTeamWeek * lognormal(1, 0.5)) / WEEK;
    for (let t = onboard + -Math.log(1 - random()) / rate; t < START + SPAN; t += -Math.log(1 - random()) / rate) {
      requests.push({ at: officeHours(t), team: i });
    }
  }
  requests.sort((a, b) => a.at - b.at);

  const live = new Map<string, Incarnation>();
  const counters = new Array<number>(TEAMS).fill(0);
  let requestId = 0;
  for (const r of requests) {
    requestId += 1;
    const team = teamName(r.team);
    const requester = `U${String(r.team).padStart(3, '0')}${Math.floor(random() * 8)}`;
    const slot = (counters[r.team] = (counters[r.team] ?? 0) + 1) % NAMES_PER_TEAM;
    const envIndex = envOfSlot(slot);
    const cluster = CLUSTERS[envIndex] ?? 'dev-eu';
    const namespace = `${team}-${ENVIRONMENTS[envIndex]}-${slot}`;
    const tier = envIndex === 0 ? (random() < 0.8 ? 'small' : 'medium') : pick(['small', 'medium', 'large']);
    const push = (at: number, type: string, actor?: string, data?: Record<string, unknown>) => events.push({ at, type, actor, team, requestId, data });
    push(r.at, 'request_submitted', requester, { namespace, cluster, environment: ENVIRONMENTS[envIndex], tier });

    const auto = envIndex === 0 && tier === 'small';
    const roll = random();
    if (!auto && roll < 0.03) continue; // still pending
    let t = r.at;
    if (auto) {
      t += 300 + random() * 700;
      push(t, 'request_approved', 'policy', { auto: true });
    } else {
      t += Math.min(5 * DAY, lognormal(25 * 60_000, 1.2));
      const approver = pick(['U0ALICE', 'U0BOB', 'U0CAROL']);
      if (roll < 0.1) {
        push(t, 'request_denied', approver);
        continue;
      }
      push(t, 'request_approved', approver, { auto: false });
    }
    // A name in use by an earlier incarnation: the team deleted that one first.
    const key = `${cluster}/${namespace}`;
    const before = live.get(key);
    if (before && (before.deletedAt === undefined || before.deletedAt > t)) before.deletedAt = t - 60_000;
    const runId = requestId;
    t += 200;
    push(t, 'run_started', undefined, { runId });
    const failAt = random() < 0.06 ? 1 + Math.floor(random() * 3) : -1;
    for (let s = 0; s < STEPS.length; s++) {
      if (s === failAt) {
        t += 30_000 + random() * 60_000;
        push(t, 'run_failed', undefined, { runId, step: STEPS[s], error: 'Cluster refused to apply: 503 Service Unavailable.' });
        t += lognormal(20 * 60_000, 0.8);
        push(t, 'run_retried', pick(['U0ALICE', 'U0BOB']), { runId });
      }
      const ms = 500 + lognormal(1500, 0.6);
      t += ms;
      push(t, 'step_done', undefined, { runId, step: STEPS[s], ms: Math.round(ms) });
    }
    t += 100;
    push(t, 'namespace_ready', undefined, { runId, namespace, cluster });
    const lifetime = random() < 0.3 ? Infinity : lognormal(12 * DAY, 1);
    const inc: Incarnation = { requestId, team, cluster, namespace, readyAt: t, deletedAt: lifetime === Infinity ? undefined : t + lifetime };
    live.set(key, inc);
    incarnations.push(inc);
  }
  for (const inc of incarnations) {
    if (inc.deletedAt !== undefined && inc.deletedAt < START + SPAN) {
      events.push({
        at: inc.deletedAt,
        type: 'namespace_deleted',
        actor: undefined,
        team: inc.team,
        requestId: inc.requestId,
        data: { namespace: inc.namespace, cluster: inc.cluster, outsideSlipway: true },
      });
    }
  }
  events.sort((a, b) => a.at - b.at);
  events.length = Math.min(events.length, EVENTS);
  return { events, incarnations };
}

/** The rows a 30-minute usage refresh writes for one incarnation. */
function snapshotRows(inc: Incarnation): UsageSnapshotInput[] {
  const base = { cluster: inc.cluster, namespace: inc.namespace, team: inc.team, requestId: inc.requestId };
  const end = inc.deletedAt ?? Infinity;
  const rows: UsageSnapshotInput[] = [];
  const row = (at: number, present: boolean, runningPods: number) => {
    if (at < end || !present) rows.push({ ...base, at: new Date(at), present, runningPods });
  };
  const firstSeen = inc.readyAt + random() * 30 * 60_000;
  const workload = random() < 0.75 ? inc.readyAt + lognormal(3 * HOUR, 1.5) : Infinity;
  if (workload <= firstSeen) row(firstSeen, true, 1 + Math.floor(random() * 6));
  else {
    row(firstSeen, true, 0);
    if (workload < end) row(workload, true, 1 + Math.floor(random() * 6));
  }
  if (workload < end && random() < 0.4) {
    const stop = workload + lognormal(6 * DAY, 1);
    if (stop < end) row(stop, true, 0);
  }
  if (inc.deletedAt !== undefined) row(inc.deletedAt, false, 0);
  return rows.filter((r) => r.at.getTime() < START + SPAN);
}

// ------------------------------------------------------------------ surveys

const QUESTIONS: SurveyQuestion[] = [
  { id: 'ease', text: 'How easy was it to get what you needed from the platform this week?', labels: ['Very hard', 'Hard', 'OK', 'Easy', 'Very easy'] },
  { id: 'docs', text: 'Did the docs answer your questions?', labels: ['Never', 'Rarely', 'Sometimes', 'Mostly', 'Always'] },
];

interface GenPulse {
  week: string;
  openedAt: number;
  closesAt: number;
  eligible: number;
  answers: { user: string; question: string; score: number; at: number }[];
}

interface GenAsk {
  requestId: number;
  requester: string;
  askedAt: number;
  timing: RequestTiming;
  answer: { score: number; at: number } | undefined;
}

interface GenComment {
  user: string;
  text: string;
  at: number;
  doneAt: number | undefined;
}

/** A 1-5 score around `mean`, as people answer: mostly 3 to 5. */
function score(mean: number): number {
  return Math.min(5, Math.max(1, Math.round(mean + (random() + random() + random() - 1.5) * 1.6)));
}

function generateSurveys(events: readonly GenEvent[]): { pulses: GenPulse[]; asks: GenAsk[]; comments: GenComment[] } {
  // Who can answer a pulse: the requesters seen so far (up to eight people per team).
  const firstSeen = new Map<string, number>();
  const requesterOf = new Map<number, string>();
  // How each request went, as `requestTiming` reads it from the events when the question is asked.
  const submittedAt = new Map<number, number>();
  const approvedBy = new Map<number, { at: number; auto: boolean }>();
  for (const e of events) {
    if (e.type === 'request_approved') approvedBy.set(e.requestId, { at: e.at, auto: e.data?.auto === true });
    if (e.type !== 'request_submitted' || !e.actor) continue;
    if (!firstSeen.has(e.actor)) firstSeen.set(e.actor, e.at);
    requesterOf.set(e.requestId, e.actor);
    submittedAt.set(e.requestId, e.at);
  }
  const timingOf = (requestId: number, readyAt: number): RequestTiming => {
    const submitted = submittedAt.get(requestId);
    const approval = approvedBy.get(requestId);
    const selfServe = approval?.auto === true;
    return {
      readyMs: submitted === undefined ? undefined : readyAt - submitted,
      approvalWaitMs: !selfServe && submitted !== undefined && approval ? approval.at - submitted : undefined,
      selfServe,
    };
  };
  const people = [...firstSeen.entries()].sort((a, b) => a[1] - b[1]);
  const end = events.at(-1)?.at ?? START;
  const weeks: { openedAt: number; pool: string[] }[] = [];
  for (let w = weekContaining(new Date(START), TIME_ZONE); ; w = shiftWeek(w, 1, TIME_ZONE)) {
    const [y, m, d] = w.monday.split('-').map(Number) as [number, number, number];
    const tuesday = addDays(y, m, d, 1);
    const openedAt = zonedTime(tuesday.year, tuesday.month, tuesday.day, 10, 0, TIME_ZONE).getTime();
    // Only pulses that closed before the data ends, so every answer is in every share's history.
    if (openedAt + 3 * DAY >= end) break;
    const pool = people.filter(([, at]) => at <= openedAt).map(([u]) => u);
    if (pool.length > 0) weeks.push({ openedAt, pool });
  }
  // Respondents per week in proportion to the people who could answer, then the rounding left
  // over given to the latest weeks: exactly SURVEY_ANSWERS answers in all.
  const totalPool = weeks.reduce((n, w) => n + w.pool.length, 0);
  const wanted = Math.ceil(SURVEY_ANSWERS / QUESTIONS.length);
  const counts = weeks.map((w) => Math.min(w.pool.length, Math.floor((wanted * w.pool.length) / totalPool)));
  for (let i = weeks.length - 1, left = wanted - counts.reduce((a, b) => a + b, 0); left > 0 && i >= 0; i--) {
    const extra = Math.min(left, (weeks[i]?.pool.length ?? 0) - (counts[i] ?? 0));
    counts[i] = (counts[i] ?? 0) + extra;
    left -= extra;
  }
  const pulses: GenPulse[] = [];
  let left = SURVEY_ANSWERS;
  weeks.forEach((w, i) => {
    const chosen = w.pool
      .map((u) => ({ u, k: random() }))
      .sort((a, b) => a.k - b.k)
      .slice(0, counts[i] ?? 0);
    const mean = 3.2 + (0.8 * i) / weeks.length;
    const answers = chosen.flatMap(({ u }) => {
      const at = w.openedAt + random() * 3 * DAY;
      return QUESTIONS.map((q) => ({ user: u, question: q.id, score: score(q.id === 'ease' ? mean : mean - 0.3), at }));
    });
    answers.length = Math.min(answers.length, left);
    left -= answers.length;
    pulses.push({
      week: weekContaining(new Date(w.openedAt), TIME_ZONE).monday,
      openedAt: w.openedAt,
      closesAt: w.openedAt + 3 * DAY,
      eligible: w.pool.length,
      answers,
    });
  });

  // The question after provisioning: asked for a seeded sample of ready namespaces, half answered.
  const ready = events.filter((e) => e.type === 'namespace_ready' && e.at + 1000 < end);
  const sample = ready
    .map((e) => ({ e, k: random() }))
    .sort((a, b) => a.k - b.k)
    .slice(0, Math.min(ready.length, PROVISIONING_ANSWERS * 2));
  const asks: GenAsk[] = sample.map(({ e }, i) => ({
    requestId: e.requestId,
    requester: requesterOf.get(e.requestId) ?? 'U0000',
    askedAt: e.at + 1000,
    timing: timingOf(e.requestId, e.at),
    // Answered before the data ends, so every answer is in the full history.
    answer: i < PROVISIONING_ANSWERS ? { score: score(4), at: Math.min(end - 1, e.at + 2000 + lognormal(20 * 60_000, 1.5)) } : undefined,
  }));
  asks.sort((a, b) => a.askedAt - b.askedAt);

  const comments: GenComment[] = Array.from({ length: 400 }, (_, i) => {
    const at = START + random() * (end - START);
    const user = people[Math.floor(random() * people.length)]?.[0] ?? 'U0000';
    return { user, text: `Comment ${i}: the staging quota is too small for our load tests`, at, doneAt: i < 150 ? at + lognormal(5 * DAY, 0.8) : undefined };
  });
  return { pulses, asks, comments };
}

/** Writes the surveys up to `cutoff` through the store, as the workflows do. */
async function writeSurveys(store: Store, data: ReturnType<typeof generateSurveys>, cutoff: number): Promise<void> {
  const surveys = store.surveys;
  for (const p of data.pulses) {
    if (p.openedAt >= cutoff) continue;
    const { survey } = await surveys.openPulse({
      week: p.week,
      openedAt: new Date(p.openedAt),
      closesAt: new Date(p.closesAt),
      questions: QUESTIONS,
      minAnswers: 5,
    });
    await surveys.setEligible(survey.id, p.eligible);
    for (const a of p.answers)
      if (a.at < cutoff) await surveys.recordPulseAnswer({ surveyId: survey.id, question: a.question, user: a.user, score: a.score, now: new Date(a.at) });
    if (p.closesAt < cutoff) {
      for (const q of QUESTIONS) await surveys.settleHeldRatings(survey.id, q.id, true);
      await surveys.closePulse(survey.id, new Date(p.closesAt), { respondents: await surveys.respondents(survey.id), eligible: p.eligible });
    }
  }
  for (const a of data.asks) {
    if (a.askedAt >= cutoff) continue;
    await surveys.claimProvisioningQuestion({
      requestId: a.requestId,
      requester: a.requester,
      since: new Date(a.askedAt - 14 * DAY),
      now: new Date(a.askedAt),
      timing: a.timing,
    });
    await surveys.setProvisioningMessage(a.requestId, `D${a.requester}`, `${Math.floor(a.askedAt / 1000)}.000100`);
    if (a.answer && a.answer.at < cutoff)
      await surveys.recordProvisioningAnswer({ requestId: a.requestId, author: a.requester, score: a.answer.score, now: new Date(a.answer.at) });
  }
  for (const c of data.comments) {
    if (c.at >= cutoff) continue;
    const item = await surveys.addFeedback({ source: 'command', text: c.text, author: c.user, anonymous: true, status: 'pending', now: new Date(c.at) });
    if (c.doneAt !== undefined && c.doneAt < cutoff) await surveys.markDone(item.id, 'U0ALICE', 'Staging quotas are now twice as large', new Date(c.doneAt));
  }
}

// ------------------------------------------------------------------ config and databases

/** The example config with 500 teams and one cluster per environment. */
function benchConfig(): Config {
  const doc = exampleConfigDocument();
  const cluster = (doc.clusters as Record<string, unknown>[])[0] ?? {};
  doc.clusters = CLUSTERS.map((name) => ({ ...cluster, name, displayName: name, environments: undefined }));
  doc.teams = Array.from({ length: TEAMS }, (_, i) => ({ name: teamName(i), displayName: `Team ${i}`, costCenter: `cc-${i}`, group: `${teamName(i)}-devs` }));
  doc.schedule = { timezone: TIME_ZONE };
  return parseConfig(doc, 'bench');
}

/**
 * Generates the history and writes one database per share of it. The generated history (a
 * million events as objects) stays in this function: measured with it in the heap, every
 * garbage collection during a timed run would walk it, which a running bot never holds.
 */
async function buildDatabases(dir: string): Promise<Built[]> {
  const t0 = performance.now();
  const { events, incarnations } = generate();
  // A seeded sample of incarnations is observed, until the snapshot budget is spent exactly.
  const end = (events.at(-1)?.at ?? START) + 1;
  const order = incarnations.map((inc, i) => ({ i, k: random() })).sort((a, b) => a.k - b.k);
  const snapshots: UsageSnapshotInput[] = [];
  for (const { i } of order) {
    const inc = incarnations[i];
    if (!inc) continue;
    for (const row of snapshotRows(inc)) if (snapshots.length < SNAPSHOTS && row.at.getTime() < end) snapshots.push(row);
    if (snapshots.length >= SNAPSHOTS) break;
  }
  snapshots.sort((a, b) => a.at.getTime() - b.at.getTime());
  const surveyData = generateSurveys(events);
  console.log(
    `Generated ${events.length} events and ${snapshots.length} usage snapshots in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${availableParallelism()} cores.`,
  );

  const built: Built[] = [];
  for (const share of [0.1, 0.5, 1]) {
    const count = Math.round(events.length * share);
    const cutoff = (events[count - 1]?.at ?? START) + 1;
    const path = join(dir, `history-${share * 100}.db`);
    const b0 = performance.now();
    const store = await Store.open(path);
    await store.transaction(async () => {
      for (let i = 0; i < count; i++) {
        const e = events[i];
        if (!e) break;
        await store.appendEvent({ type: e.type, at: new Date(e.at), actor: e.actor, team: e.team, requestId: e.requestId, data: e.data });
      }
      await store.adoption.insertSnapshots(snapshots.filter((s) => s.at.getTime() < cutoff));
      await writeSurveys(store, surveyData, cutoff);
    });
    const buildS = (performance.now() - b0) / 1000;
    const last = events[count - 1]?.at ?? START;
    await store.close();
    built.push({
      share,
      path,
      events: count,
      namespaces: new Set(incarnations.filter((i) => i.readyAt < cutoff).map((i) => `${i.cluster}/${i.namespace}`)).size,
      weeks: Math.round((last - START) / WEEK),
      build_s: buildS,
      last,
    });
  }
  return built;
}

runBench('digest', DEADLINE_MS, main);
