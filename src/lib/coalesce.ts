/**
 * Runs `flushFn` at most once per `intervalMs`, however often `poke` is called: the first poke
 * runs at once, later ones within the interval collapse into one trailing run. Keeps fast
 * provisioning from sending Slack a `chat.update` per step (Tier 3: ~50 per minute).
 *
 * A run started by the timer has nobody to reject to, so its failure goes to `onError`. Call
 * `close` when done: a pending run is dropped, and it resolves once the run under way has ended,
 * so nothing runs after the caller moved on (for instance after the database was closed).
 */
export function coalesce(flushFn: () => Promise<void>, intervalMs: number, onError: (err: unknown) => void) {
  let last = 0;
  let dirty = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const run = () => {
    timer = undefined;
    dirty = false;
    last = Date.now();
    running = running.then(flushFn, flushFn);
    return running;
  };

  return {
    poke(): void {
      dirty = true;
      if (timer || closed) return;
      const wait = Math.max(0, last + intervalMs - Date.now());
      timer = setTimeout(() => void run().catch(onError), wait);
    },
    /** Sends any pending update now and waits until every update sent so far is done. */
    async flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (dirty) await run();
      else await running;
    },
    /** Drops a pending update, sends no more, and waits for the one under way (never rejects). */
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running.catch(() => undefined);
    },
  };
}
