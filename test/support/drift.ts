import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { writeKubeconfig, type KubeApiEmulator } from '../../src/playground/kube-api.ts';
import { DEV_CHANNEL, readable, SIGNING_SECRET, type Harness } from './harness.ts';
import { sendBlockAction } from '../../src/playground/slack-requests.ts';

/** Another actor on the cluster (a person with kubectl), through its own client. */
export async function outsider(kube: KubeApiEmulator): Promise<{ core: CoreV1Api; networking: NetworkingV1Api }> {
  const path = join(mkdtempSync(join(tmpdir(), 'drift-outsider-')), 'kubeconfig.yaml');
  await writeKubeconfig(kube, path, { context: 'outsider' });
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return { core: kc.makeApiClient(CoreV1Api), networking: kc.makeApiClient(NetworkingV1Api) };
}

/**
 * What `kubectl edit` does to a namespace by hand, as merge patches under field manager
 * `kubectl-edit`: its quota's requests.cpu to 8, its team label to `search` and a new label.
 * The same steps were run against kube-apiserver v1.20 to check the emulator's managedFields.
 */
export async function handEdit(core: CoreV1Api, namespace: string): Promise<void> {
  const edit = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const fieldManager = 'kubectl-edit';
  await core.patchNamespacedResourceQuota({ name: 'slipway-quota', namespace, body: { spec: { hard: { 'requests.cpu': '8' } } }, fieldManager }, edit);
  await core.patchNamespace({ name: namespace, body: { metadata: { labels: { 'slipway.dev/team': 'search', extra: 'x' } } }, fieldManager }, edit);
}

/** An answer sent to a response_url (ephemeral), as the person sees it, with its blocks to click in. */
export interface DriftAnswer {
  text: string;
  blocks: unknown[];
  replaceOriginal: boolean;
}

/** The answer sent to a response_url after the first `before` ones. */
export async function answerAfter(h: Harness, before: number): Promise<DriftAnswer> {
  const post = await h.waitFor('the answer', () => h.slack.responseUrlPosts[before]);
  assert.equal(post.status, 200);
  assert.equal(post.body.response_type, 'ephemeral', 'only the person who clicked sees it');
  const blocks = Array.isArray(post.body.blocks) ? (post.body.blocks as unknown[]) : [];
  return { text: readable({ text: String(post.body.text ?? ''), blocks }), blocks, replaceOriginal: post.body.replace_original === true };
}

/** Types `/platform drift [args]` as `user` and returns the private answer. */
export async function driftAnswer(h: Harness, user: string, args = ''): Promise<DriftAnswer> {
  const before = h.slack.responseUrlPosts.length;
  await h.command(user, `drift ${args}`.trim());
  return answerAfter(h, before);
}

/** Clicks a button in an ephemeral answer (its response_url answers back); returns the next answer. */
export async function clickInAnswer(h: Harness, user: string, answer: { blocks: unknown[] }, actionId: string, blockId?: string): Promise<DriftAnswer> {
  const before = h.slack.responseUrlPosts.length;
  await sendBlockAction(h.baseUrl, SIGNING_SECRET, {
    userId: user,
    actionId,
    ...(blockId ? { blockId } : {}),
    message: { channel: DEV_CHANNEL, ts: '1700000000.000100', blocks: answer.blocks },
    responseUrl: h.slack.issueResponseUrl({ channelId: DEV_CHANNEL, userId: user }),
  });
  return answerAfter(h, before);
}
