// Why the agent's stream to the decider ended, read from the gRPC status and trailers: a standby's
// refusal (reconnect elsewhere) or an auth failure (a message an operator can act on).
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { LEADER_TRAILER } from '../../common/agent-protocol.js';

/** True when the decider refused the stream because it is not the leader. */
export function isNotLeader(err: ServiceError): boolean {
  return err.code === GrpcStatus.UNAVAILABLE && err.metadata?.get(LEADER_TRAILER)[0] === 'false';
}

/** Why a stream ended, for the log: auth failures get a message an operator can act on. */
export function describeStreamError(err: ServiceError): { level: 'error' | 'warn' | 'info'; message: string } {
  if (isNotLeader(err)) return { level: 'info', message: 'decider replica is a standby (not the leader); reconnecting on a new connection' };
  switch (err.code) {
    case GrpcStatus.UNAUTHENTICATED:
      return { level: 'error', message: 'decider refused the agent token (UNAUTHENTICATED): check the projected token at OKGSQ_TOKEN_FILE and its audience' };
    case GrpcStatus.PERMISSION_DENIED:
      return { level: 'error', message: 'decider refused this agent (PERMISSION_DENIED): the token must belong to the agent ServiceAccount on this node (OKGSQ_NODE_NAME)' };
    default:
      return { level: 'warn', message: 'decider stream ended' };
  }
}
