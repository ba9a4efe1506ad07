// What a new agent stream must bring before it gets a session, and how a refusal is told: a bearer token
// in the call metadata, a Hello with a node name as its first message; only typed gRPC statuses cross the
// wire, with no internals (the reason is in the decider's log).
import { status as GrpcStatus, type Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';
import type { DeciderMessage, Hello } from '../../proto/gen/okgsq/v1/agent.js';
import { isUndecodable, type IncomingMessage } from './agent-message.js';
import type { StreamRefusalReason } from './ports.js';

type Call = ServerDuplexStream<IncomingMessage, DeciderMessage>;

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Node names are DNS subdomains (Kubernetes validates them so). */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NODE_NAME = 253;
/** Hello's free-text fields are only logged: cut to this. */
export const MAX_HELLO_TEXT = 128;

export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  return BEARER.exec(value)?.[1];
}

export function fail(call: Call, code: GrpcStatus, details: string, metadata?: Metadata): void {
  try {
    call.emit('error', metadata ? { code, details, metadata } : { code, details });
  } catch {
    // Already closed by the peer.
  }
}

/** Why a stream gets no session; without `code` the stream has already ended (nothing is sent). */
export interface Refusal {
  readonly reason: StreamRefusalReason;
  readonly code?: GrpcStatus;
  readonly details?: string;
  readonly trailers?: Metadata;
}

/** The Hello a stream must start with, or what is wrong with its first message. */
export function helloOf(first: IncomingMessage): Hello | string {
  if (isUndecodable(first)) return 'the first message does not decode as an okgsq.v1.AgentMessage';
  if (first.body?.$case !== 'hello') return 'the first message must be Hello';
  const hello = first.body.value;
  if (!hello.nodeName) return 'Hello.node_name is empty';
  if (hello.nodeName.length > MAX_NODE_NAME || !NODE_NAME.test(hello.nodeName)) return 'Hello.node_name is not a node name (a DNS subdomain)';
  return hello;
}

/** Only typed statuses cross the wire, with no internals: the reason is in our log. */
export function authFailure(err: unknown): Refusal {
  if (err instanceof OkgSqError) {
    if (err.code === ERROR_CODES.UNAUTHENTICATED) return { reason: 'unauthenticated', code: GrpcStatus.UNAUTHENTICATED, details: 'token not accepted' };
    if (err.code === ERROR_CODES.PERMISSION_DENIED) return { reason: 'permission_denied', code: GrpcStatus.PERMISSION_DENIED, details: err.message };
  }
  return { reason: 'auth_unavailable', code: GrpcStatus.UNAVAILABLE, details: 'cannot authenticate agents right now' };
}
