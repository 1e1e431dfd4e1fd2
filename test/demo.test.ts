// `slipway demo` without a browser: what its page server refuses, the command line, and that the
// page shows what the bot sent (the form it opened, as views.open carried it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDemo } from '../src/playground/demo.ts';
import { writeConfig } from './support/bot-process.ts';
import { runCli } from './support/cli.ts';
import { exampleConfigDocument } from './support/config.ts';

/** A GET with this Host header (fetch always sends the URL's own). */
function statusWithHost(url: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

async function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

test('demo page server: listens on 127.0.0.1, shows the modal the bot opened, refuses other hosts and cross-site posts', async (t) => {
  const demo = await startDemo({ port: 0 });
  t.after(() => demo.close());
  assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  const typed = await post(`${demo.url}api/type`, { as: 'U0DEV', channel: 'C0GENERAL', text: '/platform new-namespace' });
  assert.equal(typed.status, 200);
  const state = (await (await fetch(`${demo.url}api/state?as=U0DEV`)).json()) as { modals: { id: string; title: { text: string } }[] };
  const opened = demo.slack.callsTo('views.open').at(-1);
  assert.equal(state.modals.at(-1)?.title.text, (opened?.args.view as { title: { text: string } }).title.text, 'the page shows the view the bot opened');

  // A page on another site that made its name resolve to 127.0.0.1 still sends its own name.
  assert.equal(await statusWithHost(`${demo.url}api/state?as=U0DEV`, 'attacker.example'), 421);
  assert.equal(await statusWithHost(`${demo.url}api/state?as=U0DEV`, 'localhost'), 200);
  // A plain HTML form on another site can only send simple content types.
  const crossSite = await post(`${demo.url}api/type`, { as: 'U0DEV', channel: 'C0GENERAL', text: '/platform help' }, { 'content-type': 'text/plain' });
  assert.equal(crossSite.status, 415);
  assert.equal(demo.slack.callsTo('views.open').length, 1);
});

test('demo: a command Slack does not know is answered by the client, not sent to the bot', async (t) => {
  const demo = await startDemo({ port: 0 });
  t.after(() => demo.close());
  await post(`${demo.url}api/type`, { as: 'U0DEV', channel: 'C0GENERAL', text: '/nope now' });
  const state = (await (await fetch(`${demo.url}api/state?as=U0DEV`)).json()) as { ephemerals: { text: string }[] };
  assert.match(state.ephemerals.at(-1)?.text ?? '', /\/nope is not a valid command/);
});

test('demo: a person typed as @name in a command reaches the bot as Slack escapes a mention picked from its list', async (t) => {
  const demo = await startDemo({ port: 0 });
  t.after(() => demo.close());
  await post(`${demo.url}api/type`, { as: 'U0DEV', channel: 'C0GENERAL', text: '/platform list @sam' });
  const state = (await (await fetch(`${demo.url}api/state?as=U0DEV`)).json()) as { ephemerals: { text: string }[] };
  const answer = state.ephemerals.at(-1)?.text ?? '';
  assert.doesNotMatch(answer, /can't tell who/);
  assert.match(answer, /<@U0DEV2>/, 'the answer is about sam');
});

test('slipway demo on a port in use says so and exits 1', async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const result = await runCli(['demo', '--port', String(port)]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is in use: choose another with --port`));
});

test('slipway demo --port refuses what is not a port (exit 2)', async () => {
  const result = await runCli(['demo', '--port', 'eighty']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Expected a port number/);
});

test('demo --config: the workspace has the channels and the approver that config names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-demo-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const doc = exampleConfigDocument();
  doc.slack = { ...(doc.slack as object), approvalsChannel: 'C0OURAPPROVALS' };
  doc.approvers = { users: ['U0ZED'], userGroups: [] };
  const demo = await startDemo({ port: 0, config: writeConfig(dir, doc) });
  t.after(() => demo.close());
  assert.deepEqual(
    demo.workspace.people.map((p) => [p.id, p.role]),
    [
      ['U0DEV', 'developer'],
      ['U0ZED', 'approver'],
      ['U0DEV2', 'second developer'],
    ],
  );
  const state = (await (await fetch(`${demo.url}api/state?as=U0ZED`)).json()) as { conversations: { id: string; name: string }[] };
  assert.ok(state.conversations.some((c) => c.id === 'C0OURAPPROVALS' && c.name === 'platform-approvals'));
});
