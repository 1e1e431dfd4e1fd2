/**
 * The demo page's server, on 127.0.0.1 only: the page itself (plain HTML, CSS and JS from
 * src/playground/web/, no build step), what a person sees as JSON, and the person's actions.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Slipway } from '../app.ts';
import type { Config } from '../config.ts';
import { errorMessage, SlipwayError } from '../errors.ts';
import { JOB_NAMES } from '../jobs/names.ts';
import { viewClusters } from './cluster-view.ts';
import type { DemoClock } from './clock.ts';
import { ClientRefusal, type SlackClient } from './slack-client.ts';
import type { Answer } from './slack-requests.ts';
import type { DemoWorkspace } from './workspace.ts';

export interface WebServerOptions {
  port: number;
  client: SlackClient;
  slipway: Slipway;
  config: Config;
  clock: DemoClock;
  workspace: DemoWorkspace;
  clusterSource: 'embedded' | 'kubeconfig';
}

const STATIC: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/style.css': 'style.css',
  '/app.js': 'app.js',
  '/blockkit.js': 'blockkit.js',
};
const TYPES: Readonly<Record<string, string>> = { html: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };
const WEB_DIR = new URL('./web/', import.meta.url);
const MAX_BODY = 256 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ClientRefusal('request too large');
    chunks.push(chunk as Buffer);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ClientRefusal('expected a JSON object');
  return parsed as Record<string, unknown>;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const optionalText = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function answerOf(value: unknown): Answer | undefined {
  if (value === null || typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

export async function startWebServer(options: WebServerOptions): Promise<Server> {
  const { client, slipway, clock, workspace } = options;
  const routes: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    '/api/type': async (b) => client.type(text(b.as), text(b.channel), text(b.text), optionalText(b.threadTs)),
    '/api/act': async (b) =>
      client.act(
        text(b.as),
        { channel: optionalText(b.channel), ts: optionalText(b.ts), ephemeral: b.ephemeral === true, viewId: optionalText(b.viewId) },
        text(b.actionId),
        optionalText(b.blockId),
        answerOf(b.value),
      ),
    '/api/submit': async (b) => {
      const answers = typeof b.answers === 'object' && b.answers !== null ? (b.answers as Record<string, unknown>) : {};
      const clean = Object.fromEntries(Object.entries(answers).flatMap(([k, v]) => (answerOf(v) === undefined ? [] : [[k, answerOf(v) as Answer]])));
      return { errors: await client.submit(text(b.as), text(b.viewId), clean) };
    },
    '/api/close': async (b) => client.close(text(b.as), text(b.viewId)),
    '/api/tab': async (b) => client.openTab(text(b.as), b.tab === 'home' ? 'home' : 'messages'),
    '/api/job': async (b) => {
      const outcome = await slipway.scheduler.run(text(b.name), 'manual');
      return { status: outcome.status, summary: outcome.summary ?? outcome.error ?? '' };
    },
    '/api/clock': async (b) => {
      const days = Number(b.days);
      if (!Number.isInteger(days) || days < 1 || days > 31) throw new ClientRefusal('days must be 1 to 31');
      clock.advance(days);
      return { now: clock.now().toISOString() };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Only pages loaded from this address: a site that rebinds its own name to 127.0.0.1 sends
    // its name as Host, and is refused.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost') return send(res, 421, { error: 'open the demo at the URL it printed' });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = STATIC[url.pathname];
    if (req.method === 'GET' && file) {
      const type = TYPES[file.split('.').pop() ?? ''] ?? 'text/plain';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(readFileSync(new URL(file, WEB_DIR)));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/state') {
      const as = url.searchParams.get('as') ?? workspace.people[0]?.id ?? '';
      send(res, 200, {
        people: workspace.people,
        startChannel: workspace.startChannel,
        users: Object.fromEntries(workspace.users.map((u) => [u.id, u.name])),
        channelNames: Object.fromEntries(workspace.channels.map((c) => [c.id, c.name])),
        now: clock.now().toISOString(),
        offsetDays: clock.offsetDays,
        timeZone: options.config.schedule.timezone,
        jobs: JOB_NAMES,
        ...client.view(as),
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/cluster') {
      send(res, 200, { source: options.clusterSource, clusters: await viewClusters(options.config) });
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const bytes = client.file(decodeURIComponent(url.pathname.slice('/files/'.length)));
      if (!bytes) return send(res, 404, { error: 'no such file' });
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(bytes);
      return;
    }
    const route = routes[url.pathname];
    if (req.method === 'POST' && route) {
      // The page only: a form on another site cannot post JSON here (no simple content type).
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, { error: 'expected application/json' });
      send(res, 200, { ok: true, ...((await route(await readJson(req))) ?? {}) });
      return;
    }
    send(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const refused = err instanceof ClientRefusal || err instanceof SyntaxError;
      if (!res.headersSent) send(res, refused ? 400 : 500, { error: errorMessage(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new SlipwayError('demo_port', `Port ${options.port} on 127.0.0.1 is in use: choose another with --port (0 picks a free one).`, { cause: err })
          : err,
      ),
    );
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return server;
}
