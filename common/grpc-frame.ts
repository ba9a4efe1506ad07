// gRPC over HTTP/2 for unary calls (framing, request headers, the status of an ended call), for the two
// places that make them on node:http2 themselves: the grpc probe runner (common/runners/grpc-runner.ts) and
// the agent's CRI client (agent/cri/cri-transport.ts).
import { constants as h2, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

/** The gRPC length prefix: 1 byte compressed flag + 4 bytes big-endian length. */
const GRPC_PREFIX_BYTES = 5;

/** A gRPC length-prefixed message, uncompressed. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, GRPC_PREFIX_BYTES);
  return frame;
}

/** The one message of a unary response body; throws on framing a unary answer never has. */
export function readGrpcMessage(body: Buffer): Buffer {
  if (body.length < GRPC_PREFIX_BYTES) throw new Error(`response body of ${body.length} bytes is not a gRPC message`);
  if (body[0] === 1) throw new Error('compressed response (none was offered)');
  if (body[0] !== 0) throw new Error(`response body is not a gRPC message (flag byte ${body[0]})`);
  const length = body.readUInt32BE(1);
  if (body.length !== GRPC_PREFIX_BYTES + length) throw new Error(`gRPC message of ${length} bytes in a ${body.length}-byte body`);
  return body.subarray(GRPC_PREFIX_BYTES);
}

/** The grpc-timeout header: at most 8 digits, so a long deadline goes in seconds (or hours). */
export function grpcTimeout(ms: number): string {
  const millis = Math.max(1, Math.ceil(ms));
  if (millis <= 99_999_999) return `${millis}m`;
  const seconds = Math.ceil(millis / 1000);
  if (seconds <= 99_999_999) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}

/** The headers of a unary call to `path`, uncompressed, bounded by `deadlineMs`. */
export function unaryCallHeaders(path: string, authority: string, userAgent: string, deadlineMs: number): OutgoingHttpHeaders {
  return {
    [h2.HTTP2_HEADER_METHOD]: 'POST',
    [h2.HTTP2_HEADER_PATH]: path,
    [h2.HTTP2_HEADER_SCHEME]: 'http',
    [h2.HTTP2_HEADER_AUTHORITY]: authority,
    [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    [h2.HTTP2_HEADER_TE]: 'trailers',
    [h2.HTTP2_HEADER_USER_AGENT]: userAgent,
    'grpc-timeout': grpcTimeout(deadlineMs),
  };
}

/**
 * The gRPC status of an ended call: from its trailers, or from the headers of a trailers-only answer (an
 * error without a message). undefined when neither has one.
 */
export function callStatus(response: IncomingHttpHeaders | undefined, trailers: IncomingHttpHeaders | undefined): { code: number; message: string } | undefined {
  const headers = trailers?.['grpc-status'] !== undefined ? trailers : response;
  const code = Number(headers?.['grpc-status']);
  return Number.isInteger(code) ? { code, message: grpcMessage(headers ?? {}) } : undefined;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2). */
function grpcMessage(headers: IncomingHttpHeaders): string {
  const raw = headers['grpc-message'];
  if (typeof raw !== 'string') return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
