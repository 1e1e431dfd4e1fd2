import type { Config } from '../../config.ts';
import type { Deps } from '../../deps.ts';
import { addDays, localParts, zonedTime } from '../../lib/calendar.ts';
import type { TimerInput } from '../../store/lifecycle.ts';

/**
 * When a namespace's end date makes things happen: reminders some days before, the final notice
 * on the end date, and the end of the grace period after it. Reminders and the notice are at
 * `lifecycle.reminderTime` local time in `schedule.timezone` on their day, whatever the offset that
 * day (so 10:00 stays 10:00 across a daylight-saving change); the grace period is a duration.
 */

const HOUR_MS = 3_600_000;

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** `2026-12-07` as a calendar date. */
export function calendarDate(date: string): CalendarDate {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

export function isoDate(date: CalendarDate): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

/** The local date of an instant in `schedule.timezone`, as YYYY-MM-DD. */
export function localDate(config: Config, instant: Date): string {
  return isoDate(localParts(instant, config.schedule.timezone));
}

/** `date` moved by whole days. */
export function shiftDate(date: string, days: number): string {
  const d = calendarDate(date);
  return isoDate(addDays(d.year, d.month, d.day, days));
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const utc = (d: string) => {
    const c = calendarDate(d);
    return Date.UTC(c.year, c.month - 1, c.day);
  };
  return Math.round((utc(to) - utc(from)) / 86_400_000);
}

/** The instant of `lifecycle.reminderTime` on a local date. */
export function atReminderTime(config: Config, date: string): Date {
  const { year, month, day } = calendarDate(date);
  const [hour, minute] = config.lifecycle.reminderTime.split(':').map(Number) as [number, number];
  return zonedTime(year, month, day, hour, minute, config.schedule.timezone);
}

/** When the grace period after a final notice sent at `noticeAt` ends. */
export function graceEnd(config: Config, noticeAt: Date): Date {
  return new Date(noticeAt.getTime() + config.lifecycle.graceHours * HOUR_MS);
}

/**
 * The timers of a namespace that ends on `expiresOn`, seen at `now`. A reminder whose time has
 * passed is left out: a namespace made (or extended) two days before its end gets no "3 days
 * left" reminder.
 */
export function timersFor(config: Config, expiresOn: string, now: Date): TimerInput[] {
  const reminders = config.lifecycle.reminderDaysBefore
    .map((daysBefore): TimerInput => ({ kind: 'reminder', daysBefore, dueAt: atReminderTime(config, shiftDate(expiresOn, -daysBefore)) }))
    .filter((timer) => timer.dueAt > now)
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  const notice = atReminderTime(config, expiresOn);
  return [...reminders, { kind: 'expiry', dueAt: notice }, { kind: 'grace_end', dueAt: graceEnd(config, notice) }];
}

/**
 * A `namespaceChanged` hook: a live namespace with an end date and no timers yet (it just became
 * ready) gets them. Timers already there are left alone: extensions replace them themselves, and
 * a change of owner does not move them.
 */
export async function scheduleTimers(deps: Deps, requestId: number): Promise<void> {
  const lifecycle = deps.store.lifecycle;
  const ns = await lifecycle.get(requestId);
  if (!ns || ns.state !== 'active' || !ns.expiresOn || (await lifecycle.pendingTimers(requestId)).length > 0) return;
  await lifecycle.replaceTimers(requestId, timersFor(deps.config, ns.expiresOn, deps.clock.now()), deps.clock.now());
}

/**
 * At start-up: plans the timers of the live namespaces that have an end date and none. Returns how
 * many it planned. Not part of the sweep, whose cost must follow what is due, not the fleet.
 */
export async function scheduleUntimed(deps: Deps): Promise<number> {
  const batch = 500;
  let planned = 0;
  for (let after = 0; ;) {
    const ids = await deps.store.lifecycle.untimed(after, batch);
    for (const id of ids) await scheduleTimers(deps, id);
    planned += ids.length;
    if (ids.length < batch) return planned;
    after = ids[ids.length - 1] ?? after;
  }
}
