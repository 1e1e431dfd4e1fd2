import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../src/config.ts';
import { createSlipway, type Slipway } from '../../src/app.ts';
import type { Clusters } from '../../src/cluster/client.ts';
import type { Clock } from '../../src/domain/requests.ts';
import { BLOCK } from '../../src/slack/ids.ts';
import type { RuntimeEnv } from '../../src/env.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { KubeApiEmulator, writeKubeconfig, type KubeApiEmulatorOptions } from '../../src/playground/kube-api.ts';
import {
  SlackApiEmulator,
  type ChannelSpec,
  type EmulatedMessage,
  type EmulatedView,
  type UserGroupSpec,
  type UserSpec,
} from '../../src/playground/slack-api.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from './config.ts';
import {
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
  valuesFor,
  type Answer,
  type DeliveryOptions,
  type SlackReply,
} from '../../src/playground/slack-requests.ts';
import { waitFor } from './wait.ts';
import { freshPostgresDatabase } from './stores.ts';
import type { Engine } from '../../src/store/db.ts';

export const SIGNING_SECRET = 'test-signing-secret';
export const APPROVALS = 'C0APPROVALS';
export const PLATFORM = 'C0PLATFORM';
export const DEV_CHANNEL = 'C0DEV';

/** The request form's answers for a medium staging namespace for payments on dev-eu (name left to the form). */
export const REQUEST_FORM = {
  [BLOCK.team]: 'payments',
  [BLOCK.environment]: 'staging',
  [BLOCK.cluster]: 'dev-eu',
  [BLOCK.tier]: 'medium',
  [BLOCK.purpose]: 'Load tests for the new checkout service',
};

/** People in the test workspace; approvers match the example config. */
export const PEOPLE = {
  dev: 'U0DEV', // a developer on the payments team
  alice: 'U0ALICE', // approver (listed by id)
  bob: 'U0BOB', // approver (listed by id)
  carol: 'U0CAROL', // approver through the S0PLATFORM user group
  mallory: 'U0MALLORY', // not an approver
} as const;

interface TestContext {
  after(fn: () => unknown): void;
}

export interface HarnessOptions {
  /** Edits the example config document before it is validated. */
  configure?: (doc: Record<string, unknown>) => void;
  kube?: KubeApiEmulatorOptions;
  /** Retries of the bot's Slack WebClient (default 0); 429s are waited out when above 0. */
  slackRetries?: number;
  /** Builds the cluster access (e.g. with EKS credentials fixed); default from the config. */
  clusters?: (config: Config) => Clusters;
  /** The bot's clock (default the wall clock). */
  clock?: Clock;
  /** Start the job scheduler with the bot (default false: tests run jobs themselves). */
  scheduler?: boolean;
  /** More channels and users in the Slack emulator (e.g. a pulse channel with a bot member). */
  channels?: ChannelSpec[];
  users?: UserSpec[];
  /** More Slack user groups (e.g. a team's). */
  userGroups?: UserGroupSpec[];
  /** The bot's logger (default a silent one, or TEST_LOG_LEVEL). */
  log?: Logger;
  /** How often the bot lists its user groups' members again (default the bot's own, minutes). */
  userGroupRefreshMs?: number;
  /** The engine under the bot: a SQLite file (default), or a fresh database on the test file's PostgreSQL server (test/support/stores.ts). */
  engine?: Engine;
}

/**
 * The running bot wired to local emulators: the Slack Web API emulator, the Kubernetes API
 * emulator (through a kubeconfig file) and a SQLite file (or a PostgreSQL database), with signed
 * requests going in over HTTP.
 */
export interface Harness {
  slack: SlackApiEmulator;
  kube: KubeApiEmulator;
  slipway: Slipway;
  config: Config;
  baseUrl: string;
  /** Where `/readyz` and `/metrics` are served (METRICS_PORT, not the Slack port). */
  metricsUrl: string;
  /** Every backoff the bot asked to sleep, in ms (the harness does not really wait). */
  sleeps: number[];
  command(user: string, text: string, options?: DeliveryOptions & { channel?: string }): Promise<SlackReply>;
  /** Submits the last modal the bot opened, answering by block id. */
  submit(user: string, answers: Record<string, Answer>, options?: DeliveryOptions & { view?: EmulatedView }): Promise<SlackReply>;
  /** Clicks a button in a message the bot posted (`blockId` when the action id is in several blocks). */
  click(user: string, message: EmulatedMessage, actionId: string, options?: DeliveryOptions & { blockId?: string; via?: string }): Promise<SlackReply>;
  /** The latest request card in the approvals channel. */
  card(): EmulatedMessage;
  /**
   * Stops the bot and starts a new one on the same database, config and emulators, as a restart
   * of the process would (`scheduler`: start the job scheduler this time, with its catch-up).
   */
  restart(options?: { scheduler?: boolean }): Promise<void>;
  /**
   * Starts another bot on the same database, config and emulators, beside this one, as a second
   * replica would run (its own HTTP and metrics ports); stopped when the test ends.
   */
  startReplica(options?: { scheduler?: boolean }): Promise<{ slipway: Slipway; baseUrl: string; metricsUrl: string }>;
  /** Waits until the condition holds (background work after an ack), or fails with `what`. */
  waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number): Promise<T>;
}

export async function startHarness(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const everyone = [...Object.values(PEOPLE)];
  const slack = await SlackApiEmulator.start({
    channels: [
      { id: APPROVALS, name: 'platform-approvals', members: ['U0BOT', PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, PEOPLE.mallory, PEOPLE.dev] },
      { id: PLATFORM, name: 'platform', members: ['U0BOT', PEOPLE.alice, PEOPLE.bob] },
      { id: DEV_CHANNEL, name: 'payments-dev', members: [PEOPLE.dev, PEOPLE.alice] },
      ...(options.channels ?? []),
    ],
    users: [...everyone.map((id) => ({ id, name: id.slice(2).toLowerCase() })), ...(options.users ?? [])],
    userGroups: [{ id: 'S0PLATFORM', handle: 'platform-team', users: [PEOPLE.carol] }, ...(options.userGroups ?? [])],
  });
  // Torn down in reverse: the bot first (it drains its runs), then the servers it talks to.
  const teardown: (() => unknown)[] = [() => slack.close()];
  t.after(async () => {
    for (const step of teardown.reverse()) await step();
  });
  const kube = await KubeApiEmulator.start(options.kube);
  teardown.push(() => kube.close());

  const dir = mkdtempSync(join(tmpdir(), 'slipway-e2e-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeKubeconfig(kube, kubeconfig, { context: 'dev-eu' });
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], path: kubeconfig, context: 'dev-eu' };
  options.configure?.(doc);
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);

  const env: RuntimeEnv = {
    slackBotToken: slack.token,
    slackSigningSecret: SIGNING_SECRET,
    slackAppToken: undefined,
    slackApiUrl: slack.url,
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    configPath: EXAMPLE_CONFIG_PATH,
    databasePath: join(dir, 'slipway.db'),
    databaseUrl: options.engine === 'postgres' ? await freshPostgresDatabase() : undefined,
    logLevel: 'silent',
  };
  const sleeps: number[] = [];
  const boot = async (scheduler: boolean) => {
    const slipway = await createSlipway({
      env,
      config,
      log: options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((resolve) => setImmediate(resolve));
      },
      slackRetries: options.slackRetries ?? 0,
      ...(options.clusters ? { clusters: options.clusters(config) } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.userGroupRefreshMs !== undefined ? { userGroupRefreshMs: options.userGroupRefreshMs } : {}),
      scheduler,
    });
    const server = await slipway.start();
    teardown.push(() => slipway.stop());
    if (!server) throw new Error('expected an HTTP server');
    return {
      slipway,
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      metricsUrl: `http://127.0.0.1:${slipway.metricsPort() ?? 0}`,
    };
  };
  const booted = await boot(options.scheduler ?? false);

  const harness: Harness = {
    slack,
    kube,
    ...booted,
    config,
    sleeps,
    async restart(restartOptions = {}) {
      await harness.slipway.stop();
      Object.assign(harness, await boot(restartOptions.scheduler ?? options.scheduler ?? false));
    },
    startReplica: (replicaOptions = {}) => boot(replicaOptions.scheduler ?? false),
    command: (user, text, opts = {}) =>
      sendSlashCommand(harness.baseUrl, SIGNING_SECRET, {
        ...opts,
        text,
        userId: user,
        channelId: opts.channel ?? DEV_CHANNEL,
        triggerId: slack.issueTriggerId(user),
        responseUrl: slack.issueResponseUrl({ channelId: opts.channel ?? DEV_CHANNEL, userId: user }),
      }),
    async submit(user, answers, opts = {}) {
      const view = opts.view ?? slack.lastViewOpened();
      const reply = await sendViewSubmission(harness.baseUrl, SIGNING_SECRET, {
        ...opts,
        view,
        values: valuesFor(view, answers),
        userId: user,
      });
      slack.applySubmissionAck(view.id, reply.body);
      return reply;
    },
    click: (user, message, actionId, { via, ...opts } = {}) =>
      sendBlockAction(via ?? harness.baseUrl, SIGNING_SECRET, {
        ...opts,
        userId: user,
        message,
        actionId,
        triggerId: slack.issueTriggerId(user),
        responseUrl: slack.issueResponseUrl({ channelId: message.channel, userId: user, messageTs: message.ts }),
      }),
    card() {
      const card = slack.messages(APPROVALS).at(-1);
      if (!card) throw new Error('no request card was posted');
      return card;
    },
    waitFor,
  };
  return harness;
}

/** The text of a message including its blocks, for assertions on what a person reads. */
export function readable(message: { text: string; blocks: readonly unknown[] }): string {
  const texts: string[] = [message.text];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'text' && typeof value === 'string') texts.push(value);
        else walk(value);
      }
    }
  };
  walk(message.blocks);
  return texts.join('\n');
}

/** The action ids of the buttons in a message. */
export function buttons(message: { blocks: readonly unknown[] }): string[] {
  const ids: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.type === 'button' && typeof record.action_id === 'string') ids.push(record.action_id);
      Object.values(record).forEach(walk);
    }
  };
  walk(message.blocks);
  return ids;
}
