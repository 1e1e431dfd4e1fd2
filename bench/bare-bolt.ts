// Helper for bench/ack.ts (not a benchmark itself): the baseline, a Bolt app that only acks
// `/platform`. Same Bolt version, receiver (HTTPReceiver), /healthz route and Slack API URL as
// Slipway, so the ack ratio measures what Slipway adds. Env: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
// SLACK_API_URL, PORT.
//
// With BARE_OPEN_VIEW=1 it is the control that bench/ack.ts runs beside the other two: it acks,
// then opens Slipway's request form with `views.open` the way Slipway does (its modal opener),
// but with the form built once at start-up from SLIPWAY_CONFIG and no database lookup. The
// difference between it and bare is the cost of the views.open call; between it and Slipway, the
// cost of Slipway's own code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, LogLevel } from '@slack/bolt';

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const app = new App({
  token: required('SLACK_BOT_TOKEN'),
  signingSecret: required('SLACK_SIGNING_SECRET'),
  deferInitialization: true,
  logLevel: LogLevel.WARN,
  customRoutes: [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      },
    },
  ],
  clientOptions: { slackApiUrl: required('SLACK_API_URL') },
});

if (process.env.BARE_OPEN_VIEW === '1') {
  const { loadConfig } = await import('../src/config.ts');
  const { newNamespaceModal } = await import('../src/slack/provisioning/new-namespace-modal.ts');
  const { createModalOpener } = await import('../src/slack/io/modal-opener.ts');
  const view = newNamespaceModal(loadConfig(required('SLIPWAY_CONFIG')));
  const modals = createModalOpener({ token: required('SLACK_BOT_TOKEN'), apiUrl: required('SLACK_API_URL') });
  app.command('/platform', async ({ ack, command }) => {
    await ack();
    await modals.open(command.trigger_id, view);
  });
} else {
  app.command('/platform', async ({ ack }) => ack());
}

await app.init();
await app.start({ port: Number(required('PORT')), host: '127.0.0.1' });

const stop = () => void app.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
