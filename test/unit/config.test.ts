import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import {
  CLAIMS_DEFAULTS,
  extendLimitsFor,
  idleDeletionAllowed,
  isProtectedEnvironment,
  LEADER_ELECTION_DEFAULTS,
  loadConfig,
  parseConfig,
} from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../support/config.ts';

function problemsOf(doc: unknown): readonly string[] {
  try {
    parseConfig(doc, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('config was accepted');
}

test('the documented example config is valid as is', async () => {
  const config = loadConfig(EXAMPLE_CONFIG_PATH);
  assert.deepEqual(
    config.teams.map((t) => t.name),
    ['payments', 'search'],
  );
  assert.deepEqual(Object.keys(config.tiers), ['small', 'medium', 'large']);
  assert.deepEqual(Object.keys(config.environments), ['dev', 'staging', 'prod']);
  assert.equal(config.clusters[0]?.type, 'kubeconfig');
  assert.ok(config.clusters[0]?.path.startsWith('/'), 'kubeconfig path is resolved against the config file');
  assert.deepEqual(config.policy.autoApprove, [{ environments: ['dev'], tiers: ['small'] }]);
});

test('every problem is listed by its path in one error', async () => {
  const doc = exampleConfigDocument();
  const clusters = doc.clusters as Record<string, unknown>[];
  delete clusters[0]?.context;
  (doc.slack as Record<string, unknown>).approvalsChannel = '#approvals';
  (doc.teams as Record<string, unknown>[])[1] = { name: 'Search Team', costCenter: 'cc-2077', group: 'search-devs' };
  const problems = problemsOf(doc);
  assert.ok(problems.includes('clusters[0].context: required'), problems.join('\n'));
  assert.ok(
    problems.some((p) => p.startsWith('slack.approvalsChannel: must be a Slack channel id')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.startsWith('teams[1].name: must be a lowercase DNS label')),
    problems.join('\n'),
  );
  assert.equal(problems.length, 3);
});

test('policy rules must name known environments, tiers and teams', async () => {
  const doc = exampleConfigDocument();
  doc.policy = { autoApprove: [{ environments: ['dev'], tiers: ['tiny'] }, {}] };
  const problems = problemsOf(doc);
  assert.ok(
    problems.some((p) => p.startsWith('policy.autoApprove[0].tiers[0]: unknown tier "tiny"')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.startsWith('policy.autoApprove[1]: an auto-approve rule needs')),
    problems.join('\n'),
  );
});

test('an auto-approve rule with an empty list is refused by its path, since it could never match', async () => {
  const doc = exampleConfigDocument();
  doc.policy = { autoApprove: [{ environments: [], tiers: ['small'] }, { teams: [] }] };
  const problems = problemsOf(doc);
  assert.deepEqual(problems, [
    'policy.autoApprove[0].environments: an empty list matches no environment: list at least one, or leave the key out to allow any',
    'policy.autoApprove[1].teams: an empty list matches no team: list at least one, or leave the key out to allow any',
  ]);
});

test('an approver is required and duplicate names are refused', async () => {
  const doc = exampleConfigDocument();
  doc.approvers = { users: [] };
  (doc.teams as unknown[]).push({ name: 'payments', costCenter: 'cc-1', group: 'g' });
  const problems = problemsOf(doc);
  assert.ok(problems.includes('approvers: list at least one approver in users or userGroups'), problems.join('\n'));
  assert.ok(problems.includes('teams[2].name: duplicate name "payments"'), problems.join('\n'));
});

test('a missing file and bad YAML say what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
  assert.throws(
    () => loadConfig(join(dir, 'nope.yaml')),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.userMessage, /file not found\. Copy slipway\.config\.example\.yaml/);
      return true;
    },
  );
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'slack: [unclosed');
  assert.throws(() => loadConfig(bad), /not valid YAML/);
});

test('day 2 settings default, prod is protected, and a deletion rule may not name a protected environment', async () => {
  const config = parseConfig(exampleConfigDocument(), EXAMPLE_CONFIG_PATH);
  assert.deepEqual(config.lifecycle.reminderDaysBefore, [3, 1]);
  assert.equal(config.lifecycle.reminderTime, '10:00');
  assert.equal(config.lifecycle.graceHours, 24);
  assert.equal(isProtectedEnvironment(config, 'prod'), true);
  assert.equal(isProtectedEnvironment(config, 'dev'), false);
  assert.equal(isProtectedEnvironment(config, 'constructor'), true, 'an unknown environment is treated as protected');

  const doc = exampleConfigDocument();
  (doc.environments as Record<string, Record<string, unknown>>).staging = { podSecurity: 'baseline', protected: true };
  doc.policy = { delete: { autoApprove: [{ environments: ['dev', 'staging'] }] } };
  doc.lifecycle = { reminderTime: '25:00', extend: { maxDays: 7, maxLifetimeDays: 90, environments: { qa: { maxDays: 1 } } } };
  assert.deepEqual(problemsOf(doc), [
    'lifecycle.reminderTime: must be a time like 10:00',
    'policy.delete.autoApprove[0].environments[1]: "staging" is protected: deleting a namespace there always needs an approver',
    'lifecycle.extend.environments[0]: unknown environment "qa" (known: dev, staging, prod)',
  ]);
});

test('idle reclaim defaults, and it may not delete without an answer in a protected environment', async () => {
  const config = parseConfig(exampleConfigDocument(), EXAMPLE_CONFIG_PATH);
  assert.deepEqual(config.lifecycle.idle, { afterDays: { dev: 14, staging: 30 }, snoozeDays: 30, answerDays: 7 });
  assert.equal(idleDeletionAllowed(config, 'dev'), true);
  assert.equal(idleDeletionAllowed(config, 'staging'), false);
  // A protected dev needs no other change: the default leaves it out rather than refusing to start.
  const guarded = exampleConfigDocument();
  (guarded.environments as Record<string, Record<string, unknown>>).dev = { podSecurity: 'baseline', protected: true };
  (guarded.policy as Record<string, unknown>).delete = { autoApprove: [{ environments: ['staging'] }] };
  assert.equal(idleDeletionAllowed(parseConfig(guarded, EXAMPLE_CONFIG_PATH), 'dev'), false);

  const doc = exampleConfigDocument();
  doc.lifecycle = { idle: { deleteWithoutAnswer: ['dev', 'prod'], answerDays: 0 } };
  assert.deepEqual(problemsOf(doc), [
    'lifecycle.idle.answerDays: Too small: expected number to be >=1',
    'lifecycle.idle.deleteWithoutAnswer[1]: "prod" is protected: an idle namespace there is never deleted without an approver',
  ]);
});

test('extension limits come from the environment, then the defaults', async () => {
  const doc = exampleConfigDocument();
  doc.lifecycle = { extend: { maxDays: 14, maxLifetimeDays: 120, environments: { prod: { maxDays: 0 } } } };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.deepEqual(extendLimitsFor(config, 'prod'), { maxDays: 0, maxLifetimeDays: 120 });
  assert.deepEqual(extendLimitsFor(config, 'dev'), { maxDays: 14, maxLifetimeDays: 120 });
  assert.deepEqual(extendLimitsFor(config, '__proto__'), { maxDays: 14, maxLifetimeDays: 120 });
});

test('slack.teamId and slack.appId come together: one without the other is refused by its path', async () => {
  const withSlack = (slack: Record<string, unknown>) => {
    const doc = exampleConfigDocument();
    doc.slack = { ...(doc.slack as object), ...slack };
    return doc;
  };
  assert.deepEqual(problemsOf(withSlack({ teamId: 'T0TEAM' })), ['slack.appId: required with slack.teamId (both link the digest to the Home tab)']);
  assert.deepEqual(problemsOf(withSlack({ appId: 'A0APP' })), ['slack.teamId: required with slack.appId (both link the digest to the Home tab)']);
  assert.deepEqual(problemsOf(withSlack({ teamId: 'general', appId: 'A0APP' })), ['slack.teamId: must be a Slack workspace id like T0123ABCD']);
  assert.equal(parseConfig(withSlack({ teamId: 'T0TEAM', appId: 'A0APP' }), 'test.yaml').slack.appId, 'A0APP');
});

test("leader election is off by default, with Kubernetes controllers' timings (15 s / 10 s / 2 s) when turned on", async () => {
  const { leaderElection } = parseConfig(exampleConfigDocument(), EXAMPLE_CONFIG_PATH);
  assert.deepEqual(leaderElection, { ...LEADER_ELECTION_DEFAULTS });
  assert.equal(leaderElection.enabled, false);
  assert.deepEqual([leaderElection.leaseDurationSeconds, leaderElection.renewDeadlineSeconds, leaderElection.retryPeriodSeconds], [15, 10, 2]);
  const on = parseConfig({ ...exampleConfigDocument(), leaderElection: { enabled: true, cluster: 'dev-eu', namespace: 'slipway' } }, EXAMPLE_CONFIG_PATH);
  assert.equal(on.leaderElection.leaseName, 'slipway-leader');
});

test('leader election: a leader gives up before its Lease lapses, and the Lease is on a known cluster', async () => {
  const problems = problemsOf({
    ...exampleConfigDocument(),
    leaderElection: { enabled: true, cluster: 'nowhere', leaseDurationSeconds: 10, renewDeadlineSeconds: 10, retryPeriodSeconds: 0 },
  });
  assert.ok(problems.some((p) => p.startsWith('leaderElection.cluster: unknown cluster "nowhere"')));
  assert.ok(problems.some((p) => p.startsWith('leaderElection.retryPeriodSeconds:')));
  assert.ok(problems.some((p) => p.startsWith('leaderElection.renewDeadlineSeconds: must be less than leaseDurationSeconds')));
});

test('run claims renew every 5 s and lapse after 30 s by default; a lapse must outlast two heartbeats', async () => {
  const { claims } = parseConfig(exampleConfigDocument(), EXAMPLE_CONFIG_PATH);
  assert.deepEqual(claims, { ...CLAIMS_DEFAULTS });
  assert.deepEqual([claims.heartbeatSeconds, claims.lapseSeconds], [5, 30]);
  const { claims: fast } = parseConfig({ ...exampleConfigDocument(), claims: { heartbeatSeconds: 0.2, lapseSeconds: 1 } }, EXAMPLE_CONFIG_PATH);
  assert.deepEqual(fast, { heartbeatSeconds: 0.2, lapseSeconds: 1 });
  assert.deepEqual(problemsOf({ ...exampleConfigDocument(), claims: { heartbeatSeconds: 5, lapseSeconds: 8 } }), [
    'claims.lapseSeconds: must be at least twice heartbeatSeconds (a heartbeat that comes late must not lose the run)',
  ]);
  assert.ok(problemsOf({ ...exampleConfigDocument(), claims: { heartbeatSeconds: 0 } }).some((p) => p.startsWith('claims.heartbeatSeconds:')));
});

test('SLIPWAY_CONFIG may list several files: each is laid over the ones before it, key by key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-config-layers-'));
  const overlayDir = mkdtempSync(join(tmpdir(), 'slipway-config-overlay-'));
  const overlay = join(overlayDir, 'leader-election.yaml');
  writeFileSync(overlay, 'leaderElection:\n  enabled: true\napprovers:\n  users: [U0ZED]\n');
  const config = loadConfig([EXAMPLE_CONFIG_PATH, overlay].join(delimiter));
  const example = loadConfig(EXAMPLE_CONFIG_PATH);
  assert.deepEqual(config.leaderElection, { ...example.leaderElection, enabled: true }, 'the example says enabled: false; the later file wins');
  assert.deepEqual(config.approvers.users, ['U0ZED'], 'a list is replaced, not appended to');
  assert.deepEqual(config.approvers.userGroups, example.approvers.userGroups, 'keys the later file does not name stay');
  assert.deepEqual(config.clusters, example.clusters, "kubeconfig paths resolve against the file that lists the clusters, not the overlay's");

  const missing = join(dir, 'nope.yaml');
  assert.throws(
    () => loadConfig([EXAMPLE_CONFIG_PATH, missing].join(delimiter)),
    (err: unknown) => err instanceof ConfigError && err.message.startsWith(`Slipway cannot start: ${missing} has`),
  );
});
