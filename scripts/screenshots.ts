/**
 * `npm run screenshots`: the README's pictures, taken from the demo in Debian's chromium so they
 * show what the bot really posts: the request card in its thread after an approval, and the weekly
 * digest with its chart (a week later on the demo's clock). Written to docs/.
 */
import { approveLatestRequest, fillRequestForm, namespaceInClusterPane, openConversation, openDemo, screenshot, switchTo } from '../test/support/browser.ts';

const DOCS = new URL('../docs/', import.meta.url).pathname;

const session = await openDemo({ width: 1440, height: 940 });
try {
  const { page } = session;
  await fillRequestForm(page, { team: 'payments', environment: 'staging', tier: 'medium', purpose: 'Load tests for the new checkout service' });
  await page.click('#modal-submit');
  await page.locator('#modal').waitFor({ state: 'hidden' });
  await switchTo(page, 'approver');
  await approveLatestRequest(page);
  await page.locator('#thread-messages').getByText('Provisioned', { exact: false }).first().waitFor({ timeout: 20_000 });
  await namespaceInClusterPane(page, 'payments-staging');
  console.log(await screenshot(page, 'demo-request-thread', DOCS));

  await page.locator('#thread-close').click();
  await page.locator('button[data-days="7"]').click();
  await page.locator('button[data-job="digest"]').click();
  await page.locator('#notice', { hasText: 'digest:' }).waitFor();
  await openConversation(page, 'platform');
  // Tall enough for the whole digest and its chart.
  await page.setViewportSize({ width: 1440, height: 1180 });
  await page.locator('#messages .file img').waitFor();
  // The chart has loaded (the function runs in the page, on the <img>).
  await page.locator('#messages .file img').evaluate((img: { decode(): Promise<void> }) => img.decode());
  await page.locator('#messages .file').scrollIntoViewIfNeeded();
  console.log(await screenshot(page, 'demo-digest', DOCS));
} finally {
  await session.close();
}
