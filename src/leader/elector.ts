import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it
 * (client-node 1.x has no such helper): every candidate reads the Lease every retry period; it takes
 * the Lease when nobody holds it, or when the holder has not renewed it for the Lease's duration as
 * this candidate measures it (the holder's own timestamps are not compared with our clock, so clock
 * skew between nodes does not matter); the holder renews it every retry period and gives up leading
 * when it could not renew for the renew deadline, which is shorter than the Lease's duration, so it
 * stops before anyone else may start. Every write is an update with the resourceVersion read: of
 * two candidates, the API server lets one win (the other gets 409 Conflict).
 */

/** The Lease's spec, as leader election reads and writes it. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date;
  renewTime: Date;
  leaseTransitions: number;
}

/** The Lease on the API server: read, created, replaced. A lost race throws `LeaseConflict`. */
export interface LeaseClient {
  /** The Lease and its resourceVersion, or undefined when there is none. */
  get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  create(record: LeaseRecord): Promise<void>;
  update(record: LeaseRecord, resourceVersion: string): Promise<void>;
  /** Where the Lease is, for the log: namespace/name. */
  readonly description: string;
}

/** Another candidate wrote the Lease first (409 from a create or an update). */
export class LeaseConflict extends Error {}

export interface LeaderElectorOptions {
  lease: LeaseClient;
  /** Unique per process: the pod name (or host name) and a random part. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  /** Called when this process becomes the leader. */
  onStartedLeading(): void;
  /** Called when it stops being the leader (could not renew in time, or stopped). */
  onStoppedLeading(): void;
  /** Milliseconds of a monotonic-enough clock; tests pass their own. */
  now?: () => number;
}

/** client-go's JitterFactor: a candidate waits between 1 and 2.2 retry periods, so candidates spread out. */
const JITTER_FACTOR = 1.2;

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** The last record seen, as JSON, and when (our clock) it last changed. */
  private observed: { json: string; record: LeaseRecord; at: number } | undefined;
  private lastRenewed = 0;
  private readonly now: () => number;

  constructor(private readonly options: LeaderElectorOptions) {
    this.now = options.now ?? Date.now;
  }

  get identity(): string {
    return this.options.identity;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Starts taking part in the election; resolves at once (the loop runs in the background). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.options.log.info({ lease: this.options.lease.description, identity: this.identity }, 'leader election started');
    this.loop = this.run();
  }

  /**
   * Stops taking part. A leader first stops leading (onStoppedLeading), then, unless `release` is
   * false, hands the Lease back (no holder, duration 1 s), so another replica takes over at its
   * next try instead of after the Lease's duration: a rolling deploy does not wait for it.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (!this.leading) return;
    this.stopLeading('stopped', 'info');
    if (options.release === false) return;
    try {
      await this.release();
    } catch (err) {
      this.options.log.warn({ err, lease: this.options.lease.description }, `could not release the Lease: ${errorMessage(err)}`);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const renewed = await this.tryAcquireOrRenew();
      if (this.stopped) break;
      if (renewed) {
        this.lastRenewed = this.now();
        if (!this.leading) {
          this.leading = true;
          this.options.log.info({ lease: this.options.lease.description, identity: this.identity }, 'became the leader');
          this.options.onStartedLeading();
        }
      } else if (this.leading && this.observed?.record.holderIdentity !== this.identity) {
        // Someone else holds it (this process was paused past the Lease's duration): stop now.
        this.stopLeading(`the Lease is held by ${this.observed?.record.holderIdentity || 'nobody'}`);
      } else if (this.leading && this.now() - this.lastRenewed >= this.options.renewDeadlineMs) {
        this.stopLeading('could not renew the Lease within the renew deadline');
      }
      const { retryPeriodMs } = this.options;
      await this.sleep(this.leading ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
    }
  }

  private stopLeading(why: string, level: 'info' | 'warn' = 'warn'): void {
    this.leading = false;
    this.options.log[level]({ lease: this.options.lease.description, identity: this.identity, why }, 'stopped leading');
    this.options.onStoppedLeading();
  }

  /** One round of client-go's tryAcquireOrRenew: true when this process holds the Lease now. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { lease, identity } = this.options;
    const now = this.now();
    const fresh: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000)),
      acquireTime: new Date(now),
      renewTime: new Date(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.withDeadline(lease.get());
      if (!current) {
        await this.withDeadline(lease.create(fresh));
        this.observe(fresh);
        return true;
      }
      const { record, resourceVersion } = current;
      this.observe(record);
      const held = record.holderIdentity !== '' && record.holderIdentity !== identity;
      if (held && this.observed && this.observed.at + record.leaseDurationSeconds * 1000 > now) return false;
      const next: LeaseRecord =
        record.holderIdentity === identity
          ? { ...fresh, acquireTime: record.acquireTime, leaseTransitions: record.leaseTransitions }
          : { ...fresh, leaseTransitions: record.leaseTransitions + 1 };
      await this.withDeadline(lease.update(next, resourceVersion));
      this.observe(next);
      return true;
    } catch (err) {
      // A conflict is another candidate winning this round; anything else is worth a line.
      if (!(err instanceof LeaseConflict)) {
        this.options.log.warn({ err, lease: lease.description }, `leader election: could not read or write the Lease: ${errorMessage(err)}`);
      }
      return false;
    }
  }

  private observe(record: LeaseRecord): void {
    const json = JSON.stringify(record);
    if (this.observed?.json !== json) this.observed = { json, record, at: this.now() };
  }

  private async release(): Promise<void> {
    const current = await this.withDeadline(this.options.lease.get());
    if (!current || current.record.holderIdentity !== this.identity) return;
    const now = new Date(this.now());
    await this.withDeadline(
      this.options.lease.update(
        { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.record.leaseTransitions },
        current.resourceVersion,
      ),
    );
    this.options.log.info({ lease: this.options.lease.description, identity: this.identity }, 'released the Lease');
  }

  /** A call that hangs counts as failed after the renew deadline (client-go's renew context). */
  private async withDeadline<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.options.renewDeadlineMs} ms`)), this.options.renewDeadlineMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits `ms`, or less when stop() wakes the loop. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
