import { findTeam } from '../../config.ts';
import { parseRequestRef, type NamespaceRequest } from '../../domain/requests.ts';
import type { Deps } from '../../deps.ts';
import { statusMessage, statusNotFound, statusSummary } from '../../slack/provisioning/status.ts';
import type { SlackMessage } from '../../slack/usage.ts';
import { inUserGroups, isApprover } from './approvers.ts';
import { clusterName } from './present.ts';

/**
 * Looks a request up by id (`R-12`, `12`) or by namespace name (its latest request). The
 * requester, the request's team and approvers see it in full (who asked, the purpose, a deny
 * reason, each step and its Kubernetes error); anyone else in the workspace, guests included,
 * sees only its id, namespace and state.
 */
export async function requestStatus(deps: Deps, user: string, query: string): Promise<SlackMessage> {
  const q = query.trim();
  const id = parseRequestRef(q);
  const request = id !== undefined ? await deps.store.getRequest(id) : q ? await deps.store.findLatestRequestForNamespace(q) : undefined;
  if (!request) return statusNotFound(q);
  if (!(await maySeeDetails(deps, user, request))) return statusSummary(request);
  return statusMessage(request, clusterName(deps, request.cluster), await deps.store.latestRun(request.id));
}

async function maySeeDetails(deps: Deps, user: string, request: NamespaceRequest): Promise<boolean> {
  if (user === request.requester) return true;
  const team = findTeam(deps.config, request.team)?.slackUserGroup;
  if (team && (await inUserGroups(deps, [team], user))) return true;
  return isApprover(deps, user);
}
