// Benchmark: one drift scan over a large fleet (`npm run bench:drift`).
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
// - Reported: scan_ms, list calls, calls_per_namespace (target ≤ 0.1: lists per cluster and kind,
//   never per namespace), and the edited and outdated counts, which must be 5% and 100%.
//
// Not measured yet: upgrading 200 namespaces (re-apply and fleet upgrade are not built).
// Prints a table, then as the last line one JSON object. Exits 1 if the counts are wrong; missing
// the target fails the run only with BENCH_ENFORCE_TARGETS=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { WebClient } from '@slack/web-api';
import { buildDeps } from '../src/build-deps.ts';
import { goldenPathObjects } from '../src/cluster/manifests.ts';
import { parseConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { Store } from '../src/store/store.ts';
import { stepInput } from '../src/workflows/provisioning/present.ts';
import { scanDrift } from '../src/workflows/drift/scan.ts';
import { KubeApiEmulator, writeKubeconfig, type KubeObject } from '../src/playground/kube-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../test/support/config.ts';

const NAMESPACES = positiveInt(process.env.BENCH_DRIFT_NAMESPACES, 2000);
const LATENCY_MS = positiveInt(process.env.BENCH_DRIFT_LATENCY_MS, 5);
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-drift-'));
  const kube = await KubeApiEmulator.start();
  try {
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeKubeconfig(kube, kubeconfig, { context: 'dev-eu' });
    const doc = exampleConfigDocument();
    const clusters = doc.clusters as Record<string, unknown>[];
    clusters[0] = { ...clusters[0], path: kubeconfig, context: 'dev-eu' };
    const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
    const store = Store.open(join(dir, 'fleet.db'));
    const deps = buildDeps({ config, store, slack: new WebClient('xoxb-unused'), log: createLogger('warn') });

    const seeding = performance.now();
    const requests = store.db.transaction(() =>
      Array.from({ length: NAMESPACES }, (_, i) => {
        const inserted = store.insertRequest(
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
        store.decide(inserted.request.id, { status: 'approved', by: 'policy', auto: true }, MADE);
        return inserted.request;
      }),
    )();
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
      upgrade: 'not built',
    };
    console.log(`namespaces            ${NAMESPACES} (${edited} edited by kubectl-edit, all outdated), ${LATENCY_MS} ms per call`);
    console.log(`seeding               ${result.seed_ms} ms`);
    console.log(
      `scan                  ${result.scan_ms} ms, ${calls} API calls, ${result.calls_per_namespace} per namespace (target ≤ ${TARGET_CALLS_PER_NAMESPACE})`,
    );
    console.log(`report                ${report.summary}`);
    const countsRight = report.edited === edited && report.outdated === NAMESPACES;
    if (!countsRight) console.error(`wrong counts: expected ${edited} edited and ${NAMESPACES} outdated`);
    const missed = callsPerNamespace > TARGET_CALLS_PER_NAMESPACE;
    if (missed) console.error(`calls_per_namespace ${callsPerNamespace} misses the target ${TARGET_CALLS_PER_NAMESPACE}`);
    console.log(JSON.stringify(result));
    store.close();
    if (!countsRight || (ENFORCE && missed)) process.exitCode = 1;
  } finally {
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
