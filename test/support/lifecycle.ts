import assert from 'node:assert/strict';
import type { NamespaceRequest } from '../../src/domain/requests.ts';
import { ACTION, BLOCK, CALLBACK } from '../../src/slack/ids.ts';
import type { EmulatedMessage } from '../../src/playground/slack-api.ts';
import { APPROVALS, buttons, PEOPLE, readable, REQUEST_FORM, startHarness, type Harness, type HarnessOptions } from './harness.ts';

/** Day 2 in tests: namespaces made through the real request journey, and the answers people read. */

export type Environment = 'dev' | 'staging' | 'prod';

/** Requests `payments-<env>` as the developer (approved by Alice when policy asks) and waits until it is ready. */
export async function readyNamespace(h: Harness, environment: Environment, tier = 'small', cluster = 'dev-eu'): Promise<NamespaceRequest> {
  await openedForm(h, CALLBACK.newNamespace, () => h.command(PEOPLE.dev, 'new-namespace'));
  await h.submit(PEOPLE.dev, {
    [BLOCK.team]: 'payments',
    [BLOCK.environment]: environment,
    [BLOCK.cluster]: cluster,
    [BLOCK.tier]: tier,
    [BLOCK.purpose]: 'Checkout experiments',
  });
  const store = h.slipway.deps.store;
  const request = await h.waitFor('the request', async () => await store.lastRequestBy(PEOPLE.dev));
  // The policy decides before the card is posted: once the card is there, a request still
  // pending waits for a person (read then, not when the request was first seen).
  const card = await h.waitFor('the card', async () => {
    const ts = (await store.getRequest(request.id))?.card?.ts;
    return ts !== undefined && h.slack.messages(APPROVALS).find((m) => m.ts === ts);
  });
  if ((await store.getRequest(request.id))?.status === 'pending') await h.click(PEOPLE.alice, card, ACTION.approve);
  await h.waitFor('the namespace to be ready', async () => await store.lifecycle.get(request.id));
  return (await store.getRequest(request.id)) ?? request;
}

/** Types `/platform delete <args>` and returns the form it opened. */
export function deleteForm(h: Harness, user: string, args: string) {
  return openedForm(h, CALLBACK.deleteNamespace, () => h.command(user, `delete ${args}`));
}

/**
 * Does what opens a form (a command, a click) and returns the form with this callback id it
 * opened. Counted by callback id: Home views published meanwhile are views too.
 */
export async function openedForm(h: Harness, callbackId: string, open: () => Promise<unknown>) {
  const forms = () => h.slack.views.filter((v) => v.view.callback_id === callbackId);
  const before = forms().length;
  await open();
  return (await h.waitFor(`the ${callbackId} form`, () => forms()[before])).view;
}

/** The private answers to slash commands (sent to their response_url). */
export function replies(h: Harness): string[] {
  return h.slack.responseUrlPosts.map((p) => readable({ text: String(p.body.text ?? ''), blocks: Array.isArray(p.body.blocks) ? p.body.blocks : [] }));
}

/** A clock the test sets and moves; the bot reads it as `deps.clock`. */
export function movableClock(start: string) {
  let now = new Date(start);
  return {
    clock: { now: () => now },
    set: (iso: string) => void (now = new Date(iso)),
  };
}

/** The DMs the bot sent a person about the end of their namespaces (reminders and notices). */
export function endMessages(h: Harness, user: string = PEOPLE.dev): EmulatedMessage[] {
  return h.slack.dmWith(user).filter((m) => /^[⏳⌛]/u.test(m.text));
}

/** Runs one lifecycle sweep, as the scheduler would, and returns its summary. */
export async function sweep(h: Harness): Promise<string> {
  const outcome = await h.slipway.scheduler.run('lifecycle', 'scheduled');
  assert.equal(outcome.status, 'ok', outcome.error);
  return outcome.summary ?? '';
}

/**
 * Requests a namespace as the developer through the form (dev + small: approved by policy;
 * anything else: approved by Alice) and waits until it is ready; returns its request id.
 */
export async function readyNamespaceEnding(h: Harness, input: { name: string; expiresOn: string; environment?: string; tier?: string }): Promise<number> {
  const ready = () => h.slack.dmWith(PEOPLE.dev).filter((m) => m.text.startsWith('🎉')).length;
  const before = {
    ready: ready(),
    forms: h.slack.callsTo('views.open').filter((c) => c.ok).length,
    cards: h.slack.messages(h.config.slack.approvalsChannel).length,
  };
  await h.command(PEOPLE.dev, 'new-namespace');
  await h.waitFor('the request form', () => h.slack.callsTo('views.open').filter((c) => c.ok).length > before.forms);
  const reply = await h.submit(PEOPLE.dev, {
    ...REQUEST_FORM,
    [BLOCK.environment]: input.environment ?? 'dev',
    [BLOCK.tier]: input.tier ?? 'small',
    [BLOCK.name]: input.name,
    [BLOCK.expiry]: input.expiresOn,
  });
  assert.equal(reply.body, '', `the form was accepted: ${reply.body}`);
  const card = await h.waitFor('the request card', () => h.slack.messages(h.config.slack.approvalsChannel)[before.cards]);
  if (buttons(card).includes(ACTION.approve)) await h.click(PEOPLE.alice, card, ACTION.approve);
  await h.waitFor(`${input.name} ready`, () => ready() > before.ready, 10_000);
  const match = /R-(\d+)/.exec(readable(card));
  assert.ok(match, 'the card names the request');
  return Number(match[1]);
}

/** The payments team's channel, where reminders and idle notes go when the owner cannot be asked. */
export const TEAM_CHANNEL = 'C0PAYMENTS';

/**
 * The harness in Berlin time (schedule.timezone) with the payments team's channel and a clock the
 * test moves, starting at `start`; `options.configure` edits the config after that.
 */
export function startWithTeamChannel(t: Parameters<typeof startHarness>[0], start: string, options: HarnessOptions = {}) {
  const time = movableClock(start);
  const harness = startHarness(t, {
    ...options,
    clock: time.clock,
    channels: [{ id: TEAM_CHANNEL, name: 'payments', members: ['U0BOT', PEOPLE.dev] }],
    configure: (doc) => {
      doc.schedule = { timezone: 'Europe/Berlin' };
      const teams = doc.teams as Record<string, unknown>[];
      teams[0] = { ...teams[0], channel: TEAM_CHANNEL };
      options.configure?.(doc);
    },
  });
  return { time, harness };
}
