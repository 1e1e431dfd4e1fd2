import { RunTracker } from './run-tracker.ts';

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
}

export interface RunEngineOptions {
  sleep?: (ms: number) => Promise<void>;
  progressIntervalMs?: number;
}

export function createRunEngine(options: RunEngineOptions = {}): RunEngine {
  return {
    runs: new RunTracker(),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    progressIntervalMs: options.progressIntervalMs ?? 1000,
  };
}
