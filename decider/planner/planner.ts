// Turns the cluster cache into per-node probe plans and tells each node's subscribers what changed.
// Pods on nodes matching the agentless selector are planned onto AGENTLESS_NODE, which the decider's
// in-process prober takes.
import type { Logger } from 'pino';
import { OWNER_GSS_LABEL } from '../../common/okg-defaults.js';
import { probeKeyString, type ProbeKey } from '../../common/outcome.js';
import type { ProbeTarget } from '../../common/probe/types.js';
import type { ServiceQuality } from '../../common/service-quality.js';
import { LOG } from '../../common/log-fields.js';
import { AGENTLESS_NODE, type PlanDelta, type PlanSource } from '../ingest/ports.js';
import { planPod, type PodView } from '../../rules/plan.js';
import { parseServiceQualities } from '../../rules/schema.js';
import type { GameServerSetView, NodeView } from '../kube/cluster-cache.js';
import type { CacheView } from '../kube/reflector.js';
import { objectKey, splitObjectKey, type ObjectKey } from '../kube/object-key.js';
import { gameServerSetRef, type EventSink } from '../kube/object-ref.js';
import type { LabelSelector } from './label-selector.js';

export interface PlannerMetrics {
  invalidQualities(namespace: string, gameServerSet: string, count: number): void;
  /** The valid qualities a set declares now; none once it is gone (its metric series go with it). */
  qualitiesDeclared(namespace: string, gameServerSet: string, qualities: readonly string[]): void;
}

export interface PlannerOptions {
  readonly gameServerSets: CacheView<GameServerSetView>;
  readonly pods: CacheView<PodView>;
  readonly nodes: CacheView<NodeView>;
  readonly agentless: LabelSelector;
  readonly events: EventSink;
  readonly metrics: PlannerMetrics;
  readonly logger: Logger;
}

interface SetEntry {
  readonly uid: string;
  /** generation when the API server sets it, else resourceVersion: what makes a re-parse necessary. */
  readonly version: string;
  readonly qualities: readonly ServiceQuality[];
  /** Problem signatures already reported for this version (set spec + per-pod ones). */
  readonly reported: Set<string>;
}

interface PodEntry {
  readonly node: string;
  readonly targets: ReadonlyMap<string, ProbeTarget>;
}

type Listener = (delta: PlanDelta) => void;
type ChangeListener = (node: string, delta: PlanDelta) => void;

export class Planner implements PlanSource {
  private readonly sets = new Map<ObjectKey, SetEntry>();
  private readonly podEntries = new Map<ObjectKey, PodEntry>();
  private readonly podsBySet = new Map<ObjectKey, Set<ObjectKey>>();
  private readonly podsByNode = new Map<string, Set<ObjectKey>>();
  private readonly podSet = new Map<ObjectKey, ObjectKey>();
  private readonly podNode = new Map<ObjectKey, string>();
  private readonly plans = new Map<string, Map<string, ProbeTarget>>();
  private readonly byProbeKey = new Map<string, ProbeTarget>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly log: Logger;

  constructor(private readonly opts: PlannerOptions) {
    this.log = opts.logger.child({ [LOG.component]: 'planner' });
    opts.gameServerSets.addHandlers({
      onUpsert: (set) => this.setChanged(set.metadata.namespace, set.metadata.name),
      onDelete: (set) => this.setChanged(set.metadata.namespace, set.metadata.name),
    });
    opts.pods.addHandlers({
      onUpsert: (pod) => this.podChanged(pod.metadata.namespace, pod.metadata.name),
      onDelete: (pod) => this.podChanged(pod.metadata.namespace, pod.metadata.name),
    });
    opts.nodes.addHandlers({
      onUpsert: (node, old) => {
        if (!old || opts.agentless(old.metadata.labels) !== opts.agentless(node.metadata.labels)) this.nodeChanged(node.metadata.name);
      },
      onDelete: (node) => this.nodeChanged(node.metadata.name),
    });
  }

  // ---- PlanSource ----

  subscribe(node: string, listener: Listener): { initial: ProbeTarget[]; unsubscribe(): void } {
    let set = this.listeners.get(node);
    if (!set) this.listeners.set(node, (set = new Set()));
    set.add(listener);
    return {
      initial: [...(this.plans.get(node)?.values() ?? [])],
      unsubscribe: () => {
        set.delete(listener);
        if (set.size === 0 && this.listeners.get(node) === set) this.listeners.delete(node);
      },
    };
  }

  isPlanned(node: string, probeKey: ProbeKey): boolean {
    return this.plans.get(node)?.has(probeKeyString(probeKey)) ?? false;
  }

  // ---- for the pipeline and explain ----

  /** The planned target of a key (any node), for mapping an outcome to its pod and set. */
  targetFor(probeKey: ProbeKey): ProbeTarget | undefined {
    return this.byProbeKey.get(probeKeyString(probeKey));
  }

  /** The valid qualities of a set, parsed once per spec change. */
  qualitiesOf(namespace: string, gameServerSet: string): readonly ServiceQuality[] {
    return this.setEntry(namespace, gameServerSet)?.qualities ?? [];
  }

  /** Every node's plan changes, for whoever keeps per-key state (the pipeline drops removed keys). */
  onChange(listener: ChangeListener): void {
    this.changeListeners.add(listener);
  }

  /** Nodes with a non-empty plan. */
  nodes(): string[] {
    return [...this.plans.keys()];
  }

  planOf(node: string): ProbeTarget[] {
    return [...(this.plans.get(node)?.values() ?? [])];
  }

  // ---- cache changes ----

  private setEntry(namespace: string, name: string): SetEntry | undefined {
    const k = objectKey(namespace, name);
    const set = this.opts.gameServerSets.get(namespace, name);
    if (!set) {
      if (this.sets.delete(k)) {
        this.opts.metrics.invalidQualities(namespace, name, 0);
        this.opts.metrics.qualitiesDeclared(namespace, name, []);
      }
      return undefined;
    }
    const version = String(set.metadata.generation ?? set.metadata.resourceVersion ?? '');
    const cached = this.sets.get(k);
    if (cached && cached.uid === set.metadata.uid && cached.version === version) return cached;
    const { qualities, problems } = parseServiceQualities(set);
    const declared = Array.isArray(set.spec.serviceQualities) ? set.spec.serviceQualities.length : 0;
    const entry: SetEntry = { uid: set.metadata.uid, version, qualities, reported: new Set() };
    this.sets.set(k, entry);
    this.opts.metrics.invalidQualities(namespace, name, Math.max(0, declared - qualities.length));
    this.opts.metrics.qualitiesDeclared(namespace, name, qualities.map((q) => q.name));
    const errors = problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      const message = errors.map((p) => `${p.path}: ${p.message}`).join('; ');
      entry.reported.add('spec');
      this.opts.events.record(gameServerSetRef(namespace, name, set.metadata.uid), 'Warning', 'InvalidServiceQuality', `skipped invalid serviceQualities: ${message}`);
      this.log.warn({ [LOG.namespace]: namespace, [LOG.gameServerSet]: name, problems: errors }, 'invalid serviceQualities skipped');
    }
    return entry;
  }

  private setChanged(namespace: string, name: string): void {
    const k = objectKey(namespace, name);
    const before = this.sets.get(k);
    const after = this.setEntry(namespace, name);
    if (before && after === before) return; // status-only change: nothing to replan
    for (const podKey of [...(this.podsBySet.get(k) ?? [])]) this.replan(podKey);
  }

  private podChanged(namespace: string, name: string): void {
    this.replan(objectKey(namespace, name));
  }

  private nodeChanged(node: string): void {
    for (const podKey of [...(this.podsByNode.get(node) ?? [])]) this.replan(podKey);
  }

  /** Re-parses every set so its problems are reported again (a new leader's Events), then resyncs. */
  reportAgain(): void {
    this.sets.clear();
    this.resyncAll();
  }

  /** Rebuilds every pod's plan from the caches (after the first sync). */
  resyncAll(): void {
    for (const set of this.opts.gameServerSets.list()) this.setEntry(set.metadata.namespace, set.metadata.name);
    const seen = new Set<ObjectKey>();
    for (const pod of this.opts.pods.list()) {
      const k = objectKey(pod.metadata.namespace, pod.metadata.name);
      seen.add(k);
      this.replan(k);
    }
    for (const k of [...this.podEntries.keys()]) if (!seen.has(k)) this.replan(k);
  }

  private replan(podKey: ObjectKey): void {
    const { namespace, name } = splitObjectKey(podKey);
    const pod = this.opts.pods.get(namespace, name);
    const setName = pod?.metadata.labels?.[OWNER_GSS_LABEL];
    this.index(this.podsBySet, this.podSet, setName === undefined ? undefined : objectKey(namespace, setName), podKey);
    this.index(this.podsByNode, this.podNode, pod?.spec?.nodeName, podKey);

    let node = '';
    const targets = new Map<string, ProbeTarget>();
    if (pod && setName !== undefined) {
      const set = this.setEntry(namespace, setName);
      if (set) {
        const plan = planPod(setName, set.qualities, pod);
        if (plan.node) {
          const nodeView = this.opts.nodes.get('', plan.node);
          node = this.opts.agentless(nodeView?.metadata.labels) ? AGENTLESS_NODE : plan.node;
          for (const t of plan.targets) targets.set(probeKeyString(t.key), t);
        }
        for (const p of plan.problems) {
          const signature = `${p.code}:${p.path}`;
          if (set.reported.has(signature)) continue;
          set.reported.add(signature);
          this.opts.events.record(gameServerSetRef(namespace, setName, set.uid), 'Warning', 'InvalidServiceQuality', `${p.path}: ${p.message}`);
        }
      }
    }

    const old = this.podEntries.get(podKey);
    if (targets.size === 0) this.podEntries.delete(podKey);
    else this.podEntries.set(podKey, { node, targets });

    const removedByNode = new Map<string, ProbeKey[]>();
    const upserts: ProbeTarget[] = [];
    if (old) {
      for (const [k, t] of old.targets) {
        if (old.node !== node || !targets.has(k)) {
          let list = removedByNode.get(old.node);
          if (!list) removedByNode.set(old.node, (list = []));
          list.push(t.key);
        }
      }
    }
    for (const [k, t] of targets) {
      const before = old?.node === node ? old.targets.get(k) : undefined;
      if (!before || JSON.stringify(before) !== JSON.stringify(t)) upserts.push(t);
    }
    for (const [n, removed] of removedByNode) {
      const plan = this.plans.get(n);
      for (const r of removed) {
        const ks = probeKeyString(r);
        plan?.delete(ks);
        this.byProbeKey.delete(ks);
      }
      if (plan && plan.size === 0) this.plans.delete(n);
      this.emit(n, { upsert: [], remove: removed });
    }
    if (upserts.length > 0) {
      let plan = this.plans.get(node);
      if (!plan) this.plans.set(node, (plan = new Map()));
      for (const t of upserts) {
        plan.set(probeKeyString(t.key), t);
        this.byProbeKey.set(probeKeyString(t.key), t);
      }
      this.emit(node, { upsert: upserts, remove: [] });
    }
  }

  /** Keeps `map` (bucket → pods) and its reverse `of` (pod → bucket) in step. */
  private index<B extends string>(map: Map<B, Set<ObjectKey>>, of: Map<ObjectKey, B>, bucket: B | undefined, podKey: ObjectKey): void {
    const before = of.get(podKey);
    if (before === bucket) return;
    if (before !== undefined) {
      const members = map.get(before);
      if (members?.delete(podKey) && members.size === 0) map.delete(before);
      of.delete(podKey);
    }
    if (bucket === undefined) return;
    of.set(podKey, bucket);
    let members = map.get(bucket);
    if (!members) map.set(bucket, (members = new Set()));
    members.add(podKey);
  }

  private emit(node: string, delta: PlanDelta): void {
    for (const l of this.changeListeners) l(node, delta);
    for (const l of this.listeners.get(node) ?? []) {
      try {
        l(delta);
      } catch (err) {
        this.log.error({ [LOG.err]: err, [LOG.node]: node }, 'plan listener failed');
      }
    }
  }
}
