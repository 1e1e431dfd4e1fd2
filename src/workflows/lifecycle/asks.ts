import type { Deps } from '../../deps.ts';
import type { LifecycleRequest } from '../../domain/lifecycle.ts';
import type { NamespaceRequest } from '../../domain/requests.ts';

/** The event and the log line of a decision, per kind of ask decided in a thread. */
const DECIDED = {
  delete: { event: 'delete_decided', log: 'deletion request decided' },
  change: { event: 'change_decided', log: 'change request decided' },
} as const;

/**
 * An approver's Approve or Deny on a deletion or change (`kind`) ask of `request`, compare-and-set:
 * `decided` is false when another decision came first; otherwise the decision's event is recorded.
 * `request` (the ask as it now stands) either way.
 */
export async function decideAsk(
  deps: Deps,
  kind: keyof typeof DECIDED,
  request: NamespaceRequest,
  ask: LifecycleRequest,
  status: 'approved' | 'denied',
  by: string,
): Promise<{ decided: boolean; request: LifecycleRequest }> {
  const decision = await deps.store.lifecycle.decideRequest(ask.id, status, by, deps.clock.now());
  if (!decision.decided) return decision;
  const { event, log } = DECIDED[kind];
  await deps.store.appendEvent({
    type: event,
    at: deps.clock.now(),
    actor: by,
    team: request.team,
    requestId: request.id,
    data: { status, lifecycleRequestId: ask.id },
  });
  deps.log.info({ requestId: request.id, lifecycleRequestId: ask.id, status }, log);
  return decision;
}
