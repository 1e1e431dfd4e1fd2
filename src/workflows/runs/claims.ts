import type { Deps } from '../../deps.ts';
import type { RunClaim } from '../../store/runs.ts';

/**
 * Run claims: which replica executes a durable run (or a job's run, src/jobs/scheduler.ts). The
 * replica that starts or takes a run claims it in the database by compare-and-set, under its
 * identity (the leader election's holderIdentity), and renews the claim's heartbeat while it
 * works. A run whose heartbeat lapsed (its replica died) is taken over by another live replica,
 * again by compare-and-set on the claim it read, so of two replicas racing for it one wins.
 * Heartbeats are wall-clock time, as a Lease's renewals are: they say whether a process is
 * alive, not when something happened in the product (that is `deps.clock`).
 */

/** This replica's claim as of now. */
export function claimNow(deps: Pick<Deps, 'engine'>): RunClaim {
  return { holder: deps.engine.identity, at: new Date() };
}

/** Heartbeats older than this have lapsed: their holder is presumed dead. */
export function lapsedBefore(deps: Pick<Deps, 'config'>): Date {
  return new Date(Date.now() - deps.config.claims.lapseSeconds * 1000);
}

export function heartbeatMs(deps: Pick<Deps, 'config'>): number {
  return deps.config.claims.heartbeatSeconds * 1000;
}

export interface Heartbeat {
  /** True once a renewal found the claim gone (another replica took the run over). */
  readonly lost: boolean;
  stop(): void;
}

/**
 * Renews a claim every heartbeat interval until stopped; `renew` resolves false when the claim is
 * no longer this replica's. A renewal that fails (the database is briefly unreachable) is tried
 * again at the next interval: only a lapse lets another replica in.
 */
export function keepClaim(deps: Pick<Deps, 'config' | 'log'>, renew: () => Promise<boolean>, onLost: () => void = () => undefined): Heartbeat {
  let lost = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || lost) return;
    busy = true;
    renew()
      .then((held) => {
        if (held || lost) return;
        lost = true;
        onLost();
      })
      .catch((err: unknown) => deps.log.warn({ err }, 'could not renew a claim; trying again at the next heartbeat'))
      .finally(() => (busy = false));
  }, heartbeatMs(deps));
  return {
    get lost() {
      return lost;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Claims a run for this replica: one it claimed when starting it, one nobody holds, one whose
 * holder's heartbeat lapsed, or (`anyHolder`: a single replica's start, where any holder is an
 * earlier process of this one) any. False when another replica holds it, took it first, or this
 * process executes it already.
 */
export async function claimRun(deps: Deps, runId: number, anyHolder = false): Promise<boolean> {
  if (deps.engine.runs.executing(runId)) return false;
  const current = await deps.store.runClaim(runId);
  if (current?.status !== 'running') return false;
  const mine = current.holder === deps.engine.identity;
  const free = current.holder === undefined || current.heartbeatAt === undefined || current.heartbeatAt < lapsedBefore(deps).toISOString();
  if (!mine && !free && !anyHolder) return false;
  return await deps.store.claimRun(runId, claimNow(deps), current);
}

/**
 * Every heartbeat interval, looks for runs whose holder's heartbeat lapsed and executes them here
 * (`execute` claims each first). Returns a function that stops looking; it resolves once a look
 * under way has ended, so the database can be closed after it.
 */
export function watchForLapsedRuns(deps: Deps, execute: (runId: number) => Promise<void>): () => Promise<void> {
  let look: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (look || deps.engine.runs.draining) return;
    look = deps.store
      .claimableRuns(lapsedBefore(deps))
      .then((ids) => {
        for (const id of ids.filter((i) => !deps.engine.runs.executing(i))) {
          void execute(id).catch((err: unknown) => deps.log.error({ err, runId: id }, 'could not take over a run'));
        }
      })
      .catch((err: unknown) => deps.log.warn({ err }, 'could not look for runs to take over'))
      .finally(() => (look = undefined));
  }, heartbeatMs(deps));
  return async () => {
    clearInterval(timer);
    await look;
  };
}
