import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

/**
 * What `GET /readyz` reports: the database is open and migrated, Slack accepted the token, and
 * every cluster answers within `timeoutMs`. Each check is named, so a failing probe says why.
 */
export async function checkReadiness(
  deps: Pick<Deps, 'store' | 'clusters' | 'config'>,
  slackAuthenticated: boolean,
  timeoutMs = 2000,
): Promise<Readiness> {
  const checks: ReadinessCheck[] = [
    deps.store.isReady()
      ? { name: 'database', ok: true, detail: 'open and migrated' }
      : { name: 'database', ok: false, detail: 'closed or not migrated' },
    slackAuthenticated
      ? { name: 'slack', ok: true, detail: 'auth.test succeeded' }
      : { name: 'slack', ok: false, detail: 'auth.test has not succeeded' },
  ];
  const clusters = await Promise.all(
    deps.config.clusters.map(async (cluster): Promise<ReadinessCheck> => {
      const name = `cluster:${cluster.name}`;
      try {
        await deps.clusters.readNamespace(cluster.name, 'default', { timeoutMs });
        return { name, ok: true, detail: 'API server answered' };
      } catch (err) {
        return { name, ok: false, detail: errorMessage(err) };
      }
    }),
  );
  checks.push(...clusters);
  return { ready: checks.every((c) => c.ok), checks };
}
