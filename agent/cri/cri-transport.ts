// Unary gRPC calls to the CRI runtime over its unix socket, made on node:http2 directly: one HTTP/2
// session, a stream per call (docs/design.md §29 "The agent's CRI calls"). Every exec probe is one
// ExecSync, and grpc-js's per-call machinery (interceptors, resolving, retrying and load-balancing calls,
// metadata objects, its stream decoder) cost about as much CPU again as the call itself, the agent's
// largest cost per probe. Errors keep grpc-js's shape (a ServiceError: `code`, `details`, `metadata`)
// and its codes, so what the agent makes of them (cri-exec-runtime.ts) is unchanged.
import { connect as netConnect } from 'node:net';
import { connect as h2Connect, constants as h2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { callStatus, grpcFrame, readGrpcMessage, unaryCallHeaders } from '../../common/grpc-frame.js';

export interface UnaryCallOptions {
  /** Bounds the whole call (sent to the runtime as grpc-timeout too). */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
}

/** setTimeout's limit (a larger delay fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A gRPC status as grpc-js reports it. */
export class CriCallError extends Error implements ServiceError {
  readonly code: GrpcStatus;
  readonly details: string;
  readonly metadata = new Metadata();

  constructor(code: GrpcStatus, details: string, options?: { cause?: unknown }) {
    super(`${code} ${GrpcStatus[code]}: ${details}`, options);
    this.code = code;
    this.details = details;
  }
}

/** RST_STREAM codes → gRPC status, as the gRPC over HTTP/2 protocol maps them. */
function rstStatus(rstCode: number): GrpcStatus {
  switch (rstCode) {
    case h2.NGHTTP2_REFUSED_STREAM:
      return GrpcStatus.UNAVAILABLE;
    case h2.NGHTTP2_CANCEL:
      return GrpcStatus.CANCELLED;
    case h2.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case h2.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

export class CriTransport {
  private readonly socketPath: string;
  private readonly maxResponseBytes: number;
  private session: ClientHttp2Session | undefined;
  private closed = false;

  constructor(socketPath: string, options: { maxResponseBytes: number }) {
    this.socketPath = socketPath;
    this.maxResponseBytes = options.maxResponseBytes;
  }

  /** The response message's bytes; rejects with a CriCallError. `path`: `/runtime.v1.RuntimeService/<Method>`. */
  unary(path: string, request: Uint8Array, options: UnaryCallOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const { signal } = options;
      if (this.closed) return reject(new CriCallError(GrpcStatus.UNAVAILABLE, 'CRI client closed'));
      if (signal?.aborted) return reject(new CriCallError(GrpcStatus.CANCELLED, 'Cancelled on client'));
      const session = this.connected();
      const stream = session.request(unaryCallHeaders(path, 'localhost', 'okg-sq-agent', options.deadlineMs));
      let done = false;
      const finish = (err: CriCallError | undefined, message?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          // The call is over for us: the runtime may stop working on it (ExecSync kills its process).
          if (!stream.closed) stream.close(h2.NGHTTP2_CANCEL);
          reject(err);
        } else {
          resolve(message!);
        }
      };
      const onAbort = (): void => finish(new CriCallError(GrpcStatus.CANCELLED, 'Cancelled on client'));
      const timer = setTimeout(
        () => finish(new CriCallError(GrpcStatus.DEADLINE_EXCEEDED, `Deadline exceeded after ${options.deadlineMs} ms`)),
        Math.min(options.deadlineMs, MAX_TIMER_MS),
      );
      signal?.addEventListener('abort', onAbort, { once: true });

      let response: IncomingHttpHeaders | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      stream.once('response', (headers) => (response = headers));
      stream.once('trailers', (headers) => (trailers = headers));
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.maxResponseBytes) {
          return finish(new CriCallError(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${received} vs. ${this.maxResponseBytes})`));
        }
        chunks.push(chunk);
      });
      stream.once('end', () => {
        const [err, message] = answered(response, trailers, chunks);
        finish(err, message);
      });
      // A stream fails when its session does (the runtime went away, or never listened): UNAVAILABLE, as
      // grpc-js reports a connection it could not make or lost.
      stream.on('error', (err: Error) => {
        const cause = (err as { cause?: unknown }).cause instanceof Error ? ((err as { cause: Error }).cause) : err;
        finish(new CriCallError(GrpcStatus.UNAVAILABLE, `CRI connection failed: ${cause.message}`, { cause }));
      });
      stream.once('close', () => {
        if (!done) finish(new CriCallError(rstStatus(stream.rstCode ?? h2.NGHTTP2_INTERNAL_ERROR), `stream closed with RST_STREAM code ${stream.rstCode}`));
      });
      stream.end(grpcFrame(request));
    });
  }

  /** Ends the session; calls after it fail with UNAVAILABLE. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  /** The session, opened on first use and again after the runtime closed it (a restart). */
  private connected(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = h2Connect('http://localhost', {
      createConnection: () => netConnect(this.socketPath),
      settings: { enablePush: false },
      // Node's default cap (10 MB of unread data per session) is below one large answer (an exec's output
      // may reach maxResponseBytes); the cap that matters is maxResponseBytes, per call.
      maxSessionMemory: Math.ceil((2 * this.maxResponseBytes) / 1e6),
    });
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    // Errors reach the calls through their streams; the session's own listener keeps them from throwing.
    session.on('error', forget);
    session.once('close', forget);
    session.once('goaway', forget);
    // Like grpc-js's sessions: an idle connection to the runtime never keeps the agent alive.
    session.unref();
    this.session = session;
    return session;
  }
}

/** The ended stream → (error) or (undefined, message): HTTP status, then grpc-status, then the message. */
function answered(response: IncomingHttpHeaders | undefined, trailers: IncomingHttpHeaders | undefined, chunks: Buffer[]): [CriCallError] | [undefined, Buffer] {
  const httpStatus = Number(response?.[h2.HTTP2_HEADER_STATUS]);
  if (httpStatus !== 200) return [new CriCallError(GrpcStatus.UNKNOWN, `Received HTTP status code ${String(httpStatus)}`)];
  const status = callStatus(response, trailers);
  if (!status) return [new CriCallError(GrpcStatus.UNKNOWN, 'No status received')];
  if (status.code !== GrpcStatus.OK) return [new CriCallError(status.code, status.message)];
  try {
    return [undefined, readGrpcMessage(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))];
  } catch (err) {
    return [new CriCallError(GrpcStatus.INTERNAL, (err as Error).message)];
  }
}
