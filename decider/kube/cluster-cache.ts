// The decider's view of the cluster: GameServerSets, GameServers, the sets' Pods and the Nodes'
// labels, each trimmed to the fields the decider reads. Ready once every first list has synced.
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { GAME_KRUISE_GROUP, GAME_KRUISE_VERSION, OWNER_GSS_LABEL } from '../../common/okg-defaults.js';
import type { GameServerView } from '../../rules/types.js';
import type { PodView } from '../../rules/plan.js';
import type { KubeApi } from './kube-client.js';
import type { WrittenObjectSink } from './kube-writer.js';
import { Reflector, type KubeObject } from './reflector.js';

export interface GameServerSetView {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
  };
  /** Only serviceQualities and the template's containers (names and ports) are kept. */
  readonly spec: {
    readonly serviceQualities?: unknown;
    readonly gameServerTemplate?: { readonly spec?: { readonly containers?: unknown } };
  };
}

export interface CachedGameServer extends GameServerView {
  readonly metadata: GameServerView['metadata'] & {
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion?: string;
    /** The uid of the Pod that owns it, when it has one (OKG's controller sets it, reclaimPolicy Cascade). */
    readonly ownerPodUid?: string;
  };
}

export interface NodeView {
  readonly metadata: { readonly name: string; readonly uid?: string; readonly resourceVersion?: string; readonly labels?: Readonly<Record<string, string>> };
}

export type ResourceName = 'gameserversets' | 'gameservers' | 'pods' | 'nodes';

export const GAME_API_PREFIX = `/apis/${GAME_KRUISE_GROUP}/${GAME_KRUISE_VERSION}`;

function pick<T extends object>(obj: T | undefined, keys: readonly (keyof T)[]): Partial<T> | undefined {
  if (!obj) return undefined;
  const out: Partial<T> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

export function trimGameServerSet(raw: any): GameServerSetView {
  const containers = raw.spec?.gameServerTemplate?.spec?.containers;
  return {
    metadata: pick(raw.metadata, ['name', 'namespace', 'uid', 'resourceVersion', 'generation']) as GameServerSetView['metadata'],
    spec: {
      serviceQualities: raw.spec?.serviceQualities,
      gameServerTemplate: {
        spec: {
          containers: Array.isArray(containers)
            ? containers.map((c: any) => ({ name: c?.name, ...(c?.ports ? { ports: c.ports } : {}) }))
            : undefined,
        },
      },
    },
  };
}

export function trimGameServer(raw: any): CachedGameServer {
  const owners: any[] = Array.isArray(raw.metadata?.ownerReferences) ? raw.metadata.ownerReferences : [];
  const ownerPodUid = owners.find((o) => o?.kind === 'Pod' && o?.apiVersion === 'v1' && typeof o?.uid === 'string')?.uid as string | undefined;
  return {
    metadata: {
      ...(pick(raw.metadata, ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'annotations']) as CachedGameServer['metadata']),
      ...(ownerPodUid ? { ownerPodUid } : {}),
    },
    spec: pick(raw.spec ?? {}, ['opsState', 'updatePriority', 'deletionPriority', 'networkDisabled', 'containers']),
    status: { serviceQualitiesConditions: raw.status?.serviceQualitiesConditions ?? undefined },
  };
}

export function trimPod(raw: any): PodView {
  return {
    metadata: pick(raw.metadata, ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'creationTimestamp', 'deletionTimestamp']) as PodView['metadata'],
    spec: {
      nodeName: raw.spec?.nodeName,
      containers: (raw.spec?.containers ?? []).map((c: any) => ({
        name: c.name,
        ...(c.ports ? { ports: c.ports.map((p: any) => ({ name: p.name, containerPort: p.containerPort })) } : {}),
      })),
    },
    status: {
      phase: raw.status?.phase,
      podIP: raw.status?.podIP,
      conditions: raw.status?.conditions,
      containerStatuses: (raw.status?.containerStatuses ?? []).map((s: any) => ({
        name: s.name,
        containerID: s.containerID,
        state: s.state?.running ? { running: { startedAt: s.state.running.startedAt } } : {},
      })),
    },
  };
}

export function trimNode(raw: any): NodeView {
  return { metadata: pick(raw.metadata, ['name', 'uid', 'resourceVersion', 'labels']) as NodeView['metadata'] };
}

export interface ClusterCacheOptions {
  readonly api: KubeApi;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Empty: all namespaces. */
  readonly namespaces: readonly string[];
  readonly onSynced?: (resource: ResourceName, synced: boolean) => void;
}

export class ClusterCache {
  readonly gameServerSets: Reflector<GameServerSetView>;
  readonly gameServers: Reflector<CachedGameServer>;
  readonly pods: Reflector<PodView>;
  readonly nodes: Reflector<NodeView>;

  constructor(opts: ClusterCacheOptions) {
    const paths = (group: string, plural: string): string[] =>
      opts.namespaces.length === 0
        ? [`${group}/${plural}`]
        : opts.namespaces.map((ns) => `${group}/namespaces/${encodeURIComponent(ns)}/${plural}`);
    // One reflector per resource: its collection paths, its trim, and its sync reported under its name.
    const reflector = <T extends KubeObject>(resource: ResourceName, collections: readonly string[], trim: (raw: any) => T, labelSelector?: string): Reflector<T> =>
      new Reflector({
        api: opts.api,
        clock: opts.clock,
        logger: opts.logger,
        resource,
        paths: collections,
        ...(labelSelector ? { labelSelector } : {}),
        trim,
        onSynced: (s) => opts.onSynced?.(resource, s),
      });
    this.gameServerSets = reflector('gameserversets', paths(GAME_API_PREFIX, 'gameserversets'), trimGameServerSet);
    this.gameServers = reflector('gameservers', paths(GAME_API_PREFIX, 'gameservers'), trimGameServer);
    this.pods = reflector('pods', paths('/api/v1', 'pods'), trimPod, OWNER_GSS_LABEL);
    this.nodes = reflector('nodes', ['/api/v1/nodes'], trimNode);
  }

  /**
   * Where the writer puts the objects as written (or re-read), so the next computation starts from them.
   * The pod cache holds the sets' pods only (label selector): a re-read pod without the label is not one.
   */
  readonly written: WrittenObjectSink = {
    observe: (resource, obj) => {
      if (resource !== 'pods/status') return this.gameServers.observe(obj);
      const metadata = (obj as { metadata?: { namespace?: string; name?: string; labels?: Record<string, string> } } | undefined)?.metadata;
      if (metadata?.labels?.[OWNER_GSS_LABEL] !== undefined) this.pods.observe(obj);
      else if (metadata?.namespace && metadata.name) this.pods.forget(metadata.namespace, metadata.name);
    },
    forget: (resource, namespace, name) => (resource === 'pods/status' ? this.pods.forget(namespace, name) : this.gameServers.forget(namespace, name)),
  };

  get synced(): boolean {
    return this.gameServerSets.synced && this.gameServers.synced && this.pods.synced && this.nodes.synced;
  }

  start(): void {
    this.gameServerSets.start();
    this.gameServers.start();
    this.pods.start();
    this.nodes.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.gameServerSets.stop(), this.gameServers.stop(), this.pods.stop(), this.nodes.stop()]);
  }
}
