// Benchmark: one lifecycle sweep over a large fleet (`npm run bench:lifecycle`).
//
// - Two SQLite stores, written through the Store as provisioning writes them (request, decision,
//   run done → namespace tracked), one with BENCH_LIFECYCLE_NAMESPACES managed namespaces (default
//   10,000), one with 1,000, each person owning about 10 of them. Every namespace has its timers
//   (two reminders, the notice, the grace end) in the future, except BENCH_LIFECYCLE_DUE (default
//   300) per measured round: two thirds due for a reminder, one third for the final notice (whose
//   namespaceChanged hooks run too: the owner's Home is published again).
// - The 10,000 namespaces are on the Kubernetes API emulator too (seeded), and the bot's clients
//   are the real ones: the Slack WebClient against the Slack API emulator, client-node through a
//   kubeconfig. Both emulators run in this process on 127.0.0.1 and count every call.
// - A round moves the clock to its due time and runs the `lifecycle` job's sweep
//   (`sweepLifecycle`); the first round warms up, then BENCH_LIFECYCLE_ROUNDS rounds are timed on
//   each store (median). Each round's due namespaces are new ones: a sweep leaves nothing due. A
//   throwaway fleet is swept first, so neither measured fleet pays for warming up the process.
//   Rounds are an hour apart, so no grace period ends (no deletion runs start) within the run.
// - BENCH_LIFECYCLE_SQL=1 also prints the SQL texts that took the most time.
// - Reported: sweep_ms (10,000) and sweep_ms_at_1000, their ratio (target ≤ 1.5: the cost follows
//   what is due, not the fleet), SQL statements executed per sweep, Slack and Kubernetes calls
//   per due namespace (calls_per_due_namespace). Each round must send exactly one DM per due namespace.
// - home_ms: `publishHome` (building the Home view and views.publish to the emulator) for a person
//   who owns 200 namespaces of the large fleet, BENCH_LIFECYCLE_HOME_RUNS times (200) after 10
//   warm-up runs: p50 and p99 (target p99 < 50 ms), and the view must stay within 100 blocks.
//
// Prints a table, then as the last line one JSON object. Exits 1 if a round did not send one DM per
// due namespace, or the Home view breaks the 100-block limit. Missing a target is reported and fails the run only with
// BENCH_ENFORCE_TARGETS=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebClient } from '@slack/web-api';
import { buildDeps } from '../src/build-deps.ts';
import { parseConfig, type Config } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { Store } from '../src/store/store.ts';
import { SqliteDb } from '../src/store/db.ts';
import { sweepLifecycle } from '../src/workflows/lifecycle/expiry.ts';
import { publishHome } from '../src/workflows/lifecycle/home.ts';
import { localDate, shiftDate, timersFor } from '../src/workflows/lifecycle/timers.ts';
import { KubeApiEmulator, writeKubeconfig } from '../src/playground/kube-api.ts';
import { SlackApiEmulator } from '../src/playground/slack-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../test/support/config.ts';

const NAMESPACES = positiveInt(process.env.BENCH_LIFECYCLE_NAMESPACES, 10_000);
const SMALL = 1000;
const DUE = positiveInt(process.env.BENCH_LIFECYCLE_DUE, 300);
const ROUNDS = positiveInt(process.env.BENCH_LIFECYCLE_ROUNDS, 2);
const ENFORCE = process.env.BENCH_ENFORCE_TARGETS === '1';
/** Each person owns about this many namespaces, whatever the fleet (a larger fleet has more people). */
const PER_OWNER = 10;
const HOUR = 3_600_000;
/** Monday 08:00 UTC: the fleet is made the week before. */
const START = new Date('2026-11-30T08:00:00Z');

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The person whose Home is published: owner of 200 namespaces of the large fleet (none of them due). */
const HOME_USER = 'U0HOMEOWNER';
const HOME_NAMESPACES = 200;
const HOME_RUNS = positiveInt(process.env.BENCH_LIFECYCLE_HOME_RUNS, 200);
const homeOwned = (i: number, count: number) => count >= SMALL + HOME_NAMESPACES && i >= SMALL && i < SMALL + HOME_NAMESPACES;
const owner = (i: number, count: number) =>
  homeOwned(i, count) ? HOME_USER : `U0OWNER${String(i % Math.max(1, Math.floor(count / PER_OWNER))).padStart(5, '0')}`;
const name = (i: number) => `ns-${String(i).padStart(5, '0')}`;

/**
 * A store with `count` ready namespaces; the first (ROUNDS + 1) * DUE are due one round each,
 * the others end months later. Returns when each round is due.
 */
async function writeFleet(config: Config, path: string, count: number): Promise<{ store: Store; dueAt: Date[] }> {
  const store = await Store.open(path);
  // An hour apart: no grace period (24 h) of a round's notices ends within the run.
  const dueAt = Array.from({ length: ROUNDS + 1 }, (_, r) => new Date(START.getTime() + (r + 1) * HOUR));
  await store.transaction(async () => {
    for (let i = 0; i < count; i++) {
      const round = Math.floor(i / DUE);
      const due = dueAt[round];
      // Due ones: two thirds 3 days before their end (a reminder), one third on their last day (the notice).
      const notice = i % 3 === 2;
      const expiresOn = due ? shiftDate(localDate(config, due), notice ? 0 : 3) : shiftDate(localDate(config, START), 60 + (i % 90));
      const made = new Date(START.getTime() - 7 * 24 * HOUR);
      const inserted = await store.insertRequest(
        { namespace: name(i), cluster: 'dev-eu', team: 'payments', environment: 'dev', tier: 'small', purpose: 'bench', expiresOn, requester: owner(i, count) },
        made,
      );
      if (!inserted.created) throw new Error(`could not insert ${name(i)}`);
      const id = inserted.request.id;
      await store.decide(id, { status: 'approved', by: 'policy', auto: true }, made);
      const run = await store.startRun(id, ['namespace'], made);
      if (!run || !(await store.completeRun(run.id, id, 'done', made))) throw new Error(`could not make ${name(i)} ready`);
      // A due namespace has its reminder or notice at its round and the rest of its timers after it.
      const later = timersFor(config, expiresOn, due ?? START).filter((t) => !due || t.dueAt > due);
      const dueNow = !due ? [] : notice ? [{ kind: 'expiry' as const, dueAt: due }] : [{ kind: 'reminder' as const, daysBefore: 3, dueAt: due }];
      await store.lifecycle.replaceTimers(id, [...dueNow, ...later.filter((t) => !(notice && due && t.kind === 'expiry'))], made);
    }
  });
  return { store, dueAt };
}

/** Counts every SQL statement the store executes (better-sqlite3's Statement methods), and the time each SQL text takes. */
function countStatements(store: Store): { read(): number; slowest(n: number): [string, number][] } {
  let count = 0;
  const time = new Map<string, number>();
  if (!(store.sql instanceof SqliteDb)) throw new Error('the lifecycle bench counts SQLite statements');
  const proto = Object.getPrototypeOf(store.sql.raw.prepare('SELECT 1')) as Record<string, unknown>;
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method] as (...args: unknown[]) => unknown;
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      count += 1;
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        time.set(this.source, (time.get(this.source) ?? 0) + performance.now() - started);
      }
    };
  }
  return { read: () => count, slowest: (n) => [...time].sort((a, b) => b[1] - a[1]).slice(0, n) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-lifecycle-'));
  const cleanups: (() => unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const owners = Array.from({ length: Math.floor(NAMESPACES / PER_OWNER) }, (_, i) => owner(i, NAMESPACES));
    const slack = await SlackApiEmulator.start({
      channels: [{ id: 'C0APPROVALS', name: 'platform-approvals', members: ['U0BOT'] }],
      users: [...owners, HOME_USER].map((id) => ({ id, name: id.toLowerCase() })),
      userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [] }],
    });
    cleanups.push(() => slack.close());
    const kube = await KubeApiEmulator.start();
    cleanups.push(() => kube.close());
    kube.seed(
      Array.from({ length: NAMESPACES }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: name(i), labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/request-id': `R-${i + 1}` } },
      })),
    );
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeKubeconfig(kube, kubeconfig, { context: 'dev-eu' });
    const doc = exampleConfigDocument();
    const clusters = doc.clusters as Record<string, unknown>[];
    clusters[0] = { ...clusters[0], path: kubeconfig, context: 'dev-eu' };
    doc.schedule = { timezone: 'Europe/Berlin' };
    const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);

    const measure = async (count: number) => {
      const written = performance.now();
      const { store, dueAt } = await writeFleet(config, join(dir, `fleet-${count}.db`), count);
      cleanups.push(async () => await store.close());
      const writeMs = performance.now() - written;
      let now = START;
      const deps = buildDeps({
        config,
        store,
        slack: new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
        log: createLogger('warn'),
        clock: { now: () => now },
      });
      const statements = countStatements(store);
      const rounds: { ms: number; statements: number; slackCalls: number; kubeCalls: number; summary: string }[] = [];
      for (const [round, due] of dueAt.entries()) {
        now = due;
        slack.forgetHistory();
        const kubeBefore = kube.requests.length;
        const sqlBefore = statements.read();
        const started = performance.now();
        const summary = await sweepLifecycle(deps, now);
        const ms = performance.now() - started;
        const dms = slack.callsTo('chat.postMessage');
        const toOwners = new Map<string, number>();
        for (const call of dms) toOwners.set(String(call.args.channel), (toOwners.get(String(call.args.channel)) ?? 0) + 1);
        if (dms.length !== DUE || [...toOwners.values()].some((n) => n > Math.ceil((DUE * PER_OWNER) / count) + 1)) {
          throw new Error(`round ${round} on ${count}: ${dms.length} messages for ${DUE} due namespaces (${summary})`);
        }
        const slackCalls = slack.calls.length;
        if (round > 0) rounds.push({ ms, statements: statements.read() - sqlBefore, slackCalls, kubeCalls: kube.requests.length - kubeBefore, summary });
      }
      // The Home tab of the person with 200 namespaces, published as often as HOME_RUNS (large fleet only).
      const homeMs: number[] = [];
      if (count >= SMALL + HOME_NAMESPACES) {
        for (let run = 0; run < HOME_RUNS + 10; run++) {
          const started = performance.now();
          await publishHome(deps, HOME_USER);
          if (run >= 10) homeMs.push(performance.now() - started);
        }
        const published = slack.homeView(HOME_USER);
        if (!published || published.blocks.length > 100) throw new Error(`the Home tab was not published within 100 blocks (${published?.blocks.length})`);
      }
      if (process.env.BENCH_LIFECYCLE_SQL)
        for (const [sql, ms] of statements.slowest(5)) console.log(`${count}: ${ms.toFixed(1)} ms  ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
      return { count, writeMs, rounds, homeMs };
    };

    // A throwaway fleet first: whichever fleet went first would also pay for warming up the process.
    await measure(DUE * (ROUNDS + 1));
    const small = await measure(SMALL);
    const large = await measure(NAMESPACES);
    const sweepMs = median(large.rounds.map((r) => r.ms));
    const sweepMsSmall = median(small.rounds.map((r) => r.ms));
    const ratio = sweepMs / sweepMsSmall;
    const last = large.rounds.at(-1);
    const callsPerDue = last ? (last.slackCalls + last.kubeCalls) / DUE : 0;
    const fmt = (n: number, digits = 1) => n.toFixed(digits);

    console.log(`\nLifecycle sweep: ${DUE} namespaces due (2/3 reminders, 1/3 final notices), median of ${ROUNDS} rounds after a warm-up`);
    console.log('namespaces   sweep ms   statements   slack calls   kube calls   summary');
    for (const fleet of [large, small]) {
      const r = fleet.rounds.at(-1);
      if (!r) continue;
      console.log(
        `${String(fleet.count).padStart(10)}   ${fmt(median(fleet.rounds.map((x) => x.ms))).padStart(8)}   ${String(r.statements).padStart(10)}   ${String(r.slackCalls).padStart(11)}   ${String(r.kubeCalls).padStart(10)}   ${r.summary}`,
      );
    }
    console.log(`ratio ${fmt(ratio, 2)} (target ≤ 1.5); ${fmt(callsPerDue, 2)} calls per due namespace; fleet written in ${fmt(large.writeMs / 1000)} s`);
    const sorted = [...large.homeMs].sort((a, b) => a - b);
    const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
    const homeP50 = percentile(50);
    const homeP99 = percentile(99);
    console.log(
      `home_ms (views.publish, ${HOME_NAMESPACES} namespaces, ${sorted.length} runs): p50 ${fmt(homeP50, 2)}, p99 ${fmt(homeP99, 2)} (target p99 < 50)`,
    );
    const missed = ratio > 1.5 || homeP99 >= 50;
    if (ratio > 1.5) console.log('TARGET MISSED: sweep_ms grows with the fleet');
    if (homeP99 >= 50) console.log('TARGET MISSED: home_ms p99');
    console.log(
      JSON.stringify({
        bench: 'lifecycle',
        namespaces: NAMESPACES,
        due: DUE,
        sweep_ms: Number(fmt(sweepMs, 2)),
        sweep_ms_at_1000: Number(fmt(sweepMsSmall, 2)),
        ratio: Number(fmt(ratio, 3)),
        statements_per_sweep: last?.statements ?? null,
        slack_calls_per_sweep: last?.slackCalls ?? null,
        kube_calls_per_sweep: last?.kubeCalls ?? null,
        calls_per_due_namespace: Number(fmt(callsPerDue, 3)),
        home_ms_p50: Number(fmt(homeP50, 2)),
        home_ms_p99: Number(fmt(homeP99, 2)),
        targets_met: !missed,
      }),
    );
    return missed && ENFORCE ? 1 : 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

process.stdout.on('error', () => undefined);
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
