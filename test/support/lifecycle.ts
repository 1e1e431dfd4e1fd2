import type { NamespaceRequest } from '../../src/domain/requests.ts';
import { ACTION, BLOCK, CALLBACK } from '../../src/slack/ids.ts';
import { APPROVALS, PEOPLE, readable, type Harness } from './harness.ts';

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
  const request = await h.waitFor('the request', () => store.lastRequestBy(PEOPLE.dev));
  if (request.status === 'pending') {
    const card = await h.waitFor('the card', () => {
      const ts = store.getRequest(request.id)?.card?.ts;
      return ts !== undefined && h.slack.messages(APPROVALS).find((m) => m.ts === ts);
    });
    await h.click(PEOPLE.alice, card, ACTION.approve);
  }
  await h.waitFor('the namespace to be ready', () => store.lifecycle.get(request.id));
  return store.getRequest(request.id) ?? request;
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
