import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { readEnv } from '../src/env.ts';

const ROOT = new URL('..', import.meta.url).pathname;

interface Port {
  name?: string;
  port?: number;
  containerPort?: number;
  targetPort?: number | string;
  protocol?: string;
}

/** Every object in deploy/*.yaml, with the file it came from. */
function deployObjects(): { file: string; object: Record<string, unknown> }[] {
  const dir = join(ROOT, 'deploy');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((d) => d.toJS() as Record<string, unknown> | null)
        .filter((object): object is Record<string, unknown> => object !== null)
        .map((object) => ({ file, object })),
    );
}

/** Each `ports` list in an object (containers, init containers, Services), with where it is. */
function portLists(node: unknown, path = ''): { path: string; ports: Port[] }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => portLists(item, `${path}[${i}]`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'ports' && Array.isArray(value) ? [{ path: `${path}.ports`, ports: value as Port[] }] : portLists(value, `${path}.${key}`),
  );
}

test('every port in deploy/ names its protocol, so server-side apply works on 1.20 clusters too', () => {
  const lists = deployObjects().flatMap(({ file, object }) => portLists(object).map((l) => ({ ...l, where: `${file} ${String(object.kind)}` })));
  assert.ok(lists.length >= 2, 'the Deployment and the Service have ports');
  for (const { where, path, ports } of lists) {
    ports.forEach((port, i) => assert.equal(port.protocol, 'TCP', `${where} ${path}[${i}] (${port.name ?? ''}) omits protocol`));
  }
});

test('deploy/deployment.yaml probes readiness and scrapes metrics on METRICS_PORT, which the Service does not expose', () => {
  const { metricsPort, port } = readEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
  const objects = deployObjects().map((o) => o.object);
  const deployment = objects.find((o) => o.kind === 'Deployment') as {
    spec: {
      template: {
        metadata: { annotations: Record<string, string> };
        spec: {
          containers: {
            ports: Port[];
            env?: { name: string }[];
            readinessProbe: { httpGet: { path: string; port: string } };
            livenessProbe: { httpGet: { path: string; port: string } };
          }[];
        };
      };
    };
  };
  const container = deployment.spec.template.spec.containers[0];
  assert.ok(container);
  const portNamed = (name: string) => container.ports.find((p) => p.name === name)?.containerPort;
  assert.equal(portNamed(container.readinessProbe.httpGet.port), metricsPort);
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.ok(!container.env?.some((e) => e.name === 'METRICS_PORT' || e.name === 'PORT'), 'the defaults are what the manifest assumes');
  assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], String(metricsPort));
  assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/path'], '/metrics');

  const service = objects.find((o) => o.kind === 'Service') as { spec: { ports: Port[] } };
  const exposed = service.spec.ports.map((p) => (typeof p.targetPort === 'string' ? portNamed(p.targetPort) : p.targetPort));
  assert.deepEqual(exposed, [port], 'the Service exposes the Slack port only');
  assert.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), new RegExp(`^EXPOSE .*\\b${metricsPort}\\b`, 'm'));
});
