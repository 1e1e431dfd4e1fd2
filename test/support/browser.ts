/**
 * The demo in a real browser: Debian's chromium (`apt-get install chromium`; CHROMIUM_PATH to use
 * another build) driven by playwright-core, and the steps a person takes on the page.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startDemo, type Demo } from '../../src/playground/demo.ts';
import { BLOCK } from '../../src/slack/ids.ts';

export const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface DemoInBrowser {
  demo: Demo;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/** Starts the demo as `npm run demo` does (on a free port) and opens its URL in chromium. */
export async function openDemo(viewport = { width: 1440, height: 900 }): Promise<DemoInBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  const demo = await startDemo({ port: 0 });
  // The sandbox needs user namespaces, which containers (and CI as root) often lack.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport });
  await page.goto(demo.url);
  await page.locator('#sidebar button').first().waitFor();
  return {
    demo,
    browser,
    page,
    async close() {
      await browser.close();
      await demo.close();
    },
  };
}

export async function screenshot(page: Page, name: string, dir = ARTIFACTS): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Plays another person (the switcher in the top bar). */
export async function switchTo(page: Page, role: 'developer' | 'approver' | 'second developer'): Promise<void> {
  const option = page.locator('#person option', { hasText: `(${role})` });
  const id = (await option.getAttribute('value')) ?? '';
  await page.selectOption('#person', id);
  // The page has drawn what this person sees.
  await page.locator(`body[data-as="${id}"]`).waitFor();
}

export async function openConversation(page: Page, name: string): Promise<void> {
  // Exactly this name: "platform" is not "platform-approvals".
  const exact = new RegExp(`^(# )?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator('#sidebar button', { hasText: exact }).click();
  await page.locator('#channel-header h2', { hasText: name }).waitFor();
}

/** Types a line in the message box and sends it with Enter. */
export async function typeLine(page: Page, text: string): Promise<void> {
  await page.fill('#message-box', text);
  await page.press('#message-box', 'Enter');
}

/** The open modal's input block: where its field and its error are. */
export function field(page: Page, blockId: string) {
  return page.locator(`.modal [data-input-block="${blockId}"]`);
}

/** Opens the request form with `/platform new-namespace` and fills it in (selects by value). */
export async function fillRequestForm(page: Page, answers: { team: string; environment: string; tier: string; name?: string; purpose: string }): Promise<void> {
  await typeLine(page, '/platform new-namespace');
  await page.locator('.modal').waitFor();
  await field(page, BLOCK.team).locator('select').selectOption(answers.team);
  await field(page, BLOCK.environment).locator('select').selectOption(answers.environment);
  await field(page, BLOCK.tier).locator('select').selectOption(answers.tier);
  if (answers.name !== undefined) await field(page, BLOCK.name).locator('input').fill(answers.name);
  await field(page, BLOCK.purpose).locator('textarea').fill(answers.purpose);
}

/** As an approver: opens the approvals channel, clicks Approve on the newest card and opens its thread. */
export async function approveLatestRequest(page: Page): Promise<Locator> {
  await openConversation(page, 'platform-approvals');
  const card = page.locator('#messages .message').last();
  await card.locator('button', { hasText: 'Approve' }).click();
  await card.locator('.replies').click();
  await page.locator('#thread-messages').getByText('approved', { exact: false }).first().waitFor();
  return card;
}

/** The namespace's entry in the cluster pane, once the pane lists it. */
export async function namespaceInClusterPane(page: Page, name: string): Promise<Locator> {
  const summary = page.locator('#cluster-body details.namespace > summary', { hasText: name });
  await summary.waitFor();
  return summary;
}
