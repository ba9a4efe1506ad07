// The embedded GameServer store of `okg-sq local`: what the API server holds in a cluster (the
// simulated GameServers and each one's pod conditions), in memory, with change notifications.
import type { GameServerView, PodCondition } from '../../rules/types.js';
import { GAME_KRUISE_GROUP, GAME_KRUISE_VERSION, OWNER_GSS_LABEL } from '../../common/okg-defaults.js';

/** A GameServer in the shape `kubectl get gs -o json` prints (the fields okg-sq reads or writes). */
export interface LocalGameServer extends GameServerView {
  readonly apiVersion: string;
  readonly kind: 'GameServer';
  readonly metadata: GameServerView['metadata'] & {
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion: string;
  };
  readonly status?: GameServerView['status'] & { readonly currentState?: string };
}

/** The simulated pod behind a GameServer: only what a probe outcome touches. */
export interface LocalPod {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly conditions: readonly PodCondition[];
  /** Per quality, the error kind of the latest published outcome ('' when the probe answered). */
  readonly errorKinds: Readonly<Record<string, string>>;
}

export type GameServerListener = (gameServer: LocalGameServer) => void;

/** Namespace of everything `okg-sq local` simulates (there is no cluster to pick one from). */
export const LOCAL_NAMESPACE = 'default';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A new GameServer as OKG's GameServerSet controller creates it: opsState None, priorities 0, Ready. */
export function newGameServer(setName: string, ordinal: number, uid: string): LocalGameServer {
  return {
    apiVersion: `${GAME_KRUISE_GROUP}/${GAME_KRUISE_VERSION}`,
    kind: 'GameServer',
    metadata: {
      name: `${setName}-${ordinal}`,
      namespace: LOCAL_NAMESPACE,
      uid,
      resourceVersion: '1',
      labels: { [OWNER_GSS_LABEL]: setName },
      annotations: {},
    },
    spec: { opsState: 'None', updatePriority: 0, deletionPriority: 0, networkDisabled: false },
    status: { currentState: 'Ready', serviceQualitiesConditions: [] },
  };
}

export class MemoryStore {
  private readonly gameServers = new Map<string, LocalGameServer>();
  private readonly pods = new Map<string, LocalPod>();
  private readonly podNameByUid = new Map<string, string>();
  private readonly listeners = new Set<GameServerListener>();
  private revision = 1;

  /** Adds a GameServer and its pod (same name). Throws when the name is taken. */
  create(gameServer: GameServerView & { metadata: { name: string } }, pod: { uid: string }): LocalGameServer {
    const name = gameServer.metadata.name;
    if (this.gameServers.has(name)) throw new Error(`GameServer ${name} already exists`);
    const stored = this.stamp(gameServer);
    this.gameServers.set(name, stored);
    const namespace = stored.metadata.namespace;
    this.pods.set(name, deepFreeze({ name, namespace, uid: pod.uid, conditions: [], errorKinds: {} }));
    this.podNameByUid.set(pod.uid, name);
    this.notify(stored);
    return stored;
  }

  get(name: string): LocalGameServer | undefined {
    return this.gameServers.get(name);
  }

  /** Every GameServer, by ordinal (minecraft-2 before minecraft-10). */
  list(): LocalGameServer[] {
    return [...this.gameServers.values()].sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }),
    );
  }

  /**
   * Stores a new version of a GameServer (metadata, spec and status as given). Returns the stored
   * object; listeners hear of it only when something other than resourceVersion changed.
   */
  update(gameServer: GameServerView): LocalGameServer {
    const name = gameServer.metadata.name;
    const current = this.gameServers.get(name);
    if (current === undefined) throw new Error(`GameServer ${name} not found`);
    const next = { ...gameServer, metadata: { ...gameServer.metadata, resourceVersion: current.metadata.resourceVersion } };
    if (sameJson(next, current)) return current;
    const stored = this.stamp(next);
    this.gameServers.set(name, stored);
    this.notify(stored);
    return stored;
  }

  pod(name: string): LocalPod | undefined {
    return this.pods.get(name);
  }

  podByUid(uid: string): LocalPod | undefined {
    const name = this.podNameByUid.get(uid);
    return name === undefined ? undefined : this.pods.get(name);
  }

  setPodConditions(name: string, conditions: readonly PodCondition[], errorKinds?: Readonly<Record<string, string>>): LocalPod {
    const pod = this.pods.get(name);
    if (pod === undefined) throw new Error(`pod ${name} not found`);
    const next = deepFreeze({
      ...pod,
      conditions: structuredClone([...conditions]),
      errorKinds: { ...(errorKinds ?? pod.errorKinds) },
    });
    this.pods.set(name, next);
    return next;
  }

  /** Calls `listener` with each stored GameServer version; returns the unsubscribe function. */
  onChange(listener: GameServerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private stamp(gameServer: GameServerView): LocalGameServer {
    const copy = structuredClone(gameServer) as LocalGameServer & { metadata: { resourceVersion: string; namespace: string } };
    copy.metadata.namespace ??= LOCAL_NAMESPACE;
    copy.metadata.resourceVersion = String(this.revision++);
    return deepFreeze(copy);
  }

  private notify(gameServer: LocalGameServer): void {
    for (const listener of this.listeners) listener(gameServer);
  }
}
