import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { distributionOf, regularizedBeta, studentTCdf, studentTQuantile, summarize } from '../../src/lib/survey-stats.ts';
import { formatInterval, participationLine, scoreLine } from '../../src/slack/surveys/blocks.ts';
import { scoreSparkline } from '../../src/slack/surveys/digest.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../support/config.ts';

const close = (actual: number | undefined, expected: number, digits: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 0.5 * 10 ** -digits, `${what}: ${actual} ≠ ${expected}`);

test('Student t quantiles match the published table, for small samples too', async () => {
  // t(0.975, df), two-sided 95%: the table every statistics book prints.
  const table: [number, number][] = [
    [1, 12.706],
    [2, 4.303],
    [3, 3.182],
    [4, 2.776],
    [5, 2.571],
    [6, 2.447],
    [7, 2.365],
    [8, 2.306],
    [9, 2.262],
    [10, 2.228],
    [15, 2.131],
    [20, 2.086],
    [25, 2.06],
    [30, 2.042],
    [60, 2.0],
    [120, 1.98],
  ];
  for (const [df, t] of table) close(studentTQuantile(0.975, df), t, 3, `t(0.975, ${df})`);
  close(studentTQuantile(0.975, 1e7), 1.96, 3, 'large df tends to the normal 1.960');
  close(studentTQuantile(0.95, 10), 1.812, 3, 't(0.95, 10)');
  close(studentTQuantile(0.025, 4), -2.776, 3, 'lower tail is symmetric');
  assert.equal(studentTQuantile(0.5, 3), 0);
  close(studentTCdf(studentTQuantile(0.9, 7), 7), 0.9, 10, 'the quantile inverts the CDF');
  close(regularizedBeta(0.5, 2, 2), 0.5, 12, 'I_0.5(2, 2) = 0.5 by symmetry');
  close(regularizedBeta(0.3, 1, 1), 0.3, 12, 'I_x(1, 1) = x');
  assert.throws(() => studentTQuantile(1, 3), RangeError);
  assert.throws(() => studentTQuantile(0.975, 0), RangeError);
});

test('a summary matches a hand-computed 95% t-interval', async () => {
  // Answers 5, 4, 4, 3, 5, 2, 4: n = 7, mean = 27/7 = 3.857143.
  // Σ(x − mean)² = 6.857143, s² = 6.857143 / 6 = 1.142857, s = 1.069045, s/√7 = 0.404061.
  // t(0.975, 6) = 2.446912, margin = 0.988703: the interval is 2.868441 … 4.845845.
  const s = summarize(distributionOf([5, 4, 4, 3, 5, 2, 4]), 5);
  assert.equal(s.n, 7);
  assert.equal(s.enough, true);
  assert.deepEqual(s.distribution, [0, 1, 1, 3, 2]);
  close(s.mean, 3.857143, 6, 'mean');
  close(s.sd, 1.069045, 6, 'sd');
  close(s.ci?.low, 2.868441, 6, 'low');
  close(s.ci?.high, 4.845845, 6, 'high');
  close(s.topTwo, 5 / 7, 12, 'share of 4-5');
  assert.equal(scoreLine(s, 5), '*3.9* / 5 (95% CI 2.9–4.8) · 71% answered 4–5 · 7 answers');
  // All the same answer: no spread, the interval is the point.
  const same = summarize(distributionOf([4, 4, 4, 4, 4]), 5);
  assert.deepEqual(same.ci, { low: 4, high: 4 });
  // Wider than the scale: shown cut to 1-5.
  assert.equal(formatInterval({ low: 0.6, high: 5.4 }), '1.0–5.0');
});

test('below the minimum a summary holds the count and nothing else, and the count is not shown', async () => {
  const s = summarize(distributionOf([1, 5, 5, 5]), 5);
  assert.deepEqual(s, { n: 4, enough: false, distribution: [0, 0, 0, 0, 0], mean: undefined, sd: undefined, ci: undefined, topTwo: undefined });
  assert.equal(scoreLine(s, 5), 'not enough answers (fewer than the 5 needed before anything is shown)');
  assert.equal(summarize(distributionOf([]), 2).enough, false);
  assert.equal(summarize(distributionOf([3, 4]), 2).enough, true, 'at the minimum');
  assert.equal(scoreSparkline([1, 3, 5, undefined]), '▁▅█·');
});

test('participation below the minimum names no count, and reads right when fewer people could answer than the minimum', () => {
  assert.equal(participationLine(2, 10, 0.3, 5), 'fewer than 5 of 10 people answered');
  assert.equal(participationLine(1, 3, 0.3, 5), 'fewer than 5 answered (3 people in all)');
  assert.equal(participationLine(1, 4, 0.5, 5, 'asked'), 'fewer than 5 answered (4 asked in all)');
  assert.equal(participationLine(6, 10, 0.3, 5), '6 of 10 people answered (60%)');
});

test('survey settings default when left out, and bad ones are named by path', async () => {
  const doc = exampleConfigDocument();
  delete doc.survey;
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.deepEqual(config.survey, {
    minAnswers: 5,
    labels: ['Very hard', 'Hard', 'OK', 'Easy', 'Very easy'],
    pulse: {
      channels: [],
      schedule: '0 10 * * 2',
      durationDays: 3,
      questions: [{ id: 'ease', text: 'How easy was it to get what you needed from the platform this week?' }],
    },
    postProvisioning: { enabled: true, question: 'How easy was that?', cooldownDays: 14, reminderAfterHours: 24 },
    feedback: { anonymous: 'ask', relayDays: 30 },
    checkSchedule: '*/15 * * * *',
  });

  doc.survey = {
    minAnswers: 1,
    labels: ['Bad', 'Good'],
    pulse: {
      channels: ['#general'],
      schedule: 'tuesdays',
      durationDays: 7,
      questions: [
        { id: 'ease', text: 'One?' },
        { id: 'ease', text: 'Two?' },
        { id: 'speed', text: 'Three?' },
      ],
    },
    postProvisioning: { reminderAfterHours: 0 },
    feedback: { anonymous: 'never' },
  };
  let problems: readonly string[] = [];
  try {
    parseConfig(doc, EXAMPLE_CONFIG_PATH);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    problems = err.problems;
  }
  for (const path of [
    'survey.minAnswers',
    'survey.labels: must list 5 labels, for 1 to 5',
    'survey.pulse.channels[0]: must be a Slack channel id',
    'survey.pulse.schedule: must be a cron expression',
    'survey.pulse.durationDays',
    'survey.pulse.questions: a pulse asks one or two questions',
    'survey.postProvisioning.reminderAfterHours',
    'survey.feedback.anonymous',
  ]) {
    assert.ok(
      problems.some((p) => p.startsWith(path)),
      `${path} in:\n${problems.join('\n')}`,
    );
  }
});
