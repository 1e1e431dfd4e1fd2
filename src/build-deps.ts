import type { WebClient } from '@slack/web-api';
import { KubeClusters, type Clusters } from './cluster/client.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { systemClock, type Clock } from './domain/requests.ts';
import { featureHooks } from './hooks.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { withoutModals, type ModalOpener } from './slack/io/modal-opener.ts';
import { createUserGroups } from './slack/io/user-groups.ts';
import type { Store } from './store/store.ts';
import { createRunEngine, type RunEngineOptions } from './workflows/runs/engine.ts';

export interface DepsOptions {
  config: Config;
  store: Store;
  slack: WebClient;
  log: Logger;
  /** Opens modals within a trigger's 3 s; the CLI has no triggers and opens none. */
  modals?: ModalOpener;
  /** How often user groups' members are listed again (src/slack/io/user-groups.ts); tests shorten it. */
  userGroupRefreshMs?: number;
  metrics?: Metrics;
  clock?: Clock;
  /** Tests pass clients for their emulators; by default one per configured cluster. */
  clusters?: Clusters;
  engine?: RunEngineOptions;
}

/** The one place Deps is put together, for the bot (src/app.ts), the CLI and tests. */
export function buildDeps(options: DepsOptions): Deps {
  const metrics = options.metrics ?? createMetrics();
  const clock = options.clock ?? systemClock;
  return {
    config: options.config,
    store: options.store,
    clusters: options.clusters ?? new KubeClusters(options.config, { onApiError: (status) => metrics.kubernetesErrors.inc({ status: String(status) }) }),
    slack: options.slack,
    modals: options.modals ?? withoutModals,
    // Through the bot's token and API URL, on a client of its own (it never waits out a 429).
    userGroups: createUserGroups({
      token: options.slack.token,
      apiUrl: options.slack.slackApiUrl,
      clock,
      log: options.log,
      ...(options.userGroupRefreshMs !== undefined ? { refreshMs: options.userGroupRefreshMs } : {}),
      onRateLimited: () => metrics.slackRateLimited.inc(),
    }),
    clock,
    log: options.log,
    engine: createRunEngine(options.engine),
    metrics,
    hooks: featureHooks,
  };
}
