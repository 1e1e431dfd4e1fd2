import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeApiEmulator, writeKubeconfig } from '../../src/playground/kube-api.ts';
import { SlackApiEmulator, type SlackApiEmulatorOptions } from '../../src/playground/slack-api.ts';
import { exampleConfigDocument } from './config.ts';
import { SIGNING_SECRET } from './harness.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface BotProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Where `/readyz` and `/metrics` are served (METRICS_PORT). */
  metricsUrl: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Writes a config document to `dir/slipway.config.yaml` and returns its path. */
export function writeConfig(dir: string, doc: Record<string, unknown>): string {
  const path = join(dir, 'slipway.config.yaml');
  writeFileSync(path, stringify(doc));
  return path;
}

/** Starts the bot as `npm start` runs it, in its own process, and waits for `/healthz`. */
export async function startBotProcess(env: Record<string, string>): Promise<BotProcess> {
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port), METRICS_PORT: String(metricsPort), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  // Generous: a first start on a fresh machine compiles every module (tsx), and CI's machine may be busy.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited during start-up:\n${output}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the bot did not become healthy:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, baseUrl, metricsUrl: `http://127.0.0.1:${metricsPort}`, output: () => output, exited };
}

/**
 * What bots started as processes run against: both emulators, a temporary folder (named from
 * `dirPrefix`) with a kubeconfig for the emulated cluster, and the example config pointing its
 * first cluster at it. `env` is a bot's environment there, `start` runs a bot; when the test ends, bots still running are killed and
 * the emulators closed.
 */
export async function setUpBotProcesses(t: { after(fn: () => unknown): void }, slackOptions: SlackApiEmulatorOptions, dirPrefix: string) {
  const slack = await SlackApiEmulator.start(slackOptions);
  const kube = await KubeApiEmulator.start();
  const bots: BotProcess[] = [];
  t.after(async () => {
    for (const bot of bots) if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGKILL');
    await Promise.all(bots.map((b) => b.exited));
    await slack.close();
    await kube.close();
  });
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  await writeKubeconfig(kube, join(dir, 'kubeconfig.yaml'), { context: 'dev-eu' });
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], path: join(dir, 'kubeconfig.yaml'), context: 'dev-eu' };
  const start = async (env: Record<string, string>): Promise<BotProcess> => {
    const bot = await startBotProcess(env);
    bots.push(bot);
    return bot;
  };
  /** A bot's environment here (HTTP mode): the emulated Slack, `doc` as it is now, the database in `dir/data`. */
  const env = () => ({
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    SLIPWAY_CONFIG: writeConfig(dir, doc),
    DATABASE_PATH: join(dir, 'data', 'slipway.db'),
  });
  return { slack, kube, dir, doc, start, env };
}
