import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { daysBetween, timersFor } from '../../src/workflows/lifecycle/timers.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../support/config.ts';

function config(lifecycle: Record<string, unknown> = {}, timezone = 'Europe/Berlin') {
  const doc = exampleConfigDocument();
  doc.schedule = { timezone };
  doc.lifecycle = lifecycle;
  return parseConfig(doc, EXAMPLE_CONFIG_PATH);
}

const plan = (timers: ReturnType<typeof timersFor>) => timers.map((t) => [t.kind, t.daysBefore, t.dueAt.toISOString()]);

test('reminders 3 and 1 days before at 10:00 local, the notice on the end date, grace 24 h later: across the end of summer time', async () => {
  // Berlin leaves summer time (UTC+2) for winter time (UTC+1) at 03:00 on Sunday 25 October 2026.
  assert.deepEqual(plan(timersFor(config(), '2026-10-27', new Date('2026-10-01T00:00:00Z'))), [
    ['reminder', 3, '2026-10-24T08:00:00.000Z'],
    ['reminder', 1, '2026-10-26T09:00:00.000Z'],
    ['expiry', undefined, '2026-10-27T09:00:00.000Z'],
    ['grace_end', undefined, '2026-10-28T09:00:00.000Z'],
  ]);
});

test('across the start of summer time, and in another zone and time', async () => {
  // Berlin: 29 March 2026, 02:00 → 03:00.
  assert.deepEqual(plan(timersFor(config({ reminderDaysBefore: [2], graceHours: 48 }), '2026-03-30', new Date('2026-03-01T00:00:00Z'))), [
    ['reminder', 2, '2026-03-28T09:00:00.000Z'],
    ['expiry', undefined, '2026-03-30T08:00:00.000Z'],
    ['grace_end', undefined, '2026-04-01T08:00:00.000Z'],
  ]);
  // New York: 1 November 2026, 02:00 → 01:00.
  assert.deepEqual(plan(timersFor(config({ reminderTime: '09:30' }, 'America/New_York'), '2026-11-02', new Date('2026-10-01T00:00:00Z'))).slice(0, 3), [
    ['reminder', 3, '2026-10-30T13:30:00.000Z'],
    ['reminder', 1, '2026-11-01T14:30:00.000Z'],
    ['expiry', undefined, '2026-11-02T14:30:00.000Z'],
  ]);
});

test('a reminder whose time has passed is left out', async () => {
  const kinds = timersFor(config(), '2026-12-10', new Date('2026-12-08T12:00:00Z')).map((t) => [t.kind, t.daysBefore]);
  assert.deepEqual(kinds, [
    ['reminder', 1],
    ['expiry', undefined],
    ['grace_end', undefined],
  ]);
});

test('days between calendar dates', async () => {
  assert.equal(daysBetween('2026-10-24', '2026-10-27'), 3);
  assert.equal(daysBetween('2026-12-31', '2027-01-01'), 1);
  assert.equal(daysBetween('2026-03-30', '2026-03-28'), -2);
});
