// Benchmark: one drift scan over a large fleet, then a fleet upgrade (`npm run bench:drift`).
//
// - BENCH_DRIFT_NAMESPACES (default 2,000) ready requests in a SQLite store, and their golden paths
//   on the Kubernetes API emulator: the first is applied by Slipway's client (server-side apply),
//   the others are seeded as copies of it with the same managedFields (field manager `slipway`,
//   Apply), so the emulator holds what a provisioned fleet holds without 20,000 applies.
// - 5% are edited by hand: their quota's requests.cpu is merge-patched under field manager
//   `kubectl-edit`. Then the config changes (the small tier's pods quota), so every namespace is
//   outdated as well.
// - With BENCH_DRIFT_LATENCY_MS (default 5) on every emulator call, one scan (`scanDrift`, what the
//   `drift` job runs) is timed and its API calls counted.
// - Then, with the same emulator and latency, two upgrades of BENCH_DRIFT_UPGRADE (default 200)
//   namespaces each to the changed golden path, `drift.upgrade.concurrency` (5) namespaces at a time:
//   * raw: the golden-path objects applied straight through Slipway's client (server-side apply,
//     all of a namespace's objects at once), no store, no Slack: the rate the API allows;
//   * batch: another 200 through the fleet upgrade itself (`startUpgrade`: the batch in SQLite,
//     each namespace claimed by compare-and-set, re-applied through the provisioning steps with
//     the namespace guard and the namespace first, its progress redrawn in a Slack thread on the
//     Slack API emulator), timed until it has finished.
//   Both come after an untimed warm-up of raw applies on 20 other namespaces.
// - Reported: scan_ms, list calls, calls_per_namespace (target ≤ 0.1: lists per cluster and kind,
//   never per namespace), the edited and outdated counts, which must be 5% and 100%, and both
//   upgrade rates (namespaces per second) with their ratio (batch / raw).
//
// Prints a table, then as the last line one JSON object. Exits 1 if the counts are wrong or an
// upgrade misses a namespace; missing the target fails the run only with BENCH_ENFORCE_TARGETS=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { WebClient } from '@slack/web-api';
import type { KubernetesObject } from '@kubernetes/client-node';
import { buildDeps } from '../src/build-deps.ts';
import { goldenPathObjects } from '../src/cluster/manifests.ts';
import { parseConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { Store } from '../src/store/store.ts';
import { stepInput } from '../src/workflows/provisioning/present.ts';
import { scanDrift } from '../src/workflows/drift/scan.ts';
import { startUpgrade } from '../src/workflows/drift/upgrade.ts';
import type { Deps } from '../src/deps.ts';
import type { NamespaceRequest } from '../src/domain/requests.ts';
import { startSlack } from './lib/slack.ts';
import { KubeApiEmulator, writeKubeconfig, type KubeObject } from '../src/playground/kube-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../test/support/config.ts';

const NAMESPACES = positiveInt(process.env.BENCH_DRIFT_NAMESPACES, 2000);
const LATENCY_MS = positiveInt(process.env.BENCH_DRIFT_LATENCY_MS, 5);
const UPGRADED = positiveInt(process.env.BENCH_DRIFT_UPGRADE, 200);
const EDITED_SHARE = 0.05;
const ENFORCE = process.env.BENCH_ENFORCE_TARGETS === '1';
const TARGET_CALLS_PER_NAMESPACE = 0.1;
const MADE = new Date('2026-11-30T08:00:00Z');

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const name = (i: number) => `ns-${String(i).padStart(5, '0')}`;

/** A stored object re-targeted at another namespace and request: same fields, same owners. */
function copyFor(obj: KubeObject, ns: string, labels: Record<string, string>): KubeObject {
  const copy = JSON.parse(JSON.stringify(obj)) as KubeObject & { metadata: Record<string, unknown> };
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp']) delete copy.metadata[key];
  if (copy.kind === 'Namespace') {
    copy.metadata.name = ns;
    copy.metadata.labels = { ...(copy.metadata.labels as Record<string, string>), ...labels, 'kubernetes.io/metadata.name': ns };
    delete copy.spec;
    delete copy.status;
  } else {
    copy.metadata.namespace = ns;
  }
  return copy;
}

const rate = (n: number, ms: number) => Number(((n * 1000) / ms).toFixed(1));

/** Runs `work` on each item, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * The two upgrades after the scan: the raw server-side-apply rate on one set of namespaces, then
 * the fleet upgrade on another, both to the changed golden path.
 */
async function upgradeBoth(deps: Deps, requests: readonly NamespaceRequest[], kube: KubeApiEmulator) {
  const concurrency = deps.config.drift.upgrade.concurrency;
  const raw = requests.slice(UPGRADED, 2 * UPGRADED);
  const batch = requests.slice(0, UPGRADED);
  const applyRaw = (request: NamespaceRequest) =>
    Promise.all(goldenPathObjects(stepInput(deps, request).path).map((obj: KubernetesObject) => deps.clusters.apply(request.cluster, obj)));
  // Untimed warm-up on a third set (connections, JIT), so neither timed half pays for it.
  await pool(requests.slice(2 * UPGRADED, 2 * UPGRADED + 20), concurrency, applyRaw);
  let calls = kube.requests.length;
  let started = performance.now();
  await pool(raw, concurrency, applyRaw);
  const rawMs = performance.now() - started;
  const rawCalls = kube.requests.length - calls;

  calls = kube.requests.length;
  started = performance.now();
  const upgrade = await startUpgrade(deps, { cluster: 'dev-eu', by: 'U0ALICE', requestIds: batch.map((r) => r.id) });
  if (!upgrade) throw new Error('the upgrade did not start');
  await upgrade.execution;
  const batchMs = performance.now() - started;
  const batchCalls = kube.requests.length - calls;
  const pods = (ns: string) => (kube.get('resourcequotas', ns, 'slipway-quota') as { spec?: { hard?: Record<string, string> } } | undefined)?.spec?.hard?.pods;
  const complete = (await deps.store.drift.get(upgrade.upgrade.id))?.status === 'done' && [...raw, ...batch].every((r) => pods(r.namespace) === '30');
  return { rawMs, rawCalls, batchMs, batchCalls, complete };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-drift-'));
  const kube = await KubeApiEmulator.start();
  const { slack } = await startSlack({ channels: [{ id: 'C0APPROVALS', name: 'platform-approvals', members: ['U0BOT'] }] });
  try {
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeKubeconfig(kube, kubeconfig, { context: 'dev-eu' });
    const doc = exampleConfigDocument();
    const clusters = doc.clusters as Record<string, unknown>[];
    clusters[0] = { ...clusters[0], path: kubeconfig, context: 'dev-eu' };
    const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
    const store = await Store.open(join(dir, 'fleet.db'));
    const deps = buildDeps({
      config,
      store,
      slack: new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
      log: createLogger('warn'),
    });

    const seeding = performance.now();
    const requests = await store.transaction(async () => {
      const made: NamespaceRequest[] = [];
      for (let i = 0; i < NAMESPACES; i++) {
        const inserted = await store.insertRequest(
          {
            namespace: name(i),
            cluster: 'dev-eu',
            team: 'payments',
            environment: 'dev',
            tier: 'small',
            purpose: 'bench',
            expiresOn: undefined,
            requester: 'U0DEV',
          },
          MADE,
        );
        await store.decide(inserted.request.id, { status: 'approved', by: 'policy', auto: true }, MADE);
        // Provisioned: a done run makes the request ready, as the fleet upgrade expects.
        const run = await store.startRun(inserted.request.id, ['namespace'], MADE);
        if (run) await store.completeRun(run.id, inserted.request.id, 'done', MADE);
        made.push((await store.getRequest(inserted.request.id)) ?? inserted.request);
      }
      return made;
    });
    const [first, ...rest] = requests;
    if (!first) throw new Error('no fleet');
    for (const obj of goldenPathObjects(stepInput(deps, first).path)) await deps.clusters.apply('dev-eu', obj);
    const kinds = ['namespaces', 'resourcequotas', 'limitranges', 'networkpolicies', 'rolebindings'];
    const template = kinds.flatMap((k) => (k === 'namespaces' ? [kube.get(k, first.namespace)] : kube.list(k, first.namespace))).flatMap((o) => (o ? [o] : []));
    const objects: KubeObject[] = [];
    for (const request of rest) {
      const labels = stepInput(deps, request).path.namespace.metadata?.labels ?? {};
      objects.push(...template.map((o) => copyFor(o, request.namespace, labels)));
    }
    kube.seed(objects);
    const edited = Math.round(NAMESPACES * EDITED_SHARE);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    for (let i = 0; i < edited; i++) {
      const namespace = name(Math.floor((i * NAMESPACES) / edited));
      await core.patchNamespacedResourceQuota(
        { name: 'slipway-quota', namespace, body: { spec: { hard: { 'requests.cpu': '8' } } }, fieldManager: 'kubectl-edit' },
        merge,
      );
    }
    const seedMs = performance.now() - seeding;

    // The golden path changes after provisioning: every namespace is now outdated too.
    const changed = exampleConfigDocument();
    (changed.clusters as Record<string, unknown>[])[0] = clusters[0] ?? {};
    const small = (changed.tiers as Record<string, { quota: Record<string, string> }>).small;
    if (small) small.quota.pods = '30';
    const scanDeps = { ...deps, config: parseConfig(changed, EXAMPLE_CONFIG_PATH) };

    kube.setLatency(LATENCY_MS);
    const before = kube.requests.length;
    const started = performance.now();
    const report = await scanDrift(scanDeps);
    const scanMs = performance.now() - started;
    const calls = kube.requests.length - before;
    const callsPerNamespace = calls / NAMESPACES;

    const upgrade = await upgradeBoth(scanDeps, requests, kube);

    const result = {
      bench: 'drift',
      namespaces: NAMESPACES,
      latency_ms: LATENCY_MS,
      seed_ms: Math.round(seedMs),
      scan_ms: Math.round(scanMs),
      list_calls: calls,
      calls_per_namespace: Number(callsPerNamespace.toFixed(4)),
      edited: report.edited,
      outdated: report.outdated,
      differences: report.differences.length,
      upgrade_namespaces: UPGRADED,
      upgrade_concurrency: config.drift.upgrade.concurrency,
      raw_ssa_ms: Math.round(upgrade.rawMs),
      raw_ssa_namespaces_per_s: rate(UPGRADED, upgrade.rawMs),
      upgrade_ms: Math.round(upgrade.batchMs),
      upgrade_namespaces_per_s: rate(UPGRADED, upgrade.batchMs),
      upgrade_vs_raw: Number((upgrade.rawMs / upgrade.batchMs).toFixed(3)),
      raw_api_calls: upgrade.rawCalls,
      upgrade_api_calls: upgrade.batchCalls,
    };
    console.log(`namespaces            ${NAMESPACES} (${edited} edited by kubectl-edit, all outdated), ${LATENCY_MS} ms per call`);
    console.log(`seeding               ${result.seed_ms} ms`);
    console.log(
      `scan                  ${result.scan_ms} ms, ${calls} API calls, ${result.calls_per_namespace} per namespace (target ≤ ${TARGET_CALLS_PER_NAMESPACE})`,
    );
    console.log(`report                ${report.summary}`);
    console.log(
      `raw server-side apply ${UPGRADED} namespaces in ${result.raw_ssa_ms} ms (${result.raw_ssa_namespaces_per_s}/s, ${upgrade.rawCalls} API calls), ${result.upgrade_concurrency} at a time`,
    );
    console.log(
      `fleet upgrade         ${UPGRADED} namespaces in ${result.upgrade_ms} ms (${result.upgrade_namespaces_per_s}/s, ${upgrade.batchCalls} API calls): ${result.upgrade_vs_raw} of the raw rate`,
    );
    const countsRight = report.edited === edited && report.outdated === NAMESPACES && upgrade.complete;
    if (!countsRight) console.error(`wrong counts: expected ${edited} edited and ${NAMESPACES} outdated, and every upgraded namespace at the new quota`);
    const missed = callsPerNamespace > TARGET_CALLS_PER_NAMESPACE;
    if (missed) console.error(`calls_per_namespace ${callsPerNamespace} misses the target ${TARGET_CALLS_PER_NAMESPACE}`);
    console.log(JSON.stringify(result));
    await store.close();
    if (!countsRight || (ENFORCE && missed)) process.exitCode = 1;
  } finally {
    await slack.close();
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
