import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('..', import.meta.url).pathname;

/** Runs `slipway serve` as `npm start` does, with only the given environment. */
function serve(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { status: result.status, stderr: result.stderr };
}

test('missing credentials and config stop start-up with every problem in one message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-start-'));
  const out = serve({ SLIPWAY_CONFIG: join(dir, 'missing.yaml') });
  assert.equal(out.status, 1);
  assert.match(out.stderr, /^Slipway cannot start \(3 problems\):/);
  assert.match(out.stderr, /- SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token/);
  assert.match(out.stderr, /- SLACK_SIGNING_SECRET is not set/);
  assert.match(out.stderr, /missing\.yaml: file not found\. Copy slipway\.config\.example\.yaml/);
  assert.match(out.stderr, /To try Slipway first, without a Slack app or a cluster: npm run demo/);
  assert.doesNotMatch(out.stderr, /at .*\.ts:\d+/, 'no stack trace for an operator error');
});

test('a bad config lists its problems by path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-start-'));
  const config = join(dir, 'slipway.config.yaml');
  writeFileSync(
    config,
    [
      'slack: { approvalsChannel: C0APPROVALS }',
      'approvers: { users: [U0ALICE] }',
      'clusters: [{ name: dev, type: kubeconfig, path: ./kc.yaml }]',
      'teams: [{ name: payments, costCenter: cc-1, group: payments-devs }]',
      'environments: { dev: {} }',
      'tiers: { small: { quota: { pods: 10 } } }',
    ].join('\n'),
  );
  const out = serve({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLIPWAY_CONFIG: config });
  assert.equal(out.status, 1);
  assert.match(out.stderr, /Slipway cannot start \(2 problems\):/);
  assert.match(out.stderr, /slipway\.config\.yaml: clusters\[0\]\.context: required/);
  assert.match(out.stderr, /slipway\.config\.yaml: tiers\.small\.limits: required/);
});

test('a token of the wrong kind is named', async () => {
  const out = serve({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_SIGNING_SECRET: 's', SLIPWAY_CONFIG: join(ROOT, 'slipway.config.example.yaml') });
  assert.equal(out.status, 1);
  assert.match(out.stderr, /SLACK_BOT_TOKEN does not look like a bot token: it should start with "xoxb-"/);
});

test('a DATABASE_URL that is not a PostgreSQL URL stops start-up, and its password is never shown', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLIPWAY_CONFIG: join(ROOT, 'slipway.config.example.yaml') };
  const mysql = serve({ ...base, DATABASE_URL: 'mysql://slipway:hunter2@db:3306/slipway' });
  assert.equal(mysql.status, 1);
  assert.match(
    mysql.stderr,
    /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL \(SQLite is set with DATABASE_PATH\), got "mysql:\/\/slipway:\*\*\*@db:3306\/slipway"/,
  );
  const broken = serve({ ...base, DATABASE_URL: 'postgres://slipway:hunter2@db:notaport/slipway' });
  assert.equal(broken.status, 1);
  assert.match(
    broken.stderr,
    /DATABASE_URL must be a URL like postgres:\/\/user:password@host:5432\/slipway, got "postgres:\/\/slipway:\*\*\*@db:notaport\/slipway"/,
  );
  const noDatabase = serve({ ...base, DATABASE_URL: 'postgresql://slipway:hunter2@db:5432' });
  assert.match(noDatabase.stderr, /DATABASE_URL names no database/);
  for (const out of [mysql, broken, noDatabase]) assert.doesNotMatch(out.stderr, /hunter2/);
});

test('an unreachable Slack API and a rejected token are told apart', async (t) => {
  const { SlackApiEmulator } = await import('../src/playground/slack-api.ts');
  const { freePort } = await import('./support/bot-process.ts');
  const slack = await SlackApiEmulator.start();
  t.after(() => slack.close());
  const config = join(ROOT, 'slipway.config.example.yaml');
  const base = { SLACK_SIGNING_SECRET: 's', SLIPWAY_CONFIG: config, HOST: '127.0.0.1', PORT: String(await freePort()) };
  const dir = mkdtempSync(join(tmpdir(), 'slipway-start-'));

  const closedPort = await freePort();
  const unreachable = await serveAsync({
    ...base,
    SLACK_BOT_TOKEN: 'xoxb-1',
    SLACK_API_URL: `http://127.0.0.1:${closedPort}/api/`,
    DATABASE_PATH: join(dir, 'a.db'),
  });
  assert.equal(unreachable.status, 1);
  assert.match(unreachable.stderr, new RegExp(`Slipway could not reach the Slack API at http://127\\.0\\.0\\.1:${closedPort}/api/`));

  const rejected = await serveAsync({ ...base, SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_API_URL: slack.url, DATABASE_PATH: join(dir, 'b.db') });
  assert.equal(rejected.status, 1);
  assert.match(rejected.stderr, /Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)\. Check the Bot User OAuth Token/);
  assert.doesNotMatch(rejected.stderr, /xoxb-wrong/, 'the token is never printed');
});

/** Like `serve`, but without blocking this process (an emulator may be running in it). */
function serveAsync(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}
