// Clocks and waiting, for code that measures.
import { performance } from 'node:perf_hooks';

/** Wall-clock ms since the epoch with sub-ms resolution (Date.now() has whole ms only). */
export const epochMs = () => performance.timeOrigin + performance.now();

/** Runs `fn` `warmUps` times untimed, then `runs` times timed: the times in ms and the last value. */
export async function timeRuns<T>(fn: () => T | Promise<T>, runs: number, warmUps = 1): Promise<{ ms: number[]; value: T }> {
  let value = await fn();
  for (let i = 1; i < warmUps; i++) value = await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = await fn();
    ms.push(performance.now() - t);
  }
  return { ms, value };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it is true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
