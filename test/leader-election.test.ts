/**
 * More than one replica: leader election on a coordination.k8s.io/v1 Lease in the Kubernetes
 * emulator, through client-node, and the job table that keeps two leaders of a moment from
 * doing a slot's work twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { LeaderElector, LeaseConflict, type LeaseClient } from '../src/leader/elector.ts';
import { coordinationLease } from '../src/leader/lease.ts';
import { createLogger } from '../src/log.ts';
import { KubeApiEmulator, writeKubeconfig } from '../src/playground/kube-api.ts';
import { setUpBotProcesses } from './support/bot-process.ts';
import { PLATFORM, startHarness } from './support/harness.ts';
import { readyNamespace } from './support/lifecycle.ts';
import { waitFor } from './support/wait.ts';

/** Short timings, so a takeover happens within a test; the same proportions as the defaults (15/10/2 s). */
const TIMINGS = { leaseDurationSeconds: 1, renewDeadlineSeconds: 0.6, retryPeriodSeconds: 0.1 };
const LEASE = { namespace: 'default', name: 'slipway-leader' };

/** client-node's CoordinationV1Api on the emulator, through a kubeconfig as the bot uses one. */
async function coordinationApi(kube: KubeApiEmulator, kubeconfig: string, context: string): Promise<CoordinationV1Api> {
  await writeKubeconfig(kube, kubeconfig, { context });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  kc.setCurrentContext(context);
  return kc.makeApiClient(CoordinationV1Api);
}

/** Waits until the Lease has been written `times` more times (renewals), e.g. while another candidate keeps trying. */
async function renewals(lease: LeaseClient, times: number, timeoutMs = 15_000): Promise<void> {
  let last = '';
  let seen = -1;
  const deadline = Date.now() + timeoutMs;
  while (seen < times) {
    const current = await lease.get();
    const version = current?.resourceVersion ?? '';
    if (version !== last) {
      last = version;
      seen++;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${times} renewals of the Lease`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Writes the Lease as another holder would, again when a renewal gets in between (409). */
async function takeLease(lease: LeaseClient, holderIdentity: string): Promise<void> {
  for (;;) {
    const held = await lease.get();
    assert.ok(held, 'there is a Lease');
    try {
      await lease.update({ ...held.record, holderIdentity, renewTime: new Date(), leaseDurationSeconds: 1 }, held.resourceVersion);
      return;
    } catch (err) {
      if (!(err instanceof LeaseConflict)) throw err;
    }
  }
}

/** The Lease on a fresh emulator, through client-node; the emulator closes when the test ends. */
async function emulatedLease(t: { after(fn: () => unknown): void }): Promise<{ kube: KubeApiEmulator; api: CoordinationV1Api; lease: LeaseClient }> {
  const kube = await KubeApiEmulator.start();
  t.after(() => kube.close());
  const api = await coordinationApi(kube, join(mkdtempSync(join(tmpdir(), 'slipway-lease-')), 'kubeconfig.yaml'), 'dev-eu');
  return { kube, api, lease: coordinationLease(api, LEASE.namespace, LEASE.name) };
}

/**
 * A candidate `<name>_test` with the test timings, which writes "<name> leads" and "<name> stopped
 * leading" to `events` (after `onStarted`, which may check what holds then); stopped when the test ends.
 */
function candidate(t: { after(fn: () => unknown): void }, lease: LeaseClient, name: string, events: string[], onStarted = () => {}): LeaderElector {
  const elector = new LeaderElector({
    lease,
    identity: `${name}_test`,
    leaseDurationMs: TIMINGS.leaseDurationSeconds * 1000,
    renewDeadlineMs: TIMINGS.renewDeadlineSeconds * 1000,
    retryPeriodMs: TIMINGS.retryPeriodSeconds * 1000,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    onStartedLeading: () => {
      onStarted();
      events.push(`${name} leads`);
    },
    onStoppedLeading: () => events.push(`${name} stopped leading`),
  });
  t.after(() => elector.stop());
  return elector;
}

test('two replicas that both believe they lead post one digest for a slot, however their runs overlap', async (t) => {
  const h = await startHarness(t);
  const second = await h.startReplica();
  const slot = new Date('2026-11-23T09:00:00Z');
  const digests = () => h.slack.messages(PLATFORM).filter((m) => m.text.startsWith('Platform adoption'));

  // At the same moment: one runs the slot, the other finds it taken.
  const both = await Promise.all([h.slipway.scheduler.run('digest', 'scheduled', slot), second.slipway.scheduler.run('digest', 'scheduled', slot)]);
  assert.deepEqual(both.map((o) => o.status).sort(), ['ok', 'skipped']);
  const posted = h.slack.messages(PLATFORM).length;
  assert.ok(posted >= 1, 'the digest went out');

  // One after the other (the first had finished): a second leader's run of the same slot, scheduled or caught up, does nothing.
  for (const replica of [second.slipway, h.slipway]) {
    for (const reason of ['scheduled', 'catch-up'] as const) {
      const outcome = await replica.scheduler.run('digest', reason, slot);
      assert.equal(outcome.status, 'skipped', `${reason} run of a slot that ran`);
    }
  }
  assert.equal(h.slack.messages(PLATFORM).length, posted, 'nothing more was posted');
  assert.equal(digests().length, 1);
  const ran = (await h.slipway.deps.store.adoption.jobRuns('digest')).filter((r) => r.status === 'ok');
  assert.equal(ran.length, 1, 'one run of the slot is recorded');

  // The next slot is a new slot; a run by hand is never a slot's.
  assert.equal((await second.slipway.scheduler.run('digest', 'scheduled', new Date('2026-11-30T09:00:00Z'))).status, 'ok');
  assert.equal((await h.slipway.scheduler.run('digest', 'manual')).status, 'ok');
  assert.equal(digests().length, 3);
});

test('two candidates on one Lease: one leads, the other follows; a leader that stops hands the Lease over', async (t) => {
  const { api, lease } = await emulatedLease(t);
  const events: string[] = [];
  const electors: LeaderElector[] = [];
  // Never two leaders at once: when one starts leading, it is the only one.
  const alone = () => assert.equal(electors.filter((e) => e.isLeader()).length, 1);
  const a = candidate(t, coordinationLease(api, LEASE.namespace, LEASE.name), 'a', events, alone);
  const b = candidate(t, coordinationLease(api, LEASE.namespace, LEASE.name), 'b', events, alone);
  electors.push(a, b);

  a.start();
  await waitFor('a to lead', () => a.isLeader());
  b.start();
  await renewals(lease, 10);
  assert.equal(b.isLeader(), false, 'b follows while a renews');
  const held = await lease.get();
  assert.equal(held?.record.holderIdentity, 'a_test');
  assert.equal(held?.record.leaseTransitions, 0);
  assert.equal(held?.record.leaseDurationSeconds, TIMINGS.leaseDurationSeconds);

  await a.stop();
  await waitFor('b to lead', () => b.isLeader(), 15_000);
  const taken = await lease.get();
  assert.equal(taken?.record.holderIdentity, 'b_test');
  assert.equal(taken?.record.leaseTransitions, 1, 'one change of holder');
  assert.deepEqual(events, ['a leads', 'a stopped leading', 'b leads']);
});

test('a leader that cannot renew keeps trying, then stops leading (renew deadline), and leads again once it can', async (t) => {
  const { kube, lease } = await emulatedLease(t);
  const events: string[] = [];
  const elector = candidate(t, lease, 'a', events);
  elector.start();
  await waitFor('the first term', () => elector.isLeader());

  // The API server answers every renewal with 500 (an outage of etcd, say).
  const outage = kube.injectFault({ method: 'PUT', path: `/apis/coordination.k8s.io/v1/namespaces/${LEASE.namespace}/leases/${LEASE.name}`, status: 500 });
  await waitFor('it to give up', () => !elector.isLeader(), 15_000);
  assert.ok(outage.hits >= 2, 'it tried to renew more than once first');
  outage.remove();
  await waitFor('a second term', () => elector.isLeader(), 15_000);
  assert.deepEqual(events, ['a leads', 'a stopped leading', 'a leads']);
});

test('a leader killed with SIGKILL is replaced once its Lease lapses, and the jobs move to the new leader', async (t) => {
  const { kube, dir, doc, start, env: botEnv } = await setUpBotProcesses(t, {}, 'slipway-leader-');
  doc.leaderElection = { enabled: true, cluster: 'dev-eu', namespace: LEASE.namespace, leaseName: LEASE.name, ...TIMINGS };
  const env = botEnv();
  const lease = coordinationLease(await coordinationApi(kube, join(dir, 'lease-kubeconfig.yaml'), 'dev-eu'), LEASE.namespace, LEASE.name);
  const waitForBot = <T>(what: string, check: () => T | undefined | false) => waitFor(what, check, 20_000);

  const first = await start({ ...env, POD_NAME: 'slipway-a' });
  await waitForBot('the first replica to lead', () => first.output().includes('became the leader'));
  await waitForBot('its job scheduler', () => first.output().includes('job scheduler started'));
  const second = await start({ ...env, POD_NAME: 'slipway-b' });
  await waitForBot('the second replica to join the election', () => second.output().includes('leader election started'));
  await renewals(lease, 10);
  assert.ok(!second.output().includes('became the leader'), 'the second replica follows');
  assert.ok(!second.output().includes('job scheduler started'), 'a follower runs no jobs');
  assert.match((await lease.get())?.record.holderIdentity ?? '', /^slipway-a_/);

  first.child.kill('SIGKILL');
  await first.exited;
  const last = await lease.get();
  assert.match(last?.record.holderIdentity ?? '', /^slipway-a_/, 'a killed leader does not hand the Lease back');
  await waitForBot('the second replica to lead', () => second.output().includes('became the leader'));
  await waitForBot('its job scheduler', () => second.output().includes('job scheduler started'));
  const taken = await lease.get();
  assert.match(taken?.record.holderIdentity ?? '', /^slipway-b_/);
  assert.equal(taken?.record.leaseTransitions, (last?.record.leaseTransitions ?? 0) + 1);
  // It waited for the Lease to lapse: it took it no sooner than a Lease's duration after the last renewal.
  assert.ok(last && taken && taken.record.acquireTime.getTime() - last.record.renewTime.getTime() >= TIMINGS.leaseDurationSeconds * 1000);
});

test('a replica that loses the Lease and leads again does not start its own runs a second time', async (t) => {
  const h = await startHarness(t, {
    configure: (doc) => {
      doc.leaderElection = { enabled: true, cluster: 'dev-eu', namespace: LEASE.namespace, leaseName: LEASE.name, ...TIMINGS };
    },
  });
  const lease = coordinationLease(
    await coordinationApi(h.kube, join(mkdtempSync(join(tmpdir(), 'slipway-lease-')), 'kubeconfig.yaml'), 'dev-eu'),
    LEASE.namespace,
    LEASE.name,
  );
  const elector = h.slipway.elector();
  assert.ok(elector, 'leader election is on');
  await h.waitFor('the bot to lead', () => elector.isLeader(), 15_000);

  // A provisioning run in progress: the namespace's apply is slow.
  const slow = h.kube.setLatency(3000, { method: 'PATCH', path: '/api/v1/namespaces/payments-dev' });
  const ready = readyNamespace(h, 'dev');
  await h.waitFor('the run to start', async () => (await h.slipway.deps.store.activeRuns()).length === 1);

  // Someone else holds the Lease for a moment: the bot stops leading, then takes the Lease again once it lapses.
  await takeLease(lease, 'another-replica');
  await h.waitFor('the bot to stop leading', () => !elector.isLeader(), 15_000);
  await h.waitFor('the bot to lead again', () => elector.isLeader(), 15_000);
  slow();
  await ready;
  const applies = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/payments-dev');
  assert.equal(applies.length, 1, 'the run was executed once');
});
