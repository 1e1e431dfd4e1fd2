/**
 * Knows which provisioning runs are executing in this process, so shutdown can stop new steps
 * (the run stays `running` in the database and resumes at the next start) and wait for the
 * steps in flight to finish.
 */
export class RunTracker {
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The runs this process executes now, so it never starts one twice (src/workflows/runs/claims.ts). */
  private readonly runIds = new Set<number>();
  private stopping = false;
  private markStopped: () => void = () => undefined;
  /** Resolves when shutdown begins: a backoff waiting for the next attempt ends early. */
  readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));

  get draining(): boolean {
    return this.stopping;
  }

  /** Runs `work` as tracked; returns its promise. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Runs `work` as the execution of run `runId`, tracked until it settles. */
  trackRun<T>(runId: number, work: () => Promise<T>): Promise<T> {
    this.runIds.add(runId);
    const running = work().finally(() => this.runIds.delete(runId));
    return this.track(running);
  }

  executing(runId: number): boolean {
    return this.runIds.has(runId);
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** Stops new steps and waits up to `timeoutMs` for the ones in flight; true if all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    this.markStopped();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const settled = Promise.allSettled([...this.inFlight]).then(() => true as const);
    const done = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    return done;
  }
}
