/**
 * A job run's durable steps (src/jobs/scheduler.ts): a step the run recorded as done is not done
 * again by the replica that takes the run over after its leader died; that replica gets what the
 * step recorded instead (e.g. the ts of the digest message already posted).
 */
export interface JobSteps {
  /** The job run these steps belong to; undefined outside a recorded run. */
  readonly runId: number | undefined;
  /**
   * Runs `fn` unless this run recorded `name` as done, records what it returns, and returns it.
   * `fn` gets `interrupted`: an earlier holder of the run began this step and died before it
   * recorded the end, so what the step does may have happened already (the step looks first).
   */
  step(name: string, fn: (interrupted: boolean) => Promise<string>): Promise<string>;
}
