/** What the scripts run against a real kube-apiserver share: its env, kubectl as admin, step lines. */
import { execFileSync } from 'node:child_process';

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start realk8s and source its env file (see the comment at the top of this script)`);
  return value;
}

/** kubectl as the cluster admin, for what a person (not the bot) does on the cluster. */
export function admin(...args: string[]): string {
  return execFileSync('kubectl', ['--kubeconfig', env('REALK8S_ADMIN_KUBECONFIG'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** One line per step; a step that does not hold ends the run. */
export function check(what: string, ok: unknown, detail = ''): void {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}\n`);
  if (!ok) throw new Error(`${what} did not hold`);
}
