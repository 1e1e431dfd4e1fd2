import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebClient } from '@slack/web-api';
import Database from 'better-sqlite3';
import { KubeClusters } from '../src/cluster/client.ts';
import { parseConfig } from '../src/config.ts';
import { Store } from '../src/store/store.ts';
import { checkSurveys } from '../src/workflows/ops/doctor-surveys.ts';
import { DEFAULT_BOT_SCOPES, SlackApiEmulator } from '../src/playground/slack-api.ts';
import { setUpBotProcesses, writeConfig } from './support/bot-process.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from './support/config.ts';
import { runCli } from './support/cli.ts';
import { readable } from './support/harness.ts';

function surveyDoc(channels: string[]): Record<string, unknown> {
  const doc = exampleConfigDocument();
  const survey = doc.survey as Record<string, unknown>;
  doc.survey = { ...survey, pulse: { ...(survey.pulse as object), channels } };
  return doc;
}

test('slipway survey open posts the pulse now, slipway survey close closes it with its results, and jobs lists the survey jobs', async (t) => {
  const slack = await SlackApiEmulator.start({
    channels: [
      { id: 'C0PULSE', name: 'developers', members: ['U0BOT', 'U0ANN', 'U0BEN'] },
      { id: 'C0PLATFORM', name: 'platform', members: ['U0BOT'] },
    ],
    users: [
      { id: 'U0ANN', name: 'ann' },
      { id: 'U0BEN', name: 'ben' },
    ],
  });
  t.after(() => slack.close());
  const dir = mkdtempSync(join(tmpdir(), 'slipway-survey-cli-'));
  const env = {
    DATABASE_PATH: join(dir, 'slipway.db'),
    SLIPWAY_CONFIG: writeConfig(dir, surveyDoc(['C0PULSE', 'C0ELSEWHERE'])),
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.url,
  };

  const open = await runCli(['survey', 'open'], env);
  assert.equal(open.code, 0, open.stderr);
  assert.match(
    open.stdout,
    /^survey open: pulse #1 posted to C0PULSE \(2 people can answer\); not posted to C0ELSEWHERE: the channel does not exist, or is private and Slipway is not in it\n$/,
  );
  const [post] = slack.messages('C0PULSE');
  assert.ok(post);
  assert.match(readable(post), /Weekly platform pulse/);

  const again = await runCli(['survey', 'open'], env);
  assert.match(again.stdout, /nothing new posted/, 'one pulse a week');

  const close = await runCli(['survey', 'close'], env);
  assert.equal(close.code, 0, close.stderr);
  assert.match(close.stdout, /^survey close: pulse #1 closed: 0 answered of 2; ease: not enough answers\n$/);
  assert.match(readable(slack.messages('C0PULSE')[0] ?? { text: '', blocks: [] }), /This pulse closed/);
  assert.equal(slack.thread('C0PULSE', post.ts).length, 1, 'results in the thread');

  const none = await runCli(['survey', 'close'], env);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /There is no open pulse to close\./);
  const usage = await runCli(['survey', 'reopen'], env);
  assert.equal(usage.code, 2, 'a command line that is not understood');
  assert.match(usage.stderr, /^error: unknown command 'reopen'\n\(Did you mean open\?\)\n\nUsage: slipway survey \[options\] \[command\]/);

  const jobs = await runCli(['jobs'], { DATABASE_PATH: env.DATABASE_PATH, SLIPWAY_CONFIG: env.SLIPWAY_CONFIG });
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stdout, /survey-open +0 10 \* \* 2 +opens the week's pulse survey[\s\S]*last run +\w{3} \w{3} \d+ \d{4}, \d\d:\d\d · ok · manual/);
  assert.match(jobs.stdout, /survey-close +\*\/15 \* \* \* \* +closes pulses whose time is up/);
  assert.match(jobs.stdout, /survey-remind +\*\/15 \* \* \* \* +sends the one reminder/);

  const store = await Store.open(env.DATABASE_PATH);
  try {
    assert.deepEqual(
      (await store.adoption.jobRuns('survey-open')).map((r) => [r.reason, r.status]),
      [
        ['manual', 'ok'],
        ['manual', 'ok'],
      ],
    );
  } finally {
    await store.close();
  }
});

test('doctor warns about a pulse channel the bot is not in, and a missing history scope', async (t) => {
  const slack = await SlackApiEmulator.start({
    scopes: DEFAULT_BOT_SCOPES.filter((s) => !s.endsWith(':history')),
    channels: [
      { id: 'C0PULSE', name: 'developers', members: ['U0BOT'] },
      { id: 'C0OUTSIDE', name: 'random', members: [] },
    ],
  });
  t.after(() => slack.close());
  const config = parseConfig(surveyDoc(['C0PULSE', 'C0OUTSIDE', 'C0GONE']), EXAMPLE_CONFIG_PATH);
  const lines = await checkSurveys({
    config,
    slack: new WebClient(slack.token, { slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
    clusters: new KubeClusters(config),
  });
  assert.deepEqual(
    lines.map((l) => [l.check, l.verdict, l.detail]),
    [
      ['pulse channel', 'ok', 'C0PULSE: the bot is a member; the pulse is posted there'],
      ['pulse channel', 'warn', 'C0OUTSIDE: the pulse is not posted there: Slipway is not a member of the channel (/invite @Slipway there)'],
      ['pulse channel', 'warn', 'C0GONE: the pulse is not posted there: the channel does not exist, or is private and Slipway is not in it'],
      [
        'feedback replies',
        'warn',
        'missing channels:history (groups:history for a private platform channel): replies in feedback threads are not relayed; add it and the message.channels event (manifest.yml) and reinstall',
      ],
    ],
  );

  // With the scopes of manifest.yml, replies are relayed.
  const full = await SlackApiEmulator.start({ channels: [{ id: 'C0PULSE', name: 'developers', members: ['U0BOT'] }] });
  t.after(() => full.close());
  const ok = await checkSurveys({
    config,
    slack: new WebClient(full.token, { slackApiUrl: full.url, retryConfig: { retries: 0 } }),
    clusters: new KubeClusters(config),
  });
  assert.deepEqual(ok.at(-1), {
    area: 'surveys',
    check: 'feedback replies',
    verdict: 'ok',
    detail: 'replies in feedback threads are relayed to their authors',
  });
});

test('the bot keeps the survey key outside the database: made at first start with a message saying where, or taken from SLIPWAY_SURVEY_KEY', async (t) => {
  const { slack, dir, doc, start } = await setUpBotProcesses(
    t,
    { channels: [{ id: 'C0APPROVALS', name: 'platform-approvals', members: ['U0BOT'] }], users: [] },
    'slipway-survey-key-',
  );
  const env = {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: slack.url,
    SLIPWAY_CONFIG: writeConfig(dir, doc),
    DATABASE_PATH: join(dir, 'data', 'slipway.db'),
  };
  const keyFile = join(dir, 'secrets', 'survey.key');
  const first = await start({ ...env, SLIPWAY_SURVEY_KEY_FILE: keyFile });
  assert.match(first.output(), new RegExp(`made a new survey key in ${keyFile.replace(/[.\\/]/g, '\\$&')}: back it up, and keep it out of database backups`));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.ok(!existsSync(join(dir, 'data', 'survey.key')), 'not next to the database when a file is configured');
  const db = new Database(env.DATABASE_PATH, { readonly: true });
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
  db.close();
  assert.ok(!tables.includes('survey_secret'), 'no key in the database');
  first.child.kill('SIGTERM');
  await first.exited;

  // A key given in the environment: no file is made.
  const fresh = { ...env, DATABASE_PATH: join(dir, 'other', 'slipway.db'), SLIPWAY_SURVEY_KEY: randomBytes(32).toString('base64') };
  const second = await start(fresh);
  assert.doesNotMatch(second.output(), /made a new survey key/);
  assert.ok(!existsSync(join(dir, 'other', 'survey.key')));
  second.child.kill('SIGTERM');
  await second.exited;

  // A key too short to be one stops start-up with the reason.
  const bad = await runCli(['serve'], { ...env, SLIPWAY_SURVEY_KEY: 'secret' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /SLIPWAY_SURVEY_KEY must hold at least 32 random bytes, base64 or hex/);
});
