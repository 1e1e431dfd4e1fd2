import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK, CALLBACK, HOME, IDLE } from '../src/slack/ids.ts';
import type { EmulatedMessage } from '../src/playground/slack-api.ts';
import type { startHarness } from './support/harness.ts';
import { APPROVALS, buttons, PEOPLE, PLATFORM, readable } from './support/harness.ts';
import { openedForm, readyNamespace, startWithTeamChannel, sweep, TEAM_CHANNEL } from './support/lifecycle.ts';
import { ENGINES } from './support/stores.ts';
import type { Engine } from '../src/store/db.ts';

/**
 * Idle reclaim through the real interfaces: namespaces made through the request form, usage
 * snapshots taken by the `usage-refresh` job and the conversation run by the `lifecycle` job, as
 * the scheduler runs them, under a clock the test moves. Defaults: dev asked after 14 days,
 * staging after 30, prod (protected) never; 7 days to answer; deleted without an answer in dev only.
 */

const START = Date.parse('2026-11-02T09:00:00Z'); // a Monday, 10:00 in Berlin
const day = (n: number) => new Date(START + n * 86_400_000).toISOString();

async function setUp(t: Parameters<typeof startHarness>[0], configure: (doc: Record<string, unknown>) => void = () => {}, engine: Engine = 'sqlite') {
  const { time, harness } = startWithTeamChannel(t, day(0), { configure, engine });
  return { time, h: await harness };
}

type Harness = Awaited<ReturnType<typeof setUp>>['h'];

/** Runs the usage refresh, as the scheduler would. */
async function refresh(h: Harness): Promise<void> {
  const outcome = await h.slipway.scheduler.run('usage-refresh', 'manual');
  assert.equal(outcome.status, 'ok', outcome.error);
}

/** Posts the weekly digest, as the scheduler would, and returns what the platform channel read. */
async function digest(h: Harness): Promise<string> {
  const outcome = await h.slipway.scheduler.run('digest', 'manual');
  assert.equal(outcome.status, 'ok', outcome.error);
  const posted = h.slack
    .messages(PLATFORM)
    .filter((m) => m.text.startsWith('Platform adoption'))
    .at(-1);
  assert.ok(posted, 'the digest was posted');
  return readable(posted);
}

/** The idle questions a person got by DM. */
const questions = (h: Harness, user: string = PEOPLE.dev) => h.slack.dmWith(user).filter((m) => m.text.startsWith('💤'));
const teamNotes = (h: Harness) => h.slack.messages(TEAM_CHANNEL).filter((m) => m.text.startsWith('💤'));
const idleEvents = async (h: Harness, requestId: number) =>
  (await h.slipway.deps.store.eventsFor(requestId)).filter((e) => e.type.startsWith('idle_')).map((e) => [e.type, e.at.slice(0, 10), e.actor] as const);

function only(messages: EmulatedMessage[], what: string): EmulatedMessage {
  assert.equal(messages.length, 1, `one ${what}: ${messages.map((m) => m.text).join(' | ')}`);
  return messages[0] as EmulatedMessage;
}

/** A dev namespace without pods for 14 days, and the one question its owner got about it. */
async function idleDevAsked(h: Harness, time: Awaited<ReturnType<typeof setUp>>['time']) {
  const dev = await readyNamespace(h, 'dev');
  await refresh(h);
  time.set(day(14));
  await sweep(h);
  return { dev, question: only(questions(h), 'question') };
}

test('a dev namespace idle for 14 days is asked about once; Keep it snoozes it for 30 days; prod is never asked', async (t) => {
  const { time, h } = await setUp(t);
  const dev = await readyNamespace(h, 'dev');
  const prod = await readyNamespace(h, 'prod');
  await refresh(h);

  time.set(day(13));
  assert.match(await sweep(h), /; 0 idle asked/);
  assert.equal(questions(h).length, 0, 'not before 14 days');

  time.set(day(14));
  assert.match(await sweep(h), /; 1 idle asked/);
  const question = only(questions(h), 'question');
  assert.match(readable(question), /Your namespace `payments-dev` on \*Dev \(eu-west-1\)\* \(dev, R-1\) has run no pods for 14 days \(since Mon Nov 2\)/);
  assert.match(readable(question), /Without an answer by Mon Nov 23, your team's channel is asked/);
  assert.deepEqual(buttons(question), [IDLE.keep, HOME.delete, IDLE.notMine]);
  time.set(day(15));
  await sweep(h);
  assert.equal(questions(h).length, 1, 'asked once');

  await h.click(PEOPLE.dev, question, IDLE.keep);
  const kept = await h.waitFor('the question updated', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.ts === question.ts && m.text.startsWith('✅')));
  assert.match(kept.text, /`payments-dev` \(R-1\) is kept: <@U0DEV> pressed Keep it\. Not asked again before Thu Dec 17/);
  assert.deepEqual(buttons(kept), []);

  // No note in the team's channel at the end of the answer period: it was answered.
  time.set(day(22));
  assert.match(await sweep(h), /0 idle teams told/);
  assert.equal(teamNotes(h).length, 0);
  time.set(day(44));
  await sweep(h);
  assert.equal(questions(h).length, 0, 'snoozed for 30 days (the answered question reads ✅ now)');
  time.set(day(45));
  assert.match(await sweep(h), /; 1 idle asked/);
  assert.equal(questions(h).length, 1, 'still idle after the snooze: asked again');

  assert.deepEqual(await idleEvents(h, dev.id), [
    ['idle_asked', '2026-11-16', undefined],
    ['idle_kept', '2026-11-17', PEOPLE.dev],
    ['idle_asked', '2026-12-17', undefined],
  ]);
  assert.deepEqual(await idleEvents(h, prod.id), [], 'a protected environment is never asked');
});

// On both engines: the idle store's SQL is the same on SQLite and PostgreSQL.
for (const engine of ENGINES) {
  test(`without an answer the team channel hears about it, then a dev namespace is deleted through the delete workflow [${engine}]`, async (t) => {
    const { time, h } = await setUp(t, undefined, engine);
    const { dev } = await idleDevAsked(h, time);

    time.set(day(21));
    assert.match(await sweep(h), /1 idle teams told/);
    const note = only(teamNotes(h), 'team note');
    assert.match(readable(note), /`payments-dev` .* has run no pods for 21 days .* <@U0DEV>, who owns it, was asked on Mon Nov 16 and has not answered/);
    assert.match(readable(note), /Without an answer by Mon Nov 30 it is deleted/);
    assert.deepEqual(buttons(note), [IDLE.keep, HOME.delete]);
    await sweep(h);
    assert.equal(teamNotes(h).length, 1, 'one note');
    // The digest's idle list says who was asked and when.
    assert.match(
      await digest(h),
      /`payments-dev` on dev-eu · Payments · <@U0DEV> · never ran a pod \(\d+ days\) · asked <@U0DEV> Mon, Nov 16, team told Mon, Nov 23/,
    );
    assert.ok(h.kube.get('namespaces', undefined, 'payments-dev'), 'still there');

    time.set(day(28));
    assert.match(await sweep(h), /1 idle deletions started/);
    const deleted = await h.waitFor('the deleted DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.text.includes('is deleted')));
    assert.match(deleted.text, /`payments-dev` .* is deleted, after it ran no pods and nobody answered for it/);
    assert.equal(h.kube.get('namespaces', undefined, 'payments-dev'), undefined, 'gone from the cluster');
    const store = h.slipway.deps.store;
    assert.equal((await store.lifecycle.get(dev.id))?.state, 'deleted');
    // Recorded right after the owner's DM (src/workflows/lifecycle/delete.ts).
    const recorded = await h.waitFor('the deletion recorded', async () => (await store.eventsFor(dev.id)).find((e) => e.type === 'namespace_deleted'));
    assert.equal(recorded.actor, 'idle');
    assert.deepEqual(await idleEvents(h, dev.id), [
      ['idle_asked', '2026-11-16', undefined],
      ['idle_team_told', '2026-11-23', undefined],
      ['idle_reclaimed', '2026-11-30', 'idle'],
    ]);

    // The week of the deletion: reclaimed, with the quota it gave back.
    time.set(day(35));
    assert.match(
      await digest(h),
      /🧹 \*Day 2:\* 1 namespace deleted · 0 expired · 0 extensions\nQuota returned: requests\.cpu 2, .*\n♻️ Reclaimed this week: 1 idle namespace, quota returned: requests\.cpu 2, requests\.memory/,
    );
  });
}

test('staging: Not mine asks the team channel; still no answer, the approvers are asked in the thread and one keeps it', async (t) => {
  const { time, h } = await setUp(t);
  const staging = await readyNamespace(h, 'staging');
  await refresh(h);

  time.set(day(29));
  assert.match(await sweep(h), /; 0 idle asked/);
  time.set(day(30));
  await sweep(h);
  const question = only(questions(h), 'question');

  await h.click(PEOPLE.dev, question, IDLE.notMine);
  const note = await h.waitFor('the team note', () => teamNotes(h)[0]);
  assert.match(readable(note), /<@U0DEV>, its owner, says it is not theirs: whose is it\?/);
  assert.match(readable(note), /Without an answer by Wed Dec 9 the approvers decide/);
  await h.waitFor('the question updated', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.ts === question.ts && m.text.startsWith('👍')));

  time.set(day(36));
  assert.match(await sweep(h), /0 idle deletions started, 0 idle approvers asked/);
  time.set(day(37));
  assert.match(await sweep(h), /0 idle deletions started, 1 idle approvers asked/);
  assert.equal(teamNotes(h).length, 1, 'the team was told once');
  const cardTs = (await h.slipway.deps.store.getRequest(staging.id))?.card?.ts;
  const card = h.slack.messages(APPROVALS).find((m) => m.ts === cardTs);
  assert.ok(card);
  const asked = h.slack.thread(APPROVALS, card.ts).find((m) => m.text.startsWith('💤'));
  assert.ok(asked, 'asked in the request thread');
  assert.match(readable(asked), /`payments-staging` .* owned by <@U0DEV>, has run no pods for 37 days .* staging is not deleted without an approver/);
  assert.deepEqual(buttons(asked), [IDLE.keep, HOME.delete]);
  assert.ok(h.kube.get('namespaces', undefined, 'payments-staging'), 'not deleted');
  time.set(day(38));
  await sweep(h);
  assert.equal(h.slack.thread(APPROVALS, card.ts).filter((m) => m.text.startsWith('💤')).length, 1, 'asked once');

  await h.click(PEOPLE.alice, asked, IDLE.keep);
  await h.waitFor('the owner told', () => h.slack.dmWith(PEOPLE.dev).find((m) => /is kept: <@U0ALICE> pressed Keep it/.test(m.text)));
  assert.deepEqual(await idleEvents(h, staging.id), [
    ['idle_asked', '2026-12-02', undefined],
    ['idle_not_mine', '2026-12-02', PEOPLE.dev],
    ['idle_team_told', '2026-12-02', undefined],
    ['idle_approvers_asked', '2026-12-09', undefined],
    ['idle_kept', '2026-12-10', PEOPLE.alice],
  ]);
});

test('pods running again end the conversation: the team channel hears nothing', async (t) => {
  const { time, h } = await setUp(t);
  const { dev } = await idleDevAsked(h, time);

  h.kube.seed([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-1', namespace: 'payments-dev' },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
      status: { phase: 'Running' },
    },
  ]);
  time.set(day(16));
  await refresh(h);
  time.set(day(21));
  assert.match(await sweep(h), /0 idle teams told, 0 idle deletions started, 0 idle approvers asked, 1 idle no longer/);
  assert.equal(teamNotes(h).length, 0);
  time.set(day(60));
  assert.match(await sweep(h), /; 0 idle asked/, 'running: not idle');
  assert.deepEqual(await idleEvents(h, dev.id), [
    ['idle_asked', '2026-11-16', undefined],
    ['idle_ended', '2026-11-23', undefined],
  ]);
});

test('Delete it waiting for an approver answers the question: the team channel is not told, and it is not asked again meanwhile', async (t) => {
  const { time, h } = await setUp(t, (doc) => void (doc.policy = { ...(doc.policy as object), delete: { autoApprove: [] } }));
  const { dev, question } = await idleDevAsked(h, time);

  const form = await openedForm(h, CALLBACK.deleteNamespace, () => h.click(PEOPLE.dev, question, HOME.delete));
  assert.equal(form.callback_id, CALLBACK.deleteNamespace, 'the delete form of /platform delete');
  const reply = await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: 'Not needed' });
  assert.equal(reply.body, '');
  await h.waitFor('the deletion request', async () => await h.slipway.deps.store.lifecycle.openRequestFor(dev.id, 'delete'));

  time.set(day(21));
  assert.match(await sweep(h), /0 idle teams told, .*1 idle no longer/);
  assert.equal(teamNotes(h).length, 0);
  time.set(day(22));
  assert.match(await sweep(h), /; 0 idle asked/);
  assert.deepEqual(await idleEvents(h, dev.id), [
    ['idle_asked', '2026-11-16', undefined],
    ['idle_ended', '2026-11-23', undefined],
  ]);
  assert.equal((await h.slipway.deps.store.eventsFor(dev.id)).find((e) => e.type === 'idle_ended')?.data.why, 'delete_requested');
});

test('a team without a channel: the question and Not mine say the platform team is asked, in the request thread, where the note goes', async (t) => {
  const { time, h } = await setUp(t, (doc) => {
    const teams = doc.teams as Record<string, unknown>[];
    delete teams[0]?.channel;
  });
  const { dev, question } = await idleDevAsked(h, time);
  assert.match(readable(question), /Without an answer by Mon Nov 23, the platform team is asked in the request's thread\./);

  await h.click(PEOPLE.dev, question, IDLE.notMine);
  const updated = await h.waitFor('the question updated', () => h.slack.dmWith(PEOPLE.dev).find((m) => m.ts === question.ts && m.text.startsWith('👍')));
  assert.match(readable(updated), /is not yours\. The platform team is asked in the request's thread whose it is\./);
  const card = (await h.slipway.deps.store.getRequest(dev.id))?.card?.ts ?? '';
  assert.ok(h.slack.thread(APPROVALS, card).some((m) => /says it is not theirs: whose is it\?/.test(readable(m))));
});
