import type { ModalView } from '@slack/types';
import { Agent, errors as undiciErrors, request } from 'undici';
import { SlipwayError } from '../../errors.ts';

/**
 * `views.open`, the one Slack call that races a clock: a trigger id can be used once, within 3 s
 * of the command or click that carried it. Every request starts with one, right after the ack.
 *
 * It does not go through the bot's WebClient, for two reasons:
 * - WebClient has no deadline by default and retries for up to 30 minutes, so a slow Slack would
 *   leave the person with nothing on screen and no word why. Here the call has one deadline that
 *   ends before the trigger does; a request that failed before Slack could act on it (a reset
 *   connection, a 5xx, a 429 with a short Retry-After) is tried again only while time is left.
 * - It costs about 1.5 ms of CPU per call there (the whole view is serialised for a debug line
 *   even when debug is off, form-encoded, then sent through `fetch`), which is most of the CPU a
 *   command costs. Here the view is sent once as JSON, with the token in the Authorization header
 *   as Slack requires for JSON bodies (api.slack.com/methods/views.open lists application/json;
 *   python-slack-sdk's `views_open` sends the view that way).
 */
export interface ModalOpener {
  /** Opens `view` for the person who triggered `triggerId`; throws a `SlackCallError` if Slack did not. */
  open(triggerId: string, view: ModalView): Promise<void>;
  close(): Promise<void>;
}

/** A Slack Web API call that failed; `code` is Slack's error (`expired_trigger_id`, …) or `timeout` / `http_503` / `unreachable`. */
export class SlackCallError extends SlipwayError {
  /** Slack's `response_metadata.messages`, e.g. which block of a view it rejected. */
  readonly details: readonly string[];

  constructor(code: string, userMessage: string, options: { details?: readonly string[]; cause?: unknown } = {}) {
    super(code, userMessage, { cause: options.cause, message: `${userMessage}${options.details?.length ? `: ${options.details.join('; ')}` : ''}` });
    this.details = options.details ?? [];
  }
}

export interface ModalOpenerOptions {
  token: string;
  /** Base URL of the Web API, e.g. `https://slack.com/api/`. */
  apiUrl: string;
  /** Time from the call to giving up, all attempts included; below the trigger's 3 s. Default 2,500 ms. */
  deadlineMs?: number;
  /** Told about every 429, for the rate-limit metric. */
  onRateLimited?: () => void;
}

const DEFAULT_DEADLINE_MS = 2_500;
/** Pause before trying a 5xx or a failed connection again. */
const RETRY_PAUSE_MS = 100;
const MAX_ATTEMPTS = 3;

/** Slack's errors for this call that a person can act on, in plain words. */
const PLAIN: Record<string, string> = {
  expired_trigger_id: "Slack's 3 seconds for opening it had passed",
  exchanged_trigger_id: 'it is already open',
};

interface SlackAnswer {
  ok?: boolean;
  error?: string;
  response_metadata?: { messages?: string[] };
}

/** An attempt's outcome: done, or worth another attempt after `waitMs` if the deadline allows. */
type Attempt = { done: true } | { done: false; waitMs: number; error: SlackCallError };

export function createModalOpener(options: ModalOpenerOptions): ModalOpener {
  const url = new URL('views.open', options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  const headers = {
    authorization: `Bearer ${options.token}`,
    'content-type': 'application/json; charset=utf-8',
  };

  async function attempt(body: string, timeoutMs: number, retry: boolean): Promise<Attempt> {
    let response;
    try {
      response = await request(url, { method: 'POST', headers, body, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    } catch (err) {
      if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
        throw new SlackCallError('timeout', `Slack did not answer within ${deadlineMs / 1000} s`, { cause: err });
      }
      // The request may not have reached Slack (e.g. a kept-alive connection it had closed). If it
      // did and the modal opened, the next attempt is told `exchanged_trigger_id` (see below).
      const reason = err instanceof Error ? err.message : String(err);
      return { done: false, waitMs: RETRY_PAUSE_MS, error: new SlackCallError('unreachable', `Slack could not be reached (${reason})`, { cause: err }) };
    }
    const { statusCode } = response;
    if (statusCode === 429) {
      await response.body.dump();
      options.onRateLimited?.();
      const retryAfter = Number(response.headers['retry-after']);
      const waitMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : Number.POSITIVE_INFINITY;
      return { done: false, waitMs, error: new SlackCallError('ratelimited', 'Slack is rate limiting Slipway right now') };
    }
    if (statusCode >= 500) {
      await response.body.dump();
      return { done: false, waitMs: RETRY_PAUSE_MS, error: new SlackCallError(`http_${statusCode}`, `Slack answered HTTP ${statusCode}`) };
    }
    let answer: SlackAnswer;
    try {
      answer = (await response.body.json()) as SlackAnswer;
    } catch (err) {
      throw new SlackCallError(`http_${statusCode}`, `Slack answered HTTP ${statusCode} with a body that is not JSON`, { cause: err });
    }
    if (answer.ok === true) return { done: true };
    const code = answer.error ?? `http_${statusCode}`;
    // On a retry this means an earlier attempt whose answer was lost (or a redelivery of the same
    // command) opened the modal: it is open either way.
    if (retry && code === 'exchanged_trigger_id') return { done: true };
    throw new SlackCallError(code, PLAIN[code] ?? `Slack answered ${code}`, { details: answer.response_metadata?.messages ?? [] });
  }

  return {
    async open(triggerId, view) {
      const started = performance.now();
      const body = JSON.stringify({ trigger_id: triggerId, view });
      for (let attempts = 1; ; attempts++) {
        const outcome = await attempt(body, Math.max(1, deadlineMs - (performance.now() - started)), attempts > 1);
        if (outcome.done) return;
        // Another attempt only if it could still start, and get an answer, before the deadline.
        const left = deadlineMs - (performance.now() - started);
        if (attempts >= MAX_ATTEMPTS || outcome.waitMs + RETRY_PAUSE_MS >= left) throw outcome.error;
        await new Promise((resolve) => setTimeout(resolve, outcome.waitMs));
      }
    },
    close: () => dispatcher.close(),
  };
}

/** For the CLI's jobs, which have no trigger ids: nothing there can open a modal. */
export const withoutModals: ModalOpener = {
  open: () => Promise.reject(new SlackCallError('no_trigger', 'Modals open only in answer to a command or a click')),
  close: () => Promise.resolve(),
};
