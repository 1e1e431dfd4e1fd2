import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { App, ErrorCode, HTTPReceiver, LogLevel, type CustomRoute, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient, WebClientEvent } from '@slack/web-api';
import type { Clusters } from './cluster/client.ts';
import { buildDeps } from './build-deps.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import type { Clock } from './domain/requests.ts';
import { databaseOf, type RuntimeEnv } from './env.ts';
import { errorMessage, SlipwayError } from './errors.ts';
import * as changeHandlers from './handlers/change.ts';
import * as decideHandlers from './handlers/decide.ts';
import * as deleteHandlers from './handlers/delete.ts';
import * as driftHandlers from './handlers/drift.ts';
import * as feedbackHandlers from './handlers/feedback.ts';
import * as idleHandlers from './handlers/idle.ts';
import * as lifecycleHandlers from './handlers/lifecycle.ts';
import * as homeHandlers from './handlers/home.ts';
import * as platformCommand from './handlers/platform-command.ts';
import * as requestHandlers from './handlers/request.ts';
import { routedApp } from './handlers/router.ts';
import * as surveyHandlers from './handlers/survey.ts';
import { Scheduler } from './jobs/scheduler.ts';
import { LeaderElector } from './leader/elector.ts';
import { holderIdentity, leaseFromConfig } from './leader/lease.ts';
import type { Logger } from './log.ts';
import { Store } from './store/store.ts';
import { loadSurveyKey, surveyKeyCreatedMessage } from './store/surveys/key.ts';
import { createMetrics } from './metrics.ts';
import { createModalOpener } from './slack/io/modal-opener.ts';
import { close, createProbeServer, listen, type ProbeRoute } from './probe-server.ts';
import { resumeFeedback } from './workflows/surveys/feedback.ts';
import { resumeRuns } from './workflows/provisioning/provision.ts';
import { watchAuthorizingGroups } from './workflows/provisioning/approvers.ts';
import { recoverOrphans } from './workflows/provisioning/request.ts';
import { takeOverLapsedRuns } from './workflows/runs/engine.ts';
import { scheduleUntimed } from './workflows/lifecycle/timers.ts';
import { announceDeletions } from './workflows/lifecycle/delete.ts';
import { resumeUpgrades } from './workflows/drift/upgrade.ts';
import { slackErrorCode } from './slack/io/notifier.ts';
import { readinessProbe, type Readiness } from './workflows/ops/readiness.ts';

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
  /** How often the members of the user groups that authorize people are listed again; default 5 minutes. */
  userGroupRefreshMs?: number;
  /** Start the job scheduler (digest, usage refresh) with the bot; default true. */
  scheduler?: boolean;
}

export interface Slipway {
  app: App;
  deps: Deps;
  /** The scheduled jobs; started by `start()` unless turned off (with leader election, on the leader only). */
  scheduler: Scheduler;
  /** With leaderElection.enabled, this replica's part in the election, once started. */
  elector(): LeaderElector | undefined;
  /** Connects to Slack, resumes unfinished runs and listens; returns the HTTP server (HTTP mode). */
  start(): Promise<Server | undefined>;
  /** The port `/readyz` and `/metrics` are served on, once started (METRICS_PORT may be 0). */
  metricsPort(): number | undefined;
  /**
   * Stops taking requests, lets provisioning steps in flight finish (runs pause between steps
   * and resume at the next start), then closes the database.
   */
  stop(): Promise<void>;
}

/** How often the leader looks for requests a replica that died left unannounced or untold. */
const ORPHAN_CHECK_MS = 2000;

// At debug level the Slack clients dump whole request and response bodies: people's answers to
// surveys, their feedback and who they are. Those lines never reach the log (no whole payloads).
const PAYLOAD_DUMP =
  /^(http request (body|result)|Received a message on the WebSocket|Unable to parse an incoming WebSocket message|Calling ack\(\)|Sending a WebSocket message)/;

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

/**
 * The receiver Bolt would build for HTTP mode, except for requests it cannot route: a target
 * that is not a URL or a path with broken percent-encoding is the caller's mistake (400, where
 * Bolt answers 500), and the target itself is not logged (anyone on the internet chooses it).
 */
function httpReceiver(signingSecret: string, healthz: CustomRoute, logger: BoltLogger): HTTPReceiver {
  return new HTTPReceiver({
    signingSecret,
    customRoutes: [healthz],
    logger,
    dispatchErrorHandler: ({ error, response }) => {
      const code = (error as { code?: unknown }).code;
      const status = code === ErrorCode.HTTPReceiverDeferredRequestError ? 404 : code === 'ERR_INVALID_URL' || error instanceof URIError ? 400 : 500;
      if (status === 500) logger.error(`could not route a request: ${error.message}`);
      response.writeHead(status).end();
    },
  });
}

/** Builds the bot: store, cluster clients, the Bolt app and its listeners. Nothing connects yet. */
export async function createSlipway(options: SlipwayOptions): Promise<Slipway> {
  const { env, config, log } = options;
  // The survey key lives outside the database (src/store/surveys/key.ts); made on first start.
  const surveyKey = loadSurveyKey({ databasePath: env.databasePath, key: env.surveyKey, file: env.surveyKeyFile });
  if (surveyKey.created) log.warn({ file: surveyKey.source }, surveyKeyCreatedMessage(surveyKey.source));
  const store = await Store.open(databaseOf(env), { surveyKey: surveyKey.key });
  const socketMode = env.slackAppToken !== undefined;
  const metrics = createMetrics();
  let slackAuthenticated = false;
  let routeServer: Server | undefined;
  // Liveness: the process answers. Nothing external is checked, so a Slack or cluster outage
  // never gets the pod restarted. Served on both ports.
  const healthz = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    },
  };
  // Readiness and metrics call every cluster and describe the bot's insides, so they live on
  // METRICS_PORT, which is never exposed the way the Slack port is.
  const probeRoutes: ProbeRoute[] = [
    healthz,
    {
      path: '/readyz',
      handler: async (_req, res) => {
        let readiness: Readiness;
        try {
          readiness = await probeReadiness();
        } catch (err) {
          log.error({ err }, 'readiness check failed');
          res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'not ready', checks: [] }));
          return;
        }
        res.writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: readiness.ready ? 'ready' : 'not ready', checks: readiness.checks }));
      },
    },
    {
      path: '/metrics',
      handler: async (_req, res) => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      },
    },
  ];
  let probeServer: Server | undefined;

  const logger = boltLogger(log);
  const app = new App({
    token: env.slackBotToken,
    ...(socketMode ? { socketMode: true, appToken: env.slackAppToken } : { receiver: httpReceiver(env.slackSigningSecret, healthz, logger) }),
    deferInitialization: true,
    // No listener reads context.conversation; the default in-memory store would look up (and
    // throw for) every event's channel on the way to each ack.
    convoStore: false,
    logger,
    // In HTTP mode Bolt serves /healthz next to /slack/events. In Socket Mode its HTTP server
    // cannot be given a bind address, so Slipway serves it itself (see `start`).
    ...(socketMode
      ? {
          // Socket Mode's own client (apps.connections.open) reads its options from
          // installerOptions: without this it would always call slack.com, ignoring SLACK_API_URL.
          installerOptions: { clientOptions: { slackApiUrl: env.slackApiUrl } },
        }
      : {}),
    clientOptions: {
      slackApiUrl: env.slackApiUrl,
      ...(options.slackRetries !== undefined ? { retryConfig: { retries: options.slackRetries } } : {}),
    },
  });

  // This replica's name, on the Lease and on the runs it claims (src/workflows/runs/claims.ts).
  const identity = holderIdentity(env);
  const deps = buildDeps({
    config,
    store,
    slack: app.client,
    log,
    metrics,
    modals: createModalOpener({ token: env.slackBotToken, apiUrl: env.slackApiUrl, onRateLimited: () => metrics.slackRateLimited.inc() }),
    ...(options.userGroupRefreshMs !== undefined ? { userGroupRefreshMs: options.userGroupRefreshMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.clusters ? { clusters: options.clusters } : {}),
    engine: { identity, ...(options.sleep ? { sleep: options.sleep } : {}) },
  });
  const probeReadiness = readinessProbe(deps, () => slackAuthenticated);
  app.client.on(WebClientEvent.RATE_LIMITED, () => metrics.slackRateLimited.inc());

  const scheduler = new Scheduler(deps);
  let elector: LeaderElector | undefined;
  let stopWatchingRuns: (() => Promise<void>) | undefined;
  let stopping = false;
  let resumed = false;
  // Work a replica that died left undone after acking, looked for by the leader (recoverOrphans).
  const recovering = new Set<string>();
  let resumedOrphans = false;
  let orphanWatch: NodeJS.Timeout | undefined;
  /** The look for unfinished requests under way, awaited before the database closes. */
  let orphanCheck: Promise<void> | undefined;
  const watchOrphans = (on: boolean) => {
    clearInterval(orphanWatch);
    orphanWatch = undefined;
    if (!on) return;
    const check = (anyAge = false) => {
      if (orphanCheck) return;
      orphanCheck = recoverOrphans(deps, recovering, anyAge)
        .catch((err: unknown) => log.error({ err }, 'could not look for unfinished requests'))
        .finally(() => (orphanCheck = undefined));
    };
    // The only replica, starting: what is unfinished was left by a process that is gone.
    check(!config.leaderElection.enabled && !resumedOrphans);
    resumedOrphans = true;
    orphanWatch = setInterval(check, ORPHAN_CHECK_MS);
  };
  /**
   * What one replica does for all (the leader, with leader election): announce finished deletions,
   * resume unfinished runs, post waiting feedback, plan missing expiry timers (once per process:
   * a replica that leads again must not start its own runs a second time), and run the jobs.
   */
  const startLeaderWork = async () => {
    if (stopping) return;
    if (!resumed) {
      resumed = true;
      // Read before runs resume, so a deletion finishing now is not told twice.
      void announceDeletions(deps).catch((err: unknown) => log.error({ err }, 'could not tell owners about finished deletions'));
      // Without leader election this is the only replica: runs another process claimed are that
      // process's, which is gone, so they continue now rather than once their heartbeat lapses.
      void resumeRuns(deps, !config.leaderElection.enabled).catch((err: unknown) => log.error({ err }, 'could not resume runs'));
      void resumeUpgrades(deps).catch((err: unknown) => log.error({ err }, 'could not resume upgrades'));
      void resumeFeedback(deps).catch((err: unknown) => log.error({ err }, 'could not post waiting feedback'));
      try {
        const planned = await scheduleUntimed(deps);
        if (planned > 0) log.info({ namespaces: planned }, 'planned the expiry timers of namespaces that had none');
      } catch (err) {
        log.error({ err }, 'could not plan expiry timers');
      }
    }
    watchOrphans(true);
    if (options.scheduler !== false) scheduler.start();
  };

  // One Bolt listener per kind of interaction, not one per button and form (see routedApp).
  const listeners = routedApp(app);
  platformCommand.register(listeners, deps);
  requestHandlers.register(listeners, deps);
  decideHandlers.register(listeners, deps);
  surveyHandlers.register(listeners, deps);
  feedbackHandlers.register(listeners, deps);
  lifecycleHandlers.register(listeners, deps);
  idleHandlers.register(listeners, deps);
  deleteHandlers.register(listeners, deps);
  changeHandlers.register(listeners, deps);
  homeHandlers.register(listeners, deps);
  driftHandlers.register(listeners, deps);
  app.error(async (err) => {
    log.error({ err, code: err.code }, 'unhandled error in a Slack listener');
  });

  return {
    app,
    deps,
    scheduler,
    elector: () => elector,
    metricsPort() {
      const address = probeServer?.address();
      return address && typeof address === 'object' ? address.port : undefined;
    },
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
      // Every replica: the members of the user groups that authorize people, listed before the
      // first click can come and kept fresh, so no click waits on Slack for them before its ack.
      await watchAuthorizingGroups(deps);
      const listenOn = env.host ? { port: env.port, host: env.host } : { port: env.port };
      let server: Server | undefined;
      if (socketMode) {
        await app.start();
        routeServer = createProbeServer([healthz], log);
        await listen(routeServer, env.port, env.host);
      } else {
        server = (await app.start(listenOn)) as Server;
      }
      probeServer = createProbeServer(probeRoutes, log);
      try {
        await listen(probeServer, env.metricsPort, env.host);
      } catch (err) {
        throw new SlipwayError('metrics_port', `Slipway could not listen on METRICS_PORT ${env.metricsPort} (${errorMessage(err)}). Choose a free port.`, {
          cause: err,
        });
      }
      // Every replica takes over runs whose replica died, leader or not.
      stopWatchingRuns = takeOverLapsedRuns(deps);
      const election = config.leaderElection;
      if (!election.enabled) {
        await startLeaderWork();
        return server;
      }
      const lease = await leaseFromConfig(config, env);
      elector = new LeaderElector({
        lease,
        identity,
        leaseDurationMs: election.leaseDurationSeconds * 1000,
        renewDeadlineMs: election.renewDeadlineSeconds * 1000,
        retryPeriodMs: election.retryPeriodSeconds * 1000,
        log,
        onStartedLeading: () => void startLeaderWork(),
        // Jobs already running finish; the job table keeps a new leader from repeating them.
        onStoppedLeading: () => {
          watchOrphans(false);
          void scheduler.stop();
        },
      });
      elector.start();
      return server;
    },
    async stop() {
      // Intake first (Slack requests, scheduled jobs), then the provisioning already under way.
      // Leading from now on starts nothing.
      stopping = true;
      watchOrphans(false);
      await stopWatchingRuns?.();
      await orphanCheck;
      await app.stop().catch((err: unknown) => log.warn({ err }, 'error while stopping the Slack listener'));
      await deps.userGroups.stop();
      await close(routeServer);
      await close(probeServer);
      await scheduler.stop(5000);
      // The Lease goes back once the jobs are done, so the next leader starts at once.
      await elector?.stop();
      await deps.modals.close().catch((err: unknown) => log.warn({ err }, 'error while closing Slack connections'));
      const inFlight = deps.engine.runs.size;
      const finished = await deps.engine.runs.drain(options.shutdownTimeoutMs ?? 20_000);
      if (inFlight > 0) log.info({ runs: inFlight, finished }, finished ? 'runs paused cleanly' : 'runs still busy at shutdown; they resume at the next start');
      await store.close();
    },
  };
}
