import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOME } from '../src/slack/ids.ts';
import { buttons, DEV_CHANNEL, PEOPLE, readable, SIGNING_SECRET, startHarness, type Harness } from './support/harness.ts';
import { sendBlockAction } from '../src/playground/slack-requests.ts';
import { readyNamespaces } from './support/namespaces.ts';

const NOW = new Date('2026-12-04T09:00:00Z');
const clock = { now: () => NOW };

interface Answer {
  text: string;
  blocks: Record<string, unknown>[];
  replaceOriginal: boolean;
}

/** `/platform list …` as `user`; returns the private answer sent to the command's response_url. */
async function list(h: Harness, user: string, args: string): Promise<Answer> {
  const before = h.slack.responseUrlPosts.length;
  const ack = await h.command(user, `list ${args}`.trim());
  assert.equal(ack.status, 200);
  return answerAfter(h, before);
}

async function answerAfter(h: Harness, before: number): Promise<Answer> {
  const post = await h.waitFor('the answer', () => h.slack.responseUrlPosts[before]);
  assert.equal(post.status, 200);
  assert.equal(post.body.response_type, 'ephemeral', 'only the person who asked sees it');
  const blocks = post.body.blocks as Record<string, unknown>[];
  assert.ok(blocks.length <= 50, `${blocks.length} blocks in a message`);
  return { text: readable({ text: String(post.body.text), blocks }), blocks, replaceOriginal: post.body.replace_original === true };
}

/** Clicks "Show more" (or Previous) in an answer; returns the answer that replaces it. */
async function page(h: Harness, user: string, answer: Answer, actionId: string = HOME.listPage): Promise<Answer> {
  const before = h.slack.responseUrlPosts.length;
  // The answer is ephemeral: the click carries a response_url that replaces it.
  await sendBlockAction(h.baseUrl, SIGNING_SECRET, {
    userId: user,
    actionId,
    message: { channel: DEV_CHANNEL, ts: '1700000000.000100', blocks: answer.blocks },
    responseUrl: h.slack.issueResponseUrl({ channelId: DEV_CHANNEL, userId: user }),
  });
  return answerAfter(h, before);
}

test('/platform list: your namespaces, privately, paged within a message’s 50 blocks', async (t) => {
  const h = await startHarness(t, { clock });
  assert.match((await list(h, PEOPLE.dev, '')).text, /Your namespaces: none\./);

  await readyNamespaces(h.slipway.deps.store, 45, { at: NOW });
  const first = await list(h, PEOPLE.dev, '');
  assert.match(first.text, /Your namespaces: showing 1–20 of 45/);
  assert.match(first.text, /`ns-45`/);
  assert.deepEqual(buttons({ blocks: first.blocks }).filter((id) => id === HOME.details).length, 20, 'a Details button per namespace');

  const second = await page(h, PEOPLE.dev, first);
  assert.ok(second.replaceOriginal, 'the next page replaces the answer');
  assert.match(second.text, /showing 21–40 of 45/);
  const third = await page(h, PEOPLE.dev, second);
  assert.match(third.text, /showing 41–45 of 45/);
  assert.ok(!buttons({ blocks: third.blocks }).includes(HOME.listPage), 'nothing more to show');
  assert.match((await page(h, PEOPLE.dev, third, `${HOME.listPage}_previous`)).text, /showing 21–40 of 45/);
});

test('/platform list <team> and @person for anyone; all only for approvers', async (t) => {
  const h = await startHarness(t, { clock });
  const store = h.slipway.deps.store;
  await readyNamespaces(store, 2, { at: NOW });
  await readyNamespaces(store, 1, { at: NOW, namespace: 'search-dev', team: 'search', requester: PEOPLE.bob });

  const team = await list(h, PEOPLE.mallory, 'payments');
  assert.match(team.text, /Namespaces of Payments: 2 namespaces/);
  assert.match(team.text, /owner <@U0DEV>/);
  assert.doesNotMatch(team.text, /search-dev/);

  const person = await list(h, PEOPLE.mallory, '<@U0BOB|bob>');
  assert.match(person.text, /Namespaces owned by <@U0BOB>: 1 namespace/);
  assert.match(person.text, /`search-dev`/);

  const refused = await list(h, PEOPLE.mallory, 'all');
  assert.match(refused.text, /Only approvers can list every namespace/);
  assert.doesNotMatch(refused.text, /`ns-1`|search-dev/);

  const all = await list(h, PEOPLE.carol, 'all'); // an approver through a user group
  assert.match(all.text, /All namespaces: 3 namespaces/);

  assert.match((await list(h, PEOPLE.dev, 'billing')).text, /There is no team called `billing`/);
  assert.match((await list(h, PEOPLE.dev, '@someone')).text, /mention the person/);
});
