/**
 * Sends the same namespace-deletion requests to a real kube-apiserver (with its
 * kube-controller-manager) and to the emulator in src/playground/kube-api.ts, and compares what
 * they answer: status codes, Status bodies, the Terminating namespace, the namespace
 * controller's conditions, finalizers, delete preconditions, the NamespaceLifecycle refusal and an
 * RBAC denial. Then it runs Slipway's own client (KubeClusters: deleteNamespace,
 * namespaceDeletion, canI) against both as the bot user, granted deploy/rbac.yaml's ClusterRole
 * on the real server, and the Lease requests leader election makes. Not part of `npm test`: it needs a real server, e.g. /work/shared/realk8s:
 *
 *   /work/shared/realk8s/up.sh && source /tmp/realk8s/run/env
 *   npm run check:realk8s
 *
 * Reads REALK8S_SERVER, REALK8S_CA, REALK8S_ADMIN_TOKEN, REALK8S_BOT_TOKEN and REALK8S_BOT_USER
 * (the bot user must hold no RBAC grant on namespaces). Prints one line per check; exits 1 when
 * an answer differs. Uids, resourceVersions and times are compared by shape, not value.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { parseAllDocuments } from 'yaml';
import { KubeClusters } from '../src/cluster/client.ts';
import { requiredPermissions } from '../src/cluster/permissions.ts';
import { errorMessage } from '../src/errors.ts';
import { LeaderElector } from '../src/leader/elector.ts';
import { coordinationLease } from '../src/leader/lease.ts';
import { createLogger } from '../src/log.ts';
import { KubeApiEmulator, writeKubeconfig } from '../src/playground/kube-api.ts';
import { exampleConfig } from '../test/support/config.ts';

type Who = 'admin' | 'bot';

interface Answer {
  status: number;
  body: unknown;
}

/** One API server as the checks see it. */
interface Server {
  name: string;
  call(method: string, path: string, body?: unknown, as?: Who): Promise<Answer>;
  /** A kubeconfig that signs in as the bot user. */
  botKubeconfig: { path: string; context: string };
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start realk8s and source its env file (see the comment at the top of this script)`);
  return value;
}

function realServer(): Server {
  const base = env('REALK8S_SERVER');
  const tokens: Record<Who, string> = { admin: env('REALK8S_ADMIN_TOKEN'), bot: env('REALK8S_BOT_TOKEN') };
  const dispatcher = new Agent({ connect: { ca: readFileSync(env('REALK8S_CA')) } });
  return {
    name: 'kube-apiserver',
    botKubeconfig: { path: env('REALK8S_BOT_KUBECONFIG'), context: `${env('REALK8S_BOT_USER')}@realk8s` },
    async call(method, path, body, as = 'admin') {
      const response = await request(`${base}${path}`, {
        method: method as 'GET',
        dispatcher,
        headers: { authorization: `Bearer ${tokens[as]}`, 'content-type': contentType(method) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.statusCode, body: await response.body.json() };
    },
  };
}

async function emulatedServer(): Promise<{ server: Server; close: () => Promise<void> }> {
  const emulator = await KubeApiEmulator.start({ token: 'admin', user: env('REALK8S_BOT_USER') });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-realk8s-'));
  const botKubeconfig = { path: join(dir, 'kubeconfig.yaml'), context: 'emulator' };
  await writeKubeconfig(emulator, botKubeconfig.path, { context: botKubeconfig.context, token: 'admin' });
  return {
    close: async () => {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
    server: {
      name: 'emulator',
      botKubeconfig,
      async call(method, path, body, as = 'admin') {
        // The emulator has one identity; the bot's missing grant is a deny rule while it asks.
        const undo = as === 'bot' ? emulator.deny({ verb: '*', resource: '*' }) : () => undefined;
        try {
          const response = await fetch(`${emulator.url}${path}`, {
            method,
            headers: { authorization: 'Bearer admin', 'content-type': contentType(method) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          return { status: response.status, body: await response.json() };
        } finally {
          undo();
        }
      },
    },
  };
}

function contentType(method: string): string {
  return method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
}

const UID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Values that differ between any two servers (uids, versions, times) become placeholders. */
function normalize(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'managedFields')
        .map(([k, v]) => [k, normalize(v, k)]),
    );
  }
  if (typeof value !== 'string') return value;
  if (key === 'resourceVersion') return '<resourceVersion>';
  if (TIME.test(value)) return '<time>';
  return value.replace(UID, '<uid>').replace(/(ResourceVersion in (?:precondition|object meta|record)[:(] ?)\d+/g, '$1<n>');
}

function pick(value: unknown, ...paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let node: unknown = value;
    for (const part of path.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    out[path] = node;
  }
  return out;
}

/** Polls until `done` holds for the answer (the real controller takes a few seconds). */
async function until(server: Server, path: string, done: (a: Answer) => boolean): Promise<Answer> {
  for (let i = 0; ; i++) {
    const answer = await server.call('GET', path);
    if (done(answer) || i >= 120) return answer;
    await delay(500);
  }
}

const hasConditions = (a: Answer) => Array.isArray((a.body as { status?: { conditions?: unknown } }).status?.conditions);

/** The checks, in order; each returns what is compared between the two servers. */
function scenario(run: string): { name: string; check: (s: Server) => Promise<unknown> }[] {
  const held = `${run}-held`;
  const spec = `${run}-spec`;
  const ns = (name: string) => `/api/v1/namespaces/${name}`;
  const configMap = (name: string, finalizers?: string[]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(finalizers ? { finalizers } : {}) },
    data: { a: 'b' },
  });
  const answer = async (promise: Promise<Answer>, ...paths: string[]) => {
    const a = await promise;
    return { status: a.status, ...(paths.length ? pick(a.body, ...paths) : { body: a.body }) };
  };
  return [
    {
      name: 'create a Slipway namespace with a held and a plain config map',
      check: async (s) => [
        await answer(s.call('POST', '/api/v1/namespaces', { metadata: { name: held, labels: { 'app.kubernetes.io/managed-by': 'slipway' } } }), 'kind'),
        await answer(s.call('POST', `${ns(held)}/configmaps`, configMap('held', ['example.com/hold'])), 'metadata.finalizers'),
        await answer(s.call('POST', `${ns(held)}/configmaps`, configMap('plain')), 'kind'),
      ],
    },
    {
      name: 'DELETE with a wrong uid precondition: 409 Conflict',
      check: (s) => answer(s.call('DELETE', ns(held), { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } })),
    },
    {
      name: 'DELETE with a stale resourceVersion precondition: 409 Conflict',
      check: (s) => answer(s.call('DELETE', ns(held), { preconditions: { resourceVersion: '1' } })),
    },
    {
      name: 'DELETE as a bot without the grant: 403 Forbidden',
      check: (s) => answer(s.call('DELETE', ns(held), undefined, 'bot')),
    },
    {
      name: 'DELETE: 200 with the Namespace, Terminating',
      check: (s) => answer(s.call('DELETE', ns(held)), 'kind', 'apiVersion', 'metadata.deletionTimestamp', 'spec', 'status'),
    },
    {
      name: 'a second DELETE while Terminating: 200 with the Namespace',
      check: (s) => answer(s.call('DELETE', ns(held)), 'kind', 'metadata.deletionTimestamp', 'spec', 'status.phase'),
    },
    {
      name: 'new content in a Terminating namespace: 403 Forbidden, NamespaceTerminating',
      check: (s) => answer(s.call('POST', `${ns(held)}/configmaps`, configMap('late'))),
    },
    {
      name: 'the namespace controller reports the held config map in status.conditions',
      check: async (s) => {
        const a = await until(s, ns(held), hasConditions);
        return { status: a.status, ...pick(a.body, 'spec', 'status') };
      },
    },
    {
      name: 'the held config map is marked, the plain one is gone',
      check: async (s) => [
        await answer(s.call('GET', `${ns(held)}/configmaps/held`), 'metadata.deletionTimestamp', 'metadata.deletionGracePeriodSeconds', 'metadata.finalizers'),
        await answer(s.call('GET', `${ns(held)}/configmaps/plain`)),
      ],
    },
    {
      name: 'a second DELETE of the held config map: 200 with it, unchanged',
      check: (s) => answer(s.call('DELETE', `${ns(held)}/configmaps/held`), 'kind', 'metadata.deletionTimestamp', 'metadata.finalizers'),
    },
    {
      name: 'taking its finalizer off deletes the config map, and then the namespace goes: 404',
      check: async (s) => [
        await answer(s.call('PATCH', `${ns(held)}/configmaps/held`, { metadata: { finalizers: null } }), 'kind', 'metadata.finalizers'),
        await answer(until(s, ns(held), (a) => a.status === 404)),
        await answer(s.call('DELETE', ns(held))),
      ],
    },
    {
      name: 'a namespace with another spec.finalizers entry: the controller removes only "kubernetes"',
      check: async (s) => {
        const created = await answer(s.call('POST', '/api/v1/namespaces', { metadata: { name: spec }, spec: { finalizers: ['example.com/ns-hold'] } }), 'spec');
        await s.call('DELETE', ns(spec));
        // The real controller writes the conditions, then takes its finalizer off: wait for both.
        const settled = (a: Answer) => hasConditions(a) && !JSON.stringify(pick(a.body, 'spec.finalizers')).includes('"kubernetes"');
        const a = await until(s, ns(spec), settled);
        return [created, { status: a.status, ...pick(a.body, 'spec', 'status') }];
      },
    },
    {
      name: 'PUT …/finalize without it: the namespace is gone at once',
      check: async (s) => {
        const current = (await s.call('GET', ns(spec))).body as Record<string, unknown>;
        const put = await answer(s.call('PUT', `${ns(spec)}/finalize`, { ...current, spec: { finalizers: [] } }), 'kind', 'spec', 'status.phase');
        return [put, await answer(s.call('GET', ns(spec)), 'code', 'reason')];
      },
    },
  ];
}

/**
 * Slipway's client as the bot user. On the real server the bot first gets deploy/rbac.yaml's
 * ClusterRole (bound to the user instead of the `slipway` group); the emulator allows it all.
 */
function clientScenario(run: string): { name: string; check: (s: Server) => Promise<unknown> }[] {
  const own = `${run}-own`;
  const other = `${run}-other`;
  const role = `${run}-slipway`;
  const clients = new Map<string, KubeClusters>();
  const client = (s: Server) => clients.get(s.name) ?? new KubeClusters(exampleConfig(s.botKubeconfig));
  const outcome = (promise: Promise<unknown>) =>
    promise.then(
      (value) => ({ value }),
      (err: unknown) => ({ error: errorMessage(err) }),
    );
  const settle = async (s: Server, done: (status: Awaited<ReturnType<KubeClusters['namespaceDeletion']>>) => boolean) => {
    for (let i = 0; ; i++) {
      const status = await client(s).namespaceDeletion('dev-eu', own);
      if (done(status) || i >= 120) return status;
      await delay(500);
    }
  };
  return [
    {
      name: "the bot user holds deploy/rbac.yaml's ClusterRole; two namespaces, one Slipway's own with a held config map",
      check: async (s) => {
        if (s.name === 'kube-apiserver') {
          const rbac = parseAllDocuments(readFileSync(new URL('../deploy/rbac.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
          const clusterRole = rbac.find((d) => d.kind === 'ClusterRole');
          await s.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { ...clusterRole, metadata: { name: role } });
          await s.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
            metadata: { name: role },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
            subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: env('REALK8S_BOT_USER') }],
          });
        }
        clients.set(s.name, client(s));
        const labels = { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/request-id': 'R-7' };
        return [
          (await s.call('POST', '/api/v1/namespaces', { metadata: { name: own, labels } })).status,
          (await s.call('POST', `/api/v1/namespaces/${own}/configmaps`, { metadata: { name: 'held', finalizers: ['example.com/hold'] } })).status,
          (await s.call('POST', '/api/v1/namespaces', { metadata: { name: other } })).status,
        ];
      },
    },
    {
      name: 'every permission doctor asks about is granted (SelfSubjectAccessReview)',
      check: async (s) => {
        const c = client(s);
        const answers = await Promise.all(
          requiredPermissions(exampleConfig()).map(async (p) => ((await c.canI('dev-eu', p)) ? undefined : `${p.verb} ${p.resource}`)),
        );
        return { denied: answers.filter(Boolean) };
      },
    },
    {
      name: "deleteNamespace refuses a namespace that is not Slipway's, and one of another request",
      check: async (s) => [await outcome(client(s).deleteNamespace('dev-eu', other, 7)), await outcome(client(s).deleteNamespace('dev-eu', own, 8))],
    },
    {
      name: "deleteNamespace deletes the request's own namespace; namespaceDeletion says what holds it",
      check: async (s) => {
        const deleted = await outcome(client(s).deleteNamespace('dev-eu', own, 7));
        const held = await settle(s, (status) => !status.gone && status.conditions.length > 0);
        return [deleted, held.gone ? held : { ...held, since: held.since instanceof Date }];
      },
    },
    {
      name: 'released, it is gone, and deleting it again is done already',
      check: async (s) => {
        await s.call('PATCH', `/api/v1/namespaces/${own}/configmaps/held`, { metadata: { finalizers: null } });
        const gone = await settle(s, (status) => status.gone);
        const again = await outcome(client(s).deleteNamespace('dev-eu', own, 7));
        await s.call('DELETE', `/api/v1/namespaces/${other}`);
        await s.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${role}`);
        await s.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`);
        return [gone, again];
      },
    },
  ];
}

/**
 * Leases, as leader election uses them: create, get, list, an update with the resourceVersion
 * read (and with a stale one, and none), invalid specs, a time that is not a MicroTime.
 */
function leaseScenario(run: string): { name: string; check: (s: Server) => Promise<unknown> }[] {
  const namespace = `${run}-lease`;
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const lease = (name: string, spec: Record<string, unknown>, resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec,
  });
  const held = {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-12-04T23:30:00.123456Z',
    renewTime: '2026-12-04T23:30:00.123456Z',
    leaseTransitions: 0,
  };
  const versions = new Map<Server, string>();
  const read = async (s: Server) => {
    const a = await s.call('GET', `${leases}/leader`);
    versions.set(s, String((a.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion));
    return a;
  };
  return [
    {
      name: 'create a Lease: 201; again: 409 AlreadyExists; get it: 200',
      check: async (s) => {
        await s.call('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
        return [await s.call('POST', leases, lease('leader', held)), await s.call('POST', leases, lease('leader', {})), await read(s)];
      },
    },
    {
      name: 'update with the resourceVersion read: 200; with a stale one: 409 Conflict; with none: 422',
      check: async (s) => {
        const taken = { ...held, holderIdentity: 'b', renewTime: '2026-12-04T23:30:20.000000Z', leaseTransitions: 1 };
        const stale = versions.get(s);
        return [
          await s.call('PUT', `${leases}/leader`, lease('leader', taken, stale)),
          await s.call('PUT', `${leases}/leader`, lease('leader', { ...taken, holderIdentity: 'c' }, stale)),
          await s.call('PUT', `${leases}/leader`, lease('leader', { ...taken, holderIdentity: 'c' })),
        ];
      },
    },
    {
      name: 'an invalid duration and transitions: 422; a renewTime that is not a MicroTime: 400',
      check: async (s) => {
        const badTime = await s.call('POST', leases, lease('bad-time', { renewTime: '2026-12-04T23:30:00.123Z' }));
        const message = String((badTime.body as { message?: unknown }).message);
        return [
          await s.call('POST', leases, lease('bad', { leaseDurationSeconds: 0, leaseTransitions: -1 })),
          { status: badTime.status, message: message.slice(0, message.indexOf('Z07:00"') + 'Z07:00"'.length) },
        ];
      },
    },
    {
      name: "LeaderElector as the bot user holding deploy/overlays/ha's Lease Role: one leads, one follows; a leader gone without a word is replaced",
      check: (s) => electors(s, `${run}-elect`),
    },
    {
      name: 'PUT of a missing Lease creates it: 201; list: both',
      check: async (s) => {
        const created = await s.call('PUT', `${leases}/other`, lease('other', { holderIdentity: 'd' }));
        const list = await s.call('GET', leases);
        await s.call('DELETE', `/api/v1/namespaces/${namespace}`);
        return [created, { status: list.status, names: (list.body as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name) }];
      },
    },
  ];
}

/** Polls until `done` holds (at most 15 s). */
async function eventually(done: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    if (await done()) return true;
    await delay(50);
  }
  return false;
}

/**
 * Two of Slipway's electors (short timings) as the bot user, which holds only the overlay's Role
 * (bound to the user here instead of the ServiceAccount) in a namespace of its own.
 */
async function electors(s: Server, namespace: string): Promise<unknown> {
  const [role, binding] = parseAllDocuments(readFileSync(new URL('../deploy/overlays/ha/leader-election-rbac.yaml', import.meta.url), 'utf8')).map(
    (d) => d.toJS() as { metadata: { name: string } },
  );
  if (!role || !binding) throw new Error('deploy/overlays/ha/leader-election-rbac.yaml holds a Role and a RoleBinding');
  await s.call('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  await s.call('POST', `${rbac}/roles`, { ...role, metadata: { name: role.metadata.name } });
  await s.call('POST', `${rbac}/rolebindings`, {
    ...binding,
    metadata: { name: binding.metadata.name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: env('REALK8S_BOT_USER') }],
  });
  const kc = new KubeConfig();
  kc.loadFromFile(s.botKubeconfig.path);
  kc.setCurrentContext(s.botKubeconfig.context);
  const api = kc.makeApiClient(CoordinationV1Api);
  const lease = coordinationLease(api, namespace, 'slipway-leader');
  const events: string[] = [];
  const candidate = (name: string) =>
    new LeaderElector({
      lease: coordinationLease(api, namespace, 'slipway-leader'),
      identity: name,
      leaseDurationMs: 1000,
      renewDeadlineMs: 600,
      retryPeriodMs: 100,
      log: createLogger('silent'),
      onStartedLeading: () => events.push(`${name} leads`),
      onStoppedLeading: () => events.push(`${name} stops`),
    });
  const [a, b] = [candidate('a'), candidate('b')];
  try {
    a.start();
    const led = await eventually(() => a.isLeader());
    b.start();
    let renewals = 0;
    let version = '';
    await eventually(async () => {
      const current = (await lease.get())?.resourceVersion ?? '';
      if (current !== version) [version, renewals] = [current, renewals + 1];
      return renewals > 10;
    });
    const followed = !b.isLeader();
    await a.stop({ release: false });
    const replaced = await eventually(() => b.isLeader());
    const taken = (await lease.get())?.record;
    await b.stop();
    const released = (await lease.get())?.record;
    return {
      led,
      followed,
      replaced,
      events,
      taken: { holder: taken?.holderIdentity, transitions: taken?.leaseTransitions },
      released: { holder: released?.holderIdentity, duration: released?.leaseDurationSeconds },
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await s.call('DELETE', `/api/v1/namespaces/${namespace}`);
  }
}

async function main(): Promise<void> {
  const real = realServer();
  const emulated = await emulatedServer();
  const run = `slipway-cmp-${Date.now().toString(36)}`;
  let differences = 0;
  try {
    for (const { name, check } of [...scenario(run), ...clientScenario(run), ...leaseScenario(run)]) {
      const [fromReal, fromEmulator] = [normalize(await check(real)), normalize(await check(emulated.server))];
      const same = JSON.stringify(fromReal) === JSON.stringify(fromEmulator);
      if (!same) differences++;
      console.log(`${same ? '✔' : '✘'} ${name}`);
      if (!same || process.env.VERBOSE) {
        console.log(`  ${real.name}: ${JSON.stringify(fromReal)}`);
        console.log(`  ${emulated.server.name}: ${JSON.stringify(fromEmulator)}`);
      }
    }
  } finally {
    await emulated.close();
  }
  console.log(differences === 0 ? 'The emulator answered as the real server did.' : `${differences} check(s) differ.`);
  process.exitCode = differences === 0 ? 0 : 1;
}

await main();
