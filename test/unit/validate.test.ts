import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK } from '../../src/slack/ids.ts';
import { checkRequestFields, nameProblem } from '../../src/workflows/provisioning/validate.ts';
import type { RequestFields } from '../../src/domain/requests.ts';
import { parseConfig } from '../../src/config.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfig, exampleConfigDocument } from '../support/config.ts';

const config = exampleConfig();
const now = new Date('2026-11-26T10:00:00Z');
const valid: RequestFields = {
  team: 'payments',
  environment: 'dev',
  cluster: 'dev-eu',
  tier: 'small',
  purpose: 'Load tests for checkout',
};

test('a complete form passes and an empty name becomes <team>-<environment>', async () => {
  const checked = checkRequestFields(config, valid, now);
  assert.equal(checked.ok, true);
  assert.ok(checked.ok);
  assert.equal(checked.input.namespace, 'payments-dev');
  assert.equal(checked.derivedName, true);
  assert.equal(checked.input.expiresOn, undefined);
});

test('names must be DNS-1123 labels of at most 63 characters', async () => {
  assert.equal(nameProblem(config, 'checkout-load-1'), undefined);
  assert.equal(nameProblem(config, 'a'.repeat(63)), undefined);
  assert.match(nameProblem(config, 'a'.repeat(64)) ?? '', /Too long: 64 characters, at most 63/);
  assert.match(nameProblem(config, 'Checkout_Load') ?? '', /Use lowercase letters, digits and "-".*Try "checkout-load"/);
  assert.match(nameProblem(config, '-leading') ?? '', /starting and ending with a letter or digit/);
  assert.match(nameProblem(config, 'trailing-') ?? '', /starting and ending/);
});

test('reserved names are refused: default, kube-* and the configured list', async () => {
  assert.match(nameProblem(config, 'default') ?? '', /"default" is reserved/);
  assert.match(nameProblem(config, 'kube-anything') ?? '', /reserved for Kubernetes/);
  assert.match(nameProblem(config, 'monitoring') ?? '', /"monitoring" is reserved/);
  assert.match(nameProblem(config, 'com') ?? '', /"com" is reserved/);
});

test('names in allowFromNamespaces are reserved: pods there may reach every Slipway namespace', async () => {
  const doc = exampleConfigDocument();
  doc.namespaces = { ...(doc.namespaces as object), reserved: [], allowFromNamespaces: ['ingress-nginx'] };
  const own = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  assert.match(nameProblem(own, 'ingress-nginx') ?? '', /"ingress-nginx" is reserved/);
  assert.equal(nameProblem(own, 'ingress-nginx-2'), undefined);
});

test('a name made from team and environment is checked too, with words for someone who typed none', async () => {
  const doc = exampleConfigDocument();
  doc.namespaces = { ...(doc.namespaces as object), reserved: ['payments-dev'] };
  const own = parseConfig(doc, EXAMPLE_CONFIG_PATH);
  const checked = checkRequestFields(own, valid, now);
  assert.ok(!checked.ok);
  assert.deepEqual(checked.errors, {
    [BLOCK.name]: 'Without a name typed here it would be "payments-dev", which is reserved. Type a name that says what it is for, e.g. "payments-dev-sandbox".',
  });
  assert.ok(checkRequestFields(own, { ...valid, name: 'payments-dev-2' }, now).ok);
});

test("choices are the config's own keys: constructor, toString and __proto__ are not environments or tiers", async () => {
  for (const value of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const checked = checkRequestFields(config, { ...valid, environment: value, tier: value }, now);
    assert.ok(!checked.ok, value);
    assert.deepEqual(Object.keys(checked.errors).sort(), [BLOCK.environment, BLOCK.tier].sort(), value);
  }
});

test('each bad field gets its own error under its block', async () => {
  const checked = checkRequestFields(config, { name: 'Bad Name', team: 'nobody', environment: 'qa', cluster: 'mars', tier: 'huge', purpose: 'x' }, now);
  assert.equal(checked.ok, false);
  assert.ok(!checked.ok);
  assert.deepEqual(Object.keys(checked.errors).sort(), [BLOCK.cluster, BLOCK.environment, BLOCK.name, BLOCK.purpose, BLOCK.team, BLOCK.tier].sort());
});

test('purpose has a length limit', async () => {
  const checked = checkRequestFields(config, { ...valid, purpose: 'x'.repeat(501) }, now);
  assert.ok(!checked.ok);
  assert.match(checked.errors[BLOCK.purpose] ?? '', /under 500 characters \(now 501\)/);
});

test('expiry must be after today and within the configured maximum', async () => {
  const past = checkRequestFields(config, { ...valid, expiresOn: '2026-11-26' }, now);
  assert.ok(!past.ok);
  assert.equal(past.errors[BLOCK.expiry], 'Pick a date after today.');
  const far = checkRequestFields(config, { ...valid, expiresOn: '2027-06-01' }, now);
  assert.ok(!far.ok);
  assert.equal(far.errors[BLOCK.expiry], 'Pick a date at most 90 days ahead.');
  const ok = checkRequestFields(config, { ...valid, expiresOn: '2026-12-24' }, now);
  assert.ok(ok.ok);
  assert.equal(ok.input.expiresOn, '2026-12-24');
});
