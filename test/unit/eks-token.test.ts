import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { EksTokenCache, presignEksToken, type AwsCredentialIdentity } from '../../src/cluster/eks/token.ts';

// The example keys from the AWS SigV4 documentation; they sign nothing real.
const staticCredentials: AwsCredentialIdentity = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
// Session tokens are base64, so they carry '+', '/' and '=' that must be percent-encoded.
const sessionCredentials: AwsCredentialIdentity = {
  ...staticCredentials,
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE+SESSION/TOKEN==',
};
const region = 'eu-west-1';
const clusterName = 'dev-eu';
const signedAt = new Date('2026-11-26T10:00:00Z');
const host = 'sts.eu-west-1.amazonaws.com';
const PREFIX = 'k8s-aws-v1.';

function decode(token: string): URL {
  assert.ok(token.startsWith(PREFIX), 'token starts with k8s-aws-v1.');
  return new URL(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
}

/** What SignatureV4.presign produces for the request the aws CLI signs, formatted here. */
async function presignDirectly(credentials: AwsCredentialIdentity): Promise<string> {
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
  const request = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path: '/',
      headers: { host, 'x-k8s-aws-id': clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    }),
    { expiresIn: 60, signingDate: signedAt },
  );
  const entries = Object.entries(request.query ?? {})
    .map(([k, v]) => [k, String(v)] as [string, string])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const url = `https://${host}/?${new URLSearchParams(entries).toString()}`;
  return PREFIX + Buffer.from(url).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * SigV4 query signing written out from the spec
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), to check the
 * signature without trusting the signer library.
 */
function expectedQuery(credentials: AwsCredentialIdentity): Map<string, string> {
  const date = '20261126';
  const amzDate = '20261126T100000Z';
  const scope = `${date}/${region}/sts/aws4_request`;
  const params = new Map<string, string>([
    ['Action', 'GetCallerIdentity'],
    ['Version', '2011-06-15'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '60'],
    ['X-Amz-SignedHeaders', 'host;x-k8s-aws-id'],
  ]);
  if (credentials.sessionToken) params.set('X-Amz-Security-Token', credentials.sessionToken);
  const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalQuery = [...params.entries()]
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${host}\nx-k8s-aws-id:${clusterName}\n`,
    'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), 'sts'), 'aws4_request');
  params.set('X-Amz-Signature', createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  return params;
}

for (const [label, credentials] of [
  ['long-term keys', staticCredentials],
  ['session credentials', sessionCredentials],
] as const) {
  test(`the token with ${label} is the presigned STS URL the aws CLI would make`, async () => {
    const { token, expiresAt } = await presignEksToken({ clusterName, region, credentials, now: signedAt });

    assert.equal(token, await presignDirectly(credentials), 'same bytes as SignatureV4.presign');
    assert.ok(!token.includes('='), 'no base64 padding');
    assert.match(token, /^k8s-aws-v1\.[A-Za-z0-9_-]+$/, 'base64url alphabet only');
    assert.ok(token.length <= 4096, 'within the authenticator limit');

    const url = decode(token);
    assert.equal(url.protocol, 'https:');
    assert.equal(url.host, host);
    assert.equal(url.pathname, '/');
    assert.deepEqual(new Map(url.searchParams), expectedQuery(credentials), 'query matches a hand-computed SigV4 signature');
    assert.equal(url.searchParams.get('X-Amz-Date'), '20261126T100000Z');
    assert.equal(url.searchParams.has('X-Amz-Security-Token'), credentials.sessionToken !== undefined);
    // The raw query keeps the separator percent-encoded, as botocore sends it.
    assert.match(url.search, /[?&]X-Amz-SignedHeaders=host%3Bx-k8s-aws-id(&|$)/);
    assert.match(url.search, /[?&]X-Amz-Expires=60(&|$)/);

    assert.equal(expiresAt.toISOString(), '2026-11-26T10:14:00.000Z', 'reported 14 min after signing');
  });
}

test('a fixed clock gives a fixed token; another cluster or second gives another', async () => {
  const a = await presignEksToken({ clusterName, region, credentials: staticCredentials, now: signedAt });
  const b = await presignEksToken({ clusterName, region, credentials: async () => staticCredentials, now: signedAt });
  const other = await presignEksToken({ clusterName: 'prod-eu', region, credentials: staticCredentials, now: signedAt });
  const later = await presignEksToken({ clusterName, region, credentials: staticCredentials, now: new Date(signedAt.getTime() + 1000) });
  assert.equal(a.token, b.token);
  assert.notEqual(a.token, other.token);
  assert.notEqual(a.token, later.token);
});

test('the expiry is never later than the credentials that signed the token', async () => {
  const expiration = new Date(signedAt.getTime() + 5 * 60_000);
  const { expiresAt } = await presignEksToken({
    clusterName,
    region,
    credentials: { ...sessionCredentials, expiration },
    now: signedAt,
  });
  assert.equal(expiresAt.getTime(), expiration.getTime());
});

function fakeClock(start: Date) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

function countingCredentials() {
  const provider = Object.assign(
    async () => {
      provider.calls++;
      await tick(); // resolve on a later turn, as a real provider does
      return staticCredentials;
    },
    { calls: 0 },
  );
  return provider;
}

test('the cache reuses a token until refreshBeforeMs before its expiry, then signs a new one', async () => {
  const clock = fakeClock(signedAt);
  const credentials = countingCredentials();
  const cache = new EksTokenCache({ clusterName, region, credentials, clock, refreshBeforeMs: 60_000 });

  const first = await cache.get();
  assert.equal(first, (await presignEksToken({ clusterName, region, credentials: staticCredentials, now: signedAt })).token);
  clock.advance(13 * 60_000 - 1); // 1 ms before expiry (14 min) minus refresh (1 min)
  assert.equal(await cache.get(), first);
  assert.equal(credentials.calls, 1);

  clock.advance(1);
  const second = await cache.get();
  assert.notEqual(second, first);
  assert.equal(decode(second).searchParams.get('X-Amz-Date'), '20261126T101300Z', 'signed at the clock time');
  assert.equal(credentials.calls, 2);
  assert.equal(await cache.get(), second);
  assert.equal(credentials.calls, 2);
});

test('concurrent callers share one token generation', async () => {
  const clock = fakeClock(signedAt);
  const credentials = countingCredentials();
  const cache = new EksTokenCache({ clusterName, region, credentials, clock });

  const tokens = await Promise.all(Array.from({ length: 10 }, () => cache.get()));
  assert.equal(new Set(tokens).size, 1);
  assert.equal(credentials.calls, 1);

  clock.advance(14 * 60_000); // expired: the next burst regenerates once
  const again = await Promise.all(Array.from({ length: 10 }, () => cache.get()));
  assert.equal(new Set(again).size, 1);
  assert.notEqual(again[0], tokens[0]);
  assert.equal(credentials.calls, 2);
});

test('a failed generation is not cached: the next call tries again', async () => {
  const clock = fakeClock(signedAt);
  let fail = true;
  const cache = new EksTokenCache({
    clusterName,
    region,
    clock,
    credentials: async () => {
      if (fail) throw new Error('no credentials yet');
      return staticCredentials;
    },
  });
  await assert.rejects(Promise.all([cache.get(), cache.get()]), /no credentials yet/);
  fail = false;
  assert.match(await cache.get(), /^k8s-aws-v1\./);
});

test('invalidate() makes the next call sign a new token', async () => {
  const clock = fakeClock(signedAt);
  const credentials = countingCredentials();
  const cache = new EksTokenCache({ clusterName, region, credentials, clock });
  await cache.get();
  cache.invalidate();
  await cache.get();
  assert.equal(credentials.calls, 2);
});
