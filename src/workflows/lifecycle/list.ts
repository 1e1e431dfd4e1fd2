import { z } from 'zod';
import type { Deps } from '../../deps.ts';
import { LIST_PAGE_SIZE, listUsage, namespaceList, type ListScope } from '../../slack/lifecycle/home.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';
import { localToday, namespacePage } from './home.ts';

/** What a "Show more" button of `/platform list` carries: what was asked and where the page starts. */
export const listPageValue = z.object({ q: z.string().max(200), o: z.number().int().min(0) });
export type ListPageValue = z.infer<typeof listPageValue>;

// A mention as Slack escapes it in a command's text (`<@U123|name>`), or a bare user id.
const MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$/;

/** Who `/platform list <query>` is about, or why the query is not understood. */
function parseScope(deps: Pick<Deps, 'config'>, user: string, query: string): ListScope | { problem: string } {
  const q = query.trim();
  if (q === '' || q.toLowerCase() === 'mine') return { kind: 'mine' };
  if (q.toLowerCase() === 'all') return { kind: 'all' };
  const mention = MENTION.exec(q);
  const person = mention?.[1] ?? mention?.[2];
  if (person) return person === user ? { kind: 'mine' } : { kind: 'person', user: person };
  const wanted = q.toLowerCase();
  const team = deps.config.teams.find((t) => t.name.toLowerCase() === wanted || t.displayName?.toLowerCase() === wanted);
  if (team) return { kind: 'team', team: team.name, teamName: team.displayName ?? team.name };
  if (q.startsWith('@')) return { problem: `I could not tell who \`${q.slice(0, 80)}\` is: mention the person so Slack turns it into a link.` };
  return { problem: `There is no team called \`${q.slice(0, 80)}\`.` };
}

/**
 * `/platform list [team|@person|all]`: a page of namespaces, answered only to the person who
 * asked. Anyone may list their own, a team's or a person's; `all` is for approvers.
 */
export async function listNamespaces(deps: Deps, user: string, command: string, query: string, offset = 0): Promise<SlackMessage> {
  const scope = parseScope(deps, user, query);
  if ('problem' in scope) return listUsage(command, scope.problem);
  if (scope.kind === 'all' && !(await isApprover(deps, user))) return listUsage(command, 'Only approvers can list every namespace.');
  const lifecycle = deps.store.lifecycle;
  const read = (page: { limit: number; offset: number }) => {
    switch (scope.kind) {
      case 'mine':
        return lifecycle.ownedBy(user, page);
      case 'person':
        return lifecycle.ownedBy(scope.user, page);
      case 'team':
        return lifecycle.ofTeam(scope.team, page);
      case 'all':
        return lifecycle.all(page);
    }
  };
  const page = await namespacePage(deps, read, offset, LIST_PAGE_SIZE);
  const value = (o: number) => JSON.stringify({ q: query.trim().slice(0, 200), o } satisfies ListPageValue);
  return namespaceList(scope, page, localToday(deps), value);
}
