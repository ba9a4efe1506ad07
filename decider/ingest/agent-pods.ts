// The agent pods, as a watch sees them: what an agent's identity is bound to. A pod-bound token stops
// being valid when its pod is gone, replaced (same name, new uid) or past its deletion time, and so does
// the identity the decider authenticated from it: cached reviews are checked here before use, and open
// sessions are ended when their pod goes (docs/design.md, "Agent identities that end").
// A watch rather than a periodic re-check: a deletion is seen at once, at the cost of one watch on the
// agent namespace (the agent ServiceAccount's pods only), instead of one GET per agent per period.
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { KubeApi } from '../kube/kube-client.js';
import { Reflector, type CacheView } from '../kube/reflector.js';

export interface AgentPodView {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly resourceVersion?: string;
    readonly deletionTimestamp?: string | null;
  };
  readonly spec: { readonly nodeName?: string };
}

export function trimAgentPod(raw: any): AgentPodView {
  const m = raw?.metadata ?? {};
  return {
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, deletionTimestamp: m.deletionTimestamp ?? null },
    spec: { nodeName: raw?.spec?.nodeName },
  };
}

/** The watch of the agent ServiceAccount's pods in the agent namespace (list+watch pods there). */
export function agentPodReflector(opts: {
  api: KubeApi;
  clock: Clock;
  logger: Logger;
  namespace: string;
  serviceAccount: string;
  onSynced?: (synced: boolean) => void;
}): Reflector<AgentPodView> {
  return new Reflector<AgentPodView>({
    api: opts.api,
    clock: opts.clock,
    logger: opts.logger,
    resource: 'agentpods',
    paths: [`/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/pods`],
    fieldSelector: `spec.serviceAccountName=${opts.serviceAccount}`,
    trim: trimAgentPod,
    ...(opts.onSynced ? { onSynced: opts.onSynced } : {}),
  });
}

/** Uids of agent pods seen deleted or replaced, remembered at most (oldest forgotten first). */
const MAX_REMEMBERED_GONE = 4096;

export type PodPresence = 'present' | 'gone' | 'unknown';

export class AgentPods {
  private readonly listeners: (() => void)[] = [];
  private readonly waiters = new Set<() => void>();
  /** uid → name of pods the watch saw go: a TokenReview answered from the apiserver's own cache may still accept their tokens. */
  private readonly goneUids = new Map<string, string>();

  constructor(
    private readonly view: CacheView<AgentPodView>,
    private readonly namespace: string,
    private readonly clock: Clock,
  ) {
    const changed = (): void => {
      for (const w of [...this.waiters]) w();
      for (const l of this.listeners) l();
    };
    view.addHandlers({
      onUpsert: (pod, old) => {
        if (old && old.metadata.uid !== pod.metadata.uid) this.rememberGone(old);
        changed();
      },
      onDelete: (pod) => {
        this.rememberGone(pod);
        changed();
      },
    });
  }

  private rememberGone(pod: AgentPodView): void {
    if (this.goneUids.size >= MAX_REMEMBERED_GONE) this.goneUids.delete(this.goneUids.keys().next().value!);
    this.goneUids.set(pod.metadata.uid, pod.metadata.name);
  }

  /** Undefined while pod `name` with `uid` exists and is not past its deletion time; else why not. */
  gone(name: string, uid: string): string | undefined {
    if (this.goneUids.has(uid)) return `agent pod ${this.namespace}/${name} is gone`;
    const pod = this.view.get(this.namespace, name);
    if (!pod) return `agent pod ${this.namespace}/${name} is gone`;
    if (pod.metadata.uid !== uid) return `agent pod ${this.namespace}/${name} was replaced (uid ${pod.metadata.uid}, the token is bound to ${uid})`;
    // Kubernetes refuses the token a minute after its pod's deletion time; okg-sq from that time on.
    const deletion = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : NaN;
    if (Number.isFinite(deletion) && deletion <= this.clock.now()) return `agent pod ${this.namespace}/${name} is deleted`;
    return undefined;
  }

  /** The node of pod `name` with `uid`, when the watch has it. */
  nodeOf(name: string, uid: string): string | undefined {
    const pod = this.view.get(this.namespace, name);
    return pod?.metadata.uid === uid ? pod.spec.nodeName || undefined : undefined;
  }

  /** Any agent pod changed or went: open sessions are re-checked. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Whether the watch shows pod `name` with `uid` (`present`) or saw it go (`gone`), waiting up to
   * `timeoutMs` for either, since a fresh TokenReview can be a moment ahead of the watch; `unknown` after
   * that or when `signal` aborts.
   */
  presence(name: string, uid: string, signal: AbortSignal, timeoutMs: number): Promise<PodPresence> {
    const now = (): PodPresence | undefined =>
      this.goneUids.has(uid) ? 'gone' : this.view.get(this.namespace, name)?.metadata.uid === uid ? 'present' : undefined;
    const known = now();
    if (known) return Promise.resolve(known);
    return new Promise<PodPresence>((resolve) => {
      const finish = (value: PodPresence): void => {
        this.waiters.delete(check);
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const check = (): void => {
        const value = now();
        if (value) finish(value);
      };
      const onAbort = (): void => finish('unknown');
      const timer = this.clock.setTimeout(() => finish('unknown'), timeoutMs);
      this.waiters.add(check);
      if (signal.aborted) finish('unknown');
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
