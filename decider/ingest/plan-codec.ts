// The planner's ProbeTargets as the wire's ProbeAssignments (okgsq.v1), and updates split so that no
// message exceeds the agent's receive limit however large a node's plan is.
import type { ProbeKey } from '../../common/outcome.js';
import type { ProbeHandler } from '../../common/service-quality.js';
import type { ProbeTarget } from '../../common/probe/types.js';
import type {
  PlanUpdate,
  ProbeAssignment,
  ProbeHandler as WireHandler,
  ProbeRef,
} from '../../proto/gen/okgsq/v1/agent.js';

/** Keeps every PlanUpdate far below grpc-js's 4 MiB default even with long commands and headers. */
export const MAX_ASSIGNMENTS_PER_UPDATE = 500;
/** Removals are two short strings each. */
export const MAX_REMOVALS_PER_UPDATE = 5_000;

export function handlerToWire(handler: ProbeHandler): WireHandler {
  switch (handler.kind) {
    case 'exec':
      return { kind: { $case: 'exec', value: { command: [...handler.command] } } };
    case 'httpGet':
      return {
        kind: {
          $case: 'httpGet',
          value: {
            path: handler.path,
            port: handler.port,
            scheme: handler.scheme,
            headers: handler.headers.map((h) => ({ name: h.name, value: h.value })),
          },
        },
      };
    case 'tcpSocket':
      return { kind: { $case: 'tcpSocket', value: { port: handler.port } } };
    case 'grpc':
      return { kind: { $case: 'grpc', value: { port: handler.port, service: handler.service } } };
  }
}

export function targetToAssignment(target: ProbeTarget): ProbeAssignment {
  return {
    podUid: target.key.podUid,
    quality: target.key.quality,
    namespace: target.namespace,
    podName: target.podName,
    gameServerSet: target.gameServerSet,
    containerName: target.containerName,
    podIp: target.podIp,
    handler: handlerToWire(target.handler),
    timing: { ...target.timing },
    containerStartedUnixMs: target.containerStartedAtMs,
  };
}

export function keyToRef(key: ProbeKey): ProbeRef {
  return { podUid: key.podUid, quality: key.quality };
}

/**
 * A full plan (or a delta) as one or more PlanUpdates without generations: a full plan's first
 * message has full=true and replaces everything; the following ones only add to it.
 */
export function planUpdates(
  full: boolean,
  upsert: readonly ProbeTarget[],
  remove: readonly ProbeKey[],
  resyncIntervalSeconds: number,
): Omit<PlanUpdate, 'generation'>[] {
  const updates: Omit<PlanUpdate, 'generation'>[] = [];
  let u = 0;
  let r = 0;
  do {
    const upsertChunk = upsert.slice(u, u + MAX_ASSIGNMENTS_PER_UPDATE).map(targetToAssignment);
    const removeChunk = remove.slice(r, r + MAX_REMOVALS_PER_UPDATE).map(keyToRef);
    u += upsertChunk.length;
    r += removeChunk.length;
    updates.push({
      full: full && updates.length === 0,
      upsert: upsertChunk,
      remove: removeChunk,
      resyncIntervalSeconds,
    });
  } while (u < upsert.length || r < remove.length);
  return updates;
}
