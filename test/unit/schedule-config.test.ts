import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../support/config.ts';

function problems(edit: (doc: Record<string, unknown>) => void): readonly string[] {
  const doc = exampleConfigDocument();
  edit(doc);
  try {
    parseConfig(doc, EXAMPLE_CONFIG_PATH);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

test('schedule and adoption settings default when the config leaves them out', async () => {
  const doc = exampleConfigDocument();
  delete doc.schedule;
  delete doc.adoption;
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.deepEqual(config.schedule, {
    timezone: 'UTC',
    missedRunGraceMinutes: 360,
    jobs: { digest: '0 9 * * 1', usageRefresh: '*/30 * * * *', lifecycle: '*/5 * * * *', drift: '0 6 * * *' },
  });
  assert.deepEqual(config.adoption, { activeDays: 7, idleDays: 14 });
});

test('a job can be turned off, and the zone is any IANA zone', async () => {
  const doc = exampleConfigDocument();
  doc.schedule = { timezone: 'America/Sao_Paulo', jobs: { digest: false } };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.equal(config.schedule.timezone, 'America/Sao_Paulo');
  assert.deepEqual(config.schedule.jobs, { digest: false, usageRefresh: '*/30 * * * *', lifecycle: '*/5 * * * *', drift: '0 6 * * *' });
});

test('day and month names are read in full or in three letters', async () => {
  const doc = exampleConfigDocument();
  doc.schedule = { jobs: { digest: '0 9 * january,Feb monday', usageRefresh: '*/30 9-17 * * MON-FRI' } };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.deepEqual(config.schedule.jobs, {
    digest: '0 9 * january,Feb monday',
    usageRefresh: '*/30 9-17 * * MON-FRI',
    lifecycle: '*/5 * * * *',
    drift: '0 6 * * *',
  });
});

test('a bad time zone or cron expression is named by its path', async () => {
  assert.deepEqual(
    problems((doc) => {
      doc.schedule = { timezone: 'Europe/Atlantis', missedRunGraceMinutes: -5, jobs: { digest: '0 9 * * 8', usageRefresh: '0 */30 * * * *' } };
      doc.adoption = { idleDays: 0 };
    }),
    [
      'schedule.timezone: must be an IANA time zone like Europe/Berlin or UTC',
      'schedule.missedRunGraceMinutes: Too small: expected number to be >=0',
      'schedule.jobs.digest: must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1", or false',
      'schedule.jobs.usageRefresh: must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1", or false',
      'adoption.idleDays: Too small: expected number to be >=1',
    ],
  );
});
