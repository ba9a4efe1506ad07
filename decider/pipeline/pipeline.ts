// Where outcomes land (OutcomeSink): keeps the latest outcome per ProbeKey, and computes, with the pure
// core and against the informer cache, what a GameServer needs written. An unchanged outcome enqueues
// nothing; a computation that matches the cache yields no steps, so a restart writes nothing.
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { CONDITION_TYPE_PREFIX, OKGSQ_CONDITION_REASON, OWNER_GSS_LABEL } from '../../common/okg-defaults.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../common/probe/types.js';
import type { ServiceQuality } from '../../common/service-quality.js';
import type { OutcomeSink, PlanDelta } from '../ingest/ports.js';
import type { Decision, DecisionWarning } from '../../rules/evaluate.js';
import { decideFromOutcomes } from '../../rules/decide-from-outcomes.js';
import { objectKey, splitObjectKey, type ObjectKey } from '../kube/object-key.js';
import { outcomeTimeProblem } from './outcome-time.js';
import type { PodCondition } from '../../rules/types.js';
import type { PodView } from '../../rules/plan.js';
import type { CachedGameServer } from '../kube/cluster-cache.js';
import type { CacheView } from '../kube/reflector.js';
import { gameServerRef, gameServerSetRef, type EventSink } from '../kube/object-ref.js';
import { computedFrom, type WriteJob, type WriteStep } from '../kube/write-step.js';

export interface PipelineMetrics {
  probeCounters(counters: readonly QualityCounters[]): void;
  outcomeRejected(reason: 'time_out_of_range', count: number): void;
  actionApplied(namespace: string, gameServerSet: string, quality: string): void;
  /** A value an action would set, left alone because Kubernetes or OKG would refuse it (the Warning's reason). */
  actionValueRefused(namespace: string, gameServerSet: string, quality: string, reason: DecisionWarning['reason']): void;
  foreignConditionWrite(namespace: string, gameServerSet: string, quality: string): void;
}

/** What the pipeline needs from the planner. */
export interface PlanLookup {
  targetFor(key: ProbeKey): ProbeTarget | undefined;
  qualitiesOf(namespace: string, gameServerSet: string): readonly ServiceQuality[];
  onChange(listener: (node: string, delta: PlanDelta) => void): void;
}

export interface WriteQueue {
  enqueue(key: ObjectKey): void;
}

export interface PipelineOptions {
  readonly plans: PlanLookup;
  readonly gameServers: CacheView<CachedGameServer>;
  readonly pods: CacheView<PodView>;
  readonly queue: WriteQueue;
  readonly events: EventSink;
  readonly metrics: PipelineMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called for every accepted outcome and every report: the stale tracker's heartbeat. */
  readonly heard?: (node: string) => void;
}

interface Latest {
  readonly state: boolean;
  readonly result: string;
  readonly observedAtMs: number;
}

export class Pipeline implements OutcomeSink {
  private readonly latest = new Map<string, Latest>();
  private readonly connectionListeners: { connected(node: string): void; disconnected(node: string): void }[] = [];
  private readonly log: Logger;

  constructor(private readonly opts: PipelineOptions) {
    this.log = opts.logger.child({ [LOG.component]: 'pipeline' });
    opts.plans.onChange((_node, delta) => {
      for (const key of delta.remove) this.latest.delete(probeKeyString(key));
      const pods = new Set(delta.upsert.map((t) => objectKey(t.namespace, t.podName)));
      for (const p of pods) opts.queue.enqueue(p);
    });
    opts.gameServers.addHandlers({
      // A GameServer created (or recreated) after its pod's outcome arrived still gets its conditions.
      onUpsert: (gs, old) => {
        if (!old || old.metadata.uid !== gs.metadata.uid) opts.queue.enqueue(objectKey(gs.metadata.namespace, gs.metadata.name));
      },
    });
    opts.pods.addHandlers({ onUpsert: (pod, old) => this.checkForeignWriters(pod, old) });
  }

  /**
   * Forgets every outcome (lost leadership): another leader may write newer ones meanwhile, and ours
   * must not overwrite them if we lead again. The agents re-send their latest state on reconnect.
   */
  reset(): void {
    this.latest.clear();
  }

  /** Connection changes, for the stale tracker. */
  onConnection(listener: { connected(node: string): void; disconnected(node: string): void }): void {
    this.connectionListeners.push(listener);
  }

  // ---- OutcomeSink ----

  accept(node: string, outcomes: readonly Outcome[]): void {
    this.opts.heard?.(node);
    let outOfRange = 0;
    for (const o of outcomes) {
      const target = this.opts.plans.targetFor(o);
      if (!target) continue;
      // Rejected alone: the pod's other qualities, and every other pod, are written as usual.
      const timeProblem = outcomeTimeProblem(o.observedAtMs, this.opts.clock.now(), this.podCreatedAtMs(target.namespace, target.podName, o.podUid));
      if (timeProblem) {
        outOfRange++;
        this.log.debug({ [LOG.node]: node, [LOG.podUid]: o.podUid, [LOG.quality]: o.quality, [LOG.reason]: timeProblem }, 'outcome rejected: time out of range');
        continue;
      }
      const k = probeKeyString(o);
      const prev = this.latest.get(k);
      this.latest.set(k, { state: o.state, result: o.result, observedAtMs: o.observedAtMs });
      if (prev && prev.state === o.state && prev.result === o.result) continue;
      this.opts.queue.enqueue(objectKey(target.namespace, target.podName));
    }
    if (outOfRange > 0) this.opts.metrics.outcomeRejected('time_out_of_range', outOfRange);
  }

  private podCreatedAtMs(namespace: string, name: string, uid: string): number | undefined {
    const pod = this.opts.pods.get(namespace, name);
    const created = pod?.metadata.uid === uid && pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : NaN;
    return Number.isFinite(created) ? created : undefined;
  }

  recordCounters(node: string, counters: readonly QualityCounters[]): void {
    this.opts.heard?.(node);
    this.opts.metrics.probeCounters(counters);
  }

  agentConnected(node: string): void {
    for (const l of this.connectionListeners) l.connected(node);
  }

  agentDisconnected(node: string): void {
    for (const l of this.connectionListeners) l.disconnected(node);
  }

  // ---- for the batcher ----

  latestOutcome(key: ProbeKey): Latest | undefined {
    return this.latest.get(probeKeyString(key));
  }

  /** The writes GameServer `key` (namespace/name) needs now, from the cache and the latest outcomes. */
  compute(key: ObjectKey): WriteJob | null {
    const { namespace, name } = splitObjectKey(key);
    const gs = this.opts.gameServers.get(namespace, name);
    const pod = this.opts.pods.get(namespace, name);
    if (!gs || !pod || pod.metadata.deletionTimestamp) return null;
    // A GameServer owned by another pod than the one cached under its name (one of them was recreated and
    // the cache has seen only half of it): no decision mixes the two; the other half's event re-enqueues it.
    if (gs.metadata.ownerPodUid !== undefined && gs.metadata.ownerPodUid !== pod.metadata.uid) {
      this.log.debug({ [LOG.namespace]: namespace, [LOG.gameServer]: name, [LOG.podUid]: pod.metadata.uid }, 'GameServer and pod do not belong together yet');
      return null;
    }
    const setName = pod.metadata.labels?.[OWNER_GSS_LABEL] ?? gs.metadata.labels?.[OWNER_GSS_LABEL];
    if (!setName) return null;
    const qualities = this.opts.plans.qualitiesOf(namespace, setName);
    if (qualities.length === 0) return null;

    let updates: PodCondition[];
    let decision: Decision;
    try {
      ({ conditionUpdates: updates, decision } = decideFromOutcomes({
        qualities,
        podConditions: pod.status?.conditions ?? [],
        // No outcome since we started: the written condition stands.
        outcomeOf: (quality) => this.latest.get(probeKeyString({ podUid: pod.metadata.uid, quality })),
        gameServer: gs,
        now: new Date(this.opts.clock.now()),
      }));
    } catch (err) {
      this.log.error({ [LOG.err]: err, [LOG.namespace]: namespace, [LOG.gameServer]: name }, 'evaluation failed');
      return null;
    }

    // Each step is bound to the object it was computed from (KubeWriter puts the uid into the patch): a pod
    // or GameServer recreated under this name meanwhile refuses it, and the job is recomputed.
    const steps: WriteStep[] = [];
    if (updates.length > 0) {
      // Strategic merge on `conditions` merges by type: other writers' conditions are left alone.
      steps.push({
        resource: 'pods/status',
        namespace,
        name,
        contentType: 'application/strategic-merge-patch+json',
        body: { status: { conditions: updates } },
        precondition: computedFrom(pod.metadata),
      });
    }
    if (decision.gameServerPatch) {
      steps.push({ resource: 'gameservers', namespace, name, contentType: 'application/merge-patch+json', body: decision.gameServerPatch, precondition: computedFrom(gs.metadata) });
    }
    if (decision.statusChanged) {
      // A merge patch replaces lists: the whole list is sent. The status subresource ignores a uid in the
      // body: the version (the one computed from, or the one our spec write made) is what binds it. A 409
      // from a change elsewhere in the object (an operator's opsState edit) re-sends it on the new version;
      // one from OKG's controller writing the list costs a recomputation, which usually finds the list
      // already right and writes nothing.
      steps.push({
        resource: 'gameservers/status',
        namespace,
        name,
        contentType: 'application/merge-patch+json',
        body: { status: { serviceQualitiesConditions: decision.serviceQualitiesConditions } },
        precondition: { ...computedFrom(gs.metadata), pinned: true },
        dependsOn: { path: ['status', 'serviceQualitiesConditions'], value: gs.status?.serviceQualitiesConditions },
      });
    }
    if (steps.length === 0) return null;
    return { steps, done: () => this.reportDecision(gs, setName, decision) };
  }

  private reportDecision(gs: CachedGameServer, setName: string, decision: Decision): void {
    const { namespace, name, uid } = gs.metadata;
    const ref = gameServerRef(namespace, name, uid);
    // A wave of these is written as one Event on the set (docs/design.md §15).
    const set = gameServerSetRef(namespace, setName);
    for (const a of decision.applied) {
      this.opts.metrics.actionApplied(namespace, setName, a.quality);
      const what = a.opsState ? `opsState ${a.opsState}` : 'its fields';
      this.opts.events.record(
        ref,
        'Normal',
        'ServiceQualityActionApplied',
        `service quality ${a.quality} (state ${a.state}, result ${JSON.stringify(a.result)}) applied action ${a.actionIndex}: ${what}`,
        a.quality,
        set,
      );
    }
    for (const w of decision.warnings) {
      this.opts.metrics.actionValueRefused(namespace, setName, w.quality, w.reason);
      this.opts.events.record(ref, 'Warning', w.reason, `service quality ${w.quality} action ${w.actionIndex}: ${w.message}`, `${w.quality}/${w.actionIndex}`, set);
    }
    if (decision.applied.length > 0) {
      this.log.info({ [LOG.namespace]: namespace, [LOG.gameServer]: name, applied: decision.applied }, 'actions applied');
    }
  }

  /** Another writer (kruise-daemon) changing one of our qualities' pod conditions is reported. */
  private checkForeignWriters(pod: PodView, old: PodView | undefined): void {
    const setName = pod.metadata.labels?.[OWNER_GSS_LABEL];
    if (!setName) return;
    const qualities = this.opts.plans.qualitiesOf(pod.metadata.namespace, setName);
    if (qualities.length === 0) return;
    const names = new Set(qualities.map((q) => q.name));
    for (const c of pod.status?.conditions ?? []) {
      if (!c.type.startsWith(CONDITION_TYPE_PREFIX) || c.reason === OKGSQ_CONDITION_REASON) continue;
      const quality = c.type.slice(CONDITION_TYPE_PREFIX.length);
      if (!names.has(quality)) continue;
      const before = old?.status?.conditions?.find((o) => o.type === c.type);
      if (before && sameCondition(before, c)) continue;
      this.opts.metrics.foreignConditionWrite(pod.metadata.namespace, setName, quality);
      const gs = this.opts.gameServers.get(pod.metadata.namespace, pod.metadata.name);
      this.opts.events.record(
        // About the GameServer of this very pod, when the cache has it (an Event never names a successor).
        gameServerRef(pod.metadata.namespace, pod.metadata.name, gs && (gs.metadata.ownerPodUid ?? pod.metadata.uid) === pod.metadata.uid ? gs.metadata.uid : undefined),
        'Warning',
        'ForeignConditionWriter',
        `pod condition ${c.type} was written by another component (reason ${JSON.stringify(c.reason ?? '')}); keep kruise-daemon's probing off nodes that run the okg-sq agent`,
        quality,
        gameServerSetRef(pod.metadata.namespace, setName),
      );
    }
  }
}

function sameCondition(a: PodCondition, b: PodCondition): boolean {
  return a.status === b.status && a.reason === b.reason && a.message === b.message && a.lastProbeTime === b.lastProbeTime;
}
