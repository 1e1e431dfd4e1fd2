import type { Deps } from '../../deps.ts';

/* Who is in a channel, read from Slack: the people a pulse posted there could reach. */

/**
 * The people in a channel who could answer: its members minus bots (and deleted users). One
 * `conversations.members` page at a time and `users.info` per member, cached for the call.
 */
export async function humansIn(deps: Pick<Deps, 'slack' | 'log'>, channel: string, cache: Map<string, boolean>): Promise<Set<string>> {
  const members: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.slack.conversations.members({ channel, limit: 200, ...(cursor ? { cursor } : {}) });
    members.push(...(page.members ?? []));
    cursor = page.response_metadata?.next_cursor || undefined;
  } while (cursor);
  const unknown = members.filter((m) => !cache.has(m));
  // A few lookups at a time: users.info is Tier 4 (100+ per minute).
  for (let i = 0; i < unknown.length; i += 8) {
    await Promise.all(
      unknown.slice(i, i + 8).map(async (id) => {
        try {
          const info = await deps.slack.users.info({ user: id });
          cache.set(id, !(info.user?.is_bot || info.user?.deleted || id === 'USLACKBOT'));
        } catch (err) {
          // Unknown to users.info: not counted, rather than guessed.
          deps.log.warn({ err, channel }, 'could not look up a channel member; not counted');
          cache.set(id, false);
        }
      }),
    );
  }
  return new Set(members.filter((m) => cache.get(m)));
}

/** Distinct people across the channels a pulse was posted to; undefined if any lookup failed. */
export async function eligibleFor(deps: Pick<Deps, 'slack' | 'log'>, channels: readonly string[]): Promise<number | undefined> {
  const cache = new Map<string, boolean>();
  const everyone = new Set<string>();
  try {
    for (const channel of channels) for (const id of await humansIn(deps, channel, cache)) everyone.add(id);
  } catch (err) {
    deps.log.warn({ err }, 'could not count the people in the pulse channels');
    return undefined;
  }
  return everyone.size;
}
