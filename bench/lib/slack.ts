// The Slack side of a benchmark: the Slack API emulator with credentials of the run's own, and
// following its call log to note when calls arrive.
import { randomBytes } from 'node:crypto';
import { SlackApiEmulator, type RecordedCall, type SlackApiEmulatorOptions } from '../../src/playground/slack-api.ts';
import { epochMs } from './time.ts';

/** Starts the Slack API emulator (127.0.0.1, an ephemeral port) with a fresh bot token, and makes a signing secret. */
export async function startSlack(options: Omit<SlackApiEmulatorOptions, 'token'> = {}): Promise<{ slack: SlackApiEmulator; signingSecret: string }> {
  const slack = await SlackApiEmulator.start({ ...options, token: `xoxb-bench-${randomBytes(6).toString('hex')}` });
  return { slack, signingSecret: randomBytes(16).toString('hex') };
}

/**
 * Hands each new call in a call log to `onCall` with when it was seen (epoch ms), polling every
 * `everyMs` from construction until `stop()`. `read` returns the log, or the part of it to follow
 * (e.g. one method's calls); entries are only ever appended to it, until `reset()`.
 */
export class CallLogFollower {
  private seen = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly read: () => readonly RecordedCall[],
    private readonly onCall: (call: RecordedCall, seenAt: number) => void,
    everyMs: number,
  ) {
    const tick = () => {
      this.poll();
      this.timer = setTimeout(tick, everyMs);
    };
    tick();
  }

  /** Calls seen so far. */
  get count(): number {
    return this.seen;
  }

  poll(): void {
    const calls = this.read();
    const now = epochMs();
    for (let i = this.seen; i < calls.length; i++) {
      const call = calls[i];
      if (call) this.onCall(call, now);
    }
    this.seen = calls.length;
  }

  /** After the emulator forgot its call log: follow it again from its (empty) start. */
  reset(): void {
    this.seen = 0;
  }

  /** Stops polling, after one last look. */
  stop(): void {
    clearTimeout(this.timer);
    this.poll();
  }
}
