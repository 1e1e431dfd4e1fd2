// Apps under test as processes of their own: started with a clean environment on 127.0.0.1,
// waited for until healthy, their output kept for diagnostics, and stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRun } from './run.ts';
import { sleep } from './time.ts';

/** The repository's root: processes run there, as `npm start` runs the bot. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Service {
  name: string;
  proc: ChildProcess;
  url: string;
  /** Last lines the process wrote (stdout and stderr), for diagnostics. */
  tail: string[];
  /** Pino lines at level error (50) or above, and anything else on stderr. */
  errorLines: string[];
  exited: Promise<void>;
}

/** The parent environment minus anything that would change how the apps run (e.g. SLACK_APP_TOKEN), plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(SLACK_|SLIPWAY_|BARE_|DATABASE_PATH$|PORT$|LOG_LEVEL$|NODE_OPTIONS$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Starts `node <args>` in ROOT, serving on `port` of 127.0.0.1; killed at exit if the bench dies first. */
export function startService(run: BenchRun, name: string, args: string[], env: NodeJS.ProcessEnv, port: number): Service {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  run.track(proc);
  const service: Service = {
    name,
    proc,
    url: `http://127.0.0.1:${port}`,
    tail: [],
    errorLines: [],
    exited: new Promise((resolve) => proc.once('exit', () => resolve())),
  };
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      service.tail.push(line);
      if (service.tail.length > 40) service.tail.shift();
      let level: unknown;
      try {
        level = (JSON.parse(line) as { level?: unknown }).level;
      } catch {
        // not a pino line
      }
      if ((typeof level === 'number' && level >= 50) || (level === undefined && stream === 'stderr')) service.errorLines.push(line);
    }
  };
  proc.stdout?.on('data', collect('stdout'));
  proc.stderr?.on('data', collect('stderr'));
  return service;
}

/** Waits until the service answers `GET /healthz`; throws with its last output if it exits or `timeoutMs` passes. */
export async function waitHealthy(service: Service, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.proc.exitCode !== null || service.proc.signalCode !== null) break;
    try {
      const res = await fetch(`${service.url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${service.name} did not become healthy on ${service.url}/healthz:\n${service.tail.join('\n')}`);
}

/** SIGTERM, then SIGKILL if the process has not exited 5 s later. */
export async function stopProcess(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
