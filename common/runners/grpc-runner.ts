// grpc probes: grpc.health.v1.Health/Check, SERVING → true, like kubelet. The two tiny messages are
// encoded by hand (field 1 of each) so no generated code or .proto is needed. The result is the
// serving status's name, so an action can match on e.g. "NOT_SERVING".
// One unary call over node:http2 with one session per run, destroyed on every way out: a grpc-js client
// closed before its HTTP/2 handshake finished left its socket open (docs/design.md §17 "A probe run owns
// its connection").
import { connect, constants as h2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { callStatus, grpcFrame, readGrpcMessage, unaryCallHeaders } from '../grpc-frame.js';
import { normaliseResult } from '../probe-result.js';
import type { ErrorKind } from '../outcome.js';
import { settleOnce } from '../settle-once.js';
import { failedRun, NO_EXIT_CODE, networkErrorKind, type RunnerResult } from './runner-result.js';

const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
/** grpc.health.v1.HealthCheckResponse.ServingStatus */
export const SERVING_STATUS_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'UNKNOWN',
  1: 'SERVING',
  2: 'NOT_SERVING',
  3: 'SERVICE_UNKNOWN',
});
const SERVING = 1;

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(bytes.length), bytes]);
}

/** HealthCheckResponse { ServingStatus status = 1; } — unknown fields are skipped. */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let pos = 0;
  let status = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      const [value, next] = readVarint(buf, pos);
      pos = next;
      if (field === 1) status = value;
    } else if (wire === 2) {
      const [len, next] = readVarint(buf, pos);
      pos = next + len;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wire} in HealthCheckResponse`);
    }
  }
  return status;
}

function encodeVarint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let result = 0;
  let shift = 0;
  let pos = start;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

/** gRPC status codes the runner tells apart (google.rpc.Code). */
const GRPC_OK = 0;
const GRPC_DEADLINE_EXCEEDED = 4;
/** A HealthCheckResponse is a few bytes; anything past this is not a health service. */
export const MAX_GRPC_RESPONSE_BYTES = 16 * 1024;
export function grpcRunner(host: string, port: number, service: string, opts: { timeoutMs: number; signal: AbortSignal }): Promise<RunnerResult> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  // A fresh session per run, like kubelet's fresh connection: pods come and go and a cached one would outlive them.
  let session: ClientHttp2Session | undefined;
  return settleOnce<RunnerResult>({
    ...opts,
    timedOut: () => failedRun('timeout', `grpc ${address}: no answer within ${opts.timeoutMs} ms`),
    aborted: () => failedRun('timeout', `grpc ${address} aborted`),
    // destroy(), not close(): close() waits for the peer, and a hung peer never answers.
    release: () => session?.destroy(),
  }, (finish) => {
    const fail = (streamOrSessionError: Error): void => {
      // A stream cancelled because its session failed carries the session's error (e.g. ECONNREFUSED) as cause.
      const cause = (streamOrSessionError as { cause?: unknown }).cause;
      const err = cause instanceof Error ? cause : streamOrSessionError;
      const code = (err as { code?: unknown }).code;
      // A connection that was made but spoke no gRPC (an HTTP/1 server, an echo) is the peer's protocol error.
      if (typeof code === 'string' && code.startsWith('ERR_HTTP2')) {
        return finish(failedRun('grpc_error', `grpc ${address}: the port does not speak HTTP/2 (gRPC): ${err.message}`));
      }
      finish(failedRun(networkErrorKind(err), `grpc ${address}: ${err.message}`));
    };
    try {
      session = connect(`http://${address}`, { settings: { enablePush: false } });
    } catch (err) {
      return finish(failedRun('connection_failed', `grpc ${address}: ${err instanceof Error ? err.message : String(err)}`));
    }
    // The listeners stay after finish(): an error emitted by a destroyed session must find one.
    session.on('error', fail);
    session.once('close', () => finish(failedRun('connection_failed', `grpc ${address}: connection closed before an answer`)));
    const req = session.request(unaryCallHeaders(HEALTH_CHECK_PATH, address, 'okg-sq-probe', opts.timeoutMs));
    req.on('error', fail);
    let response: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    req.once('response', (headers) => {
      response = headers;
    });
    req.once('trailers', (headers) => {
      trailers = headers;
    });
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_GRPC_RESPONSE_BYTES) return finish(failedRun('grpc_error', `grpc ${address}: response over ${MAX_GRPC_RESPONSE_BYTES} bytes`));
      chunks.push(chunk);
    });
    req.once('end', () => finish(answered(address, response, trailers, Buffer.concat(chunks))));
    req.end(grpcFrame(encodeHealthCheckRequest(service)));
  });
}

/** The finished call → a result: HTTP and gRPC status first, then the serving status. */
function answered(address: string, response: IncomingHttpHeaders | undefined, trailers: IncomingHttpHeaders | undefined, body: Buffer): RunnerResult {
  const httpStatus = Number(response?.[h2.HTTP2_HEADER_STATUS]);
  const contentType = String(response?.[h2.HTTP2_HEADER_CONTENT_TYPE] ?? '');
  if (httpStatus !== 200 || !contentType.startsWith('application/grpc')) {
    return failedRun('grpc_error', `grpc ${address}: not a gRPC answer (HTTP ${String(httpStatus)}, content-type "${contentType}")`);
  }
  const grpcStatus = callStatus(response, trailers);
  if (!grpcStatus) return failedRun('grpc_error', `grpc ${address}: no grpc-status in the answer`);
  if (grpcStatus.code !== GRPC_OK) {
    const kind: ErrorKind = grpcStatus.code === GRPC_DEADLINE_EXCEEDED ? 'timeout' : 'grpc_error';
    return failedRun(kind, `grpc ${address}: status ${grpcStatus.code} ${grpcStatus.message}`.trimEnd());
  }
  let status: number;
  try {
    status = decodeHealthCheckResponse(readGrpcMessage(body));
  } catch (err) {
    return failedRun('grpc_error', `grpc ${address}: ${(err as Error).message}`);
  }
  const name = SERVING_STATUS_NAMES[status] ?? String(status);
  return { state: status === SERVING, result: normaliseResult(name), exitCode: NO_EXIT_CODE, errorKind: '' };
}
