import type { ChatPostMessageResponse, WebClient } from '@slack/web-api';
import type { Clusters } from './cluster/client.ts';
import type { Config } from './config.ts';
import type { Clock, NamespaceRequest, Run, RunKind } from './domain/requests.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { ModalOpener } from './slack/io/modal-opener.ts';
import type { SlackMessage } from './slack/text.ts';
import type { UserGroups } from './slack/io/user-groups.ts';
import type { Store } from './store/store.ts';
import type { RunTracker } from './workflows/runs/run-tracker.ts';

/** Everything a workflow needs, built once in main and passed down; tests build the same. */
export interface Deps {
  config: Config;
  store: Store;
  clusters: Clusters;
  slack: WebClient;
  /** `views.open` with a trigger id, within the trigger's 3 s. */
  modals: ModalOpener;
  /** Members of Slack user groups, kept in memory for checks on the way to an ack. */
  userGroups: UserGroups;
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
  onNamespaceReady(deps: Deps, request: NamespaceRequest, message: SlackMessage): Promise<ReadyMessage>;
  /** The kinds of durable run and how each works (provisioning, deletion). */
  runKinds: RunKinds;
  /**
   * Something about a namespace changed: it became ready, was extended, transferred, expired or
   * deleted. Lifecycle schedules its timers here, Home redraws. Called through `namespaceChanged`.
   */
  namespaceChanged: ((deps: Deps, requestId: number) => Promise<void> | void)[];
}

/**
 * Calls every `namespaceChanged` hook. A hook that fails is logged and the others still run: the
 * change itself is already recorded, and the caller's message to people matters more.
 */
export async function namespaceChanged(deps: Deps, requestId: number): Promise<void> {
  for (const hook of deps.hooks.namespaceChanged) {
    try {
      await hook(deps, requestId);
    } catch (err) {
      deps.log.error({ err, requestId }, 'a namespaceChanged hook failed');
    }
  }
}

export interface ReadyMessage {
  message: SlackMessage;
  delivered(sent: ChatPostMessageResponse): void;
}

/**
 * What the durable-run engine needs beyond the other dependencies: the runs in flight in this
 * process (for a clean shutdown), how it waits between attempts, and how often it may redraw a
 * run's progress in Slack. Only the engine reads these.
 */
export interface RunEngine {
  /** Runs executing in this process; shutdown drains them. */
  readonly runs: RunTracker;
  /** Waits between retries of a step; tests pass a fast one. */
  sleep(ms: number): Promise<void>;
  /** Least time between two progress updates of one run in Slack. */
  readonly progressIntervalMs: number;
  /** This replica's name on the runs it claims (the leader election's holderIdentity). */
  readonly identity: string;
}

/** One step of a run, bound to its request. `apply` is idempotent: a resumed run may repeat it. */
export interface BoundStep {
  /** Steps that must be done first. */
  after?: readonly string[] | undefined;
  apply(): Promise<void>;
}

/** One execution of a run on its request: what is worked out once, then used for every step and redraw. */
export interface PreparedRun {
  /** The step named `name`, or undefined if the kind has no such step. */
  step(name: string): BoundStep | undefined;
  /** The progress message in the request's thread, redrawn as steps change. */
  progress(run: Run): SlackMessage;
}

/** How one kind of run works on a request: its steps, its progress message and its endings. */
export interface RunKindHandlers {
  /** Called once per execution (start, Retry, resume), so a run renders its inputs once. */
  prepare(deps: Deps, request: NamespaceRequest): PreparedRun | Promise<PreparedRun>;
  /** After a progress redraw; `first` once per execution (provisioning redraws its card). */
  afterProgress?(deps: Deps, request: NamespaceRequest, run: Run, first: boolean): Promise<void>;
  /** The run is recorded as done (store.completeRun): events, metrics, messages. */
  done(deps: Deps, request: NamespaceRequest, run: Run): Promise<void>;
  /** The run is recorded as failed at `step`. */
  failed(deps: Deps, request: NamespaceRequest, run: Run, step: string, error: unknown): Promise<void>;
}

/** The kinds of run this process can execute; a run of another kind (a newer version's) is left alone. */
export type RunKinds = Readonly<Partial<Record<RunKind, RunKindHandlers>>>;
