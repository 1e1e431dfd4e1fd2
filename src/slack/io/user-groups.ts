import { ErrorCode, LogLevel, WebClient, WebClientEvent, type WebAPICallError } from '@slack/web-api';
import type { Clock } from '../../domain/requests.ts';
import type { Logger } from '../../log.ts';

/*
 * The members of Slack user groups, for deciding who may do what (approvers, a team's people).
 * An Approve click is authorized before its ack, within Slack's 3 s, so the members are kept in
 * memory and listed again in the background rather than on the way to an ack:
 * - `watch` lists the groups at start and again every `refreshMs` (5 minutes) until `stop`.
 * - `members` answers from memory while what it holds is younger than `maxAgeMs` (30 minutes),
 *   starting a background refresh once it is older than `refreshMs`. Only a group never listed,
 *   or listed too long ago, is listed on the way, with a deadline well inside the 3 s.
 * - A 429 is not waited out: the call fails at once, and no call goes out until its Retry-After
 *   has passed (https://docs.slack.dev/apis/web-api/rate-limits). The bot's own WebClient would
 *   wait, with every other call in its queue paused behind it.
 */

/** How old members may be before they are listed again, in the background. */
export const USER_GROUP_REFRESH_MS = 5 * 60_000;
/** How old members may be and still be trusted: older ones are listed again before an answer. */
export const USER_GROUP_MAX_AGE_MS = 30 * 60_000;
/** One listing's deadline, so a lookup on the way to an ack leaves time to record and ack. */
const LOOKUP_TIMEOUT_MS = 1_500;
/** After a failed listing (not a rate limit), the next background attempt, unless refreshMs is sooner. */
const RETRY_AFTER_FAILURE_MS = 60_000;

export interface UserGroups {
  /**
   * The members of `group`, from memory when known and younger than the maximum age; listed
   * (with a deadline) otherwise. Undefined when Slack could not say: not known is not "not in it".
   */
  members(group: string): Promise<readonly string[] | undefined>;
  /** Lists `groups` now, and again every refresh interval until `stop`. */
  watch(groups: readonly string[]): Promise<void>;
  /** Ends the refreshes and waits for the listings under way. */
  stop(): Promise<void>;
}

export interface UserGroupsOptions {
  token: string | undefined;
  /** Base URL of the Web API, e.g. `https://slack.com/api/`. */
  apiUrl: string;
  clock: Clock;
  log: Logger;
  /** Default USER_GROUP_REFRESH_MS; tests shorten it. */
  refreshMs?: number;
  /** Told about every 429, for the rate-limit metric. */
  onRateLimited?: () => void;
}

interface Known {
  users: readonly string[];
  /** When they were listed, by the bot's clock. */
  at: number;
}

export function createUserGroups(options: UserGroupsOptions): UserGroups {
  const { clock, log } = options;
  const refreshMs = options.refreshMs ?? USER_GROUP_REFRESH_MS;
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: LOOKUP_TIMEOUT_MS,
    logLevel: LogLevel.ERROR,
  });
  if (options.onRateLimited) client.on(WebClientEvent.RATE_LIMITED, options.onRateLimited);
  const known = new Map<string, Known>();
  /** One listing per group at a time: a click and a refresh of the same group share it. */
  const listing = new Map<string, Promise<readonly string[] | undefined>>();
  /** Until when (performance.now()) Slack asked for no more calls, after a 429. */
  let quietUntil = 0;
  let watched: readonly string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let stopped = false;

  const list = (group: string): Promise<readonly string[] | undefined> => {
    const under = listing.get(group);
    if (under) return under;
    if (performance.now() < quietUntil) return Promise.resolve(undefined);
    const call = client.usergroups.users
      .list({ usergroup: group })
      .then((res) => {
        const users = res.users ?? [];
        known.set(group, { users, at: clock.now().getTime() });
        return users;
      })
      .catch((err: unknown) => {
        const limited = (err as Partial<WebAPICallError>).code === ErrorCode.RateLimitedError;
        if (limited) quietUntil = Math.max(quietUntil, performance.now() + (err as { retryAfter: number }).retryAfter * 1000);
        log.warn({ err, group }, limited ? 'Slack rate limits listing user group members; waiting as it asked' : 'could not list user group members');
        return undefined;
      })
      .finally(() => listing.delete(group));
    listing.set(group, call);
    return call;
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void refreshAll(), ms);
    timer.unref();
  };

  /** Lists every watched group, then plans the next round (sooner after a failure). */
  const refreshAll = (): Promise<void> => {
    round = (async () => {
      const results = await Promise.all(watched.map(list));
      const failed = results.some((users) => users === undefined);
      const quiet = Math.max(0, quietUntil - performance.now());
      schedule(Math.max(failed ? Math.min(refreshMs, RETRY_AFTER_FAILURE_MS) : refreshMs, quiet));
    })().finally(() => (round = undefined));
    return round;
  };

  return {
    async members(group) {
      const entry = known.get(group);
      const age = entry && clock.now().getTime() - entry.at;
      if (entry && age !== undefined && age <= USER_GROUP_MAX_AGE_MS) {
        if (age >= refreshMs && !stopped) void list(group);
        return entry.users;
      }
      return list(group);
    },
    async watch(groups) {
      watched = [...new Set(groups)];
      if (watched.length > 0) await refreshAll();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
      await Promise.all(listing.values());
    },
  };
}
