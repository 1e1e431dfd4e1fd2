import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { close, createProbeServer, listen } from '../../src/probe-server.ts';

test('a probe route that throws or rejects answers 500, and the server keeps answering', async (t) => {
  const server = createProbeServer(
    [
      { path: '/ok', handler: (_req, res) => void res.writeHead(200).end('ok') },
      { path: '/rejects', handler: () => Promise.reject(new Error('registry failed')) },
      {
        path: '/throws',
        handler: () => {
          throw new Error('boom');
        },
      },
    ],
    createLogger('silent'),
  );
  await listen(server, 0, '127.0.0.1');
  t.after(() => close(server));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const path of ['/rejects', '/throws']) {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 500, path);
    assert.doesNotMatch(await res.text(), /registry failed|boom/, 'the error stays in the log');
  }
  assert.equal((await fetch(`${base}/ok`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${base}/nowhere`)).status, 404);
  assert.equal((await fetch(`${base}/ok`)).status, 200);
});
