// Call metadata of the okgsq.v1 AgentService stream that is not in the proto: both sides read these.

/** Trailer on a refusal by a decider replica that is not the leader: always "false". */
export const LEADER_TRAILER = 'okgsq-leader';
/** Trailer naming the leader (the Lease's holderIdentity) when the refusing replica knows it. */
export const LEADER_IDENTITY_TRAILER = 'okgsq-leader-identity';
