import type { ChatPostMessageResponse, WebClient } from '@slack/web-api';
import type { Clusters } from './cluster/client.ts';
import type { Config } from './config.ts';
import type { Clock, NamespaceRequest } from './domain/requests.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { ModalOpener } from './slack/io/modal-opener.ts';
import type { SlackMessage } from './slack/text.ts';
import type { Store } from './store/store.ts';
import type { RunEngine } from './workflows/runs/engine.ts';

/** Everything a workflow needs, built once in main and passed down; tests build the same. */
export interface Deps {
  config: Config;
  store: Store;
  clusters: Clusters;
  slack: WebClient;
  /** `views.open` with a trigger id, within the trigger's 3 s. */
  modals: ModalOpener;
  clock: Clock;
  log: Logger;
  /** The durable-run engine's own settings and the runs in flight (src/workflows/runs). */
  engine: RunEngine;
  metrics: Metrics;
  /** Where other features join provisioning, wired where Deps is built (src/hooks.ts). */
  hooks: Hooks;
}

/**
 * The points where one feature adds to another's behaviour. They keep the dependency one way:
 * provisioning calls a hook and never imports the feature behind it (surveys, and later others).
 */
export interface Hooks {
  /**
   * The ready DM as it will be sent (the survey adds its question after provisioning);
   * `delivered` runs once the DM went out. Must not throw: the ready message matters more.
   */
  onNamespaceReady(deps: Deps, request: NamespaceRequest, message: SlackMessage): ReadyMessage;
}

export interface ReadyMessage {
  message: SlackMessage;
  delivered(sent: ChatPostMessageResponse): void;
}
