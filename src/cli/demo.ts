/**
 * `slipway demo`: starts the playground (src/playground/demo.ts), prints its one URL, and stops
 * it all on Ctrl-C. Everything listens on 127.0.0.1 and goes away with the process.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../playground/demo.ts';

export interface DemoCommandOptions {
  config?: string;
  kubeconfig?: string;
  context?: string;
  port: number;
}

export async function demo(options: DemoCommandOptions): Promise<void> {
  const kubeconfig = options.kubeconfig ?? (options.context ? (process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config')) : undefined);
  const running = await startDemo({
    port: options.port,
    ...(options.config ? { config: options.config } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
    ...(process.env.LOG_LEVEL ? { logLevel: process.env.LOG_LEVEL } : {}),
  });
  // performance.now() counts from the start of this process: loading the code included.
  const seconds = (performance.now() / 1000).toFixed(1);
  console.log(`Slipway demo (Slack workspace and ${kubeconfig ? 'your cluster' : 'an embedded cluster'}, ready in ${seconds} s): ${running.url}`);
  const shutdown = () => void running.close().finally(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
