// Turns the set's qualities into the probe engine's targets for the simulated pods: one per
// (replica, quality), named ports resolved from the pod template, http/tcp/grpc aimed at 127.0.0.1.
import type { ProbeHandler, ProbeHandlerSpec, ServiceQuality } from '../../common/service-quality.js';
import type { ProbeTarget } from '../../common/probe/types.js';

/** Where network probes go in local mode: every replica's server listens on this machine. */
export const LOCAL_POD_IP = '127.0.0.1';

export interface TemplateContainer {
  readonly name: string;
  readonly ports: readonly { readonly name?: string; readonly containerPort: number }[];
}

export interface LocalPodRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The containers (name + ports) of `spec.gameServerTemplate.spec.containers`, as far as they are well formed. */
export function templateContainers(gss: unknown): TemplateContainer[] {
  const containers = record(record(record(record(gss).spec).gameServerTemplate).spec).containers;
  if (!Array.isArray(containers)) return [];
  return containers.flatMap((raw) => {
    const c = record(raw);
    if (typeof c.name !== 'string') return [];
    const ports = Array.isArray(c.ports)
      ? c.ports.flatMap((p) => {
          const port = record(p);
          if (typeof port.containerPort !== 'number') return [];
          return [{ ...(typeof port.name === 'string' ? { name: port.name } : {}), containerPort: port.containerPort }];
        })
      : [];
    return [{ name: c.name, ports }];
  });
}

/** The container a quality runs in: its containerName, else the template's first container. */
export function qualityContainer(quality: ServiceQuality, containers: readonly TemplateContainer[]): string {
  return quality.containerName !== '' ? quality.containerName : (containers[0]?.name ?? '');
}

function resolvePort(port: number | string, container: TemplateContainer | undefined, quality: string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = container?.ports.find((p) => p.name === port);
  if (found === undefined) {
    throw new Error(
      `quality ${quality}: port "${port}" is not a named port of container ${container?.name ?? '(none)'} in the pod template`,
    );
  }
  return found.containerPort;
}

/** The handler ready to run; throws an Error naming the quality when a named port is unknown. */
export function resolveHandler(spec: ProbeHandlerSpec, container: TemplateContainer | undefined, quality: string): ProbeHandler {
  switch (spec.kind) {
    case 'exec':
      return spec;
    case 'httpGet':
      return { ...spec, port: resolvePort(spec.port, container, quality) };
    case 'tcpSocket':
      return { kind: 'tcpSocket', port: resolvePort(spec.port, container, quality) };
    case 'grpc':
      return spec;
  }
}

/** One target per pod and quality, in the set's order. */
export function localTargets(input: {
  readonly gameServerSet: string;
  readonly qualities: readonly ServiceQuality[];
  readonly containers: readonly TemplateContainer[];
  readonly pods: readonly LocalPodRef[];
  readonly startedAtMs: number;
}): ProbeTarget[] {
  const resolved = input.qualities.map((quality) => {
    const containerName = qualityContainer(quality, input.containers);
    const container = input.containers.find((c) => c.name === containerName);
    return { quality, containerName, handler: resolveHandler(quality.handler, container, quality.name) };
  });
  return input.pods.flatMap((pod) =>
    resolved.map(({ quality, containerName, handler }) => ({
      key: { podUid: pod.uid, quality: quality.name },
      namespace: pod.namespace,
      podName: pod.name,
      gameServerSet: input.gameServerSet,
      containerName,
      podIp: LOCAL_POD_IP,
      handler,
      timing: quality.timing,
      // The simulated containers start with `okg-sq local`: initialDelaySeconds counts from then.
      containerStartedAtMs: input.startedAtMs,
    })),
  );
}
