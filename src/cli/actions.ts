/**
 * What each `slipway` command does; `src/cli.ts` parses the command line and loads this module only
 * to run one, so `--help` and `--version` answer without loading Bolt or the cluster clients.
 */

import { WebClient } from '@slack/web-api';
import { createSlipway } from '../app.ts';
import { KubeClusters } from '../cluster/client.ts';
import { formatDoctor, runDoctor } from '../workflows/ops/doctor.ts';
import { buildGoldenPath, goldenPathObjects, renderYaml, UnknownSettingError } from '../cluster/manifests.ts';
import { clustersFor, findCluster, loadConfig, type Config } from '../config.ts';
import { databaseTarget, readEnv, type RuntimeEnv } from '../env.ts';
import { ConfigError, EnvError, SlipwayError } from '../errors.ts';
import type { CommandContext } from './jobs.ts';
import { redactUrl } from '../lib/database-url.ts';
import { createLogger } from '../log.ts';
import { Store } from '../store/store.ts';
import { nameProblem } from '../workflows/provisioning/validate.ts';
import { eksAccess } from '../workflows/provisioning/present.ts';
import { stepsFor } from '../workflows/provisioning/steps.ts';

/** A command line that cannot work: one line, exit 2 (see src/cli.ts). */
class UsageError extends SlipwayError {
  constructor(message: string) {
    super('usage', message);
  }
}

function configPath(): string {
  return process.env.SLIPWAY_CONFIG?.trim() || './slipway.config.yaml';
}

/** Reads env and config together, so one message lists every problem with both. */
function loadStartup(options: { signingSecret?: boolean } = {}): { env: RuntimeEnv; config: Config } {
  const problems: string[] = [];
  let env: RuntimeEnv | undefined;
  let config: Config | undefined;
  try {
    env = readEnv(process.env, options);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    problems.push(...err.problems);
  }
  const path = env?.configPath ?? configPath();
  try {
    config = loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems.map((p) => `${path}: ${p}`));
  }
  if (!env || !config) {
    // Without Slack credentials this is most likely a first look: point at what needs none.
    const firstLook = env ? '' : '\nTo try Slipway first, without a Slack app or a cluster: npm run demo';
    throw new SlipwayError(
      'startup',
      `Slipway cannot start (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}${firstLook}`,
    );
  }
  return { env, config };
}

export async function serve(): Promise<void> {
  const { env, config } = loadStartup();
  const log = createLogger(env.logLevel);
  const slipway = await createSlipway({ env, config, log });
  await slipway.start();
  log.info(
    { port: env.port, mode: env.slackAppToken ? 'socket' : 'http', clusters: config.clusters.map((c) => c.name) },
    env.slackAppToken ? 'Slipway is running in Socket Mode' : `Slipway is listening on :${env.port}/slack/events`,
  );
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void slipway.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** `slipway doctor`: checks config, Slack and every cluster; exit 1 when anything is missing. */
export async function doctor(): Promise<void> {
  // Doctor talks to Slack's Web API only, so it needs the bot token but not the signing secret.
  const { env, config } = loadStartup({ signingSecret: false });
  const slack = new WebClient(env.slackBotToken, { slackApiUrl: env.slackApiUrl, retryConfig: { retries: 1 } });
  const lines = await runDoctor({ config, slack, clusters: new KubeClusters(config) });
  console.log(formatDoctor(lines));
  if (lines.some((l) => l.verdict === 'fail')) process.exitCode = 1;
}

export async function migrate(): Promise<void> {
  const target = databaseTarget();
  await (await Store.open(target)).close();
  console.log(`Database ${redactUrl(target)} is up to date.`);
}

/** `slipway render`'s options, as the CLI parsed them; team, env, tier and name are required. */
export interface RenderOptions {
  team?: string;
  env?: string;
  tier?: string;
  name?: string;
  requester?: string;
  purpose?: string;
  expires?: string;
  config?: string;
  cluster?: string;
}

export function render(values: RenderOptions): void {
  const missing = (['team', 'env', 'tier', 'name'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`render needs ${missing.map((m) => `--${m}`).join(', ')}`);
  const config = loadConfig(values.config ?? configPath());
  const name = values.name ?? '';
  const problem = nameProblem(config, name);
  if (problem) throw new UsageError(`--name "${name}": ${problem}`);
  try {
    const path = buildGoldenPath(config, {
      namespace: name,
      team: values.team ?? '',
      environment: values.env ?? '',
      tier: values.tier ?? '',
      requester: values.requester,
      purpose: values.purpose,
      expiresOn: values.expires,
    });
    const cluster = values.cluster ? findCluster(config, values.cluster) : clustersFor(config, values.env ?? '')[0];
    if (!cluster) throw new UsageError(`unknown cluster "${values.cluster}" (known: ${config.clusters.map((c) => c.name).join(', ')})`);
    const input = { cluster: cluster.name, requestId: undefined, path, access: eksAccess(config, cluster.name, values.team ?? '') };
    const header = [
      `# Rendered by \`slipway render\` for cluster ${cluster.name}: what Slipway applies (server-side apply, field manager "slipway").`,
      ...stepsFor(input).map((s, i) => `# ${i + 1}. ${s.name}: ${s.describe(input).replace(/`/g, '')}`),
    ];
    process.stdout.write(`${header.join('\n')}\n---\n${renderYaml(goldenPathObjects(path))}`);
  } catch (err) {
    if (err instanceof UnknownSettingError) throw new UsageError(err.message);
    throw err;
  }
}

/** The digest and job commands read config and the database; posting also needs SLACK_BOT_TOKEN. */
export const commandContext: CommandContext = {
  config: () => loadConfig(configPath()),
  startup: () => loadStartup({ signingSecret: false }),
  database: () => databaseTarget(),
};
