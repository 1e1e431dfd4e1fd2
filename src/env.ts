import { EnvError } from './errors.ts';
import { databaseUrlProblem } from './lib/database-url.ts';
import { surveyKeyProblem } from './store/surveys/key.ts';

export interface RuntimeEnv {
  slackBotToken: string;
  slackSigningSecret: string;
  /** Set to run in Socket Mode (no public URL needed). */
  slackAppToken: string | undefined;
  /** Base URL of the Slack Web API, ending in `/`. */
  slackApiUrl: string;
  port: number;
  /** Port of `/readyz`, `/metrics` (and `/healthz`), kept off the port Slack reaches. */
  metricsPort: number;
  /** Address to listen on; all interfaces when unset (what a container wants). */
  host: string | undefined;
  configPath: string;
  /** The SQLite file (DATABASE_PATH); next to it the survey key file, unless configured elsewhere. */
  databasePath: string;
  /** DATABASE_URL: a PostgreSQL database used instead of the SQLite file. */
  databaseUrl?: string | undefined;
  logLevel: string;
  /** SLIPWAY_SURVEY_KEY: the survey key itself (base64 or hex), kept outside the database. */
  surveyKey?: string | undefined;
  /** SLIPWAY_SURVEY_KEY_FILE: where the survey key file is (default `survey.key` next to the database). */
  surveyKeyFile?: string | undefined;
  /** POD_NAME (the downward API): the start of this replica's leader election identity. */
  podName?: string | undefined;
  /** POD_NAMESPACE (the downward API): where the leader election Lease is, unless config says. */
  podNamespace?: string | undefined;
}

const SLACK_API_URL = 'https://slack.com/api/';

/** Reads the runtime contract from the environment, listing every problem at once. */
export function readEnv(env: NodeJS.ProcessEnv = process.env, options: { signingSecret?: boolean } = {}): RuntimeEnv {
  const problems: string[] = [];
  const botToken = env.SLACK_BOT_TOKEN?.trim() ?? '';
  const signingSecret = env.SLACK_SIGNING_SECRET?.trim() ?? '';
  const appToken = env.SLACK_APP_TOKEN?.trim() || undefined;

  if (!botToken) {
    problems.push('SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app\'s "OAuth & Permissions" page');
  } else if (!botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN does not look like a bot token: it should start with "xoxb-"');
  }
  // Socket Mode connections are authenticated by the app token; HTTP mode needs the signing secret.
  if (!signingSecret && !appToken && options.signingSecret !== false) {
    problems.push(
      'SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack app\'s "Basic Information" page (or set SLACK_APP_TOKEN to use Socket Mode)',
    );
  }
  if (appToken && !appToken.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN does not look like an app-level token: it should start with "xapp-" and have the connections:write scope');
  }

  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);
  const metricsPort = Number(env.METRICS_PORT?.trim() || 9090);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
    problems.push(`METRICS_PORT must be a port number, got "${env.METRICS_PORT}"`);
  } else if (metricsPort === port && port !== 0) {
    // Readiness and metrics must not be reachable where Slack (and so the internet) reaches the bot.
    problems.push(`METRICS_PORT must differ from PORT (both are ${port}): /readyz and /metrics are kept off the port Slack reaches`);
  }

  let slackApiUrl = env.SLACK_API_URL?.trim() || SLACK_API_URL;
  try {
    new URL(slackApiUrl);
  } catch {
    problems.push(`SLACK_API_URL must be a URL like ${SLACK_API_URL}, got "${slackApiUrl}"`);
  }
  if (!slackApiUrl.endsWith('/')) slackApiUrl += '/';

  const surveyKey = env.SLIPWAY_SURVEY_KEY?.trim() || undefined;
  const keyProblem = surveyKey && surveyKeyProblem(surveyKey);
  if (keyProblem) problems.push(keyProblem);

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  const urlProblem = databaseUrl && databaseUrlProblem(databaseUrl);
  if (urlProblem) problems.push(urlProblem);

  if (problems.length > 0) throw new EnvError(problems);
  return {
    slackBotToken: botToken,
    slackSigningSecret: signingSecret,
    slackAppToken: appToken,
    slackApiUrl,
    port,
    metricsPort,
    host: env.HOST?.trim() || undefined,
    configPath: env.SLIPWAY_CONFIG?.trim() || './slipway.config.yaml',
    databasePath: env.DATABASE_PATH?.trim() || './data/slipway.db',
    databaseUrl,
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    surveyKey,
    surveyKeyFile: env.SLIPWAY_SURVEY_KEY_FILE?.trim() || undefined,
    podName: env.POD_NAME?.trim() || undefined,
    podNamespace: env.POD_NAMESPACE?.trim() || undefined,
  };
}

/**
 * The database to open, for `Store.open`: DATABASE_URL (PostgreSQL) when set, else the SQLite
 * file DATABASE_PATH. For commands that need no Slack credentials; a malformed URL is an EnvError.
 */
export function databaseTarget(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    const problem = databaseUrlProblem(url);
    if (problem) throw new EnvError([problem]);
    return url;
  }
  return env.DATABASE_PATH?.trim() || './data/slipway.db';
}

/** The database `env` names: its PostgreSQL URL, or its SQLite file. */
export function databaseOf(env: Pick<RuntimeEnv, 'databasePath' | 'databaseUrl'>): string {
  return env.databaseUrl ?? env.databasePath;
}
