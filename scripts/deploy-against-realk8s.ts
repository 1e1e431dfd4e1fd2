/**
 * Applies both Kustomize overlays (deploy/overlays/single and deploy/overlays/ha) to a real
 * kube-apiserver with a server-side dry run: `kubectl apply --server-side --dry-run=server -k`.
 * The server checks every object as it would on a real apply (schemas, defaults, RBAC rules,
 * the PDB, the Deployment's strategy) and stores nothing. Not part of `npm test`: it needs a real
 * server, e.g. /work/shared/realk8s:
 *
 *   source /tmp/realk8s/run/env
 *   npm run deploy:realk8s
 *
 * The server may be shared, so each overlay goes into a namespace of its own (a wrapping
 * kustomization's `namespace`), created for real first (a dry run of the Namespace creates
 * nothing, and its namespaced objects would find none) and deleted after. A server older than
 * 1.21 serves no policy/v1; there the PodDisruptionBudget is checked as policy/v1beta1 (the same
 * spec), and the script says so. Reads REALK8S_ADMIN_KUBECONFIG. Exits 1 when an apply fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { admin, check } from './realk8s.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const OVERLAYS = ['single', 'ha'] as const;

/** Whether the server serves policy/v1 (Kubernetes 1.21+). */
function servesPolicyV1(): boolean {
  return admin('api-versions').split('\n').includes('policy/v1');
}

/** A kustomization that puts the overlay into `namespace` (and, on an old server, the PDB into policy/v1beta1). */
function wrap(dir: string, overlay: string, namespace: string, policyV1: boolean): void {
  const lines = ['resources:', `  - ${relative(dir, join(ROOT, 'deploy', 'overlays', overlay))}`, `namespace: ${namespace}`];
  if (!policyV1) {
    lines.push(
      'patches:',
      '  - target:',
      '      kind: PodDisruptionBudget',
      '    patch: |-',
      '      - op: replace',
      '        path: /apiVersion',
      '        value: policy/v1beta1',
    );
  }
  writeFileSync(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
}

function main(): void {
  const version = admin('version', '-o', 'json');
  const server = (JSON.parse(version) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? 'unknown';
  const policyV1 = servesPolicyV1();
  process.stdout.write(`kube-apiserver ${server}${policyV1 ? '' : ': no policy/v1, so the PodDisruptionBudget is checked as policy/v1beta1'}\n`);
  const run = Date.now().toString(36);
  for (const overlay of OVERLAYS) {
    const namespace = `slipway-deploy-${overlay}-${run}`;
    const dir = mkdtempSync(join(tmpdir(), `slipway-deploy-${overlay}-`));
    try {
      wrap(dir, overlay, namespace, policyV1);
      admin('create', 'namespace', namespace);
      let output: string;
      try {
        output = admin('apply', '--server-side', '--dry-run=server', '-k', dir);
      } catch (err) {
        output = String((err as { stderr?: unknown }).stderr ?? err);
        process.stdout.write(output);
        check(`deploy/overlays/${overlay}: server-side dry run`, false);
        return;
      }
      process.stdout.write(`${output.trimEnd().replace(/^/gm, '    ')}\n`);
      const applied = output.split('\n').filter((l) => l.endsWith('serverside-applied (server dry run)')).length;
      const rendered = admin('kustomize', dir)
        .split('\n')
        .filter((l) => l.startsWith('kind: ')).length;
      check(`deploy/overlays/${overlay}: every object passes a server-side dry run`, applied === rendered && applied > 0, `${applied} of ${rendered}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      admin('delete', 'namespace', namespace, '--wait=false', '--ignore-not-found');
    }
  }
}

try {
  main();
} catch (err) {
  if (!(err instanceof Error && err.message.endsWith('did not hold'))) console.error(err);
  process.exitCode = 1;
}
