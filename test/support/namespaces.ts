import assert from 'node:assert/strict';
import type { NamespaceRequest, RequestInput } from '../../src/domain/requests.ts';
import type { Store } from '../../src/store/store.ts';
import type { EmulatedView } from '../../src/playground/slack-api.ts';
import { SIGNING_SECRET, type Harness } from './harness.ts';
import { sendBlockAction, sendEvent, type SlackReply } from '../../src/playground/slack-requests.ts';

/**
 * Ready namespaces written straight into the store, as a finished provisioning run leaves them
 * (request approved, run done, namespace tracked with its owner, and the events the workflows
 * write): for views that list many.
 */
export async function readyNamespaces(store: Store, count: number, input: Partial<RequestInput> & { at?: Date } = {}): Promise<NamespaceRequest[]> {
  const at = input.at ?? new Date();
  const made: NamespaceRequest[] = [];
  for (let i = 0; i < count; i++) {
    const inserted = await store.insertRequest(
      {
        namespace: input.namespace ?? `ns-${i + 1}`,
        cluster: input.cluster ?? 'dev-eu',
        team: input.team ?? 'payments',
        environment: input.environment ?? 'dev',
        tier: input.tier ?? 'small',
        purpose: input.purpose ?? 'tests',
        expiresOn: input.expiresOn,
        requester: input.requester ?? 'U0DEV',
      },
      at,
    );
    assert.ok(inserted.created, `namespace ${i + 1} is new`);
    const { request } = inserted;
    const event = async (type: string, data: Record<string, unknown>, actor?: string) =>
      await store.appendEvent({ type, at, actor, team: request.team, requestId: request.id, data });
    await event(
      'request_submitted',
      { namespace: request.namespace, cluster: request.cluster, environment: request.environment, tier: request.tier },
      request.requester,
    );
    await store.decide(request.id, { status: 'approved', by: 'U0ALICE' }, at);
    const run = await store.startRun(request.id, ['namespace'], at);
    assert.ok(run);
    assert.ok(await store.completeRun(run.id, request.id, 'done', at));
    await event('namespace_ready', { runId: run.id, namespace: request.namespace, cluster: request.cluster });
    made.push(request);
  }
  return made;
}

/** Opens the person's Home tab (the `app_home_opened` event) and returns the view Slipway publishes. */
export async function openHome(h: Harness, user: string, view?: EmulatedView): Promise<EmulatedView> {
  const before = h.slack.callsTo('views.publish').length;
  await sendEvent(h.baseUrl, SIGNING_SECRET, {
    event: { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home', ...(view ? { view } : {}) },
  });
  return publishedHome(h, user, before);
}

/** Waits for a `views.publish` to `user` after the first `before` calls, and returns their Home as it is now. */
export async function publishedHome(h: Harness, user: string, before: number): Promise<EmulatedView> {
  await h.waitFor(`the Home tab of ${user}`, () =>
    h.slack
      .callsTo('views.publish')
      .slice(before)
      .some((call) => call.args.user_id === user && call.ok),
  );
  const home = h.slack.homeView(user);
  assert.ok(home, `a Home tab for ${user}`);
  return home;
}

/** Clicks a button on a Home tab (a view interaction: no channel, a trigger id for modals). */
export function clickHome(h: Harness, user: string, view: EmulatedView, actionId: string, blockId?: string): Promise<SlackReply> {
  return sendBlockAction(h.baseUrl, SIGNING_SECRET, {
    userId: user,
    view,
    actionId,
    ...(blockId ? { blockId } : {}),
    triggerId: h.slack.issueTriggerId(user),
  });
}
