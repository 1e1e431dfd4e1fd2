import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSlipway } from '../src/app.ts';
import { createLogger } from '../src/log.ts';
import { SlackApiEmulator } from '../src/playground/slack-api.ts';
import Database from 'better-sqlite3';
import { slashCommandFields, valuesFor, viewSubmissionPayload } from '../src/playground/slack-requests.ts';
import { BLOCK } from '../src/slack/ids.ts';
import { exampleConfig } from './support/config.ts';
import { freePort, setUpBotProcesses } from './support/bot-process.ts';
import { APPROVALS, DEV_CHANNEL, PEOPLE, REQUEST_FORM } from './support/harness.ts';
import { waitFor } from './support/wait.ts';

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

/** A developer's `/platform new-namespace` and form submission, each an envelope over whichever connection Slack picks. */
async function requestOverSocket(slack: SlackApiEmulator, user: string, name: string): Promise<void> {
  await slack.sendEnvelope(
    'slash_commands',
    slashCommandFields({
      text: 'new-namespace',
      userId: user,
      channelId: DEV_CHANNEL,
      triggerId: slack.issueTriggerId(user),
      responseUrl: slack.issueResponseUrl({ channelId: DEV_CHANNEL, userId: user }),
    }),
  );
  const view = await waitFor(`${user}'s form`, () => slack.views.find((v) => v.userId === user && v.openedWith === 'views.open' && v.isOpen)?.view, 15_000);
  const submitted = await slack.sendEnvelope(
    'interactive',
    viewSubmissionPayload({ view, values: valuesFor(view, { ...REQUEST_FORM, [BLOCK.name]: name }), userId: user }),
  );
  slack.applySubmissionAck(view.id, submitted.payload);
}

function requestsIn(databasePath: string): { id: number; requester: string }[] {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db.prepare('SELECT id, requester FROM requests ORDER BY id').all() as { id: number; requester: string }[];
  } finally {
    db.close();
  }
}

test('two replicas in Socket Mode share the envelopes, handle each once, and one carries on when the other is killed', async (t) => {
  const before = Array.from({ length: 8 }, (_, i) => `U0DEV${i + 1}`);
  const after = Array.from({ length: 4 }, (_, i) => `U0DEV${i + 11}`);
  const { slack, start, env } = await setUpBotProcesses(
    t,
    {
      appToken: 'xapp-1-test',
      channels: [
        { id: APPROVALS, name: 'platform-approvals', members: ['U0BOT', PEOPLE.alice] },
        { id: DEV_CHANNEL, name: 'payments-dev', members: [...before, ...after] },
      ],
      users: [...before, ...after, PEOPLE.alice].map((id) => ({ id, name: id.toLowerCase() })),
      userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [] }],
    },
    'slipway-socket-replicas-',
  );
  const shared = { ...env(), SLACK_APP_TOKEN: 'xapp-1-test' };
  const first = await start(shared);
  await start(shared);
  await waitFor('both replicas connected', () => slack.socketConnections === 2, 15_000);

  await Promise.all(before.map((user, i) => requestOverSocket(slack, user, `payments-sock-${i + 1}`)));
  const replyTo = (user: string) => slack.dmWith(user);
  // A replica killed between a request's reply and its card would leave the card unposted: let
  // this batch finish first.
  await waitFor(
    'a reply and a card for every request',
    () => before.every((user) => replyTo(user).length > 0) && slack.messages(APPROVALS).length === before.length,
    15_000,
  );
  const spread = slack.envelopes;
  assert.ok(
    spread.every((d) => d.outcome === 'acked' && d.retryAttempt === 0),
    'every envelope was acknowledged the first time',
  );
  for (const type of ['slash_commands', 'interactive'] as const) {
    assert.deepEqual([...new Set(spread.filter((d) => d.type === type).map((d) => d.connection))].sort(), [1, 2], `${type} went to both replicas`);
  }

  first.child.kill('SIGKILL');
  await first.exited;
  await waitFor('the killed replica to be disconnected', () => slack.socketConnections === 1, 15_000);
  await Promise.all(after.map((user, i) => requestOverSocket(slack, user, `payments-sock-${i + 11}`)));
  await waitFor('a reply to every later requester', () => after.every((user) => replyTo(user).length > 0), 15_000);
  const rest = slack.envelopes.slice(spread.length);
  assert.equal(rest.length, after.length * 2);
  assert.ok(
    rest.every((d) => d.outcome === 'acked' && d.connection === 2),
    'the surviving replica took the rest',
  );

  // Settled: late duplicates would have arrived by the time every card is posted.
  const everyone = [...before, ...after];
  await waitFor('a card per request', () => slack.messages(APPROVALS).length >= everyone.length, 15_000);
  const requests = requestsIn(env().DATABASE_PATH);
  assert.deepEqual(requests.map((r) => r.requester).sort(), [...everyone].sort(), 'one request per submission');
  assert.equal(slack.messages(APPROVALS).length, everyone.length, 'one request card each');
  for (const user of everyone) assert.equal(replyTo(user).length, 1, `${user} got one reply`);
});
