import type { Store } from '../../src/store/store.ts';

/** A request's story, for building event histories by hand. Offsets are ms after `at`. */
export interface RequestStory {
  team: string;
  /** When it was submitted, ISO. */
  at: string;
  auto?: boolean;
  /** When a person (or the policy, with `auto`) decided; omitted: still pending. */
  decideAfter?: number;
  deny?: boolean;
  readyAfter?: number;
  failAfter?: number;
  requester?: string;
  namespace?: string;
  cluster?: string;
}

let nextId = 100;

/** Appends a request's events exactly as the workflows write them; returns its request id. */
export async function appendRequest(store: Store, r: RequestStory): Promise<number> {
  const id = nextId++;
  const t0 = Date.parse(r.at);
  const ev = async (type: string, offset: number, extra: { actor?: string; data?: Record<string, unknown> } = {}) =>
    await store.appendEvent({ type, at: new Date(t0 + offset), team: r.team, requestId: id, ...extra });
  const namespace = r.namespace ?? `${r.team}-${id}`;
  const cluster = r.cluster ?? 'dev-eu';
  await ev('request_submitted', 0, { actor: r.requester ?? 'U0DEV', data: { namespace, cluster, environment: 'dev', tier: 'small' } });
  if (r.decideAfter === undefined) return id;
  if (r.deny) {
    await ev('request_denied', r.decideAfter, { actor: 'U0ALICE' });
    return id;
  }
  await ev('request_approved', r.decideAfter, { actor: r.auto ? 'policy' : 'U0ALICE', data: { auto: r.auto === true } });
  await ev('run_started', r.decideAfter + 100, { data: { runId: id } });
  if (r.failAfter !== undefined) await ev('run_failed', r.failAfter, { data: { runId: id, step: 'resource-quota', error: 'boom' } });
  if (r.readyAfter !== undefined) await ev('namespace_ready', r.readyAfter, { data: { runId: id, namespace, cluster } });
  return id;
}
