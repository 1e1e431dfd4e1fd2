/**
 * More than one replica, as the `ha` overlay runs them: three bot processes on one database
 * behind a Service (a round-robin proxy to the ready ones), leader election on a Lease in the
 * Kubernetes emulator, developers and an approver working through the Service while one replica
 * is killed and another restarted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APPROVALS, PEOPLE, readable } from './support/harness.ts';
import {
  clickApprove,
  developer,
  requestThroughService,
  SlackWatch,
  startReplicaSet,
  storedRequests,
  submitRequest,
  type ReplicaSet,
  type RequestTrip,
} from './support/replicas.ts';
import { startPostgres } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const REQUESTS = 300;
/** Developers working at the same moment. */
const AT_ONCE = 12;
/** Every other request needs an approver (staging, medium); the rest policy approves (dev, small). */
const needsApproval = (i: number) => i % 2 === 1;

test('300 requests through three replicas on PostgreSQL while one is killed and one restarted: none lost, none doubled, every requester told once', async (t) => {
  const postgres = await startPostgres();
  const set = await startReplicaSet(t, { replicas: 3, developers: REQUESTS, database: { DATABASE_URL: postgres.url } }).finally(() =>
    // After the replicas are stopped (hooks run in the order they were added).
    t.after(() => postgres.stop()),
  );
  const watch = new SlackWatch(set);
  t.after(() => watch.close());
  await waitFor('a leader', () => set.leader(), 20_000);

  const trips: RequestTrip[] = [];
  let next = 0;
  const developerAtWork = async () => {
    while (next < REQUESTS) {
      const i = next++;
      trips.push(await requestThroughService(set, watch, i, needsApproval(i)));
    }
  };
  const events: string[] = [];
  // A node fails under a follower, then the leader is redeployed: SIGTERM, then a new process.
  const disruptions = (async () => {
    await waitFor('a third of the requests', () => trips.length >= REQUESTS / 3, 120_000);
    const follower = set.names().find((name) => name !== set.leader());
    assert.ok(follower, 'a follower');
    await set.kill(follower);
    events.push(`killed ${follower}`);
    await waitFor('two thirds of the requests', () => trips.length >= (2 * REQUESTS) / 3, 120_000);
    const leader = set.leader();
    assert.ok(leader, 'a leader');
    const exit = await set.stop(leader);
    assert.equal(exit.code, 0, 'SIGTERM ends the replica cleanly');
    events.push(`stopped ${leader}`);
    events.push(`started ${await set.start()}`);
  })();
  await Promise.all([...Array.from({ length: AT_ONCE }, developerAtWork), disruptions]);
  assert.deepEqual(
    events.map((e) => e.split(' ')[0]),
    ['killed', 'stopped', 'started'],
  );

  // Everything submitted ends ready, whichever replica took it and whatever happened to that one.
  const expected = trips.map((trip) => trip.namespace).sort();
  const settled = await waitFor(
    'every namespace ready and its requester told',
    async () => {
      const rows = await storedRequests(set.env);
      return rows.length >= REQUESTS && rows.every((r) => r.status === 'ready' && r.notified === 'ready') && rows;
    },
    60_000,
  ).catch(async (err: unknown) => {
    const rows = await storedRequests(set.env);
    const stuck = rows.filter((r) => r.status !== 'ready' || r.notified !== 'ready');
    throw new Error(`${String(err)}: ${rows.length} requests, not settled: ${JSON.stringify(stuck.slice(0, 10))}\n${set.output().slice(-20_000)}`);
  });
  for (const name of set.names()) await set.stop(name);

  // 0 lost, 0 duplicated: one request per submission, one run, one namespace.
  assert.equal(settled.length, REQUESTS, 'one request per submission');
  assert.deepEqual(settled.map((r) => r.namespace).sort(), expected);
  assert.equal(new Set(settled.map((r) => r.viewId)).size, REQUESTS, 'each from its own form');
  for (const request of settled) {
    assert.equal(request.requester, developer(Number(request.namespace.slice(3))), `${request.namespace} is its developer's`);
    assert.deepEqual(request.runs, [{ status: 'done', kind: 'provision' }], `${request.namespace} was provisioned by one run`);
  }
  const namespaces = set.kube
    .list('namespaces')
    .map((ns) => ns.metadata?.name ?? '')
    .filter((name) => name.startsWith('ha-'));
  assert.deepEqual(namespaces.sort(), expected, 'one namespace per request');

  // Every requester told of the outcome exactly once, even when the killed replica told them and
  // died before it could record that (the replica that takes the outcome over finds the DM). The
  // receipts on the way ("Got it", "approved") go out at most once: a replica that dies between
  // posting the card and sending the receipt leaves the receipt unsent rather than sent twice.
  let receiptsUnsent = 0;
  for (const trip of trips) {
    const dms = set.slack.dmWith(trip.user);
    const count = (pattern: RegExp) => dms.filter((m) => pattern.test(m.text)).length;
    assert.equal(
      count(/^🎉 Your namespace `ha-\d+` is ready/),
      1,
      `${trip.user} heard once that ${trip.namespace} is ready: ${JSON.stringify(dms.map((m) => [m.ts, m.text.slice(0, 40)]))}`,
    );
    const received = count(/^Got it! Your request/);
    const approved = count(/^✅ .* approved/);
    assert.ok(received <= 1 && approved <= (trip.needsApproval ? 1 : 0), `${trip.user} heard nothing twice: ${JSON.stringify(dms.map((m) => m.text))}`);
    receiptsUnsent += 1 - received + (trip.needsApproval ? 1 - approved : 0);
  }
  assert.ok(receiptsUnsent < AT_ONCE, `${receiptsUnsent} receipts unsent: only requests in flight on the killed replica`);

  const retried = trips.filter((trip) => trip.commands > 1 || trip.submissions > 1 || trip.clicks > 1);
  t.diagnostic(
    `${events.join(', ')}; ${retried.length} requests needed a second try; ${receiptsUnsent} receipts unsent; proxy ${JSON.stringify(set.proxy.stats)}`,
  );
});

/** How many of the developer's DMs say `pattern`. */
function told(set: ReplicaSet, user: string, pattern: RegExp): number {
  return set.slack.dmWith(user).filter((m) => pattern.test(readable(m))).length;
}

test('an Approve click acked by a replica that dies at once still gets its namespace made, by another replica', async (t) => {
  const set = await startReplicaSet(t, { replicas: 2, developers: 1 });
  const watch = new SlackWatch(set);
  t.after(() => watch.close());
  const leader = await waitFor('a leader', () => set.leader(), 20_000);
  const trip = await submitRequest(set, watch, 0, true);
  const card = await watch.card(trip.namespace);

  // Carol approves through her user group (every replica listed its members at start), and the
  // replica she reached dies as soon as it has answered her click.
  const bot = set.bot(leader);
  assert.ok(bot);
  await clickApprove(bot.baseUrl, set, card, PEOPLE.carol);
  await set.kill(leader);

  await waitFor('the namespace ready, on the other replica', () => told(set, trip.user, /^🎉/) === 1 || undefined, 30_000);
  assert.ok(set.kube.get('namespaces', trip.namespace));
  const [request] = await storedRequests(set.env);
  assert.equal(request?.status, 'ready');
  assert.deepEqual(request?.runs, [{ status: 'done', kind: 'provision' }]);
});

test('a request acked by a replica that dies after Slack took its card, before recording it, is announced once', async (t) => {
  const set = await startReplicaSet(t, { replicas: 2, developers: 1 });
  const watch = new SlackWatch(set);
  t.after(() => watch.close());
  const leader = await waitFor('a leader', () => set.leader(), 20_000);
  const bot = set.bot(leader);
  assert.ok(bot);

  // Slack carries out the card's post but is slow to answer: the replica dies before it hears
  // back, so before it records the card. The new leader finds the card by its metadata. The
  // request waits for an approver, so it stays as it was while it is announced.
  const isCard = (args: Record<string, unknown>) => args.thread_ts === undefined && String(args.text).includes(' ha-0000 ');
  set.slack.stall('chat.postMessage', 60_000, 1, isCard);
  const trip = await submitRequest(set, watch, 0, true, bot.baseUrl);
  await waitFor('the card post', () => set.slack.callsTo('chat.postMessage').some((c) => isCard(c.args)));
  await set.kill(leader);

  const [request] = await waitFor(
    'the card recorded by the new leader',
    async () => {
      const stored = await storedRequests(set.env);
      return stored[0]?.cardTs ? stored : undefined;
    },
    30_000,
  );
  const cards = set.slack.messages(APPROVALS).filter((m) => m.text.includes(` ${trip.namespace} `));
  assert.equal(cards.length, 1, 'one card');
  assert.equal(request?.cardTs, cards[0]?.ts, 'the card in the channel is the one recorded');
  await waitFor('the receipt', () => told(set, trip.user, /^Got it! Your request/) || undefined);
  assert.equal(request?.status, 'pending');

  // The card works: an approval through the Service makes the namespace, and its requester hears once.
  await clickApprove(set.proxy.url, set, await watch.card(trip.namespace), PEOPLE.alice);
  await waitFor('the ready DM', () => told(set, trip.user, /^🎉/) === 1 || undefined, 30_000);
  assert.ok(set.kube.get('namespaces', trip.namespace));
  assert.equal(told(set, trip.user, /^Got it! Your request/), 1, 'told once that the request is in');
});

for (const { slackAnswers, readyDms, outcome } of [
  { slackAnswers: true, readyDms: 1, outcome: 'another replica finds the DM and does not tell them again' },
  { slackAnswers: false, readyDms: 2, outcome: 'when Slack cannot show the DM, another replica tells them again rather than never' },
]) {
  test(`a replica killed after telling the requester, before recording it: ${outcome}`, async (t) => {
    const set = await startReplicaSet(t, { replicas: 2, developers: 1 });
    const watch = new SlackWatch(set);
    t.after(() => watch.close());
    const leader = await waitFor('a leader', () => set.leader(), 20_000);
    const follower = set.names().find((name) => name !== leader);
    const bot = follower === undefined ? undefined : set.bot(follower);
    assert.ok(follower && bot, 'a follower');

    // The follower provisions the request; Slack takes its ready DM but is slow to answer, and the
    // follower dies before it hears back (so before it records that the requester was told).
    set.slack.stall('chat.postMessage', 60_000, 1, (args) => typeof args.text === 'string' && args.text.startsWith('🎉'));
    if (!slackAnswers) set.slack.failNext('conversations.history', 'internal_error');
    const trip = await submitRequest(set, watch, 0, false, bot.baseUrl);
    await waitFor('the ready DM sent', () => told(set, trip.user, /^🎉/) === 1 || undefined, 30_000);
    await set.kill(follower);

    // The leader finds the outcome untold once the follower's work has lapsed, and looks first.
    const [request] = await waitFor(
      'the outcome recorded as told',
      async () => {
        const rows = await storedRequests(set.env);
        return rows[0]?.notified === 'ready' && rows;
      },
      30_000,
    );
    assert.equal(request?.status, 'ready');
    assert.equal(told(set, trip.user, /^🎉/), readyDms, 'ready DMs');
    assert.equal(set.slack.callsTo('conversations.history').length, 1, 'the leader read the DM before telling');
  });
}
