import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { describeRule, matchAutoApprove } from '../../src/workflows/provisioning/policy.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfig, exampleConfigDocument } from '../support/config.ts';

test('the example policy auto-approves dev + small and nothing else', async () => {
  const config = exampleConfig();
  assert.ok(matchAutoApprove(config, { environment: 'dev', tier: 'small', team: 'payments' }));
  assert.equal(matchAutoApprove(config, { environment: 'dev', tier: 'medium', team: 'payments' }), undefined);
  assert.equal(matchAutoApprove(config, { environment: 'prod', tier: 'small', team: 'payments' }), undefined);
});

test('a rule matches when every dimension it lists matches; any rule is enough', async () => {
  const doc = exampleConfigDocument();
  doc.policy = {
    autoApprove: [
      { teams: ['search'], environments: ['staging'] },
      { tiers: ['small'], environments: ['dev'] },
    ],
  };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  const rule = matchAutoApprove(config, { environment: 'staging', tier: 'large', team: 'search' });
  assert.ok(rule);
  assert.equal(describeRule(rule), 'environment staging, team search');
  assert.equal(matchAutoApprove(config, { environment: 'staging', tier: 'large', team: 'payments' }), undefined);
});

test('no rules means every request waits for a person', async () => {
  const doc = exampleConfigDocument();
  delete doc.policy;
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.equal(matchAutoApprove(config, { environment: 'dev', tier: 'small', team: 'payments' }), undefined);
});

test('a rule that leaves a dimension out allows only values the config defines', async () => {
  const doc = exampleConfigDocument();
  doc.policy = { autoApprove: [{ tiers: ['small'] }] };
  const config = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.ok(matchAutoApprove(config, { environment: 'prod', tier: 'small', team: 'search' }));
  for (const environment of ['constructor', '__proto__', 'toString', 'qa']) {
    assert.equal(matchAutoApprove(config, { environment, tier: 'small', team: 'payments' }), undefined, environment);
  }
  assert.equal(matchAutoApprove(config, { environment: 'dev', tier: 'small', team: 'constructor' }), undefined);
});
