// A thin HTTP client for the kube-apiserver, the decider's and the CLI's one REST path: one keep-alive
// agent, credentials from a KubeConfig (client-node's own loading and application), status codes and
// Retry-After returned as data so the batcher decides what to retry (docs/design.md §31).
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
  /** Seconds from a Retry-After header, when present. */
  readonly retryAfterSeconds?: number;
}

export type ContentType =
  | 'application/json'
  | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json'
  | 'application/json-patch+json';

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: ContentType;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The port the writers and reflectors use; tests may fake it. */
export interface KubeApi {
  request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse>;
  /** Streams a watch: one parsed JSON object per line until the server ends it or `signal` aborts. */
  watch(path: string, onEvent: (event: { type: string; object: any }) => void, signal: AbortSignal): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_SOCKETS = 64;
/**
 * Credentials are re-read at most this often, not per request: in-cluster tokens rotate (client-node
 * re-reads a token file every 60 s itself), but reading them cost ~3 % of the decider's busy CPU at
 * 300 writes/s, with a new https.Agent built and thrown away each time (bench/RESULTS.md, profile).
 */
const CREDENTIALS_TTL_MS = 1_000;

export class KubeClient implements KubeApi {
  private agent: http.Agent | undefined;
  private credentials:
    | {
        readonly headers: Readonly<Record<string, string>>;
        /** The server's address, parsed once per read (a URL per request was ~1 % of the busy CPU). */
        readonly server: { readonly protocol: string; readonly hostname: string; readonly port: string; readonly basePath: string };
        readonly readAtMs: number;
      }
    | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {}

  private async connect(method: string, path: string, contentType?: string): Promise<http.RequestOptions & { protocol: string }> {
    const nowMs = Date.now();
    if (!this.credentials || nowMs - this.credentials.readAtMs >= CREDENTIALS_TTL_MS || !this.agent) {
      const cluster = this.kubeConfig.getCurrentCluster();
      if (!cluster) throw new OkgSqError(ERROR_CODES.KUBE_API, 'kubeconfig has no current cluster');
      const url = new URL(cluster.server);
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      if (!this.agent) {
        this.agent =
          url.protocol === 'https:'
            ? new https.Agent({
                keepAlive: true,
                maxSockets: MAX_SOCKETS,
                ca: opts.ca,
                cert: opts.cert,
                key: opts.key,
                rejectUnauthorized: opts.rejectUnauthorized ?? !cluster.skipTLSVerify,
                servername: (opts as { servername?: string }).servername,
              })
            : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
      }
      const headers: Record<string, string> = { Accept: 'application/json' };
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      if (opts.auth) headers.Authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
      const server = {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), // an IPv6 literal without its brackets
        port: url.port,
        basePath: url.pathname.replace(/\/$/, ''),
      };
      this.credentials = { headers, server, readAtMs: nowMs };
    }
    const { server } = this.credentials;
    const headers = contentType ? { ...this.credentials.headers, 'Content-Type': contentType } : { ...this.credentials.headers };
    return { protocol: server.protocol, hostname: server.hostname, port: server.port, path: server.basePath + path, method, agent: this.agent, headers };
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<KubeResponse> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = await this.connect(method, path, body === undefined ? undefined : (options.contentType ?? 'application/json'));
    const mod = req.protocol === 'https:' ? https : http;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<KubeResponse>((resolve, reject) => {
      const r = mod.request({ ...req, timeout: timeoutMs, signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // a non-JSON error page: keep the text
          }
          const retryAfter = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            body: parsed,
            ...(Number.isFinite(retryAfter) && res.headers['retry-after'] !== undefined ? { retryAfterSeconds: retryAfter } : {}),
          });
        });
      });
      r.on('timeout', () => r.destroy(new OkgSqError(ERROR_CODES.KUBE_API, `${method} ${path} timed out after ${timeoutMs} ms`)));
      r.on('error', reject);
      if (body !== undefined) r.write(body);
      r.end();
    });
  }

  async watch(path: string, onEvent: (event: { type: string; object: any }) => void, signal: AbortSignal): Promise<void> {
    const req = await this.connect('GET', path);
    const mod = req.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      const r = mod.request({ ...req, signal }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new OkgSqError(ERROR_CODES.KUBE_API, `watch ${path}: HTTP ${res.statusCode}`, { cause: { status: res.statusCode } }));
          return;
        }
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('line', (line) => {
          if (!line) return;
          let event: { type: string; object: any };
          try {
            event = JSON.parse(line);
          } catch (err) {
            r.destroy(new OkgSqError(ERROR_CODES.KUBE_API, `watch ${path}: unparsable event`, { cause: err }));
            return;
          }
          onEvent(event);
        });
        // Aborting (stop) errors the response and the line reader: both end the watch quietly then.
        const failed = (err: Error): void => (signal.aborted ? resolve() : reject(err));
        lines.on('error', failed);
        res.on('error', failed);
        res.on('end', () => resolve());
        res.on('close', () => resolve());
      });
      r.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      r.end();
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}
