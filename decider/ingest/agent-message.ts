// How the decider decodes what agents send. A message that does not decode reaches the service as an
// UndecodableMessage, so it is refused and counted like any other bad message; left to gRPC, the stream
// would just end, and the service could not tell that from an agent hanging up.
import type { ServiceDefinition } from '@grpc/grpc-js';
import { AgentMessage, AgentServiceService } from '../../proto/gen/okgsq/v1/agent.js';

export interface UndecodableMessage {
  /** Why it did not decode (for the log). */
  readonly undecodable: string;
}

export type IncomingMessage = AgentMessage | UndecodableMessage;

export function isUndecodable(message: IncomingMessage): message is UndecodableMessage {
  return 'undecodable' in message;
}

export function decodeAgentMessage(bytes: Buffer): IncomingMessage {
  try {
    return AgentMessage.decode(bytes);
  } catch (err) {
    return { undecodable: err instanceof Error ? err.message : String(err) };
  }
}

/** okgsq.v1.AgentService with the decoding above. */
export const agentServiceDefinition: ServiceDefinition = {
  connect: { ...AgentServiceService.connect, requestDeserialize: decodeAgentMessage },
};
