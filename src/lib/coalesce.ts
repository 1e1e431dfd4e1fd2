/**
 * Runs `flushFn` at most once per `intervalMs`, however often `poke` is called: the first poke
 * runs at once, later ones within the interval collapse into one trailing run. Keeps fast
 * provisioning from sending Slack a `chat.update` per step (Tier 3: ~50 per minute).
 */
export function coalesce(flushFn: () => Promise<void>, intervalMs: number) {
  let last = 0;
  let dirty = false;
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
      if (timer) return;
      const wait = Math.max(0, last + intervalMs - Date.now());
      timer = setTimeout(() => void run(), wait);
    },
    /** Sends any pending update now and waits until every update sent so far is done. */
    async flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (dirty) await run();
      else await running;
    },
  };
}
