/**
 * `slipway demo`: the bot as `npm start` runs it (HTTP mode, signed requests), talking to an
 * embedded Slack workspace (the Slack Web API emulator) and an embedded cluster (the Kubernetes
 * API emulator, unless a kubeconfig is given), with a temporary database, and a web page that
 * plays Slack's client: it shows what the bot posted and sends clicks and forms as Slack does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { WebClient } from '@slack/web-api';
import { parse } from 'yaml';
import { createSlipway, type Slipway } from '../app.ts';
import { parseConfig, type Config } from '../config.ts';
import type { RuntimeEnv } from '../env.ts';
import { createLogger } from '../log.ts';
import { DemoClock } from './clock.ts';
import { KubeApiEmulator, writeKubeconfig } from './kube-api.ts';
import { SlackApiEmulator } from './slack-api.ts';
import { SlackClient } from './slack-client.ts';
import { startWebServer } from './web-server.ts';
import { demoWorkspace, type DemoWorkspace } from './workspace.ts';

export const EXAMPLE_CONFIG = new URL('../../slipway.config.example.yaml', import.meta.url).pathname;

export interface DemoOptions {
  /** The config to rehearse (default the example config). */
  config?: string;
  /** A real cluster: every configured cluster is reached through this kubeconfig (and context). */
  kubeconfig?: string;
  context?: string;
  /** The page's port on 127.0.0.1 (0: any free port). */
  port?: number;
  logLevel?: string;
}

export interface Demo {
  readonly url: string;
  readonly slack: SlackApiEmulator;
  readonly kube: KubeApiEmulator | undefined;
  readonly slipway: Slipway;
  readonly workspace: DemoWorkspace;
  readonly config: Config;
  close(): Promise<void>;
}

/** Reads the config document and points its clusters at the demo's cluster. */
async function demoConfig(options: DemoOptions, dir: string, kube: KubeApiEmulator | undefined): Promise<Config> {
  const path = resolve(options.config ?? EXAMPLE_CONFIG);
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const clusters = Array.isArray(doc.clusters) ? (doc.clusters as Record<string, unknown>[]) : [];
  doc.clusters = await Promise.all(
    clusters.map(async (cluster) => {
      // Whatever the cluster was (EKS included), the demo reaches it through a kubeconfig.
      const rest = { ...cluster };
      for (const key of ['region', 'clusterName', 'roleArn']) delete rest[key];
      const name = String(cluster.name);
      if (!kube) return { ...rest, type: 'kubeconfig', path: resolve(options.kubeconfig ?? ''), context: options.context ?? cluster.context ?? name };
      const file = join(dir, `kubeconfig-${name}.yaml`);
      await writeKubeconfig(kube, file, { context: name });
      return { ...rest, type: 'kubeconfig', path: file, context: name };
    }),
  );
  return parseConfig(doc, path, dirname(path));
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-demo-'));
  const clock = new DemoClock();
  const kube = options.kubeconfig ? undefined : await KubeApiEmulator.start();
  const config = await demoConfig(options, dir, kube);
  const workspace = demoWorkspace(config);
  const slack = await SlackApiEmulator.start({
    channels: workspace.channels,
    users: workspace.users,
    userGroups: workspace.userGroups,
    now: () => clock.now().getTime(),
  });
  // Each person has a DM with Slipway from the start, as the app's Messages tab gives them.
  const asBot = new WebClient(slack.token, { slackApiUrl: slack.url });
  for (const person of workspace.people) await asBot.conversations.open({ users: person.id });

  const env: RuntimeEnv = {
    slackBotToken: slack.token,
    slackSigningSecret: randomBytes(16).toString('hex'),
    slackAppToken: undefined,
    slackApiUrl: slack.url,
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    configPath: resolve(options.config ?? EXAMPLE_CONFIG),
    databasePath: join(dir, 'slipway.db'),
    logLevel: options.logLevel ?? 'error',
    surveyKey: randomBytes(32).toString('hex'),
  };
  // The bot as `slipway serve` builds and starts it; the demo's jobs run from the clock panel,
  // on the demo's clock, so the scheduler (which follows the wall clock) stays off.
  const slipway = await createSlipway({ env, config, log: createLogger(env.logLevel), clock, scheduler: false });
  const botServer = (await slipway.start()) as Server;
  const botUrl = `http://127.0.0.1:${(botServer.address() as AddressInfo).port}`;
  const client = new SlackClient({ slack, botUrl, signingSecret: env.slackSigningSecret, workspace, clock });
  const web = await startWebServer({ port: options.port ?? 0, client, slipway, config, clock, workspace, clusterSource: kube ? 'embedded' : 'kubeconfig' });
  const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
  return {
    url,
    slack,
    kube,
    slipway,
    workspace,
    config,
    async close() {
      web.closeAllConnections();
      await new Promise<void>((done) => web.close(() => done()));
      await slipway.stop();
      await slack.close();
      await kube?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
