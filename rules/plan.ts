// PURE: a GameServerSet's parsed qualities + one Pod (plain JSON) → the probes the pod's node must run.
// Named ports are resolved here, from the probed container's ports, as the kubelet does, so agents
// receive numbers only.
import type { ProbeHandler, ProbeHandlerSpec, ServiceQuality } from '../common/service-quality.js';
import type { ProbeTarget } from '../common/probe/types.js';
import type { PodCondition } from './types.js';

/** One probe assignment: the probe engine's own target type (a type-only, I/O-free module). */
export type PlannedTarget = ProbeTarget;

/** The fields of a Pod the decider reads (the informer keeps only these). */
export interface PodView {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly creationTimestamp?: string | null;
    readonly deletionTimestamp?: string | null;
  };
  readonly spec?: {
    readonly nodeName?: string;
    readonly containers?: readonly {
      readonly name: string;
      readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
    }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: readonly PodCondition[];
    readonly containerStatuses?: readonly {
      readonly name: string;
      readonly containerID?: string;
      readonly state?: { readonly running?: { readonly startedAt?: string | null } | null } | null;
    }[];
  };
}

/** Same shape as rules/schema.ts's Problem, for problems only a concrete pod reveals. */
export interface PlanProblem {
  readonly severity: 'error' | 'warning';
  readonly code: 'ContainerNotFound' | 'UnresolvedPort';
  readonly path: string;
  readonly message: string;
}

export interface PodPlan {
  /** The node the pod runs on; '' when the pod is not probeable (then `targets` is empty). */
  readonly node: string;
  readonly targets: PlannedTarget[];
  /** Qualities skipped for this pod, with why. */
  readonly problems: PlanProblem[];
}

const MAX_PORT = 65535;

/** Whether the pod is one the agents should probe: running, scheduled, with an IP, not terminating. */
export function isProbeable(pod: PodView): boolean {
  return (
    pod.status?.phase === 'Running' &&
    Boolean(pod.spec?.nodeName) &&
    Boolean(pod.status?.podIP) &&
    !pod.metadata.deletionTimestamp
  );
}

export function planPod(gameServerSet: string, qualities: readonly ServiceQuality[], pod: PodView): PodPlan {
  if (!isProbeable(pod)) return { node: '', targets: [], problems: [] };
  const containers = pod.spec?.containers ?? [];
  const targets: PlannedTarget[] = [];
  const problems: PlanProblem[] = [];
  qualities.forEach((quality, index) => {
    const path = `spec.serviceQualities[${index}]`;
    const container =
      quality.containerName === '' ? containers[0] : containers.find((c) => c.name === quality.containerName);
    if (!container) {
      problems.push({
        severity: 'error',
        code: 'ContainerNotFound',
        path: `${path}.containerName`,
        message: `pod ${pod.metadata.name} has no container ${JSON.stringify(quality.containerName || '(first)')}`,
      });
      return;
    }
    const handler = resolveHandler(quality.handler, container.ports ?? []);
    if (typeof handler === 'string') {
      problems.push({
        severity: 'error',
        code: 'UnresolvedPort',
        path: `${path}.${quality.handler.kind}.port`,
        message: `container ${container.name} of pod ${pod.metadata.name}: ${handler}`,
      });
      return;
    }
    targets.push({
      key: { podUid: pod.metadata.uid, quality: quality.name },
      namespace: pod.metadata.namespace,
      podName: pod.metadata.name,
      gameServerSet,
      containerName: container.name,
      podIp: pod.status!.podIP!,
      handler,
      timing: quality.timing,
      containerStartedAtMs: containerStartedAtMs(pod, container.name),
    });
  });
  return { node: pod.spec!.nodeName!, targets, problems };
}

/** When the container last started (Unix ms), 0 when not running or unknown. */
export function containerStartedAtMs(pod: PodView, containerName: string): number {
  const status = pod.status?.containerStatuses?.find((s) => s.name === containerName);
  const startedAt = status?.state?.running?.startedAt;
  if (!startedAt) return 0;
  const ms = Date.parse(startedAt);
  return Number.isFinite(ms) ? ms : 0;
}

type PortList = readonly { readonly name?: string; readonly containerPort: number }[];

/** The handler with its port resolved, or why it cannot be. */
export function resolveHandler(spec: ProbeHandlerSpec, ports: PortList): ProbeHandler | string {
  switch (spec.kind) {
    case 'exec':
    case 'grpc':
      return spec;
    case 'httpGet':
    case 'tcpSocket': {
      const port = resolvePort(spec.port, ports);
      if (typeof port === 'string') return port;
      return { ...spec, port };
    }
  }
}

/** As the kubelet: a name is looked up in the container's ports; failing that, a numeric string is a number. */
function resolvePort(port: number | string, ports: PortList): number | string {
  let value: number;
  if (typeof port === 'number') {
    value = port;
  } else {
    const named = ports.find((p) => p.name === port);
    if (named) value = named.containerPort;
    else if (/^[0-9]+$/.test(port)) value = Number(port);
    else return `no port named ${JSON.stringify(port)}`;
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_PORT) return `port ${value} is out of range 1-${MAX_PORT}`;
  return value;
}
