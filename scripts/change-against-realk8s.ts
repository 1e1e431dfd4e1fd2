/**
 * `/platform change` against a real kube-apiserver and its kube-controller-manager, as a bot
 * identity that holds exactly deploy/rbac.yaml's ClusterRole (a ServiceAccount of its own, so the
 * run shows that the role is enough): a medium dev namespace is requested through signed Slack
 * requests; a pod that requests 3 CPUs makes the real quota controller report `status.used`, so a
 * smaller tier is refused in the form; without the pod the smaller tier is applied at once; then
 * read-only access for another team is approved in the thread and applied (a RoleBinding to
 * `view`), and taken back (the binding deleted). Not part of `npm test`: it needs a real server,
 * e.g. /work/shared/realk8s:
 *
 *   /work/shared/realk8s/up.sh && source /tmp/realk8s/run/env
 *   npm run change:realk8s
 *
 * Everything it makes is named `chg-…` and removed at the end. Prints one line per step and
 * exits 1 at the first that does not hold.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request as send } from 'undici';
import { parseAllDocuments } from 'yaml';
import { ACTION, BLOCK, CALLBACK, CHANGE } from '../src/slack/ids.ts';
import { KubeApiEmulator } from '../src/playground/kube-api.ts';
import { APPROVALS, buttons, PEOPLE, readable, startHarness, type Harness } from '../test/support/harness.ts';
import { openedForm } from '../test/support/lifecycle.ts';
import { admin, check, env } from './realk8s.ts';

const NAMESPACE = 'chg-payments-dev';
const IDENTITY = { namespace: 'chg-slipway-sys', account: 'chg-slipway', role: 'chg-slipway' };

function json<T>(...args: string[]): T | undefined {
  try {
    return JSON.parse(admin(...args, '-o', 'json')) as T;
  } catch {
    return undefined;
  }
}

const quotaUsed = () => json<{ status?: { used?: Record<string, string> } }>('get', 'resourcequota', 'slipway-quota', '-n', NAMESPACE)?.status?.used ?? {};

/** deploy/rbac.yaml's ClusterRole under this run's own name, bound to a ServiceAccount of its own; returns its kubeconfig. */
async function botIdentity(dir: string): Promise<string> {
  const role = parseAllDocuments(readFileSync(new URL('../deploy/rbac.yaml', import.meta.url), 'utf8'))
    .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
    .find((d) => d.kind === 'ClusterRole');
  if (!role) throw new Error('deploy/rbac.yaml has no ClusterRole');
  const file = join(dir, 'role.json');
  writeFileSync(file, JSON.stringify({ ...role, metadata: { ...role.metadata, name: IDENTITY.role } }));
  admin('apply', '-f', file);
  admin('create', 'namespace', IDENTITY.namespace);
  admin('create', 'serviceaccount', IDENTITY.account, '-n', IDENTITY.namespace);
  admin('create', 'clusterrolebinding', IDENTITY.role, '--clusterrole', IDENTITY.role, '--serviceaccount', `${IDENTITY.namespace}:${IDENTITY.account}`);
  let secret: string | undefined;
  for (let i = 0; i < 50 && !secret; i++) {
    secret = json<{ secrets?: { name: string }[] }>('get', 'serviceaccount', IDENTITY.account, '-n', IDENTITY.namespace)?.secrets?.[0]?.name;
    if (!secret) await delay(200);
  }
  if (!secret) throw new Error('the token controller gave the ServiceAccount no token');
  const token = Buffer.from(admin('get', 'secret', secret, '-n', IDENTITY.namespace, '-o', 'jsonpath={.data.token}'), 'base64').toString('utf8');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'realk8s', cluster: { server: env('REALK8S_SERVER'), 'certificate-authority-data': readFileSync(env('REALK8S_CA')).toString('base64') } },
      ],
      users: [{ name: IDENTITY.account, user: { token } }],
      contexts: [{ name: 'chg@realk8s', context: { cluster: 'realk8s', user: IDENTITY.account } }],
      'current-context': 'chg@realk8s',
    }),
  );
  return kubeconfig;
}

/** The answer of both servers to the same request, as the admin: status and Status body. */
async function bothAnswer(method: 'DELETE' | 'GET', path: string): Promise<{ real: unknown; emulator: unknown }> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(env('REALK8S_CA')) } });
  const real = await send(`${env('REALK8S_SERVER')}${path}`, { method, dispatcher, headers: { authorization: `Bearer ${env('REALK8S_ADMIN_TOKEN')}` } });
  const emulator = await KubeApiEmulator.start();
  try {
    const emulated = await fetch(`${emulator.url}${path}`, { method });
    return { real: { status: real.statusCode, body: await real.body.json() }, emulator: { status: emulated.status, body: await emulated.json() } };
  } finally {
    await emulator.close();
  }
}

const thread = (h: Harness, ts: string | undefined) => h.slack.thread(APPROVALS, ts ?? '');
/** The change outcomes in the thread: applied, or a failed step. */
const outcomes = (h: Harness, ts: string) => thread(h, ts).filter((m) => /^✅ `.*` \(.*\) is changed|^❌ Changing/.test(m.text));

async function main(): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const dir = mkdtempSync(join(tmpdir(), 'slipway-chg-'));
  cleanups.push(() => {
    for (const args of [
      ['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false'],
      ['delete', 'namespace', IDENTITY.namespace, '--ignore-not-found', '--wait=false'],
      ['delete', 'clusterrolebinding', IDENTITY.role, '--ignore-not-found'],
      ['delete', 'clusterrole', IDENTITY.role, '--ignore-not-found'],
    ]) {
      try {
        admin(...args);
      } catch {
        // Best effort: the next run's creates say what is left.
      }
    }
  });
  try {
    const kubeconfig = await botIdentity(dir);
    const h = await startHarness(t, {
      configure: (doc) => {
        const clusters = doc.clusters as Record<string, unknown>[];
        clusters[0] = { ...clusters[0], path: kubeconfig, context: 'chg@realk8s' };
      },
    });
    const store = h.slipway.deps.store;

    await openedForm(h, CALLBACK.newNamespace, () => h.command(PEOPLE.dev, 'new-namespace'));
    await h.submit(PEOPLE.dev, {
      [BLOCK.team]: 'payments',
      [BLOCK.environment]: 'dev',
      [BLOCK.cluster]: 'dev-eu',
      [BLOCK.tier]: 'medium',
      [BLOCK.name]: NAMESPACE,
      [BLOCK.purpose]: 'Change journey against a real server',
    });
    const request = await h.waitFor('the request', async () => await store.lastRequestBy(PEOPLE.dev));
    const card = await h.waitFor('the card', async () => {
      const ts = (await store.getRequest(request.id))?.card?.ts;
      return h.slack.messages(APPROVALS).find((m) => m.ts === ts);
    });
    await h.click(PEOPLE.alice, card, ACTION.approve);
    await h.waitFor('the namespace ready', async () => await store.lifecycle.get(request.id), 60_000);
    check('provisioned (medium) on the real server as the bot identity', json('get', 'namespace', NAMESPACE) !== undefined, `R-${request.id}`);

    // Two containers of 1.5 CPUs: no node runs it, but the quota counts a pending pod's requests.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'busy', namespace: NAMESPACE },
      spec: {
        containers: ['a', 'b'].map((name) => ({
          name,
          image: 'registry.k8s.io/pause:3.9',
          resources: { requests: { cpu: '1500m', memory: '256Mi' }, limits: { cpu: '1500m', memory: '512Mi' } },
        })),
      },
    };
    writeFileSync(join(dir, 'pod.json'), JSON.stringify(pod));
    admin('apply', '-f', join(dir, 'pod.json'));
    await h.waitFor('the quota controller to count the pod', () => quotaUsed()['requests.cpu'] === '3', 60_000);
    check('the real quota reports what the pod requests', true, JSON.stringify(quotaUsed()));

    await openedForm(h, CALLBACK.changeNamespace, () => h.command(PEOPLE.dev, `change ${NAMESPACE}`));
    const refused = await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'small' });
    const errors = (refused.body as { errors?: Record<string, string> }).errors ?? {};
    process.stdout.write(`     form error: ${JSON.stringify(errors[BLOCK.tier])}\n`);
    check(
      'a smaller tier is refused in the form, naming the resource and by how much',
      /requests\.cpu: 3 in use, 2 allowed \(1 over\)/.test(errors[BLOCK.tier] ?? ''),
    );

    admin('delete', 'pod', 'busy', '-n', NAMESPACE, '--grace-period=0', '--force');
    await h.waitFor('the quota controller to count nothing', () => ['0', undefined].includes(quotaUsed()['requests.cpu']), 60_000);
    const accepted = await h.submit(PEOPLE.dev, { [BLOCK.tier]: 'small' });
    check('without the pod the form closes', accepted.body === '');
    const resized = await h.waitFor('the resize outcome', () => outcomes(h, card.ts)[0], 60_000);
    const hard = json<{ spec: { hard: Record<string, string> } }>('get', 'resourcequota', 'slipway-quota', '-n', NAMESPACE)?.spec.hard;
    check('the real quota is the small tier now, without an approver', hard?.['requests.cpu'] === '2', JSON.stringify(hard));
    process.stdout.write(`     thread: ${readable(resized).split('\n').join(' | ')}\n`);

    const ts = card.ts;
    await openedForm(h, CALLBACK.changeNamespace, () => h.command(PEOPLE.dev, `change ${NAMESPACE}`));
    await h.submit(PEOPLE.dev, { [BLOCK.accessView]: ['search'] });
    const ask = await h.waitFor('the access ask in the thread', () => thread(h, ts).find((m) => buttons(m).includes(CHANGE.approve)));
    await h.click(PEOPLE.bob, ask, CHANGE.approve);
    await h.waitFor('the access outcome', () => outcomes(h, ts).length === 2, 60_000);
    const binding = json<{ roleRef: { name: string }; subjects: { name: string }[] }>('get', 'rolebinding', 'slipway-access-search', '-n', NAMESPACE);
    check('the real server has the view binding for search', binding?.roleRef.name === 'view', JSON.stringify(binding?.subjects));

    await openedForm(h, CALLBACK.changeNamespace, () => h.command(PEOPLE.dev, `change ${NAMESPACE}`));
    await h.submit(PEOPLE.dev, { [BLOCK.accessView]: [] });
    await h.waitFor('the removal outcome', () => outcomes(h, ts).length === 3, 60_000);
    process.stdout.write(
      `     thread: ${readable(outcomes(h, ts)[2] ?? resized)
        .split('\n')
        .join(' | ')}\n`,
    );
    check('the binding is deleted on the real server', json('get', 'rolebinding', 'slipway-access-search', '-n', NAMESPACE) === undefined);
    const again = await h.slipway.deps.clusters.deleteRoleBinding('dev-eu', NAMESPACE, 'slipway-access-search');
    check('deleting it again is answered 404 and counts as done', again === 'already-gone', again);
    // A retried delete meets the 404 of a binding already gone: the emulator must answer as the server does.
    const missing = await bothAnswer('DELETE', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/slipway-access-search');
    process.stdout.write(`     real: ${JSON.stringify(missing.real)}\n     emulator: ${JSON.stringify(missing.emulator)}\n`);
    check('the emulator answers a missing RoleBinding delete as the real server does', JSON.stringify(missing.real) === JSON.stringify(missing.emulator));
    const runs = await store.latestRun(request.id);
    check('the last change run is recorded step by step', runs?.status === 'done', JSON.stringify(runs?.steps.map((s) => [s.name, s.status])));
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
