import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { App, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient, WebClientEvent } from '@slack/web-api';
import { KubeClusters, type Clusters } from './cluster/client.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { systemClock, type Clock } from './domain.ts';
import type { RuntimeEnv } from './env.ts';
import { SlipwayError } from './errors.ts';
import * as decideHandlers from './handlers/decide.ts';
import * as feedbackHandlers from './handlers/feedback.ts';
import * as platformCommand from './handlers/platform-command.ts';
import * as requestHandlers from './handlers/request.ts';
import { routedApp } from './handlers/router.ts';
import * as surveyHandlers from './handlers/survey.ts';
import { Scheduler } from './jobs/scheduler.ts';
import type { Logger } from './log.ts';
import { Store } from './store/store.ts';
import { createMetrics } from './metrics.ts';
import { createModalOpener } from './modal-opener.ts';
import { resumeFeedback } from './workflows/feedback.ts';
import { resumeRuns } from './workflows/provision.ts';
import { slackErrorCode } from './workflows/present.ts';
import { checkReadiness } from './workflows/readiness.ts';
import { RunTracker } from './workflows/run-tracker.ts';

export interface SlipwayOptions {
  env: RuntimeEnv;
  config: Config;
  log: Logger;
  clock?: Clock;
  clusters?: Clusters;
  sleep?: (ms: number) => Promise<void>;
  /** Passed to the Slack WebClient; tests turn retries down. */
  slackRetries?: number;
  /** How long shutdown waits for provisioning steps in flight. */
  shutdownTimeoutMs?: number;
  /** Start the job scheduler (digest, usage refresh) with the bot; default true. */
  scheduler?: boolean;
}

export interface Slipway {
  app: App;
  deps: Deps;
  /** The scheduled jobs; started by `start()` unless turned off. */
  scheduler: Scheduler;
  /** Connects to Slack, resumes unfinished runs and listens; returns the HTTP server (HTTP mode). */
  start(): Promise<Server | undefined>;
  /**
   * Stops taking requests, lets provisioning steps in flight finish (runs pause between steps
   * and resume at the next start), then closes the database.
   */
  stop(): Promise<void>;
}

// At debug level the Slack clients dump whole request and response bodies: people's answers to
// surveys, their feedback and who they are. Those lines never reach the log (no whole payloads).
const PAYLOAD_DUMP = /^(http request (body|result)|Received a message on the WebSocket|Unable to parse an incoming WebSocket message|Calling ack\(\)|Sending a WebSocket message)/;

/** Bolt logs through the app's pino logger, so there is one log stream. */
function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => {
      // Bolt logs at debug twice per request; building the line costs more than the check.
      if (!child.isLevelEnabled('debug')) return;
      const line = text(msg);
      if (!PAYLOAD_DUMP.test(line)) child.debug(line);
    },
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Builds the bot: store, cluster clients, the Bolt app and its listeners. Nothing connects yet. */
export function createSlipway(options: SlipwayOptions): Slipway {
  const { env, config, log } = options;
  const store = Store.open(env.databasePath);
  const socketMode = env.slackAppToken !== undefined;
  const metrics = createMetrics();
  let slackAuthenticated = false;
  let routeServer: Server | undefined;
  const routes = [
    {
      // Liveness: the process answers. Nothing external is checked, so a Slack or cluster
      // outage never gets the pod restarted.
      path: '/healthz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      },
    },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        void checkReadiness(deps, slackAuthenticated).then((readiness) => {
          res.writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: readiness.ready ? 'ready' : 'not ready', checks: readiness.checks }));
        });
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        void metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        });
      },
    },
  ];

  const app = new App({
    token: env.slackBotToken,
    ...(socketMode ? { socketMode: true, appToken: env.slackAppToken } : { signingSecret: env.slackSigningSecret }),
    deferInitialization: true,
    // No listener reads context.conversation; the default in-memory store would look up (and
    // throw for) every event's channel on the way to each ack.
    convoStore: false,
    logger: boltLogger(log),
    // In HTTP mode Bolt serves the routes next to /slack/events. In Socket Mode its HTTP server
    // cannot be given a bind address, so Slipway serves them itself (see `start`).
    ...(socketMode
      ? {
          // Socket Mode's own client (apps.connections.open) reads its options from
          // installerOptions: without this it would always call slack.com, ignoring SLACK_API_URL.
          installerOptions: { clientOptions: { slackApiUrl: env.slackApiUrl } },
        }
      : { customRoutes: routes }),
    clientOptions: {
      slackApiUrl: env.slackApiUrl,
      ...(options.slackRetries !== undefined ? { retryConfig: { retries: options.slackRetries } } : {}),
    },
  });

  const deps: Deps = {
    config,
    store,
    clusters: options.clusters ?? new KubeClusters(config, { onApiError: (status) => metrics.kubernetesErrors.inc({ status: String(status) }) }),
    slack: app.client,
    modals: createModalOpener({ token: env.slackBotToken, apiUrl: env.slackApiUrl, onRateLimited: () => metrics.slackRateLimited.inc() }),
    clock: options.clock ?? systemClock,
    log,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    runs: new RunTracker(),
    progressIntervalMs: 1000,
    metrics,
  };
  app.client.on(WebClientEvent.RATE_LIMITED, () => metrics.slackRateLimited.inc());

  const scheduler = new Scheduler(deps);
  // One Bolt listener per kind of interaction, not one per button and form (see routedApp).
  const listeners = routedApp(app);
  platformCommand.register(listeners, deps);
  requestHandlers.register(listeners, deps);
  decideHandlers.register(listeners, deps);
  surveyHandlers.register(listeners, deps);
  feedbackHandlers.register(listeners, deps);
  app.error(async (err) => {
    log.error({ err, code: err.code }, 'unhandled error in a Slack listener');
  });

  return {
    app,
    deps,
    scheduler,
    async start() {
      try {
        // A short, bounded check first: the app's own client retries for up to 30 minutes,
        // which at start-up would look like a hang when Slack is unreachable.
        await new WebClient(env.slackBotToken, {
          slackApiUrl: env.slackApiUrl,
          retryConfig: { retries: 2, minTimeout: 500, maxTimeout: 2000 },
          logLevel: LogLevel.ERROR,
        }).auth.test();
        await app.init();
        slackAuthenticated = true;
      } catch (err) {
        const code = slackErrorCode(err);
        const message = code.startsWith('slack_webapi_')
          ? `Slipway could not reach the Slack API at ${env.slackApiUrl} (${err instanceof Error ? err.message : code}). Check SLACK_API_URL and the network.`
          : `Slack rejected SLACK_BOT_TOKEN (${code}). Check the Bot User OAuth Token on your app's "OAuth & Permissions" page and that the app is installed to the workspace.`;
        throw new SlipwayError('slack_auth_failed', message, { cause: err });
      }
      const listen = env.host ? { port: env.port, host: env.host } : { port: env.port };
      let server: Server | undefined;
      if (socketMode) {
        await app.start();
        routeServer = createServer((req, res) => {
          const route = routes.find((r) => r.path === new URL(req.url ?? '/', 'http://localhost').pathname && r.method.includes(req.method ?? ''));
          if (route) return route.handler(req, res);
          res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => routeServer?.listen(listen, resolve));
      } else {
        server = (await app.start(listen)) as Server;
      }
      void resumeRuns(deps).catch((err: unknown) => log.error({ err }, 'could not resume runs'));
      void resumeFeedback(deps).catch((err: unknown) => log.error({ err }, 'could not post waiting feedback'));
      if (options.scheduler !== false) scheduler.start();
      return server;
    },
    async stop() {
      // Intake first (Slack requests, scheduled jobs), then the provisioning already under way.
      await app.stop().catch((err: unknown) => log.warn({ err }, 'error while stopping the Slack listener'));
      routeServer?.closeAllConnections();
      await new Promise((resolve) => (routeServer ? routeServer.close(resolve) : resolve(undefined)));
      await scheduler.stop(5000);
      await deps.modals.close().catch((err: unknown) => log.warn({ err }, 'error while closing Slack connections'));
      const inFlight = deps.runs.size;
      const finished = await deps.runs.drain(options.shutdownTimeoutMs ?? 20_000);
      if (inFlight > 0) log.info({ runs: inFlight, finished }, finished ? 'runs paused cleanly' : 'runs still busy at shutdown; they resume at the next start');
      store.close();
    },
  };
}
