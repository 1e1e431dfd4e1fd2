import cron from 'node-cron';
import { addDays, localParts, zonedTime } from '../workflows/calendar.ts';

/**
 * Slots of a cron schedule in a time zone, computed from any instant (node-cron only counts from
 * the real clock). node-cron's own matcher decides what matches, so this agrees with when its
 * timers fire, DST included.
 */

/** Five fields (minute hour day-of-month month day-of-week), as node-cron reads them. */
export function isCronExpression(expression: string): boolean {
  return expression.trim().split(/\s+/).length === 5 && cron.validate(expression);
}

export interface Schedule {
  readonly expression: string;
  readonly timeZone: string;
  /** The first slot strictly after `after`, within a year; undefined if none. */
  next(after: Date): Date | undefined;
  /** The latest slot at or before `at`, looking back at most `lookbackMs`. */
  previous(at: Date, lookbackMs: number): Date | undefined;
}

const HORIZON_DAYS = 366;

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
  const fields = cron.parse(expression);
  const matcher = matcherFor(expression, timeZone);
  const times = fields.hour.flatMap((hour) => fields.minute.map((minute) => ({ hour, minute })));
  const matches = (instant: Date) => matcher.match(instant);

  /** Candidate instants of one local day, in order; `keep` filters by local time first. */
  const slotsOfDay = (day: { year: number; month: number; day: number }, keep: (minuteOfDay: number) => boolean) => {
    const out: Date[] = [];
    for (const t of times) {
      if (!keep(t.hour * 60 + t.minute)) continue;
      const instant = zonedTime(day.year, day.month, day.day, t.hour, t.minute, timeZone);
      if (matches(instant)) out.push(instant);
    }
    return out;
  };

  return {
    expression,
    timeZone,
    next(after) {
      const p = localParts(after, timeZone);
      const nowMinute = p.hour * 60 + p.minute;
      for (let i = 0; i <= HORIZON_DAYS; i++) {
        const day = addDays(p.year, p.month, p.day, i);
        // On the first day, skip times well before now (two hours of slack covers any DST shift).
        const slot = slotsOfDay(day, (m) => i > 0 || m >= nowMinute - 120).find((s) => s > after);
        if (slot) return slot;
      }
      return undefined;
    },
    previous(at, lookbackMs) {
      const p = localParts(at, timeZone);
      const nowMinute = p.hour * 60 + p.minute;
      const days = Math.ceil(lookbackMs / 86_400_000) + 1;
      for (let i = 0; i <= days; i++) {
        const day = addDays(p.year, p.month, p.day, -i);
        const slots = slotsOfDay(day, (m) => i > 0 || m <= nowMinute + 120).filter((s) => s <= at);
        const slot = slots.at(-1);
        if (slot) return at.getTime() - slot.getTime() <= lookbackMs ? slot : undefined;
      }
      return undefined;
    },
  };
}
