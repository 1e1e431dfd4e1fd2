import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { goldenPathObjects } from '../src/cluster/manifests.ts';
import { parseConfig } from '../src/config.ts';
import { DRIFT } from '../src/slack/ids.ts';
import { stepInput } from '../src/workflows/provisioning/present.ts';
import { scanDrift } from '../src/workflows/drift/scan.ts';
import type { KubeObject } from '../src/playground/kube-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from './support/config.ts';
import { clickInAnswer, driftAnswer, handEdit, outsider } from './support/drift.ts';
import { APPROVALS, buttons, PEOPLE, readable, startHarness, type Harness } from './support/harness.ts';
import { readyNamespace } from './support/lifecycle.ts';
import { readyNamespaces } from './support/namespaces.ts';

const QUOTA = (ns: string) => `/api/v1/namespaces/${ns}/resourcequotas/slipway-quota`;

/** Server-side applies of a path that took effect (not dry runs, not refused), from request `from` on. */
function appliesTo(h: Harness, path: string, from = 0): number {
  return h.kube.requests.slice(from).filter((r) => r.method === 'PATCH' && r.path === path && r.status === 200 && r.query.dryRun === undefined).length;
}

function quotaOf(h: Harness, ns: string): KubeObject & { spec?: { hard?: Record<string, string> } } {
  return h.kube.get('resourcequotas', ns, 'slipway-quota') ?? assert.fail(`no quota in ${ns}`);
}

function managersOf(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of obj.metadata?.managedFields ?? []) out[entry.manager ?? ''] = JSON.stringify(entry.fieldsV1);
  return out;
}

test('Re-apply shows a server-side dry run of what changes, then takes back only the fields Slipway sets', async (t) => {
  const h = await startHarness(t);
  await readyNamespace(h, 'dev');
  const { core } = await outsider(h.kube);
  await handEdit(core, 'payments-dev');
  // A quota entry only kubectl-edit sets: a difference, but not Slipway's to take back.
  await core.patchNamespacedResourceQuota(
    { name: 'slipway-quota', namespace: 'payments-dev', body: { spec: { hard: { 'requests.storage': '5Gi' } } }, fieldManager: 'kubectl-edit' },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const report = await driftAnswer(h, PEOPLE.alice);
  assert.ok(buttons({ blocks: report.blocks }).includes(DRIFT.reapply), 'a Re-apply button per namespace');
  const start = h.kube.requests.length;

  const refused = await clickInAnswer(h, PEOPLE.mallory, report, DRIFT.reapply);
  assert.match(refused.text, /^Only approvers can re-apply the golden path/);
  assert.equal(h.kube.requests.length, start, 'a refused click reaches no cluster');

  const preview = await clickInAnswer(h, PEOPLE.alice, report, DRIFT.reapply);
  assert.equal(preview.replaceOriginal, false, 'the report stays');
  assert.equal(
    preview.text.split('\n').slice(1, 4).join('\n'),
    [
      '*Re-applying the golden path to `payments-dev` on dev-eu will change 2 fields:*',
      '• Namespace/payments-dev `metadata.labels[slipway.dev/team]`: `search` → `payments` (set by `kubectl-edit`)',
      '• ResourceQuota/slipway-quota `spec.hard[requests.cpu]`: `8` → `2` (set by `kubectl-edit`)',
    ].join('\n'),
  );
  assert.match(
    preview.text,
    /\nStays as it is, not Slipway's to take back \(Slipway does not set it\): ResourceQuota\/slipway-quota `spec.hard\[requests.storage\]` \(set by `kubectl-edit`\)\n/,
  );
  const dryRuns = h.kube.requests.slice(start).filter((r) => r.method === 'PATCH');
  assert.ok(dryRuns.length > 0 && dryRuns.every((r) => r.query.dryRun === 'All' && r.query.force === 'true'), 'only dry runs, with force');
  assert.equal(quotaOf(h, 'payments-dev').spec?.hard?.['requests.cpu'], '8', 'nothing changed yet');

  assert.match((await clickInAnswer(h, PEOPLE.mallory, preview, DRIFT.reapplyConfirm)).text, /^Only approvers/);
  assert.equal(quotaOf(h, 'payments-dev').spec?.hard?.['requests.cpu'], '8');

  const done = await clickInAnswer(h, PEOPLE.alice, preview, DRIFT.reapplyConfirm);
  assert.ok(done.replaceOriginal, 'the result replaces the preview');
  assert.match(done.text, /^✅ <@U0ALICE> re-applied the golden path to `payments-dev` on dev-eu\./);
  const quota = quotaOf(h, 'payments-dev');
  assert.equal(quota.spec?.hard?.['requests.cpu'], '2', 'the edited field is Slipway’s again');
  assert.match(managersOf(quota).slipway ?? '', /"f:requests.cpu"/);
  // As kube-apiserver v1.20.2 leaves them (npm run drift:realk8s): kubectl-edit keeps only its own entry.
  assert.equal(quota.spec?.hard?.['requests.storage'], '5Gi');
  assert.equal(managersOf(quota)['kubectl-edit'], '{"f:spec":{"f:hard":{"f:requests.storage":{}}}}');
  const ns = h.kube.get('namespaces', 'payments-dev') ?? assert.fail('namespace');
  assert.equal(ns.metadata?.labels?.['slipway.dev/team'], 'payments');
  assert.equal(ns.metadata?.labels?.extra, 'x', 'a label only kubectl-edit set stays');
  assert.equal(managersOf(ns)['kubectl-edit'], '{"f:metadata":{"f:labels":{"f:extra":{}}}}', 'and stays kubectl-edit’s');

  assert.deepEqual(
    (await scanDrift(h.slipway.deps, { namespace: 'payments-dev' })).differences.map((d) => [d.kind, d.field, d.manager]),
    [['edited', 'spec.hard[requests.storage]', 'kubectl-edit']],
    'only kubectl-edit’s own entry still differs',
  );
  const request = (await h.slipway.deps.store.lastRequestBy(PEOPLE.dev)) ?? assert.fail('request');
  assert.deepEqual(
    (await h.slipway.deps.store.eventsFor(request.id)).filter((e) => e.type.startsWith('drift_')).map((e) => [e.type, e.actor]),
    [
      ['drift_reapply_previewed', PEOPLE.alice],
      ['drift_reapplied', PEOPLE.alice],
    ],
  );
});

/** 50 ready namespaces on the emulator, provisioned when the small tier allowed 10 pods: all outdated now. */
async function outdatedFleet(h: Harness, count: number) {
  const requests = await readyNamespaces(h.slipway.deps.store, count, { environment: 'dev', tier: 'small' });
  const doc = exampleConfigDocument();
  (doc.clusters as Record<string, unknown>[])[0] = h.config.clusters[0] as unknown as Record<string, unknown>;
  const small = (doc.tiers as Record<string, { quota: Record<string, string> }>).small ?? assert.fail('small tier');
  small.quota.pods = '10';
  const before = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  for (const request of requests) {
    for (const obj of goldenPathObjects(stepInput({ config: before }, request).path)) await h.slipway.deps.clusters.apply('dev-eu', obj);
  }
  return requests;
}

function upgradeThread(h: Harness) {
  const parent = h.slack.messages(APPROVALS).find((m) => /outdated namespaces on dev-eu/.test(m.text));
  return parent ? { parent: readable(parent), replies: h.slack.thread(APPROVALS, parent.ts) } : undefined;
}

test('Upgrade all 50 outdated: stops at a permanent failure and says so in its thread; Resume finishes the rest, each namespace applied once', async (t) => {
  const h = await startHarness(t);
  const requests = await outdatedFleet(h, 50);
  const from = h.kube.requests.length;
  const report = await driftAnswer(h, PEOPLE.alice);
  assert.match(report.text, /^Drift: compared 50 namespaces: 0 edited, 50 outdated/);
  assert.match(report.text, /Upgrade all 50 outdated/);
  const one = await driftAnswer(h, PEOPLE.alice, 'ns-1');
  assert.deepEqual(buttons({ blocks: one.blocks }), [DRIFT.reapply], 'one namespace’s report offers no fleet upgrade');

  assert.match((await clickInAnswer(h, PEOPLE.mallory, report, DRIFT.upgrade)).text, /^Only approvers/);
  assert.equal(upgradeThread(h), undefined, 'no upgrade for a non-approver');

  // An admission webhook refuses one namespace's quota, in the middle of the batch.
  const fault = h.kube.injectFault({
    method: 'PATCH',
    path: QUOTA('ns-33'),
    status: 403,
    message: 'admission webhook "quota-freeze.example.com" denied the request: quotas are frozen in ns-33',
  });
  const started = await clickInAnswer(h, PEOPLE.alice, report, DRIFT.upgrade);
  assert.match(started.text, /^Upgrading 50 outdated namespaces on dev-eu: progress in the thread in <#C0APPROVALS>\./);

  const stopped = await h.waitFor('the stop in the thread', () => {
    const thread = upgradeThread(h);
    return thread?.replies.find((m) => m.text.startsWith('❌')) && thread;
  });
  const stop = stopped.replies.find((m) => m.text.startsWith('❌')) ?? assert.fail('stop');
  assert.match(stop.text, /^❌ `ns-33` could not be re-applied, so the upgrade stopped \(\d+ done, \d+ left\): .*quotas are frozen in ns-33/);
  assert.deepEqual(buttons(stop), [DRIFT.resume]);
  const parent = await h.waitFor('the progress redrawn', () => /^⛔/.test(upgradeThread(h)?.parent ?? '') && upgradeThread(h)?.parent);
  assert.match(
    parent,
    /^⛔ Upgrade of 50 outdated namespaces on dev-eu stopped at a failure \(started by <@U0ALICE>\): \d+ of 50 done · 1 failed · \d+ to go\./,
  );
  const doneBefore = requests.filter((r) => appliesTo(h, QUOTA(r.namespace), from) === 1).length;
  assert.ok(doneBefore > 0 && doneBefore < 49, `stopped in the middle (${doneBefore} done)`);
  assert.equal(quotaOf(h, 'ns-33').spec?.hard?.pods, '10');

  // Resume: approvers only; once the webhook lets it through, the rest is upgraded.
  await h.click(PEOPLE.mallory, stop, DRIFT.resume);
  await h.waitFor('the refusal', () => h.slack.responseUrlPosts.some((p) => /^Only approvers/.test(String(p.body.text))));
  fault.remove();
  await h.click(PEOPLE.bob, stop, DRIFT.resume);
  const finished = await h.waitFor('the end in the thread', () => {
    const thread = upgradeThread(h);
    return thread?.replies.some((m) => m.text.startsWith('✅ Upgrade finished')) && /^✅/.test(thread.parent) && thread;
  });
  assert.deepEqual(
    finished.replies.map((m) => m.text.replace(/\(\d+ done, \d+ left\): .*/, '…')),
    [
      '❌ `ns-33` could not be re-applied, so the upgrade stopped …',
      '▶️ <@U0BOB> resumed the upgrade: ' + (50 - doneBefore) + ' namespaces to go.',
      '✅ Upgrade finished: 50 namespaces re-applied.',
    ],
  );
  assert.match(finished.parent, /^✅ Upgraded 50 outdated namespaces on dev-eu to today's golden path \(started by <@U0ALICE>\): 50 of 50 done\./);
  for (const r of requests) {
    assert.equal(appliesTo(h, QUOTA(r.namespace), from), 1, `${r.namespace} applied once`);
    assert.equal(quotaOf(h, r.namespace).spec?.hard?.pods, '20');
  }
  assert.equal((await scanDrift(h.slipway.deps)).outdated, 0);
  assert.equal(h.slack.messages(APPROVALS).filter((m) => /outdated namespaces on dev-eu/.test(m.text)).length, 1, 'one thread');
});

test('an upgrade interrupted by a restart resumes by itself at the next start, each namespace applied once', async (t) => {
  const h = await startHarness(t);
  const requests = await outdatedFleet(h, 20);
  const from = h.kube.requests.length;
  h.kube.setLatency(20, { method: 'PATCH' });
  const report = await driftAnswer(h, PEOPLE.alice);
  await clickInAnswer(h, PEOPLE.alice, report, DRIFT.upgrade);
  await h.waitFor('some namespaces upgraded', () => requests.some((r) => appliesTo(h, QUOTA(r.namespace), from) === 1));
  await h.restart();
  const left = requests.filter((r) => appliesTo(h, QUOTA(r.namespace), from) === 0).length;
  assert.ok(left > 0, 'the restart came in the middle');
  const finished = await h.waitFor('the end in the thread', () => upgradeThread(h)?.replies.find((m) => m.text.startsWith('✅ Upgrade finished')));
  assert.equal(finished.text, '✅ Upgrade finished: 20 namespaces re-applied.');
  for (const r of requests) assert.equal(appliesTo(h, QUOTA(r.namespace), from), 1, `${r.namespace} applied once`);
});
