import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { Store } from '../src/store/store.ts';
import { pulseQuestions } from '../src/workflows/surveys/pulse.ts';
import type { EmulatedMessage } from '../src/playground/slack-api.ts';
import { SlackApiEmulator } from '../src/playground/slack-api.ts';
import { writeConfig } from './support/bot-process.ts';
import { exampleConfigDocument } from './support/config.ts';
import { PEOPLE, PLATFORM, readable, startHarness, type Harness } from './support/harness.ts';
import { runCli } from './support/cli.ts';
import { readyNamespaces } from './support/namespaces.ts';
import { appendRequest } from './support/history.ts';

const NOW = new Date('2026-11-23T09:00:00Z'); // Monday morning: the digest reports Nov 16 – 22
const clock = { now: () => NOW };
const M = 60_000;

/** Two ordinary weeks: last week busier and slower than the week before. */
async function seedTwoWeeks(h: Harness): Promise<void> {
  const store = h.slipway.deps.store;
  await appendRequest(store, { team: 'payments', at: '2026-10-01T09:00:00Z', auto: true, decideAfter: 1000, readyAfter: 40_000 });
  await appendRequest(store, { team: 'payments', at: '2026-11-10T09:00:00Z', auto: true, decideAfter: 1000, readyAfter: 60_000 });
  await appendRequest(store, { team: 'payments', at: '2026-11-11T09:00:00Z', decideAfter: 10 * M, readyAfter: 12 * M });
  await appendRequest(store, { team: 'payments', at: '2026-11-16T09:00:00Z', auto: true, decideAfter: 1000, readyAfter: 90_000 });
  await appendRequest(store, { team: 'search', at: '2026-11-17T09:00:00Z', decideAfter: 45 * M, readyAfter: 48 * M });
  await appendRequest(store, { team: 'search', at: '2026-11-18T09:00:00Z', decideAfter: 20 * M, deny: true });
}

/** Checks a PNG the way a decoder would: signature, chunk CRCs, and IDAT inflating to the pixel rows. */
function assertValidPng(bytes: Buffer): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString('latin1');
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    assert.equal(bytes.readUInt32BE(offset + 8 + length), crc32(bytes.subarray(offset + 4, offset + 8 + length)), `CRC of ${type}`);
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, '8 bits per channel');
      channels = ({ 2: 3, 6: 4 } as Record<number, number>)[data[9] ?? 0] ?? 0;
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  assert.equal(types[0], 'IHDR');
  assert.equal(types.at(-1), 'IEND');
  assert.ok(channels > 0, 'RGB or RGBA');
  assert.equal(inflateSync(Buffer.concat(idat)).length, height * (1 + width * channels), 'pixel data for every row');
  return { width, height };
}

function crc32(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Every text a reader sees in the blocks, and the limits Slack enforces on them (https://docs.slack.dev/reference/block-kit/blocks). */
/** Runs the digest job and returns the digest as people read it, checked against Slack's limits. */
async function postedDigest(h: Harness): Promise<string> {
  const outcome = await h.slipway.scheduler.run('digest', 'manual');
  assert.equal(outcome.status, 'ok', outcome.error);
  const [digest] = h.slack.messages(PLATFORM);
  assert.ok(digest);
  assertWithinLimits(digest);
  return readable(digest);
}

function assertWithinLimits(message: EmulatedMessage): void {
  const blocks = message.blocks as { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { text?: string }[] }[];
  assert.ok(blocks.length <= 50, `${blocks.length} blocks`);
  let total = 0;
  for (const b of blocks) {
    if (b.type === 'header') assert.ok((b.text?.text.length ?? 0) <= 150);
    if (b.text) assert.ok(b.text.text.length <= 3000, `section of ${b.text.text.length}`);
    if (b.fields) {
      assert.ok(b.fields.length <= 10);
      for (const f of b.fields) assert.ok(f.text.length <= 2000);
    }
    total +=
      (b.text?.text.length ?? 0) + (b.fields ?? []).reduce((n, f) => n + f.text.length, 0) + (b.elements ?? []).reduce((n, e) => n + (e.text?.length ?? 0), 0);
  }
  // Slack refuses messages whose blocks hold ~13k characters in all (msg_blocks_too_long, bolt-js#2509).
  assert.ok(total <= 12_000, `${total} characters in the blocks`);
}

test('the weekly digest goes to the platform channel, readable at a glance, with its chart uploaded as a PNG', async (t) => {
  const h = await startHarness(t, { clock });
  await seedTwoWeeks(h);
  const outcome = await h.slipway.scheduler.run('digest', 'manual');
  assert.equal(outcome.status, 'ok', outcome.error);

  const [digest, chartPost] = h.slack.messages(PLATFORM);
  assert.ok(digest && chartPost, 'the digest, then the chart under it');
  assertWithinLimits(digest);
  const text = readable(digest);
  assert.match(text, /📊 Platform adoption · Nov 16 – 22, 2026/);
  // The notification line says it all in one sentence.
  assert.equal(
    digest.text,
    'Platform adoption, Nov 16 – 22, 2026: 3 requests, 33% self-serve, median time to ready 24m, 2 of 2 teams active · ⚠️ 4 metrics got worse',
  );
  // What got worse comes first, with the numbers behind it.
  assert.match(
    text,
    /⚠️ \*Needs attention\*\n• \*Self-serve share\* down 17 points \(50% → 33%\)\n• \*Median time to ready\* up 281% \(6m 30s → 24m\)\n• \*p90 time to ready\* up 298% \(10m → 43m\)\n• \*Median approval wait\* up 225% \(10m → 32m\)/,
  );
  // Key numbers with their week-over-week arrows.
  assert.match(text, /\*Requests\*\n3\n↑ 1 \(\+50%\)/);
  assert.match(text, /\*Self-serve\*\n33% auto-approved \(1 of 3 decisions; 1 denied\)\n↓ 17 pts ⚠️/);
  assert.match(text, /\*Time to ready\*\nmedian 24m · p90 43m\nmedian ↑ 281% ⚠️ · p90 ↑ 298% ⚠️/);
  assert.match(text, /\*Teams\*\n2 of 2 active · 100% adoption\nadoption ↑ 50 pts/);
  // The trend, drawn with text, and who is new.
  assert.match(text, /`▃▁▁▁▁▁▆█` {2}requests per week: 1, 0, 0, 0, 0, 0, 2, 3/);
  assert.match(text, /`▁·····▃█` {2}median time to ready: 40s → 24m \(· = nothing became ready\)/);
  assert.match(text, /🎉 \*New to the platform:\* Search \(first namespace 48m after the first request\)/);
  assert.match(text, /How each number is computed: `docs\/metrics.md`/);

  // The chart: the documented upload flow, completed into the channel, a real PNG.
  assert.deepEqual(
    h.slack.calls.filter((c) => c.method.startsWith('files.')).map((c) => [c.method, c.ok]),
    [
      ['files.getUploadURLExternal', true],
      ['files.completeUploadExternal', true],
    ],
  );
  const [file] = h.slack.uploadedFiles;
  assert.ok(file?.bytes, 'bytes were uploaded');
  assert.equal(file.completed, true);
  assert.equal(file.channelId, PLATFORM);
  assert.equal(file.filename, 'slipway-adoption-2026-11-16.png');
  assert.equal(file.bytes.length, file.declaredLength);
  const { width, height } = assertValidPng(file.bytes);
  assert.ok(width >= 1000 && height >= 400, `${width}x${height}`);
  assert.deepEqual(chartPost.files, [file.id]);
  const upload = h.slack.calls.find((c) => c.method === 'files.getUploadURLExternal');
  assert.match(
    String(upload?.args.alt_text),
    /^Bar and line chart\. Sep 28: 1 request, median time to ready 40s; Oct 5: 0 requests, median time to ready none; .*Nov 16: 3 requests, median time to ready 24m\.$/,
  );

  assert.deepEqual(h.slack.warnings, []);
  const [run] = await h.slipway.deps.store.adoption.jobRuns('digest');
  assert.deepEqual(run && [run.reason, run.status], ['manual', 'ok']);
  assert.match(run?.summary ?? '', /^week of Nov 16 – 22, 2026 posted to C0PLATFORM; chart uploaded \(\d+ kB\)$/);
});

test('a week without activity reads as a quiet week, not a wall of zeros', async (t) => {
  const h = await startHarness(t, { clock });
  await appendRequest(h.slipway.deps.store, { team: 'payments', at: '2026-11-10T09:00:00Z', auto: true, decideAfter: 1000, readyAfter: 60_000 });
  const text = await postedDigest(h);
  assert.match(
    text,
    /😴 \*A quiet week\.\* No requests, no decisions, nothing provisioned, and no namespace ran pods\. The week before: 1 request, 1 namespace ready\./,
  );
  assert.doesNotMatch(text, /\*Requests\*/, 'no grid of zeros');
  assert.match(text, /⚠️ \*Needs attention\*\n• \*Adoption\* down 100% \(50% → 0%\)/);
  assert.match(text, /requests per week: 0, 0, 0, 0, 0, 0, 1, 0/);
  assert.equal(h.slack.uploadedFiles.length, 1, 'the chart still goes out');

  // And with no history at all.
  const empty = await startHarness(t, { clock });
  assert.equal((await empty.slipway.scheduler.run('digest', 'manual')).status, 'ok');
  const [first] = empty.slack.messages(PLATFORM);
  assert.ok(first);
  assert.match(readable(first), /A quiet week/);
  assert.doesNotMatch(readable(first), /Needs attention/);
});

test('a huge week stays within Slack limits: lists are cut and say how many more', async (t) => {
  const teams = Array.from({ length: 300 }, (_, i) => `team-with-a-rather-long-name-to-stretch-the-layout-${String(i).padStart(3, '0')}`);
  const h = await startHarness(t, {
    clock,
    configure: (doc) => {
      doc.teams = teams.map((name, i) => ({ name, displayName: `${name} (display)`, costCenter: `cc-${i}`, group: `${name}-devs` }));
    },
  });
  const store = h.slipway.deps.store;
  await store.transaction(async () => {
    for (const [i, team] of teams.entries()) {
      const at = new Date(Date.parse('2026-11-16T08:00:00Z') + i * 60_000).toISOString();
      const id = await appendRequest(store, { team, at, auto: true, decideAfter: 1000, readyAfter: (i + 1) * 1000, namespace: `${team.slice(0, 55)}-ns` });
      // Every namespace ran nothing for weeks: each one is idle, with its owner.
      const namespace = `${String(i).padStart(3, '0')}-${'long-namespace-name-'.repeat(3).slice(0, 59)}`;
      await store.adoption.insertSnapshots([
        { at: new Date('2026-10-01T00:00:00Z'), cluster: 'dev-eu', namespace, team, requestId: id, present: true, runningPods: 0 },
      ]);
    }
  });
  const text = await postedDigest(h);
  assert.match(text, /🎉 \*New to the platform:\* .* and 290 more/);
  assert.match(text, /💤 \*Idle namespaces\* \(no running pods for 14\+ days\): 300\n/);
  assert.match(text, /…and 290 more/);
  assert.match(text, /\*Teams\*\n300 of 300 active · 100% adoption/);
});

test('the digest counts namespaces deleted, expired and extended, the quota they returned, and links idle ones to their owner’s Home', async (t) => {
  const h = await startHarness(t, {
    clock,
    configure: (doc) => {
      doc.slack = { ...(doc.slack as object), teamId: 'T0TEAM', appId: 'A0APP' };
    },
  });
  const store = h.slipway.deps.store;
  const at = new Date('2026-10-01T09:00:00Z');
  const [small] = await readyNamespaces(store, 1, { namespace: 'payments-old', tier: 'small', at });
  const [medium] = await readyNamespaces(store, 1, { namespace: 'payments-big', tier: 'medium', at });
  const [kept] = await readyNamespaces(store, 1, { namespace: 'payments-kept', tier: 'small', at });
  assert.ok(small && medium && kept);
  const event = async (type: string, iso: string, requestId: number, data: Record<string, unknown> = {}) =>
    await store.appendEvent({ type, at: new Date(iso), team: 'payments', requestId, data });
  await event('namespace_deleted', '2026-11-17T10:00:00Z', small.id, { namespace: 'payments-old', cluster: 'dev-eu' });
  // The usage refresh sees the same namespace gone afterwards: it is still one deletion.
  await event('namespace_deleted', '2026-11-17T10:30:00Z', small.id, { namespace: 'payments-old', cluster: 'dev-eu', outsideSlipway: true });
  await event('namespace_deleted', '2026-11-18T10:00:00Z', medium.id, { namespace: 'payments-big', cluster: 'dev-eu' });
  await event('namespace_deleted', '2026-11-10T10:00:00Z', kept.id, { namespace: 'elsewhere', cluster: 'dev-eu' }); // the week before
  await event('expiring', '2026-11-19T09:00:00Z', kept.id);
  await event('extended', '2026-11-19T09:05:00Z', kept.id);
  await event('extended', '2026-11-20T09:05:00Z', kept.id);
  // An idle namespace, handed over to Bob: the digest names him and links to Slipway's Home.
  assert.ok(await store.lifecycle.transfer(kept.id, PEOPLE.dev, PEOPLE.bob, at));
  await store.adoption.insertSnapshots([
    { at, cluster: 'dev-eu', namespace: 'payments-kept', team: 'payments', requestId: kept.id, present: true, runningPods: 0 },
  ]);

  const text = await postedDigest(h);
  assert.match(text, /🧹 \*Day 2:\* 2 namespaces deleted · 1 expired · 2 extensions/);
  assert.match(text, /Quota returned: requests\.cpu 6, requests\.memory 12Gi, limits\.cpu 12, limits\.memory 24Gi, pods 70, persistentvolumeclaims 15/);
  assert.match(text, /`payments-kept` on dev-eu · Payments · <@U0BOB> \(<slack:\/\/app\?team=T0TEAM&id=A0APP&tab=home\|their Home>\)/);
});

test('when the chart upload fails, the text digest still goes out', async (t) => {
  const h = await startHarness(t, { clock });
  await seedTwoWeeks(h);
  h.slack.failNextWithStatus('files.getUploadURLExternal', 500);
  const outcome = await h.slipway.scheduler.run('digest', 'manual');
  assert.equal(outcome.status, 'ok');
  assert.match(outcome.summary ?? '', /chart not uploaded: /);
  assert.equal(h.slack.messages(PLATFORM).length, 1);
  assert.match(readable(h.slack.messages(PLATFORM)[0] ?? { text: '', blocks: [] }), /Platform adoption · Nov 16 – 22/);
  assert.equal(h.slack.uploadedFiles.length, 0);

  // A failure later in the flow (completing the upload) is no different.
  h.slack.failNext('files.completeUploadExternal', 'file_not_found');
  assert.equal((await h.slipway.scheduler.run('digest', 'manual')).status, 'ok');
  assert.equal(h.slack.messages(PLATFORM).length, 2);
});

test('/platform stats answers the same numbers, only to the person who asked', async (t) => {
  const h = await startHarness(t, { clock });
  await seedTwoWeeks(h);
  const reply = await h.command(PEOPLE.dev, 'stats');
  assert.equal(reply.status, 200);
  assert.equal(reply.body, '', 'acknowledged at once; the answer follows');
  const answer = await h.waitFor('the stats', () => h.slack.ephemerals(PEOPLE.dev).find((e) => e.via === 'response_url'));
  const text = readable(answer);
  assert.match(text, /📊 Platform adoption · Nov 16 – 22, 2026/);
  assert.match(text, /\*Requests\*\n3\n↑ 1 \(\+50%\)/);
  assert.match(text, /posted every week in <#C0PLATFORM>/);
  assert.equal(h.slack.messages(PLATFORM).length, 0, 'nothing is posted in a channel');
  assert.ok(
    h.slack.responseUrlPosts.every((p) => p.status === 200),
    'Slack accepted the blocks',
  );

  const help = await h.command(PEOPLE.dev, 'help');
  assert.match(JSON.stringify(help.body), /\/platform stats/);
});

/** A question after provisioning, asked (and answered) at the given times, seeded through the store. */
async function seedQuestion(h: Harness, i: number, q: { askedAt: string; readyMs: number; score?: number; answeredAt?: string }): Promise<number> {
  const store = h.slipway.deps.store;
  const requester = `U0REQ${i}`;
  const inserted = await store.insertRequest(
    {
      namespace: `payments-q${i}`,
      cluster: 'dev-eu',
      team: 'payments',
      environment: 'dev',
      tier: 'small',
      purpose: 'Trying it',
      expiresOn: undefined,
      requester,
    },
    new Date(q.askedAt),
  );
  const requestId = inserted.request.id;
  const timing = { readyMs: q.readyMs, approvalWaitMs: undefined, selfServe: true };
  assert.equal(
    (await store.surveys.claimProvisioningQuestion({ requestId, requester, since: new Date(q.askedAt), now: new Date(q.askedAt), timing })).outcome,
    'claimed',
  );
  await store.surveys.setProvisioningMessage(requestId, `D0${i}`, `${i}.000100`);
  if (q.score !== undefined)
    await store.surveys.recordProvisioningAnswer({ requestId, author: requester, score: q.score, now: new Date(q.answeredAt ?? q.askedAt) });
  return requestId;
}

test('/platform stats shows only frozen survey figures: no count below the minimum, no cell whose complement is below it, the same reading after a new answer', async (t) => {
  const now = new Date('2026-11-25T12:00:00Z'); // Wednesday: the stats report Nov 16 – 22
  const h = await startHarness(t, { clock: { now: () => now } });
  // Last week: six answers for namespaces ready within the hour, one for a slow one (a 1), all
  // approved by the policy, and one question not answered yet.
  for (const [i, score] of [4, 4, 5, 3, 4, 5].entries()) await seedQuestion(h, i, { askedAt: `2026-11-1${7 + (i % 3)}T10:00:00Z`, readyMs: 60_000, score });
  await seedQuestion(h, 6, { askedAt: '2026-11-18T11:00:00Z', readyMs: 3 * 3_600_000, score: 1 });
  const late = await seedQuestion(h, 7, { askedAt: '2026-11-19T11:00:00Z', readyMs: 60_000 });

  const read = async (n: number) => {
    await h.command(PEOPLE.dev, 'stats');
    return readable(await h.waitFor(`stats reading ${n}`, () => h.slack.ephemerals(PEOPLE.dev).filter((e) => e.via === 'response_url')[n - 1]));
  };
  const first = await read(1);
  assert.match(first, /\*After provisioning\* \(“How easy was that\?”\) · 7 of 8 asked answered \(88%\)/);
  // The slow namespace's one answer is not shown; nor is the fast group, since the total minus
  // it would be that one answer.
  assert.match(first, /Last 8 weeks, by time to ready: within 1 h – · slower –\n/);
  assert.match(first, /By approval wait: none \(self-serve\) \*3\.7\* \(CI [\d.–]+, 7\) · within 1 h – · longer –/);
  assert.doesNotMatch(first, /too few answers \(\d+\)|, 6\)|\(1\)/, 'no count below the minimum, and nothing to subtract from');

  // An answer given this week to last week's question does not move last week's figures.
  await h.slipway.deps.store.surveys.recordProvisioningAnswer({ requestId: late, author: 'U0REQ7', score: 1, now });
  assert.equal(await read(2), first, 'two readings with an answer in between are the same');
});

test('the weekly reports of the split after provisioning cannot be subtracted: a week with one answer adds nothing to the window', async (t) => {
  let now = new Date('2026-11-18T12:00:00Z'); // reports Nov 9 – 15
  const h = await startHarness(t, { clock: { now: () => now } });
  for (const [i, score] of [4, 4, 5, 3, 4].entries()) await seedQuestion(h, 20 + i, { askedAt: `2026-11-1${0 + i}T10:00:00Z`, readyMs: 60_000, score });
  // The next week, one person answers: a 1, for a namespace ready within the hour.
  await seedQuestion(h, 30, { askedAt: '2026-11-17T10:00:00Z', readyMs: 60_000, score: 1 });

  const read = async (n: number) => {
    await h.command(PEOPLE.dev, 'stats');
    return readable(await h.waitFor(`stats reading ${n}`, () => h.slack.ephemerals(PEOPLE.dev).filter((e) => e.via === 'response_url')[n - 1]));
  };
  const fast = (text: string) => /by time to ready: within 1 h ([^·]*) ·/.exec(text)?.[1];
  const before = fast(await read(1));
  assert.match(before ?? '', /^\*4\.0\* \(CI [\d.–]+, 5\)$/);
  now = new Date('2026-11-25T12:00:00Z'); // reports Nov 16 – 22
  const after = await read(2);
  assert.match(after, /not enough answers \(fewer than the 5 needed/, 'the week itself shows nothing');
  assert.equal(fast(after), before, 'the one answer of Nov 16 – 22 is not in the window: subtracting the two reports gives nothing');
});

test('slipway digest --dry-run prints the digest without Slack; slipway digest posts it; slipway jobs lists the runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-digest-cli-'));
  const databasePath = join(dir, 'slipway.db');
  const store = await Store.open(databasePath);
  // Relative to the real clock: the CLI reports the week before the current one.
  const lastWeek = new Date(Date.now() - 7 * 86_400_000).toISOString();
  await appendRequest(store, { team: 'payments', at: lastWeek, auto: true, decideAfter: 1000, readyAfter: 61_000 });
  await store.close();
  const doc = exampleConfigDocument();
  const config = writeConfig(dir, doc);
  const env = { DATABASE_PATH: databasePath, SLIPWAY_CONFIG: config };

  const chartPath = join(dir, 'chart.png');
  const dry = await runCli(['digest', '--dry-run', '--chart', chartPath], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^📊 Platform adoption · /);
  assert.match(dry.stdout, /Requests {2}· {2}1/);
  assert.match(dry.stdout, /Dry run: nothing was posted to C0PLATFORM\./);
  assert.match(dry.stdout, /Chart \(\d+ kB PNG\) written to /);
  assertValidPng(readFileSync(chartPath));

  const slack = await SlackApiEmulator.start({ channels: [{ id: 'C0PLATFORM', name: 'platform', members: ['U0BOT'] }] });
  t.after(() => slack.close());
  const posted = await runCli(['digest'], { ...env, SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.url });
  assert.equal(posted.code, 0, posted.stderr);
  assert.match(posted.stdout, /^digest: week of .* posted to C0PLATFORM; chart uploaded/);
  assert.equal(slack.messages('C0PLATFORM').length, 2);

  const jobs = await runCli(['jobs'], env);
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stdout, /^Jobs \(times in UTC\):/);
  assert.match(jobs.stdout, /digest +0 9 \* \* 1 +posts the weekly adoption digest/);
  assert.match(jobs.stdout, /last run +\w{3} \w{3} \d+ \d{4}, \d\d:\d\d · ok · manual · [\d.]+ (ms|s) · week of/);
  assert.match(jobs.stdout, /usage-refresh +\*\/30 \* \* \* \*[\s\S]*last run +never\n +next run +\w{3} \w{3} \d+ \d{4}, \d\d:(00|30)/);

  const unknown = await runCli(['jobs', 'run', 'nope'], env);
  assert.equal(unknown.code, 2, 'a command line that is not understood');
  assert.match(
    unknown.stderr,
    /^error: .*'nope' is invalid .* Allowed choices are digest, usage-refresh, survey-open, survey-close, survey-remind, lifecycle, drift\.\n$/,
  );
});

test('/platform stats names its week and how to see another: current (so far), a date, and a clear answer for anything else', async (t) => {
  const h = await startHarness(t, { clock });
  await seedTwoWeeks(h);
  // This week (it began on Monday 00:00; NOW is Monday 09:00): one request an hour ago.
  await appendRequest(h.slipway.deps.store, { team: 'search', at: '2026-11-23T08:00:00Z', auto: true, decideAfter: 1000, readyAfter: 30_000 });
  // A pulse that closed last week: its results belong with complete weeks.
  const { survey } = await h.slipway.deps.store.surveys.openPulse({
    week: '2026-11-16',
    openedAt: new Date('2026-11-17T10:00:00Z'),
    closesAt: new Date('2026-11-20T10:00:00Z'),
    questions: pulseQuestions(h.slipway.deps.config),
    minAnswers: 5,
  });
  await h.slipway.deps.store.surveys.closePulse(survey.id, new Date('2026-11-20T10:00:00Z'), { respondents: 0, eligible: 10 });

  const answer = async (args: string) => {
    const before = h.slack.ephemerals(PEOPLE.dev).length;
    await h.command(PEOPLE.dev, `stats ${args}`.trim());
    const reply = await h.waitFor(`the answer to stats ${args}`, () =>
      h.slack
        .ephemerals(PEOPLE.dev)
        .slice(before)
        .find((e) => e.via === 'response_url'),
    );
    return readable(reply);
  };

  const last = await answer('');
  assert.match(last, /📊 Platform adoption · Nov 16 – 22, 2026\n/);
  assert.match(last, /The last complete week, compared with Nov 9 – 15, 2026 · weeks start on Monday, 00:00 UTC/);
  assert.match(last, /For this week so far: `\/platform stats current` · for the week containing a date: `\/platform stats YYYY-MM-DD`/);
  assert.match(last, /What developers say/);

  const current = await answer('current');
  assert.match(current, /📊 Platform adoption · Nov 23 – 29, 2026 · so far\n/);
  assert.match(
    current,
    /This week so far \(to Mon Nov 23 2026, 09:00\), compared with the whole of Nov 16 – 22, 2026 · survey results come once the week is over/,
  );
  assert.match(current, /\*Requests\*\n1\n↓ 2 \(−67%\)/);
  assert.match(current, /\*Time to ready\*\nmedian 30s/);
  assert.doesNotMatch(current, /What developers say/, 'no survey results for a week in progress');
  assert.match(current, /For the last complete week: `\/platform stats`/);

  const byDate = await answer('2026-11-12');
  assert.match(byDate, /📊 Platform adoption · Nov 9 – 15, 2026\n/);
  assert.match(byDate, /Compared with Nov 2 – 8, 2026/);
  assert.match(byDate, /\*Requests\*\n2\n/);
  assert.equal(await answer('2026-11-25'), current, 'a date this week is this week so far');

  assert.match(
    await answer('tomorrow'),
    /^`tomorrow` is not a week I know\. Try `\/platform stats` \(the last complete week\), `\/platform stats current` \(this week so far\) or `\/platform stats YYYY-MM-DD`/,
  );
  assert.match(await answer('2026-12-01'), /^The week of 2026-12-01 \(Nov 30 – Dec 6, 2026\) has not started yet\. Try `\/platform stats`/);
  assert.ok(
    h.slack.responseUrlPosts.every((p) => p.status === 200),
    'Slack accepted every answer',
  );
  const help = await h.command(PEOPLE.dev, 'help');
  assert.match(
    JSON.stringify(help.body),
    /\/platform stats \[current \| YYYY-MM-DD\]`: adoption numbers for last week \(what the weekly digest shows\), this week so far, or the week of a date/,
  );
});

test('slipway digest --week: last by default, current shows this week so far on a fresh install, a date picks its week, a week not started is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-digest-week-'));
  const databasePath = join(dir, 'slipway.db');
  const store = await Store.open(databasePath);
  // A fresh install where someone has just made the first request (the real clock: the CLI's).
  const justNow = new Date(Date.now() - 1000);
  await appendRequest(store, { team: 'payments', at: justNow.toISOString() });
  await store.close();
  const env = { DATABASE_PATH: databasePath, SLIPWAY_CONFIG: writeConfig(dir, exampleConfigDocument()) };
  const day = (d: Date) => d.toISOString().slice(0, 10);

  const [byDefault, last, current, today, lastWeek] = await Promise.all([
    runCli(['digest', '--dry-run'], env),
    runCli(['digest', '--dry-run', '--week', 'last'], env),
    runCli(['digest', '--dry-run', '--week', 'current'], env),
    runCli(['digest', '--dry-run', '--week', day(justNow)], env),
    runCli(['digest', '--dry-run', '--week', day(new Date(justNow.getTime() - 7 * 86_400_000))], env),
  ]);
  for (const out of [byDefault, last, current, today, lastWeek]) assert.equal(out.code, 0, out.stderr);
  assert.match(byDefault.stdout, /The last complete week, compared with/);
  assert.match(byDefault.stdout, /A quiet week\./, 'the last complete week had nothing');
  assert.equal(last.stdout, byDefault.stdout);
  assert.equal(lastWeek.stdout, byDefault.stdout, 'a date last week is the last complete week');

  assert.match(current.stdout, /^📊 Platform adoption · .* · so far\n/);
  assert.match(current.stdout, /This week so far \(to \w{3} \w{3} \d+ \d{4}, \d\d:\d\d\), compared with the whole of /);
  assert.match(current.stdout, /Requests {2}· {2}1 {2}· {2}↑ 1 \(from 0\)/);
  assert.match(current.stdout, /Dry run: nothing was posted to C0PLATFORM\./);
  assert.equal(today.stdout.replace(/\d\d:\d\d\)/, ''), current.stdout.replace(/\d\d:\d\d\)/, ''), 'a date this week is this week so far');

  const nextWeek = day(new Date(justNow.getTime() + 7 * 86_400_000));
  const future = await runCli(['digest', '--dry-run', '--week', nextWeek], env);
  assert.equal(future.code, 2);
  assert.match(future.stderr, new RegExp(`^error: --week: the week of ${nextWeek} \\(.*\\) has not started yet\\n$`));

  // Posting: the same week choice, recorded as a manual run of the digest job.
  const slack = await SlackApiEmulator.start({ channels: [{ id: 'C0PLATFORM', name: 'platform', members: ['U0BOT'] }] });
  t.after(() => slack.close());
  const posted = await runCli(['digest', '--week', 'current'], { ...env, SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.url });
  assert.equal(posted.code, 0, posted.stderr);
  assert.match(posted.stdout, /^digest: week of .* \(so far\) posted to C0PLATFORM; chart uploaded/);
  const [message] = slack.messages('C0PLATFORM');
  assert.match(message?.text ?? '', /^Platform adoption, .* \(so far\): 1 request, /);
  const refused = await runCli(['digest', '--week', nextWeek], { ...env, SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.url });
  assert.equal(refused.code, 2, 'refused before anything runs');
  assert.equal(slack.messages('C0PLATFORM').length, 2, 'the digest and its chart, nothing more');
});
