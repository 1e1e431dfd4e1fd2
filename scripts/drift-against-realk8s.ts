/**
 * Drift and re-apply against a real kube-apiserver: a namespace is provisioned through signed
 * Slack requests as the bot user, then edited by hand with kubectl under field manager
 * `kubectl-edit` (the quota's requests.cpu, the team label, and fields of its own: a label and a
 * quota entry Slipway does not set), and the scan must name Slipway's fields as edited by
 * `kubectl-edit`. Re-apply's server-side dry run must show exactly those two fields going back and
 * change nothing; the re-apply (as the bot user, with deploy/rbac.yaml's permissions) must take
 * them back and leave kubectl-edit's own fields, and their ownership, alone. Then a changed tier in
 * config must show as outdated and owned by Slipway.
 * Not part of `npm test`: it needs a real server, e.g. /work/shared/realk8s:
 *
 *   /work/shared/realk8s/up.sh && source /tmp/realk8s/run/env
 *   kubectl --kubeconfig $REALK8S_ADMIN_KUBECONFIG apply -f deploy/rbac.yaml
 *   kubectl --kubeconfig $REALK8S_ADMIN_KUBECONFIG create clusterrolebinding slipway-bot-user --clusterrole slipway --user $REALK8S_BOT_USER
 *   npm run drift:realk8s
 *
 * Prints one line per step (and each difference) and exits 1 at the first that does not hold.
 */
import { parseConfig } from '../src/config.ts';
import { driftLines, scanDrift } from '../src/workflows/drift/scan.ts';
import { previewReapply, reapplyNamespace } from '../src/workflows/drift/reapply.ts';
import { EXAMPLE_CONFIG_PATH, exampleConfigDocument } from '../test/support/config.ts';
import { startHarness } from '../test/support/harness.ts';
import { readyNamespaceEnding } from '../test/support/lifecycle.ts';
import { admin, check, env } from './realk8s.ts';

const NAME = process.env.DRIFT_REALK8S_NAMESPACE ?? 'payments-drift';

interface Managed {
  metadata: { labels?: Record<string, string>; managedFields: { manager: string; operation: string; fieldsV1: unknown }[] };
  spec?: { hard?: Record<string, string> };
}

const read = (...what: string[]) => JSON.parse(admin('get', ...what, '-o', 'json', '--show-managed-fields')) as Managed;
const fieldsOf = (obj: Managed, manager: string) => JSON.stringify(obj.metadata.managedFields.find((m) => m.manager === manager)?.fieldsV1 ?? {});

function show(lines: readonly string[]): void {
  for (const line of lines) process.stdout.write(`     ${line}\n`);
}

async function main(): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const cluster = { path: env('REALK8S_BOT_KUBECONFIG'), context: `${env('REALK8S_BOT_USER')}@realk8s` };
  try {
    admin('delete', 'namespace', NAME, '--ignore-not-found', '--wait=true');
    const h = await startHarness(t, {
      configure: (doc) => {
        const clusters = doc.clusters as Record<string, unknown>[];
        clusters[0] = { ...clusters[0], ...cluster };
      },
    });
    const expiresOn = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const id = await readyNamespaceEnding(h, { name: NAME, expiresOn });
    check('provisioned on the real server as the bot user', admin('get', 'namespace', NAME, '-o', 'name').trim() === `namespace/${NAME}`, `R-${id}`);

    const fresh = await scanDrift(h.slipway.deps, { namespace: NAME });
    check('no drift right after provisioning', fresh.differences.length === 0, fresh.summary);
    show(driftLines(fresh).slice(1));

    admin(
      'patch',
      'resourcequota',
      'slipway-quota',
      '-n',
      NAME,
      '--field-manager',
      'kubectl-edit',
      '--type',
      'merge',
      '-p',
      '{"spec":{"hard":{"requests.cpu":"8","requests.storage":"5Gi"}}}',
    );
    admin('label', 'namespace', NAME, 'slipway.dev/team=search', 'example.com/note=kept', '--overwrite', '--field-manager', 'kubectl-edit');
    const managed = JSON.parse(admin('get', 'resourcequota', 'slipway-quota', '-n', NAME, '-o', 'json', '--show-managed-fields')) as {
      metadata: { managedFields: { manager: string; operation: string; fieldsV1: unknown }[] };
    };
    show(managed.metadata.managedFields.map((m) => `quota managedFields: ${m.manager} ${m.operation} ${JSON.stringify(m.fieldsV1)}`));

    const edited = await scanDrift(h.slipway.deps, { namespace: NAME });
    show(driftLines(edited));
    const quota = edited.differences.find((d) => d.field === 'spec.hard[requests.cpu]');
    check(
      'the quota edit is edited by kubectl-edit',
      quota?.kind === 'edited' && quota.manager === 'kubectl-edit' && quota.live === '8' && quota.expected === '2',
    );
    const label = edited.differences.find((d) => d.field === 'metadata.labels[slipway.dev/team]');
    check('the label edit is edited by kubectl-edit', label?.kind === 'edited' && label.manager === 'kubectl-edit' && label.live === 'search');

    const request = await h.slipway.deps.store.getRequest(id);
    if (!request) throw new Error(`request R-${id} is not in the store`);
    const { changes: preview, kept } = await previewReapply(h.slipway.deps, request);
    show(preview.map((d) => `would change ${d.object} ${d.field}: ${d.live ?? '(none)'} -> ${d.expected ?? '(none)'} (set by ${d.manager ?? '?'})`));
    check(
      "re-apply's dry run shows exactly the two edited fields going back",
      JSON.stringify(preview.map((d) => [d.object, d.field, d.live, d.expected, d.manager])) ===
        JSON.stringify([
          [`Namespace/${NAME}`, 'metadata.labels[slipway.dev/team]', 'search', 'payments', 'kubectl-edit'],
          ['ResourceQuota/slipway-quota', 'spec.hard[requests.cpu]', '8', '2', 'kubectl-edit'],
        ]),
    );
    show(kept.map((d) => `stays: ${d.object} ${d.field} (set by ${d.manager ?? '?'})`));
    check(
      "the preview names kubectl-edit's own quota entry as staying",
      kept.length === 1 && kept[0]?.field === 'spec.hard[requests.storage]' && kept[0].manager === 'kubectl-edit',
    );
    check('the dry run changed nothing', read('resourcequota', 'slipway-quota', '-n', NAME).spec?.hard?.['requests.cpu'] === '8');

    await reapplyNamespace(h.slipway.deps, request);
    const quotaAfter = read('resourcequota', 'slipway-quota', '-n', NAME);
    const nsAfter = read('namespace', NAME);
    show(quotaAfter.metadata.managedFields.map((m) => `quota managedFields after re-apply: ${m.manager} ${m.operation} ${JSON.stringify(m.fieldsV1)}`));
    show(nsAfter.metadata.managedFields.map((m) => `namespace managedFields after re-apply: ${m.manager} ${m.operation} ${JSON.stringify(m.fieldsV1)}`));
    check('re-apply takes requests.cpu back', quotaAfter.spec?.hard?.['requests.cpu'] === '2' && /"f:requests.cpu"/.test(fieldsOf(quotaAfter, 'slipway')));
    check(
      "kubectl-edit's own quota entry stays, and stays its own",
      quotaAfter.spec?.hard?.['requests.storage'] === '5Gi' &&
        fieldsOf(quotaAfter, 'kubectl-edit').includes('"f:requests.storage"') &&
        !fieldsOf(quotaAfter, 'kubectl-edit').includes('requests.cpu'),
    );
    check('re-apply takes the team label back', nsAfter.metadata.labels?.['slipway.dev/team'] === 'payments');
    check(
      "kubectl-edit's own label stays, and stays its own",
      nsAfter.metadata.labels?.['example.com/note'] === 'kept' && fieldsOf(nsAfter, 'kubectl-edit').includes('"f:example.com/note"'),
    );
    const after = await scanDrift(h.slipway.deps, { namespace: NAME });
    show(driftLines(after));
    check(
      "after the re-apply, only kubectl-edit's own quota entry differs",
      after.differences.length === 1 && after.differences[0]?.field === 'spec.hard[requests.storage]' && after.differences[0].manager === 'kubectl-edit',
      after.summary,
    );

    const doc = exampleConfigDocument();
    (doc.clusters as Record<string, unknown>[])[0] = { ...(doc.clusters as Record<string, unknown>[])[0], ...cluster };
    const small = (doc.tiers as Record<string, { quota: Record<string, string> }>).small;
    if (small) small.quota.pods = '30';
    const changed = await scanDrift({ ...h.slipway.deps, config: parseConfig(doc, EXAMPLE_CONFIG_PATH) }, { namespace: NAME });
    show(driftLines(changed));
    const pods = changed.differences.find((d) => d.field === 'spec.hard.pods');
    check(
      'a changed tier is outdated, owned by slipway',
      pods?.kind === 'outdated' && pods.manager === 'slipway' && pods.live === '20' && pods.expected === '30',
    );
  } finally {
    for (const fn of cleanups.reverse()) await fn();
    admin('delete', 'namespace', NAME, '--ignore-not-found', '--wait=false');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
