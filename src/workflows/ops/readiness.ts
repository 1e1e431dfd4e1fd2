import type { Deps } from '../../deps.ts';
import { ClusterError } from '../../errors.ts';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

/** How long one readiness result answers every probe: a check costs a call to every cluster. */
export const READINESS_CACHE_MS = 5000;

/**
 * What `GET /readyz` reports: the database is open and migrated, Slack accepted the token, and
 * every cluster answers within `timeoutMs`. Each check is named, so a failing probe says why, in
 * words that name no file, host or credential (the probe is unauthenticated); the full error
 * goes to the log.
 */
export async function checkReadiness(
  deps: Pick<Deps, 'store' | 'clusters' | 'config'>,
  slackAuthenticated: boolean,
  timeoutMs = 2000,
): Promise<{ readiness: Readiness; errors: Map<string, unknown> }> {
  const errors = new Map<string, unknown>();
  const checks: ReadinessCheck[] = [
    (await deps.store.isReady())
      ? { name: 'database', ok: true, detail: 'open and migrated' }
      : { name: 'database', ok: false, detail: 'closed or not migrated' },
    slackAuthenticated ? { name: 'slack', ok: true, detail: 'auth.test succeeded' } : { name: 'slack', ok: false, detail: 'auth.test has not succeeded' },
  ];
  const clusters = await Promise.all(
    deps.config.clusters.map(async (cluster): Promise<ReadinessCheck> => {
      const name = `cluster:${cluster.name}`;
      try {
        await deps.clusters.readNamespace(cluster.name, 'default', { timeoutMs });
        return { name, ok: true, detail: 'API server answered' };
      } catch (err) {
        errors.set(name, err);
        return { name, ok: false, detail: clusterFailure(err, timeoutMs) };
      }
    }),
  );
  checks.push(...clusters);
  return { readiness: { ready: checks.every((c) => c.ok), checks }, errors };
}

/** A failed cluster check in a few fixed words: the error's own text may hold paths and hosts. */
function clusterFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof ClusterError && err.status !== undefined) return `API server answered HTTP ${err.status}`;
  if (err instanceof ClusterError && /did not answer within/.test(err.userMessage)) return `did not answer within ${timeoutMs} ms`;
  return 'not reachable with the configured credentials (see the log, or run slipway doctor)';
}

/**
 * `/readyz` as served: one check answers every probe for `cacheMs`, and probes that arrive while
 * a check runs wait for that check instead of starting their own, so probes (or anyone who can
 * reach the port) cannot multiply calls to the clusters. A failing check is logged in full when
 * it starts failing or its detail changes, not on every probe.
 */
export function readinessProbe(
  deps: Pick<Deps, 'store' | 'clusters' | 'config' | 'clock' | 'log'>,
  slackAuthenticated: () => boolean,
  cacheMs = READINESS_CACHE_MS,
): () => Promise<Readiness> {
  let cached: { at: number; readiness: Readiness } | undefined;
  let running: Promise<Readiness> | undefined;
  const reported = new Map<string, string>();
  const check = async (): Promise<Readiness> => {
    const { readiness, errors } = await checkReadiness(deps, slackAuthenticated());
    for (const c of readiness.checks) {
      const before = reported.get(c.name);
      if (!c.ok && before !== c.detail) deps.log.warn({ check: c.name, err: errors.get(c.name) }, 'readiness check failing');
      if (c.ok && before !== undefined) deps.log.info({ check: c.name }, 'readiness check passing again');
      if (c.ok) reported.delete(c.name);
      else reported.set(c.name, c.detail);
    }
    cached = { at: deps.clock.now().getTime(), readiness };
    return readiness;
  };
  return () => {
    if (cached && deps.clock.now().getTime() - cached.at < cacheMs) return Promise.resolve(cached.readiness);
    running ??= check().finally(() => (running = undefined));
    return running;
  };
}
