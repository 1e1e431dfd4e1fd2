import { readFileSync } from 'node:fs';

/**
 * CPU time the whole machine has spent busy so far, in ms (Linux `/proc/stat`, 10 ms ticks), or
 * undefined where that file does not exist. Benchmarks use it to report how much else was
 * running beside them, since every process here shares 2 cores.
 */
export function machineBusyMs(): number | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return undefined;
  }
}
