// httpGet probes, with kubelet's rules: 200–399 → true; redirects are followed only while they stay on
// the pod's host (10 requests in all, then a failure, as Go's client), and a redirect to another host is not
// followed and counts as success (the kubelet's "Warning" result, which it treats as success);
// HTTPS does not verify certificates; no keep-alive. The response body (read with a bound) is the result,
// so a game can answer "WaitToBeDeleted" through its own endpoint.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MAX_OUTPUT_BYTES, normaliseResult } from '../probe-result.js';
import type { HttpHeader } from '../service-quality.js';
import { failedRun, NO_EXIT_CODE, networkErrorKind, type RunnerResult } from './runner-result.js';

/**
 * Go's http client (which kubelet uses) makes at most this many requests for one GET: its redirect check
 * refuses the next one when `len(via) >= 10`, so 9 redirects are followed and the 10th fails.
 */
export const MAX_HTTP_REQUESTS = 10;
const USER_AGENT = 'kube-probe/okg-sq';
const FOLLOWED_REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface HttpProbeSpec {
  readonly path: string;
  readonly port: number;
  readonly scheme: 'HTTP' | 'HTTPS';
  readonly headers: readonly HttpHeader[];
}

interface HttpAnswer {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: Uint8Array;
}

export function probeUrl(host: string, spec: HttpProbeSpec): URL {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const path = spec.path === '' ? '/' : spec.path.startsWith('/') ? spec.path : `/${spec.path}`;
  return new URL(`${spec.scheme === 'HTTPS' ? 'https' : 'http'}://${hostPart}:${spec.port}${path}`);
}

function requestHeaders(headers: readonly HttpHeader[]): Record<string, string> {
  const out: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*' };
  for (const h of headers) out[h.name.toLowerCase()] = h.value;
  return out;
}

/** One GET; the body is read up to MAX_OUTPUT_BYTES and the connection dropped after that. */
function getOnce(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, signal, agent: false, rejectUnauthorized: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const answer = (): HttpAnswer => ({
        status: res.statusCode ?? 0,
        location: res.headers.location,
        body: new Uint8Array(Buffer.concat(chunks, kept)),
      });
      res.on('data', (chunk: Buffer) => {
        if (kept >= MAX_OUTPUT_BYTES) return;
        const take = chunk.subarray(0, MAX_OUTPUT_BYTES - kept);
        chunks.push(take);
        kept += take.length;
        if (kept >= MAX_OUTPUT_BYTES) {
          // Enough for the result: stop reading an endless or huge body.
          resolve(answer());
          res.destroy();
        }
      });
      res.once('end', () => resolve(answer()));
      res.once('error', reject);
      res.once('close', () => resolve(answer()));
    });
    req.once('error', reject);
    req.end();
  });
}

export async function httpRunner(host: string, spec: HttpProbeSpec, opts: { timeoutMs: number; signal: AbortSignal }): Promise<RunnerResult> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), opts.timeoutMs);
  const signal = AbortSignal.any([deadline.signal, opts.signal]);
  const headers = requestHeaders(spec.headers);
  let first: URL;
  try {
    first = probeUrl(host, spec);
  } catch (err) {
    clearTimeout(timer);
    return failedRun('http_error', `cannot build a URL from ${host}:${spec.port}${spec.path}: ${(err as Error).message}`);
  }
  let url = first;
  try {
    for (let redirects = 0; ; redirects++) {
      const answer = await getOnce(url, headers, signal);
      if (FOLLOWED_REDIRECTS.has(answer.status) && answer.location) {
        const next = new URL(answer.location, url);
        // Off the pod's host: not followed, and the redirect itself is the (successful) answer.
        if (next.hostname !== first.hostname) return answered(answer);
        if (redirects + 1 >= MAX_HTTP_REQUESTS) {
          return failedRun('http_error', `${first.href}: stopped after ${MAX_HTTP_REQUESTS} redirects`);
        }
        url = next;
        continue;
      }
      return answered(answer);
    }
  } catch (err) {
    if (signal.aborted) {
      return failedRun('timeout', `${url.href}: no answer within ${opts.timeoutMs} ms`);
    }
    const kind = networkErrorKind(err);
    const detail = `${url.href}: ${err instanceof Error ? err.message : String(err)}`;
    // A connection that was made but spoke no valid HTTP.
    const code = (err as { code?: string }).code ?? '';
    return failedRun(code.startsWith('HPE_') ? 'http_error' : kind, detail);
  } finally {
    clearTimeout(timer);
  }
}

function answered(answer: HttpAnswer): RunnerResult {
  const ok = answer.status >= 200 && answer.status < 400;
  return { state: ok, result: normaliseResult(answer.body), exitCode: NO_EXIT_CODE, errorKind: '', detail: `HTTP ${answer.status}` };
}
