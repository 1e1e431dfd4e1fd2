/**
 * Wall-clock time in an IANA time zone, without a date library: weeks for the adoption metrics and
 * slots for the job schedules. Weeks run Monday 00:00 to Monday 00:00 local time, so the week of
 * a DST change has 167 or 169 hours.
 */

/** A day in milliseconds: 24 hours, for durations (a local calendar day can be 23 or 25 hours). */
export const DAY_MS = 86_400_000;

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 1 = Monday … 7 = Sunday (ISO). */
  weekday: number;
}

/**
 * One `Intl.DateTimeFormat` per time zone for a set of options: making one costs far more than
 * using it, and every date Slipway writes goes through one.
 */
function perTimeZone(options: Intl.DateTimeFormatOptions): (timeZone: string) => Intl.DateTimeFormat {
  const byZone = new Map<string, Intl.DateTimeFormat>();
  return (timeZone) => {
    let f = byZone.get(timeZone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
      byZone.set(timeZone, f);
    }
    return f;
  };
}

const formatter = perTimeZone({
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  weekday: 'short',
});

/** Whether the runtime knows this IANA zone (`Europe/Berlin`); `UTC` is one. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function localParts(instant: Date, timeZone: string): LocalParts & { second: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 1,
  };
}

/** Minutes the zone is ahead of UTC at this instant (+60 for Berlin in winter). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant a local wall-clock time happens. In a DST gap (02:30 on the spring-forward night)
 * the result reads an hour later; in the repeated hour it is the first of the two.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  // The offsets in force a day before and a day after cover both sides of any change that day.
  const readings = [guess - DAY_MS, guess + DAY_MS].map((t) => guess - offsetMinutes(new Date(t), timeZone) * 60_000);
  const valid = readings.filter((t) => {
    const p = localParts(new Date(t), timeZone);
    return p.hour === hour && p.minute === minute && p.day === day;
  });
  // Both are valid in the repeated hour: the earlier one. Neither in a gap: the later one.
  return new Date(valid.length > 0 ? Math.min(...valid) : Math.max(...readings));
}

/** Adds whole days to a calendar date (no time zone involved). */
export function addDays(year: number, month: number, day: number, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day) + days * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export interface Week {
  /** Monday 00:00 local time. */
  start: Date;
  /** The next Monday 00:00 local time (exclusive). */
  end: Date;
  /** The Monday's local date, `2026-11-16`. */
  monday: string;
  /** `Nov 16 – 22, 2026`, for people. */
  label: string;
  /** The Monday as `Nov 16`, for axes and trends. */
  short: string;
}

// Dates for people, in US English as all of Slipway's text: `Nov 16`, `Nov 16, 2026`.
const monthDayFormat = perTimeZone({ month: 'short', day: 'numeric' });
const MONTH_DAY_YEAR = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric', year: 'numeric' });

/** `Nov 17`: the local date of an instant. */
export function monthDay(instant: Date, timeZone: string): string {
  return monthDayFormat(timeZone).format(instant);
}

function weekFromMonday(monday: { year: number; month: number; day: number }, timeZone: string): Week {
  const next = addDays(monday.year, monday.month, monday.day, 7);
  const sunday = addDays(monday.year, monday.month, monday.day, 6);
  // Calendar dates, so read at midnight UTC.
  const first = new Date(Date.UTC(monday.year, monday.month - 1, monday.day));
  const last = new Date(Date.UTC(sunday.year, sunday.month - 1, sunday.day));
  const label =
    monday.year !== sunday.year
      ? `${MONTH_DAY_YEAR.format(first)} – ${MONTH_DAY_YEAR.format(last)}`
      : monday.month !== sunday.month
        ? `${monthDay(first, 'UTC')} – ${MONTH_DAY_YEAR.format(last)}`
        : `${monthDay(first, 'UTC')} – ${sunday.day}, ${sunday.year}`;
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    start: zonedTime(monday.year, monday.month, monday.day, 0, 0, timeZone),
    end: zonedTime(next.year, next.month, next.day, 0, 0, timeZone),
    monday: `${monday.year}-${pad(monday.month)}-${pad(monday.day)}`,
    label,
    short: monthDay(first, 'UTC'),
  };
}

/** The week (Monday to Monday, local time) that contains `instant`. */
export function weekContaining(instant: Date, timeZone: string): Week {
  const p = localParts(instant, timeZone);
  const monday = addDays(p.year, p.month, p.day, 1 - p.weekday);
  const week = weekFromMonday(monday, timeZone);
  // Where midnight does not exist (a DST change at 00:00) the week starts at 01:00; an instant
  // in the missing hour still belongs to the week it reads as.
  return instant < week.start ? weekFromMonday(addDays(monday.year, monday.month, monday.day, -7), timeZone) : week;
}

/** The week `n` weeks after (negative: before) the given one. */
export function shiftWeek(week: Week, n: number, timeZone: string): Week {
  const [y, m, d] = week.monday.split('-').map(Number) as [number, number, number];
  return weekFromMonday(addDays(y, m, d, 7 * n), timeZone);
}

/** The last complete week before `instant`: what a Monday-morning digest reports on. */
export function lastCompleteWeek(instant: Date, timeZone: string): Week {
  return shiftWeek(weekContaining(instant, timeZone), -1, timeZone);
}

const localFormat = perTimeZone({
  hourCycle: 'h23',
  weekday: 'short',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** `Mon Nov 23 2026, 09:00 (Europe/Berlin)`. */
export function formatLocal(instant: Date, timeZone: string): string {
  const f = localFormat(timeZone);
  // The parts in Slipway's own order and punctuation (en-US would put commas after the weekday and day).
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(instant)) p[part.type] = part.value;
  return `${p.weekday} ${p.month} ${p.day} ${p.year}, ${p.hour}:${p.minute} (${timeZone})`;
}

/**
 * Which week a digest or `/platform stats` reports: the last complete one (what the Monday digest
 * posts), the one in progress, or the week that contains a date.
 */
export type WeekChoice = 'last' | 'current' | { date: string; year: number; month: number; day: number };

export const WEEK_CHOICES = 'current, last or a date (YYYY-MM-DD)';

/** `current`, `last` or a real calendar date `YYYY-MM-DD`; anything else is undefined. */
export function parseWeekChoice(text: string): WeekChoice | undefined {
  const value = text.trim().toLowerCase();
  if (value === 'current' || value === 'last') return value;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over into March: only a date that reads back the same exists.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return { date: value, year, month, day };
}

/** A week to report on; one in progress has started and not ended, so its numbers run to now. */
export interface ReportWeek {
  week: Week;
  inProgress: boolean;
}

export type ChosenWeek = ReportWeek | { problem: string };

/**
 * The week a choice means at `now`. A week in progress is one that has started but not ended; a
 * week that has not started has no numbers yet, so it is a problem rather than an empty report.
 */
export function chooseWeek(choice: WeekChoice, now: Date, timeZone: string): ChosenWeek {
  const current = weekContaining(now, timeZone);
  if (choice === 'last') return { week: shiftWeek(current, -1, timeZone), inProgress: false };
  if (choice === 'current') return { week: current, inProgress: true };
  const weekday = new Date(Date.UTC(choice.year, choice.month - 1, choice.day)).getUTCDay() || 7;
  const week = weekFromMonday(addDays(choice.year, choice.month, choice.day, 1 - weekday), timeZone);
  if (week.monday > current.monday) return { problem: `the week of ${choice.date} (${week.label}) has not started yet` };
  return { week, inProgress: week.monday === current.monday };
}
