/**
 * The delete journey against a real kube-apiserver and its kube-controller-manager: a developer's
 * dev namespace is provisioned through signed Slack requests (Slack emulator) as the bot user with
 * deploy/rbac.yaml's ClusterRole, then deleted with `/platform delete` and the typed-name form. A
 * ConfigMap with a finalizer holds the namespace in Terminating, so the run reports what the real
 * namespace controller says holds it; once the finalizer is removed, Retry finishes the deletion.
 * Not part of `npm test`: it needs a real server, e.g. /work/shared/realk8s:
 *
 *   /work/shared/realk8s/up.sh && source /tmp/realk8s/run/env
 *   kubectl --kubeconfig $REALK8S_ADMIN_KUBECONFIG apply -f deploy/rbac.yaml
 *   kubectl --kubeconfig $REALK8S_ADMIN_KUBECONFIG create clusterrolebinding slipway-bot-user --clusterrole slipway --user $REALK8S_BOT_USER
 *   npm run journey:realk8s
 *
 * Prints one line per step and exits 1 at the first that does not hold.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ACTION, BLOCK } from '../src/slack/ids.ts';
import { APPROVALS, PEOPLE, startHarness } from '../test/support/harness.ts';
import { deleteForm, movableClock, readyNamespace } from '../test/support/lifecycle.ts';
import { admin, check, env } from './realk8s.ts';

function namespacePhase(name: string): string | undefined {
  try {
    return (JSON.parse(admin('get', 'namespace', name, '-o', 'json')) as { status?: { phase?: string } }).status?.phase;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  // The bot's clock moves past lifecycle.terminatingTimeoutMinutes without waiting 15 minutes.
  const time = movableClock(new Date().toISOString());
  try {
    const h = await startHarness(t, {
      clock: time.clock,
      configure: (doc) => {
        const clusters = doc.clusters as Record<string, unknown>[];
        clusters[0] = { ...clusters[0], path: env('REALK8S_BOT_KUBECONFIG'), context: `${env('REALK8S_BOT_USER')}@realk8s` };
      },
    });
    const request = await readyNamespace(h, 'dev');
    check('provisioned on the real server as the bot user', namespacePhase('payments-dev') === 'Active', `R-${request.id}`);
    const labels = JSON.parse(admin('get', 'namespace', 'payments-dev', '-o', 'jsonpath={.metadata.labels}')) as Record<string, string>;
    check('labelled as Slipway manages it', labels['app.kubernetes.io/managed-by'] === 'slipway', JSON.stringify(labels));

    admin('create', 'configmap', 'held', '-n', 'payments-dev');
    admin('patch', 'configmap', 'held', '-n', 'payments-dev', '--type', 'merge', '-p', '{"metadata":{"finalizers":["example.com/backup"]}}');

    await deleteForm(h, PEOPLE.dev, 'payments-dev');
    const wrong = await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-prod', [BLOCK.deleteReason]: null });
    check('a wrong name is refused in the form', (wrong.body as { response_action?: string }).response_action === 'errors');
    await h.submit(PEOPLE.dev, { [BLOCK.deleteConfirm]: 'payments-dev', [BLOCK.deleteReason]: 'Experiments are over' });
    await h.waitFor('Terminating on the real server', () => namespacePhase('payments-dev') === 'Terminating', 30_000);
    check('the real server has the namespace Terminating', true);
    // Give the real namespace controller time to try, and write its conditions.
    await h.waitFor(
      'the controller to report what holds it',
      () => admin('get', 'namespace', 'payments-dev', '-o', 'jsonpath={.status.conditions}').includes('NamespaceFinalizersRemaining'),
      60_000,
    );
    // The bot polls all the while; a poll that read the namespace just before the conditions
    // came would otherwise meet the moved clock with the older answer.
    await delay(2000);
    time.set(new Date(Date.now() + 16 * 60_000).toISOString());
    const failure = await h.waitFor(
      'the stuck report in the thread',
      () => h.slack.thread(APPROVALS, request.card?.ts ?? '').find((m) => m.text.startsWith('❌ Deleting')),
      60_000,
    );
    check('the thread says what holds it', /example\.com\/backup/.test(failure.text), failure.text.split('\n')[0]);

    admin('patch', 'configmap', 'held', '-n', 'payments-dev', '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}');
    await h.click(PEOPLE.bob, failure, ACTION.retry);
    const dm = await h.waitFor('the deleted DM', () => h.slack.dmWith(PEOPLE.dev).find((m) => /is deleted/.test(m.text)), 120_000);
    check('the owner hears it is deleted', true, dm.text.split('\n')[0]);
    check('the real server has no such namespace', namespacePhase('payments-dev') === undefined);
    const run = await h.slipway.deps.store.latestRun(request.id);
    check('the run is recorded step by step', run?.status === 'done', JSON.stringify(run?.steps.map((s) => [s.name, s.status, s.attempts])));
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
