import { parseRequestRef } from '../domain.ts';
import type { Deps } from '../deps.ts';
import { statusMessage, statusNotFound } from '../slack/status.ts';
import type { SlackMessage } from '../slack/usage.ts';
import { clusterName } from './present.ts';

/** Looks a request up by id (`R-12`, `12`) or by namespace name (its latest request). */
export function requestStatus(deps: Pick<Deps, 'store' | 'config'>, query: string): SlackMessage {
  const q = query.trim();
  const id = parseRequestRef(q);
  const request = id !== undefined ? deps.store.getRequest(id) : q ? deps.store.findLatestRequestForNamespace(q) : undefined;
  if (!request) return statusNotFound(q);
  return statusMessage(request, clusterName(deps, request.cluster), deps.store.latestRun(request.id));
}
