// Plans on the wire (okgsq.v1), both directions in one place: the decider encodes its planner's
// ProbeTargets as ProbeAssignments, split into updates so that no message exceeds the agent's receive
// limit however large a node's plan is; the agent decodes them back into ProbeTargets for its engine.
// test/unit/wire/plan.test.ts round-trips every handler kind through both halves.
import type { ProbeKey } from '../outcome.js';
import type { ProbeHandler } from '../service-quality.js';
import type { ProbeTarget } from '../probe/types.js';
import {
  ProbeAssignment,
  type PlanUpdate,
  type ProbeHandler as WireHandler,
  type ProbeRef,
} from '../../proto/gen/okgsq/v1/agent.js';

/** Keeps a PlanUpdate of ordinary targets small. */
export const MAX_ASSIGNMENTS_PER_UPDATE = 500;
/**
 * And a byte budget, for long commands and headers: a set's ~1 MiB exec command (the apiserver takes it)
 * on five pods of one node made a 5 MiB update, over grpc-js's 4 MiB limit, so that node's agent was cut
 * off on every connect and none of its probes ran. A single assignment above the budget still goes alone
 * (one object is bounded by etcd's 1.5 MiB request limit).
 */
export const MAX_UPDATE_BYTES = 1024 * 1024;
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

/** A planned target as a wire assignment (the decider's side). */
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

export function refToKey(ref: ProbeRef): ProbeKey {
  return { podUid: ref.podUid, quality: ref.quality };
}

function handlerFromWire(h: WireHandler | undefined): ProbeHandler | undefined {
  const kind = h?.kind;
  if (!kind) return undefined;
  switch (kind.$case) {
    case 'exec':
      return kind.value.command.length > 0 ? { kind: 'exec', command: [...kind.value.command] } : undefined;
    case 'httpGet':
      return {
        kind: 'httpGet',
        path: kind.value.path || '/',
        port: kind.value.port,
        scheme: kind.value.scheme.toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP',
        headers: kind.value.headers.map((x) => ({ name: x.name, value: x.value })),
      };
    case 'tcpSocket':
      return { kind: 'tcpSocket', port: kind.value.port };
    case 'grpc':
      return { kind: 'grpc', port: kind.value.port, service: kind.value.service };
    default:
      return undefined;
  }
}

/** A wire assignment as a ProbeTarget (the agent's side); undefined when it cannot be probed (no handler, no key). */
export function assignmentToTarget(a: ProbeAssignment): ProbeTarget | undefined {
  const handler = handlerFromWire(a.handler);
  if (!handler || !a.podUid || !a.quality) return undefined;
  const t = a.timing;
  // The decider applied OKG's defaults; these floors only keep a broken plan from spinning the engine.
  const atLeastOne = (v: number | undefined): number => Math.max(1, v ?? 1);
  return {
    key: { podUid: a.podUid, quality: a.quality },
    namespace: a.namespace,
    podName: a.podName,
    gameServerSet: a.gameServerSet,
    containerName: a.containerName,
    podIp: a.podIp,
    handler,
    timing: {
      initialDelaySeconds: Math.max(0, t?.initialDelaySeconds ?? 0),
      timeoutSeconds: atLeastOne(t?.timeoutSeconds),
      periodSeconds: atLeastOne(t?.periodSeconds),
      successThreshold: atLeastOne(t?.successThreshold),
      failureThreshold: atLeastOne(t?.failureThreshold),
    },
    containerStartedAtMs: a.containerStartedUnixMs,
  };
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
    const upsertChunk: ProbeAssignment[] = [];
    let bytes = 0;
    while (u + upsertChunk.length < upsert.length && upsertChunk.length < MAX_ASSIGNMENTS_PER_UPDATE) {
      const a = targetToAssignment(upsert[u + upsertChunk.length]!);
      const size = ProbeAssignment.encode(a).finish().length;
      if (upsertChunk.length > 0 && bytes + size > MAX_UPDATE_BYTES) break;
      upsertChunk.push(a);
      bytes += size;
    }
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
