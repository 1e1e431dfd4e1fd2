import type { Clock } from '../domain/requests.ts';

const DAY_MS = 86_400_000;

/** The demo's clock: the wall clock moved forward by the days the clock panel added. */
export class DemoClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(days: number): void {
    this.offsetMs += days * DAY_MS;
  }
  get offsetDays(): number {
    return Math.round(this.offsetMs / DAY_MS);
  }
}
