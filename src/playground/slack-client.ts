/**
 * What Slack's own client does for a person, for the demo page: it sends slash commands, clicks
 * and form submissions to the bot as signed requests (with trigger ids the emulator issued, which
 * expire after 3 s), applies the bot's answers (ack bodies become ephemeral messages, a
 * submission's `response_action` updates the modal stack), and reads back what the person sees.
 */
import type { Clock } from '../domain/requests.ts';
import { isObject } from './blocks.ts';
import type { EmulatedMessage, EmulatedView, JsonObject, SlackApiEmulator } from './slack-api.ts';
import {
  sendBlockAction,
  sendEvent,
  sendSlashCommand,
  sendViewClosed,
  sendViewSubmission,
  threadReplyEvent,
  valuesFor,
  type Answer,
  type MessageLike,
} from './slack-requests.ts';
import { BOT_USER, type DemoWorkspace } from './workspace.ts';

export interface ShownEphemeral {
  readonly channel: string;
  readonly ts: string;
  readonly text: string;
  readonly blocks: readonly JsonObject[];
  readonly threadTs?: string;
}

export interface ShownMessage {
  readonly ts: string;
  readonly user: string;
  readonly isBot: boolean;
  readonly text: string;
  readonly blocks: readonly JsonObject[];
  readonly files: readonly { id: string; title: string; url: string }[];
  readonly edited: boolean;
  readonly replies: readonly ShownMessage[];
}

export interface ShownConversation {
  readonly id: string;
  readonly name: string;
  readonly kind: 'channel' | 'dm';
  readonly messages: readonly ShownMessage[];
}

/** Everything one person sees, for one render of the page. */
export interface PersonView {
  readonly me: string;
  readonly conversations: readonly ShownConversation[];
  readonly ephemerals: readonly ShownEphemeral[];
  /** Open modals, bottom of the stack first. */
  readonly modals: readonly EmulatedView[];
  readonly home: EmulatedView | null;
}

/** Something the person did that Slack's client would refuse, said as its client says it. */
export class ClientRefusal extends Error {}

export interface Where {
  /** The message the element is in: its channel and ts (an ephemeral one: `ephemeral: true`). */
  readonly channel?: string;
  readonly ts?: string;
  readonly ephemeral?: boolean;
  /** The view (modal or Home tab) the element is in. */
  readonly viewId?: string;
}

export interface SlackClientOptions {
  slack: SlackApiEmulator;
  botUrl: string;
  signingSecret: string;
  workspace: DemoWorkspace;
  clock: Clock;
}

export class SlackClient {
  private readonly ackEphemerals: (ShownEphemeral & { user: string })[] = [];
  private counter = 0;

  constructor(private readonly options: SlackClientOptions) {}

  private get slack(): SlackApiEmulator {
    return this.options.slack;
  }

  private ts(): string {
    this.counter += 1;
    return `${Math.floor(this.options.clock.now().getTime() / 1000)}.${String(this.counter).padStart(6, '0')}`;
  }

  private person(user: string): string {
    if (!this.options.workspace.people.some((p) => p.id === user)) throw new ClientRefusal(`nobody in this workspace is ${user}`);
    return user;
  }

  /** A line typed in the message box: a slash command goes to the bot; other text is posted as the person's message. */
  async type(user: string, channel: string, line: string, threadTs?: string): Promise<void> {
    this.person(user);
    const text = line.trim();
    if (!text) return;
    const command = /^(\/\S+)\s*([\s\S]*)$/.exec(text);
    if (!command) {
      const dmUser = this.dmUserOf(channel);
      const ts = this.slack.seedMessage(dmUser ?? channel, { user, text, ...(threadTs ? { threadTs } : {}) });
      // The app subscribes to message.channels and message.groups (manifest.yml), not to DMs.
      if (dmUser) return;
      const event = threadTs ? threadReplyEvent({ channel, user, text, ts, threadTs }) : { type: 'message', channel, user, text, ts, channel_type: 'channel' };
      await sendEvent(this.options.botUrl, this.options.signingSecret, { event, botUserId: BOT_USER });
      return;
    }
    const [, name = '', rest = ''] = command;
    if (name !== '/platform') {
      this.ackEphemerals.push({
        user,
        channel,
        ts: this.ts(),
        text: `${name} is not a valid command. In Slack, all messages that start with "/" are interpreted as commands.`,
        blocks: [],
      });
      return;
    }
    const reply = await sendSlashCommand(this.options.botUrl, this.options.signingSecret, {
      text: this.escapeMentions(rest),
      userId: user,
      userName: this.nameOf(user),
      channelId: channel,
      channelName: this.channelName(channel),
      triggerId: this.slack.issueTriggerId(user),
      responseUrl: this.slack.issueResponseUrl({ channelId: channel, userId: user }),
    });
    this.showAck(user, channel, reply.body);
  }

  /** A click (or a choice in a select) on an element of a message, an ephemeral message or a view. */
  async act(user: string, where: Where, actionId: string, blockId: string | undefined, value?: Answer): Promise<void> {
    this.person(user);
    const common = {
      userId: user,
      userName: this.nameOf(user),
      actionId,
      ...(blockId ? { blockId } : {}),
      ...(value !== undefined ? { value } : {}),
      triggerId: this.slack.issueTriggerId(user),
    };
    if (where.viewId) {
      const view = this.slack.view(where.viewId);
      await sendBlockAction(this.options.botUrl, this.options.signingSecret, { ...common, view });
      return;
    }
    const message = this.findMessage(user, where);
    await sendBlockAction(this.options.botUrl, this.options.signingSecret, {
      ...common,
      message,
      channelName: this.channelName(message.channel),
      responseUrl: this.slack.issueResponseUrl({ channelId: message.channel, userId: user, ...(where.ephemeral ? {} : { messageTs: message.ts }) }),
    });
  }

  /** Submits the modal with the person's answers by block id; returns the field errors the bot answered with. */
  async submit(user: string, viewId: string, answers: Record<string, Answer>): Promise<Record<string, string>> {
    this.person(user);
    const view = this.slack.view(viewId);
    let values;
    try {
      values = valuesFor(view, answers);
    } catch (err) {
      throw new ClientRefusal(err instanceof Error ? err.message : String(err));
    }
    const reply = await sendViewSubmission(this.options.botUrl, this.options.signingSecret, {
      view,
      values,
      userId: user,
      userName: this.nameOf(user),
      triggerId: this.slack.issueTriggerId(user),
    });
    this.slack.applySubmissionAck(view.id, reply.body);
    const body = reply.body;
    if (isObject(body) && body.response_action === 'errors' && isObject(body.errors)) {
      return Object.fromEntries(Object.entries(body.errors).map(([k, v]) => [k, String(v)]));
    }
    return {};
  }

  /** The person opened the app's Home or Messages tab: Slack sends `app_home_opened` with the Home view published last. */
  async openTab(user: string, tab: 'home' | 'messages'): Promise<void> {
    this.person(user);
    const view = this.slack.homeView(user);
    await sendEvent(this.options.botUrl, this.options.signingSecret, {
      event: { type: 'app_home_opened', user, channel: this.slack.dmChannelId(user) ?? '', tab, ...(view ? { view } : {}) },
      botUserId: BOT_USER,
    });
  }

  /** The person dismissed the modal (Cancel or ×). */
  async close(user: string, viewId: string): Promise<void> {
    this.person(user);
    const view = this.slack.view(viewId);
    this.slack.closeView(viewId);
    if (view.notify_on_close) await sendViewClosed(this.options.botUrl, this.options.signingSecret, { view, userId: user, userName: this.nameOf(user) });
  }

  /** What `user` sees now: the channels they are in and their DM with Slipway, ephemerals, modals, Home. */
  view(user: string): PersonView {
    this.person(user);
    const files = new Map(this.slack.uploadedFiles.map((f) => [f.id, f]));
    const show = (m: EmulatedMessage): ShownMessage => ({
      ts: m.ts,
      user: m.user,
      isBot: m.user === BOT_USER || m.botId !== undefined,
      text: m.text,
      blocks: m.blocks,
      files: m.files.map((id) => ({ id, title: files.get(id)?.title ?? files.get(id)?.filename ?? id, url: `/files/${encodeURIComponent(id)}` })),
      edited: m.edited !== undefined,
      replies: m.replies.map(show),
    });
    const channels = this.options.workspace.channels
      .filter((c) => c.members.includes(user))
      .map((c): ShownConversation => ({ id: c.id, name: c.name, kind: 'channel', messages: this.slack.messages(c.id).map(show) }));
    const dm = this.slack.dmChannelId(user);
    const conversations = dm ? [...channels, { id: dm, name: 'Slipway', kind: 'dm' as const, messages: this.slack.dmWith(user).map(show) }] : channels;
    const ephemerals = [
      ...this.slack
        .ephemerals(user)
        .map((e) => ({ channel: e.channel, ts: e.messageTs, text: e.text, blocks: e.blocks, ...(e.threadTs ? { threadTs: e.threadTs } : {}) })),
      ...this.ackEphemerals.filter((e) => e.user === user).map(({ user: _user, ...e }) => e),
    ].sort((a, b) => Number(a.ts) - Number(b.ts));
    const modals = this.slack.views.filter((v) => v.userId === user && v.isOpen && v.view.type === 'modal').map((v) => v.view);
    return { me: user, conversations, ephemerals, modals, home: this.slack.homeView(user) ?? null };
  }

  /** A file's bytes (the digest chart), if the bot uploaded it. */
  file(id: string): Buffer | undefined {
    return this.slack.uploadedFiles.find((f) => f.id === id)?.bytes;
  }

  private showAck(user: string, channel: string, body: unknown): void {
    // Slack shows a command's ack body to the person who typed it, as an ephemeral message.
    if (typeof body === 'string' && body.trim()) this.ackEphemerals.push({ user, channel, ts: this.ts(), text: body, blocks: [] });
    if (isObject(body) && (typeof body.text === 'string' || Array.isArray(body.blocks))) {
      const blocks = Array.isArray(body.blocks) ? body.blocks.filter(isObject) : [];
      this.ackEphemerals.push({ user, channel, ts: this.ts(), text: typeof body.text === 'string' ? body.text : '', blocks });
    }
  }

  private findMessage(user: string, where: Where): MessageLike {
    const { channel, ts } = where;
    if (!channel || !ts) throw new ClientRefusal('a click names the message it was on');
    if (where.ephemeral) {
      const found = this.view(user).ephemerals.find((e) => e.channel === channel && e.ts === ts);
      if (!found) throw new ClientRefusal('that ephemeral message is gone');
      return { channel, ts, text: found.text, blocks: found.blocks, user: BOT_USER };
    }
    const all = this.slack.messages(this.dmUserOf(channel) ?? channel).flatMap((m) => [m, ...m.replies]);
    const found = all.find((m) => m.ts === ts);
    if (!found) throw new ClientRefusal('that message is gone');
    return { ...found, channel };
  }

  /** The person whose DM with the bot `channel` is, if it is one. */
  private dmUserOf(channel: string): string | undefined {
    return this.options.workspace.people.find((p) => this.slack.dmChannelId(p.id) === channel)?.id;
  }

  /**
   * A command's text as Slack's client sends it with `should_escape` (manifest.yml): a person
   * picked from the list that opens as you type @ arrives as `<@U123|name>`. The page has no such
   * list, so an @name of someone in the workspace counts as picked.
   */
  private escapeMentions(text: string): string {
    return text.replace(/(^|\s)@([\w.-]+)/g, (typed: string, before: string, name: string) => {
      const person = this.options.workspace.users.find((u) => u.name === name);
      return person ? `${before}<@${person.id}|${name}>` : typed;
    });
  }

  private nameOf(user: string): string {
    return this.options.workspace.people.find((p) => p.id === user)?.name ?? user.toLowerCase();
  }

  private channelName(channel: string): string {
    return this.options.workspace.channels.find((c) => c.id === channel)?.name ?? (this.dmUserOf(channel) ? 'directmessage' : channel);
  }
}
