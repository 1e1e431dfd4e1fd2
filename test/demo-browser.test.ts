// `npm run demo` in a real browser (Debian's chromium through playwright-core): the golden path
// as one person plays it with the person switcher, and a field error under its field. The
// screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK } from '../src/slack/ids.ts';
import {
  approveLatestRequest,
  field,
  fillRequestForm,
  namespaceInClusterPane,
  openConversation,
  openDemo,
  screenshot,
  switchTo,
  typeLine,
} from './support/browser.ts';

const PURPOSE = 'Load tests for <b>checkout</b> & *more*';

test('demo: request in the form, approve in the thread as the approver, see the ready DM and the namespace in the cluster pane', async (t) => {
  const { page, demo, close } = await openDemo();
  t.after(close);

  await fillRequestForm(page, { team: 'payments', environment: 'staging', tier: 'medium', purpose: PURPOSE });
  await screenshot(page, 'demo-1-form');
  await page.click('#modal-submit');
  await page.locator('#modal').waitFor({ state: 'hidden' });

  await switchTo(page, 'approver');
  const card = await approveLatestRequest(page);
  // The purpose is shown as typed: the tags in it are text, not markup.
  await card.getByText('Load tests for <b>checkout</b> &').waitFor();
  assert.equal(await card.locator('b', { hasText: 'checkout' }).count(), 0);
  await screenshot(page, 'demo-2-approved-thread');

  await switchTo(page, 'developer');
  await openConversation(page, 'Slipway');
  await page.locator('#messages').getByText('is ready on', { exact: false }).waitFor({ timeout: 20_000 });
  await (await namespaceInClusterPane(page, 'payments-staging')).click();
  await page.locator('#cluster-body details.object summary', { hasText: 'ResourceQuota' }).click();
  await page.locator('#cluster-body pre', { hasText: 'requests.cpu' }).first().waitFor();
  await screenshot(page, 'demo-3-ready-dm-and-cluster');
  // What the page shows is what the cluster holds.
  assert.ok(demo.kube?.get('namespaces', 'payments-staging'), 'the namespace exists in the embedded cluster');
});

test('demo: a name the bot refuses comes back as a field error under the name field', async (t) => {
  const { page, close } = await openDemo();
  t.after(close);

  await fillRequestForm(page, { team: 'payments', environment: 'dev', tier: 'small', name: 'Not_A-Valid-Name!', purpose: 'Trying names' });
  await page.click('#modal-submit');
  // The bot's answer, under the field it names (the modal is redrawn with it).
  const error = field(page, BLOCK.name).locator('.field-error', { hasText: /\S/ });
  await error.waitFor();
  assert.match((await error.textContent()) ?? '', /lowercase letters/);
  assert.equal(await page.locator('.modal').count(), 1, 'the modal stays open');
  await screenshot(page, 'demo-4-field-error');

  // A required field left empty is refused by the client before anything is sent, as in Slack.
  await page.click('#modal-cancel');
  await page.locator('#modal').waitFor({ state: 'hidden' });
  await typeLine(page, '/platform new-namespace');
  await page.click('#modal-submit');
  await field(page, BLOCK.team).getByText('Please complete this required field.').waitFor();
  // So is a text shorter than the field's min_length (the purpose asks for a few words).
  await field(page, BLOCK.purpose).locator('textarea').fill('ab');
  await page.click('#modal-submit');
  await field(page, BLOCK.purpose)
    .getByText(/Please enter at least \d+ characters/)
    .waitFor();
});

test('demo: the approver starts a thread on a feedback post ("Reply in thread") and the author gets the reply by DM', async (t) => {
  const { page, close } = await openDemo();
  t.after(close);

  await typeLine(page, '/platform feedback The docs are great');
  await page.click('#modal-submit');
  await page.locator('.modal', { hasText: 'Thanks!' }).waitFor();
  await page.click('#modal-cancel');
  await page.locator('#modal').waitFor({ state: 'hidden' });

  await switchTo(page, 'approver');
  await openConversation(page, 'platform');
  const post = page.locator('#messages .message', { hasText: 'The docs are great' });
  await post.locator('button', { hasText: 'Reply in thread' }).click();
  await page.locator('#thread').waitFor();
  await page.fill('#thread-box', 'Which page helped most?');
  await page.press('#thread-box', 'Enter');
  await page.locator('#thread-messages .message', { hasText: 'Which page helped most?' }).waitFor();
  assert.equal(await page.locator('#thread-messages .thread-count').textContent(), '1 reply');
  await screenshot(page, 'demo-5-feedback-thread');

  await switchTo(page, 'developer');
  await openConversation(page, 'Slipway');
  await page.locator('#messages').getByText('replied to your feedback', { exact: false }).waitFor();
  await page.locator('#messages').getByText('Which page helped most?').waitFor();
});
