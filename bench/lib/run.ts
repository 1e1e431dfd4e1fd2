// How every benchmark runs: knobs from the environment, a time bound, cleanup on every way out
// (finished, failed, timed out, interrupted) and, as the last line of stdout, one JSON object with
// the figures (what scripts/run-bench.mjs and anyone comparing runs read).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** BENCH_ENFORCE_TARGETS=1: a missed target fails the run; otherwise it is only reported. */
export const ENFORCE_TARGETS = process.env.BENCH_ENFORCE_TARGETS === '1';

/** A knob's value: a positive whole number, or `fallback` when it is unset or anything else. */
export function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** What a benchmark's `main` gets to leave nothing behind. */
export interface BenchRun {
  /** Date.now() when the benchmark started. */
  readonly started: number;
  /** Runs `step` at cleanup: steps run last-deferred first, and one that fails does not stop the others. */
  defer(step: () => unknown): void;
  /** A new temporary folder named from `prefix`, removed at cleanup (or at exit if the process dies first). */
  tempDir(prefix: string): string;
  /** A child process to kill at exit if the process dies before the benchmark has stopped it. */
  track(child: ChildProcess): void;
}

// What a process that dies early (crash, Ctrl-C, closed pipe) still has to clean up synchronously.
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs a benchmark's `main` and exits with the code it returns (1 if it throws). `main` prints its
 * table and ends with `endWithSummary`. Past `deadlineMs` the run is cleaned up and exits 1.
 */
export function runBench(name: string, deadlineMs: number, main: (run: BenchRun) => Promise<number>): void {
  const cleanups: (() => unknown)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => console.error('cleanup:', err));
  };
  const run: BenchRun = {
    started: Date.now(),
    defer: (step) => cleanups.push(step),
    tempDir: (prefix) => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      tempDirs.add(dir);
      cleanups.push(() => {
        rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
      });
      return dir;
    },
    track: (child) => children.add(child),
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));
  // A reader that goes away (`| head`) must not crash the run before it has cleaned up.
  process.stdout.on('error', () => undefined);
  const deadline = setTimeout(() => {
    console.error(`bench:${name}: exceeded its time bound of ${deadlineMs / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, deadlineMs);

  void (async () => {
    let code = 1;
    try {
      code = await main(run);
    } catch (err) {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    } finally {
      clearTimeout(deadline);
      await cleanup();
    }
    process.exit(code);
  })();
}

/**
 * Prints the benchmark's figures as one JSON object, the last line of stdout, and returns the exit
 * code: 1 if the run was not `ok` (errors, missing messages…), or missed a target while
 * BENCH_ENFORCE_TARGETS=1; else 0.
 */
export function endWithSummary(summary: Record<string, unknown>, verdict: { ok: boolean; targetsMet: boolean }): number {
  console.log(JSON.stringify(summary));
  return verdict.ok && (verdict.targetsMet || !ENFORCE_TARGETS) ? 0 : 1;
}
