// A fault-injecting HTTP proxy between the decider and the kube-apiserver: the decider's kubeconfig points
// at http://127.0.0.1:<port>, the proxy forwards to the apiserver over TLS with the apiserver's CA. Every
// request is counted (method + resource, as the write batcher names them); a test-supplied rule may answer
// a request itself (429 with Retry-After, 500), delay it, or hold it until the test releases it. Watches
// are streamed through untouched. Loopback only.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** `gameservers`, `gameservers/status`, `pods/status`, `events`, `leases`… */
  readonly resource: string;
  readonly name: string;
  readonly watch: boolean;
  readonly atMs: number;
  /** What the decider got back: the upstream status, an injected one, or 0 (connection dropped). */
  status?: number;
  /** The body of a mutating request (for a look at what was written). */
  body?: string;
  /** When `status` became known. */
  answeredAtMs?: number;
  /**
   * The `metadata.resourceVersion` of the object a successful write answered with: a write that changed
   * nothing (the same patch again) answers with the version the object already had.
   */
  answeredVersion?: string;
  /** The answer reached the apiserver's client no more: the proxy dropped it (a `lose-answer` fault). */
  answerLost?: boolean;
  injected?: boolean;
}

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'delay'; readonly ms: number }
  /** The request waits until the returned promise settles, then is forwarded (or dropped when it resolves false). */
  | { readonly kind: 'hold'; readonly until: Promise<boolean> }
  /** Forwarded; the apiserver's answer is read, then the client's connection is dropped instead (a lost answer). */
  | { readonly kind: 'lose-answer' };

export type FaultRule = (req: SeenRequest) => Fault | undefined;

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** Replaces the fault rule (undefined: pass everything). */
  setRule(rule: FaultRule | undefined): void;
  /** Mutating requests (not GET/watch), optionally only those after index `from` of `requests`. */
  writes(filter?: (r: SeenRequest) => boolean, from?: number): SeenRequest[];
  close(): Promise<void>;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `…/namespaces/<ns>/<resource>/<name>[/<sub>]` → resource `<resource>[/<sub>]` and name. */
export function describePath(path: string): { resource: string; name: string } {
  const m = /\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
  if (!m) return { resource: path, name: '' };
  return { resource: m[3] ? `${m[1]}/${m[3]}` : m[1]!, name: m[2] ?? '' };
}

/** Reads the version out of a write's answer (a copy of the stream: the answer still goes on to the client). */
function recordVersion(seen: SeenRequest, upRes: http.IncomingMessage): void {
  const chunks: Buffer[] = [];
  let size = 0;
  upRes.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= 1 << 20) chunks.push(c);
  });
  upRes.on('end', () => {
    try {
      const version = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
      if (typeof version === 'string') seen.answeredVersion = version;
    } catch {
      // not an object (a Status, or cut short): no version
    }
  });
}

export async function startFaultProxy(options: { upstream: string; ca: string | Buffer }): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const agent = new https.Agent({ keepAlive: true, ca: options.ca, maxSockets: 128 });
  const requests: SeenRequest[] = [];
  let rule: FaultRule | undefined;
  const open = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const { resource, name } = describePath(url.pathname);
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      resource,
      name,
      watch: url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1',
      atMs: Date.now(),
    };
    requests.push(seen);
    // The body is read at once, so a held request can still be delivered after its client died.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    let complete = false;
    req.on('end', () => {
      complete = true;
      handle(seen, Buffer.concat(chunks), req, res);
    });
    // Its client died before the body was complete: the request never reaches the apiserver.
    req.on('close', () => {
      if (!complete) dropped(seen);
    });
  });

  /** A request that never reaches the apiserver is answered 0, like a dropped connection: every request
   * gets a status, so a wait for the requests in flight to be answered always ends. */
  const dropped = (seen: SeenRequest): void => {
    seen.status ??= 0;
    seen.answeredAtMs ??= Date.now();
  };

  const handle = (seen: SeenRequest, body: Buffer, req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (MUTATING.has(seen.method)) seen.body = body.toString('utf8');
    const fault = rule?.(seen);
    const forward = (loseAnswer = false): void => {
      const up = https.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host }, agent },
        (upRes) => {
          seen.status = upRes.statusCode ?? 0;
          seen.answeredAtMs = Date.now();
          if (MUTATING.has(seen.method)) recordVersion(seen, upRes);
          if (loseAnswer) {
            seen.answerLost = true;
            upRes.resume();
            res.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
          upRes.on('error', () => res.destroy());
        },
      );
      // The apiserver down (restart, etcd gone): the decider sees its connection dropped, as it would.
      up.on('error', () => {
        seen.status ??= 0;
        seen.answeredAtMs ??= Date.now();
        res.destroy();
      });
      // A watch ends with its client. A write already sent is left to finish, as on a real network where
      // the client's death does not recall its request: its status says whether it landed.
      if (seen.watch) res.on('close', () => up.destroy());
      up.end(body);
    };
    if (!fault) return forward();
    switch (fault.kind) {
      case 'status': {
        seen.status = fault.status;
        seen.answeredAtMs = Date.now();
        seen.injected = true;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        res.writeHead(fault.status, headers);
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'injected by the fault proxy', code: fault.status }));
        return;
      }
      case 'delay': {
        let sent = false;
        const timer = setTimeout(() => {
          sent = true;
          forward();
        }, fault.ms);
        res.on('close', () => {
          if (sent) return;
          clearTimeout(timer);
          dropped(seen);
        });
        return;
      }
      case 'hold': {
        const drop = (): void => {
          dropped(seen);
          res.destroy();
        };
        fault.until.then((go) => (go ? forward() : drop()), drop);
        return;
      }
      case 'lose-answer':
        return forward(true);
    }
  };
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setRule: (r) => void (rule = r),
    writes: (filter = () => true, from = 0) => requests.slice(from).filter((r) => MUTATING.has(r.method) && filter(r)),
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
