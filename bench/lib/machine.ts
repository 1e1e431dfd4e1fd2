// CPU and memory of the machine and of processes, from Linux's /proc (USER_HZ 100: 10 ms ticks).
// Every process here shares 2 cores, so each benchmark also reports how busy the rest of the machine
// kept them: its timings are only as quiet as the box. Where /proc is missing the readings are undefined.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** CPU time the whole machine has spent busy so far (all cores, idle and iowait excluded), in ms. */
export function machineBusyMs(): number | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return undefined;
  }
}

/**
 * The fields of a `/proc/<pid>/stat` line after the command name, which may hold spaces: index 0
 * is the state, 1 the parent pid, 11 and 12 user and system time in ticks (10 ms), 13 and 14
 * those of children that exited and were waited for.
 */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) of another process so far, in ms. */
export function procCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Resident set size of another process, in MB. */
export function procRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of this process so far, in ms. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export interface LoadReading {
  /** Wall time since the measurement started, ms. */
  wallMs: number;
  /** CPU time the benchmark's own processes used meanwhile, ms. */
  benchCpuMs: number | undefined;
  /** Cores that other processes on the machine kept busy meanwhile, on average. */
  otherCores: number | undefined;
}

/**
 * Starts measuring the load beside a benchmark: `benchCpuMs` reads the CPU time of everything the
 * benchmark runs (by default this process alone). The returned function reads the load since then.
 */
export function measureLoad(benchCpuMs: () => number | undefined = ownCpuMs): () => LoadReading {
  const machineBefore = machineBusyMs();
  const benchBefore = benchCpuMs();
  const wallBefore = performance.now();
  return () => {
    const wallMs = performance.now() - wallBefore;
    const [machineAfter, benchAfter] = [machineBusyMs(), benchCpuMs()];
    const bench = benchBefore !== undefined && benchAfter !== undefined ? benchAfter - benchBefore : undefined;
    const otherCores =
      machineBefore !== undefined && machineAfter !== undefined && bench !== undefined ? Math.max(0, machineAfter - machineBefore - bench) / wallMs : undefined;
    return { wallMs, benchCpuMs: bench, otherCores };
  };
}
