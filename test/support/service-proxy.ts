import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for a Kubernetes Service in front of several bot processes: requests go
 * round-robin to the backends whose readiness probe passes (`GET /readyz` on each one's metrics
 * port, polled as the kubelet would), as kube-proxy sends connections to a Service's ready
 * endpoints. A connection that a backend refuses (it has stopped listening: the request never
 * reached it) is tried on the next ready backend. A request that reached a backend which then
 * died gets what the client would get through a Service: its connection is reset, with no HTTP
 * answer. With no ready backend the connection is reset too.
 */
export interface ProxyBackend {
  /** A name for reports (e.g. the pod's). */
  name: string;
  /** Where Slack's requests are served (PORT). */
  baseUrl: string;
  /** Where `/readyz` is served (METRICS_PORT). */
  metricsUrl: string;
}

export interface ServiceProxyStats {
  /** Requests answered by a backend, per backend name. */
  answered: Record<string, number>;
  /** Connections a backend refused, tried on the next one. */
  refused: number;
  /** Requests whose connection was reset because their backend died with them in flight. */
  lost: number;
  /** Requests whose connection was reset because no backend was ready (or every one refused). */
  unserved: number;
}

interface Endpoint extends ProxyBackend {
  ready: boolean;
  /** Since when its probes have failed without a success between (undefined while they pass). */
  failingSince: number | undefined;
}

/**
 * How long probes must fail in a row to take a backend out of rotation. The kubelet's defaults
 * (a probe every 10 s, out after 3 failures) take 30 s; this is quicker, yet a busy backend whose
 * probe times out once or twice stays in. A stopped or deleted backend leaves at once (`remove`),
 * and one that refuses connections leaves on the first refusal.
 */
const FAILING_FOR_MS = 3000;

export class ServiceProxy {
  readonly stats: ServiceProxyStats = { answered: {}, refused: 0, lost: 0, unserved: 0 };
  private readonly endpoints: Endpoint[] = [];
  private next = 0;
  private closed = false;
  private readonly probing: Promise<void>;

  private constructor(
    private readonly server: Server,
    /** How often each backend's readiness is probed. */
    private readonly periodMs: number,
  ) {
    this.probing = this.probeLoop();
  }

  /** Listens on 127.0.0.1, an ephemeral port; `periodMs` is the readiness probe's period. */
  static async start(options: { periodMs?: number } = {}): Promise<ServiceProxy> {
    const server = createServer();
    const proxy = new ServiceProxy(server, options.periodMs ?? 100);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void proxy.forward(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Adds a backend (not ready until its first probe passes), as a new pod's endpoint. */
  add(backend: ProxyBackend): void {
    this.endpoints.push({ ...backend, ready: false, failingSince: undefined });
  }

  /** Takes a backend out of rotation, as a deleted pod's endpoint. */
  remove(name: string): void {
    const i = this.endpoints.findIndex((e) => e.name === name);
    if (i >= 0) this.endpoints.splice(i, 1);
  }

  /** The names of the backends that are in rotation now. */
  ready(): string[] {
    return this.endpoints.filter((e) => e.ready).map((e) => e.name);
  }

  /** Resolves once `name` is in rotation (its readiness probe passed). */
  async waitReady(name: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready().includes(name)) {
      if (Date.now() > deadline) throw new Error(`${name} did not become ready behind the proxy`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.probing;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async probeLoop(): Promise<void> {
    while (!this.closed) {
      await Promise.all(this.endpoints.map((e) => this.probe(e)));
      await new Promise((resolve) => setTimeout(resolve, this.periodMs));
    }
  }

  /** One readiness probe: 1 s timeout (the kubelet's default), in rotation after one success, out after FAILING_FOR_MS of failures. */
  private async probe(endpoint: Endpoint): Promise<void> {
    let ok = false;
    try {
      const res = await fetch(`${endpoint.metricsUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      ok = res.ok;
    } catch {
      // refused or timed out: a failed probe
    }
    if (ok) {
      endpoint.ready = true;
      endpoint.failingSince = undefined;
      return;
    }
    endpoint.failingSince ??= Date.now();
    if (Date.now() - endpoint.failingSince >= FAILING_FOR_MS) endpoint.ready = false;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const tried = new Set<string>();
    for (;;) {
      const endpoint = this.pick(tried);
      if (!endpoint) break;
      tried.add(endpoint.name);
      const outcome = await this.send(endpoint, req, body, res);
      if (outcome === 'answered') {
        this.stats.answered[endpoint.name] = (this.stats.answered[endpoint.name] ?? 0) + 1;
        return;
      }
      if (outcome === 'lost') {
        this.stats.lost++;
        res.socket?.destroy();
        return;
      }
      // Refused: the backend is gone; it leaves the rotation until a probe passes again.
      this.stats.refused++;
      endpoint.ready = false;
    }
    this.stats.unserved++;
    res.socket?.destroy();
  }

  /** The next ready backend in turn that this request has not been refused by. */
  private pick(tried: Set<string>): Endpoint | undefined {
    const candidates = this.endpoints.filter((e) => e.ready && !tried.has(e.name));
    if (candidates.length === 0) return undefined;
    return candidates[this.next++ % candidates.length];
  }

  /** One attempt on one backend: answered (relayed to the client), refused (never reached it) or lost (reached it, no answer). */
  private send(endpoint: Endpoint, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<'answered' | 'refused' | 'lost'> {
    return new Promise((resolve) => {
      const target = new URL(req.url ?? '/', endpoint.baseUrl);
      // A connection per request (no keep-alive), as a client's connection through kube-proxy is
      // one connection to one pod: a reused idle socket closed by a stopping backend would fail
      // requests that never reached it.
      const upstream = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host }, agent: false }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('end', () => resolve('answered'));
        // The backend died while answering: the client's connection breaks off.
        answer.once('error', () => resolve('lost'));
      });
      upstream.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'lost'));
      upstream.end(body);
    });
  }
}
