// grpc probes: grpc.health.v1.Health/Check, SERVING → true, like kubelet. The two tiny messages are
// encoded by hand (field 1 of each) so no generated code or .proto is needed. The result is the
// serving status's name, so an action can match on e.g. "NOT_SERVING".
import { credentials, Client, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { normaliseResult } from '../probe-result.js';
import type { ErrorKind } from '../outcome.js';
import { failedRun, NO_EXIT_CODE, type RunnerResult } from './runner-result.js';

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

export function grpcRunner(host: string, port: number, service: string, opts: { timeoutMs: number; signal: AbortSignal }): Promise<RunnerResult> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve) => {
    if (opts.signal.aborted) return resolve(failedRun('timeout', `grpc ${address} aborted`));
    // A fresh channel per run, like kubelet: pods come and go and a cached channel would outlive them.
    const client = new Client(address, credentials.createInsecure(), { 'grpc.enable_retries': 0 });
    let done = false;
    const finish = (result: RunnerResult): void => {
      if (done) return;
      done = true;
      opts.signal.removeEventListener('abort', onAbort);
      client.close();
      resolve(result);
    };
    const call = client.makeUnaryRequest<string, number>(
      HEALTH_CHECK_PATH,
      encodeHealthCheckRequest,
      decodeHealthCheckResponse,
      service,
      new Metadata(),
      { deadline: Date.now() + opts.timeoutMs },
      (err: ServiceError | null, value?: number) => {
        if (err) return finish(failedRun(grpcErrorKind(err), `grpc ${address}: ${err.details || err.message}`));
        const status = value ?? 0;
        const name = SERVING_STATUS_NAMES[status] ?? String(status);
        finish({ state: status === SERVING, result: normaliseResult(name), exitCode: NO_EXIT_CODE, errorKind: '' });
      },
    );
    const onAbort = (): void => {
      call.cancel();
      finish(failedRun('timeout', `grpc ${address} aborted`));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function grpcErrorKind(err: ServiceError): ErrorKind {
  if (err.code === GrpcStatus.DEADLINE_EXCEEDED) return 'timeout';
  if (err.code === GrpcStatus.UNAVAILABLE) {
    return /ECONNREFUSED|Connection refused/i.test(`${err.details} ${err.message}`) ? 'connection_refused' : 'connection_failed';
  }
  return 'grpc_error';
}
