// okgsq.v1 wire messages ↔ the probe engine's types, on the agent's side.
import type { Outcome } from '../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../common/probe/types.js';
import type { ProbeHandler } from '../../common/service-quality.js';
import type {
  Outcome as WireOutcome,
  ProbeAssignment,
  ProbeHandler as WireHandler,
  QualityCounters as WireCounters,
} from '../../proto/gen/okgsq/v1/agent.js';

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

/** A wire assignment as a ProbeTarget; undefined when it cannot be probed (no handler, no key). */
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

export function outcomeToWire(o: Outcome): WireOutcome {
  return {
    podUid: o.podUid,
    quality: o.quality,
    state: o.state,
    result: o.result,
    exitCode: o.exitCode,
    errorKind: o.errorKind,
    durationMs: Math.min(0xffffffff, Math.max(0, Math.round(o.durationMs))),
    observedUnixMs: o.observedAtMs,
  };
}

export function countersToWire(c: QualityCounters): WireCounters {
  return {
    namespace: c.namespace,
    gameServerSet: c.gameServerSet,
    quality: c.quality,
    runs: c.runs.map((r) => ({ outcome: r.outcome, errorKind: r.errorKind, count: r.count })),
    durationBucketCounts: [...c.durationBucketCounts],
    durationSumSeconds: c.durationSumSeconds,
  };
}
