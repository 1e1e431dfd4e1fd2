import { Cron } from 'croner';
import cron from 'node-cron';
import { localParts, offsetMinutes } from './calendar.ts';

/**
 * Slots of a cron schedule in a time zone, computed from any instant (node-cron only counts from
 * the real clock). croner walks the calendar; node-cron's own matcher then has the last word, so
 * the slots agree with when its timers fire: both read day-of-month AND day-of-week, a local time
 * that a spring-forward night skips is no slot, and a local time the autumn night repeats is one
 * slot, at its first occurrence.
 */

/** Five fields (minute hour day-of-month month day-of-week), as node-cron reads them and croner too. */
export function isCronExpression(expression: string): boolean {
  if (expression.trim().split(/\s+/).length !== 5 || !cron.validate(expression)) return false;
  try {
    walker(expression, 'UTC');
    return true;
  } catch {
    return false;
  }
}

export interface Schedule {
  readonly expression: string;
  readonly timeZone: string;
  /** The first slot strictly after `after`, within a year; undefined if none. */
  next(after: Date): Date | undefined;
  /** The latest slot at or before `at`, looking back at most `lookbackMs`. */
  previous(at: Date, lookbackMs: number): Date | undefined;
}

const HORIZON_MS = 366 * 86_400_000;
const HOUR_MS = 3_600_000;

// node-cron also takes full day and month names ("monday", "january"); croner takes the first three letters.
const FULL_NAMES =
  /\b(sun|mon|tue|wed|thu|fri|sat)(?:day|sday|nesday|rsday|urday)\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?:uary|ruary|ch|il|e|y|ust|tember|ober|ember)\b/gi;

function walker(expression: string, timeZone: string): Cron {
  const pattern = expression.replace(FULL_NAMES, (_, day?: string, month?: string) => day ?? month ?? '');
  // No callback: croner only computes, it starts no timer.
  return new Cron(pattern, { timezone: timeZone, mode: '5-part', domAndDow: true });
}

// node-cron keeps every task it creates in a registry of its own, so each schedule's matcher task
// is made once and reused.
const matchers = new Map<string, ReturnType<typeof cron.createTask>>();

function matcherFor(expression: string, timeZone: string) {
  const key = `${timeZone} ${expression}`;
  let task = matchers.get(key);
  if (!task) {
    // Never started: only its matcher is used.
    task = cron.createTask(expression, () => undefined, { timezone: timeZone, name: `slipway-matcher:${key}` });
    matchers.set(key, task);
  }
  return task;
}

export function schedule(expression: string, timeZone: string): Schedule {
  const runs = walker(expression, timeZone);
  const matcher = matcherFor(expression, timeZone);

  /** Whether this instant's local time already happened earlier the same night (clocks went back). */
  const repeated = (instant: Date) => {
    const shift = offsetMinutes(new Date(instant.getTime() - 3 * HOUR_MS), timeZone) - offsetMinutes(instant, timeZone);
    if (shift <= 0) return false;
    const a = localParts(instant, timeZone);
    const b = localParts(new Date(instant.getTime() - shift * 60_000), timeZone);
    return a.day === b.day && a.hour === b.hour && a.minute === b.minute;
  };
  const isSlot = (instant: Date) => matcher.match(instant) && !repeated(instant);

  return {
    expression,
    timeZone,
    next(after) {
      const horizon = after.getTime() + HORIZON_MS;
      for (let t = runs.nextRun(after); t && t.getTime() <= horizon; t = runs.nextRun(t)) {
        if (isSlot(t)) return t;
      }
      return undefined;
    },
    previous(at, lookbackMs) {
      const oldest = at.getTime() - lookbackMs;
      // croner counts back from strictly before its reference; one second later includes `at`.
      let from = new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000);
      for (;;) {
        const [t] = runs.previousRuns(1, from);
        if (!t || t.getTime() < oldest) return undefined;
        if (t <= at && isSlot(t)) return t;
        from = t;
      }
    },
  };
}
