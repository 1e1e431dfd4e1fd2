import { Store } from '../store/store.ts';
import { driftLines, scanDrift } from '../workflows/drift/scan.ts';
import { depsFor, type CommandContext } from './jobs.ts';

/** `slipway drift`'s options, as the CLI parsed them. */
export interface DriftOptions {
  json?: boolean;
}

/**
 * `slipway drift [namespace] [--json]`: compares the managed namespaces on every cluster with what
 * the golden path renders today and prints each difference (config, database and cluster access;
 * no Slack). Nothing is changed.
 */
export async function driftCommand(namespace: string | undefined, options: DriftOptions, ctx: CommandContext): Promise<void> {
  const config = ctx.config();
  const store = await Store.open(ctx.database());
  try {
    const report = await scanDrift(depsFor(config, store, undefined), { namespace });
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${driftLines(report).join('\n')}\n`);
  } finally {
    await store.close();
  }
}
