import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APPROVALS, PEOPLE, readable, startHarness, type Harness } from './support/harness.ts';
import { readyNamespace, replies } from './support/lifecycle.ts';

/** A mention as Slack sends it in a slash command's text with escaping on (manifest.yml `should_escape: true`). */
const mention = (id: string) => `<@${id}|${id.slice(2).toLowerCase()}>`;

async function answer(h: Harness, user: string, text: string, expected: RegExp): Promise<string> {
  const before = replies(h).length;
  await h.command(user, text);
  const reply = await h.waitFor(`the answer to /platform ${text}`, () => replies(h).slice(before)[0]);
  assert.match(reply, expected);
  return reply;
}

const dms = (h: Harness, user: string) => h.slack.dmWith(user).map(readable);

test('the owner hands a namespace over: recorded, both told, and the new owner is the one who may delete it', async (t) => {
  const h = await startHarness(t);
  const request = await readyNamespace(h, 'dev');

  await answer(h, PEOPLE.dev, `transfer payments-dev ${mention(PEOPLE.mallory)}`, /^Done: <@U0MALLORY> owns `payments-dev` \(\*R-1\*, dev-eu\) now/);
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.owner, PEOPLE.mallory);
  await h.waitFor('the new owner is told', () => dms(h, PEOPLE.mallory).find((m) => /<@U0DEV> handed `payments-dev` .* over to you\. You own it now/.test(m)));
  assert.ok(dms(h, PEOPLE.dev).some((m) => /You handed `payments-dev` .* over to <@U0MALLORY>/.test(m)));
  assert.ok(h.slack.thread(APPROVALS, request.card?.ts ?? '').some((m) => /<@U0DEV> handed `payments-dev` over from <@U0DEV> to <@U0MALLORY>/.test(m.text)));
  const [event] = (await h.slipway.deps.store.eventsFor(request.id)).filter((e) => e.type === 'transferred');
  assert.equal(event?.actor, PEOPLE.dev);
  assert.deepEqual(event.data, { from: PEOPLE.dev, to: PEOPLE.mallory, namespace: 'payments-dev', cluster: 'dev-eu' });

  // The previous owner no longer decides about it.
  await answer(h, PEOPLE.dev, 'delete payments-dev', /Only its owner \(<@U0MALLORY>\) or an approver can delete/);
  await answer(h, PEOPLE.dev, `transfer payments-dev ${mention(PEOPLE.dev)}`, /Only its owner \(<@U0MALLORY>\) or an approver can hand/);

  // An approver may hand it on for the owner.
  await answer(h, PEOPLE.alice, `transfer payments-dev ${mention(PEOPLE.dev)}`, /^Done: <@U0DEV> owns/);
  await h.waitFor('the owner is told who did it', () => dms(h, PEOPLE.dev).find((m) => /<@U0ALICE> \(for <@U0MALLORY>\) handed `payments-dev`/.test(m)));
  assert.ok(dms(h, PEOPLE.mallory).some((m) => /<@U0ALICE> handed `payments-dev` .* over to <@U0DEV>/.test(m)));
  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.owner, PEOPLE.dev);
});

test('a transfer to nobody in particular, a bot, someone unknown or an unmanaged namespace changes nothing and says why', async (t) => {
  const h = await startHarness(t, { users: [{ id: 'U0CIBOT', name: 'ci-bot', isBot: true }] });
  const request = await readyNamespace(h, 'dev');

  await answer(h, PEOPLE.dev, 'transfer payments-dev @mallory', /pick the person from Slack's list/);
  await answer(h, PEOPLE.dev, 'transfer payments-dev', /^Usage: `\/platform transfer <namespace> @person`/);
  await answer(h, PEOPLE.dev, `transfer payments-dev ${mention('U0CIBOT')}`, /<@U0CIBOT> can't own a namespace: they are not an active person/);
  await answer(h, PEOPLE.dev, `transfer payments-dev ${mention('U0NOBODY')}`, /<@U0NOBODY> can't own a namespace/);
  await answer(h, PEOPLE.dev, `transfer payments-dev ${mention(PEOPLE.dev)}`, /<@U0DEV> already owns `payments-dev`/);
  await answer(h, PEOPLE.dev, `transfer kube-system ${mention(PEOPLE.mallory)}`, /Slipway has no namespace named `kube-system`/);

  assert.equal((await h.slipway.deps.store.lifecycle.get(request.id))?.owner, PEOPLE.dev);
  assert.deepEqual(
    (await h.slipway.deps.store.eventsFor(request.id)).filter((e) => e.type === 'transferred'),
    [],
  );
});
