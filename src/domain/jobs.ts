/**
 * A job run's durable steps (src/jobs/scheduler.ts): a step the run recorded as done is not done
 * again by the replica that takes the run over after its leader died; that replica gets what the
 * step recorded instead (e.g. the ts of the digest message already posted).
 */
export interface JobSteps {
  /** Runs `fn` unless this run recorded `name` as done, records what it returns, and returns it. */
  step(name: string, fn: () => Promise<string>): Promise<string>;
}
