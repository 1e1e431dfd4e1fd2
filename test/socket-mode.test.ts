import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSlipway } from '../src/app.ts';
import { createLogger } from '../src/log.ts';
import { SlackApiEmulator } from '../src/playground/slack-api.ts';
import { exampleConfig } from './support/config.ts';
import { freePort } from './support/bot-process.ts';

test('in Socket Mode the bot connects through SLACK_API_URL and answers commands over the socket', async (t) => {
  const slack = await SlackApiEmulator.start({ appToken: 'xapp-1-test' });
  t.after(() => slack.close());
  const port = await freePort();
  const slipway = await createSlipway({
    env: {
      slackBotToken: slack.token,
      slackSigningSecret: '',
      slackAppToken: 'xapp-1-test',
      slackApiUrl: slack.url,
      port,
      metricsPort: 0,
      host: '127.0.0.1',
      configPath: '',
      databasePath: join(mkdtempSync(join(tmpdir(), 'slipway-socket-')), 'slipway.db'),
      logLevel: 'silent',
    },
    config: exampleConfig(),
    log: createLogger('silent'),
    scheduler: false,
  });
  await slipway.start();
  t.after(() => slipway.stop());
  assert.ok(
    slack.callsTo('apps.connections.open').some((c) => c.ok),
    'the socket URL came from the configured API',
  );
  const deadline = Date.now() + 5000;
  while (slack.socketConnections === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(slack.socketConnections, 1);

  const ack = await slack.sendEnvelope('slash_commands', {
    command: '/platform',
    text: 'help',
    user_id: 'U0DEV',
    channel_id: 'C0DEV',
    team_id: slack.teamId,
    trigger_id: slack.issueTriggerId('U0DEV'),
    response_url: slack.issueResponseUrl({ channelId: 'C0DEV', userId: 'U0DEV' }),
  });
  const payload = ack.payload as { response_type?: string; text?: string } | undefined;
  assert.equal(payload?.response_type, 'ephemeral');
  assert.match(payload?.text ?? '', /\/platform new-namespace \[name\]/);

  await slack.sendEnvelope('slash_commands', {
    command: '/platform',
    text: 'new-namespace',
    user_id: 'U0DEV',
    channel_id: 'C0DEV',
    team_id: slack.teamId,
    trigger_id: slack.issueTriggerId('U0DEV'),
    response_url: slack.issueResponseUrl({ channelId: 'C0DEV', userId: 'U0DEV' }),
  });
  while (!slack.callsTo('views.open').some((c) => c.ok) && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(slack.lastViewOpened().callback_id, 'new_namespace');

  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200, 'health routes are served in Socket Mode too');
});
