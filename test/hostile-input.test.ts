import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setUpBotProcesses, writeConfig, type BotProcess } from './support/bot-process.ts';
import { SIGNING_SECRET } from './support/harness.ts';
import { signRequest } from '../src/playground/slack-requests.ts';

/**
 * Sends raw bytes over TCP and returns what came back before the server closed the connection
 * (or `idleMs` passed without more data): a request no HTTP client would send.
 */
function sendRaw(url: string, bytes: string | Buffer, idleMs = 2000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    const finish = () => {
      socket.destroy();
      resolve(received);
    };
    socket.setTimeout(idleMs, finish);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', finish);
    socket.on('close', finish);
    // A server may reset the connection while a large body is still being written.
    socket.on('error', finish);
    socket.write(bytes);
  });
}

/** The status code of a raw HTTP response, or undefined when none came. */
const statusOf = (response: string) => {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return match ? Number(match[1]) : undefined;
};

function signedPost(path: string, body: string, contentType: string): string {
  const headers = signRequest(SIGNING_SECRET, body);
  return [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

/** Requests that must get an answer (or a closed connection), never end the process. */
function hostileRequests(): { name: string; bytes: string | Buffer; expect?: (status: number | undefined) => boolean }[] {
  const fourXX = (s: number | undefined) => s !== undefined && s >= 400 && s < 500;
  return [
    { name: 'a target that is not a URL', bytes: get('http://['), expect: fourXX },
    { name: 'a path with broken percent-encoding', bytes: get('/%E0%A4%A'), expect: (s) => s !== undefined && s < 500 },
    { name: 'an unknown method on a probe path', bytes: 'BREW /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' },
    { name: 'not HTTP at all', bytes: Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), expect: fourXX },
    { name: 'a header line without a colon', bytes: 'GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', expect: fourXX },
    { name: 'a negative Content-Length', bytes: 'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', expect: fourXX },
    {
      name: 'an unsigned event',
      bytes: 'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    },
    {
      name: 'a bad signature',
      bytes: signedPost('/slack/events', '{"type":"event_callback"}', 'application/json').replace(/x-slack-signature: v0=./, 'x-slack-signature: v0=0'),
    },
    { name: 'signed JSON that does not parse', bytes: signedPost('/slack/events', '{"type":', 'application/json') },
    { name: 'a signed payload that is not JSON', bytes: signedPost('/slack/events', 'payload=%7Bnot%20json', 'application/x-www-form-urlencoded') },
    {
      name: 'a signed interaction with nothing in it',
      bytes: signedPost('/slack/events', `payload=${encodeURIComponent('{"type":"block_actions"}')}`, 'application/x-www-form-urlencoded'),
    },
    {
      name: 'a signed view submission with nothing in it',
      bytes: signedPost('/slack/events', `payload=${encodeURIComponent('{"type":"view_submission","view":{}}')}`, 'application/x-www-form-urlencoded'),
    },
    { name: 'a signed slash command with no text or user', bytes: signedPost('/slack/events', 'command=%2Fplatform', 'application/x-www-form-urlencoded') },
    { name: 'a signed event with nothing in it', bytes: signedPost('/slack/events', '{"type":"event_callback","event":{}}', 'application/json') },
    {
      name: 'a body far over the limit',
      bytes: `POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\nConnection: close\r\n\r\n${'x'.repeat(6 * 1024 * 1024)}`,
    },
    { name: 'headers and no body', bytes: 'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n' },
  ];
}

async function setUp(t: { after(fn: () => unknown): void }, socketMode: boolean) {
  const { slack, dir, doc, start } = await setUpBotProcesses(t, socketMode ? { appToken: 'xapp-1-test' } : {}, 'slipway-hostile-');
  const bot = await start({
    SLACK_BOT_TOKEN: slack.token,
    ...(socketMode ? { SLACK_APP_TOKEN: 'xapp-1-test' } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    SLACK_API_URL: slack.url,
    SLIPWAY_CONFIG: writeConfig(dir, doc),
    DATABASE_PATH: join(dir, 'slipway.db'),
  });
  return { slack, bot };
}

async function assertSurvives(bot: BotProcess, ports: Record<string, string>) {
  for (const [portName, url] of Object.entries(ports)) {
    for (const request of hostileRequests()) {
      const response = await sendRaw(url, request.bytes);
      const health = await fetch(`${url}/healthz`).catch((err: unknown) => err);
      assert.ok(health instanceof Response && health.status === 200, `${portName} stopped answering after ${request.name}:\n${bot.output()}`);
      assert.equal(bot.child.exitCode, null);
      if (request.expect) assert.ok(request.expect(statusOf(response)), `${request.name} on ${portName}: got ${response.split('\r\n')[0] || 'no answer'}`);
    }
  }
  assert.equal((await fetch(`${bot.metricsUrl}/readyz`)).status, 200, 'still ready');
}

test('no request on the Slack port or METRICS_PORT ends the bot (HTTP mode)', async (t) => {
  const { bot } = await setUp(t, false);
  await assertSurvives(bot, { PORT: bot.baseUrl, METRICS_PORT: bot.metricsUrl });
});

test('no request on the health port or METRICS_PORT ends the bot, and odd envelopes neither (Socket Mode)', async (t) => {
  const { slack, bot } = await setUp(t, true);
  await assertSurvives(bot, { PORT: bot.baseUrl, METRICS_PORT: bot.metricsUrl });

  const deadline = Date.now() + 5000;
  while (slack.socketConnections === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const [type, payload] of [
    ['slash_commands', {}],
    ['slash_commands', { command: '/platform', text: 'status R-1' }],
    ['interactive', { type: 'block_actions' }],
    ['interactive', { type: 'view_submission', view: {} }],
    ['events_api', { type: 'event_callback', event: {} }],
  ] as const) {
    await slack.sendEnvelope(type, payload, 3000).catch(() => undefined);
    assert.equal(bot.child.exitCode, null, `a ${type} envelope ${JSON.stringify(payload)} ended the bot:\n${bot.output()}`);
  }
  assert.equal((await fetch(`${bot.baseUrl}/healthz`)).status, 200);
});
