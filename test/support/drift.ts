import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { writeKubeconfig, type KubeApiEmulator } from '../../src/playground/kube-api.ts';

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
