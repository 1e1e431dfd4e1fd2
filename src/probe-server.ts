import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from './log.ts';

export interface ProbeRoute {
  path: string;
  handler(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

/**
 * The HTTP server for `/healthz`, `/readyz` and `/metrics`. Whoever can reach a port can send
 * anything, so nothing sent here may end the process or leave a request hanging: a target that
 * is not a URL gets 400, a handler that throws or rejects gets 500, other methods get 405.
 * Malformed HTTP itself is answered 400 by Node (`clientError`) before it reaches the handler.
 */
export function createProbeServer(routes: readonly ProbeRoute[], log: Logger): Server {
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    const route = routes.find((r) => r.path === path);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const failed = (err: unknown) => {
      log.error({ err, path }, 'probe route failed');
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    };
    try {
      const done = route.handler(req, res);
      if (done) done.catch(failed);
    } catch (err) {
      failed(err);
    }
  });
  // An 'error' event without a listener would throw; after listening it is logged instead.
  server.on('error', (err) => log.error({ err }, 'probe server error'));
  return server;
}

/** Listens on `port` (and `host`), rejecting with the listen error (e.g. EADDRINUSE). */
export function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(host ? { port, host } : { port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes the server and its open connections (keep-alive probes would hold it open). */
export function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
