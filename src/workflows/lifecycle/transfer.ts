import { namespaceChanged, type Deps } from '../../deps.ts';
import { notifier, slackErrorCode } from '../../slack/io/notifier.ts';
import { transferDone, transferNoted, transferredAway, transferredToYou, transferRefusals } from '../../slack/lifecycle/transfer.ts';
import type { SlackMessage } from '../../slack/text.ts';
import { isApprover } from '../provisioning/approvers.ts';

/**
 * A user mention as a slash command carries it with escaping on (manifest.yml `should_escape`):
 * `<@U0123ABCD|alex>`, or `<@U0123ABCD>`.
 */
const MENTION = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;

/** Whether this person can own a namespace: in the workspace, not deactivated, not a bot. */
async function isActivePerson(deps: Deps, id: string): Promise<boolean | undefined> {
  try {
    const { user } = await deps.slack.users.info({ user: id });
    return user !== undefined && user.deleted !== true && user.is_bot !== true;
  } catch (err) {
    if (slackErrorCode(err) === 'user_not_found') return false;
    deps.log.warn({ error: slackErrorCode(err) }, 'could not look a person up for a transfer');
    return undefined;
  }
}

/**
 * `/platform transfer <namespace> [cluster] @person`: the owner or an approver hands a namespace to
 * someone else. The change is compare-and-set on the owner, recorded as a `transferred` event, and
 * both people hear about it (and the original request's thread). Returns the answer to the person
 * who typed it.
 */
export async function transferNamespace(deps: Deps, by: { user: string; command: string }, args: string): Promise<SlackMessage> {
  const words = args.trim().split(/\s+/).filter(Boolean);
  const mentions = words.filter((w) => MENTION.test(w));
  const rest = words.filter((w) => !MENTION.test(w));
  const [name, cluster, extra] = rest;
  if (mentions.length === 0 && rest.some((w) => w.startsWith('@'))) return transferRefusals.unescaped(by.command);
  const to = MENTION.exec(mentions[0] ?? '')?.[1];
  if (!name || !to || mentions.length > 1 || extra) return transferRefusals.usage(by.command);

  const found = (await deps.store.lifecycle.findByName(name)).filter((ns) => !cluster || ns.request.cluster === cluster);
  const [ns] = found;
  if (!ns) return transferRefusals.unknown(name.slice(0, 63));
  if (found.length > 1)
    return transferRefusals.ambiguous(
      name,
      found.map((n) => n.request.cluster),
    );
  const request = ns.request;
  if (ns.owner !== by.user && !(await isApprover(deps, by.user))) return transferRefusals.notAllowed(request, ns.owner);
  if (ns.state === 'deleting') return transferRefusals.notActive(request);
  if (ns.owner === to) return transferRefusals.alreadyOwner(request, to);
  const person = await isActivePerson(deps, to);
  if (person === undefined) return transferRefusals.lookupFailed(to);
  if (!person) return transferRefusals.notAPerson(to);

  const from = ns.owner;
  if (!(await deps.store.lifecycle.transfer(request.id, from, to, deps.clock.now()))) return transferRefusals.changed(request);
  await deps.store.appendEvent({
    type: 'transferred',
    at: deps.clock.now(),
    actor: by.user,
    team: request.team,
    requestId: request.id,
    data: { from, to, namespace: request.namespace, cluster: request.cluster },
  });
  deps.log.info({ requestId: request.id }, 'namespace transferred');
  const slack = notifier(deps);
  await slack.dm(to, transferredToYou(request, from, by.user));
  await slack.dm(from, transferredAway(request, to, by.user, from));
  if (request.card) await slack.post(request.card.channel, transferNoted(request, from, to, by.user), request.card.ts);
  await namespaceChanged(deps, request.id);
  return transferDone(request, to);
}
