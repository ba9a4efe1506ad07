// What the decider does per published outcome, against the in-memory store: pod condition →
// OKG's evaluation (the same pure core) → GameServer spec/metadata patch → status conditions.
import type { Outcome } from '../../common/outcome.js';
import type { ServiceQuality } from '../../common/service-quality.js';
import { conditionType, mergePodConditions, podConditionFor } from '../../decider/rules/pod-conditions.js';
import { applyGameServerPatch, decide, type Decision } from '../../decider/rules/evaluate.js';
import type { MemoryStore } from './memory-store.js';

export interface LocalPipelineOptions {
  readonly store: MemoryStore;
  readonly qualities: readonly ServiceQuality[];
  /** The evaluation's `now` (lastActionTransitionTime); default: the wall clock. */
  readonly now?: () => Date;
}

export class LocalPipeline {
  readonly #store: MemoryStore;
  readonly #qualities: readonly ServiceQuality[];
  readonly #now: () => Date;

  constructor(options: LocalPipelineOptions) {
    this.#store = options.store;
    this.#qualities = options.qualities;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Applies one published outcome. Returns the GameServer's name and the decision, or undefined when the outcome is for an
   * unknown pod or leaves the pod condition as it is (an unchanged result writes nothing, as in a cluster).
   */
  accept(outcome: Outcome): { readonly gameServer: string; readonly decision: Decision } | undefined {
    const pod = this.#store.podByUid(outcome.podUid);
    if (pod === undefined) return undefined;
    const type = conditionType(outcome.quality);
    const existing = pod.conditions.find((c) => c.type === type);
    const condition = podConditionFor(
      outcome.quality,
      { state: outcome.state, result: outcome.result, observedAtMs: outcome.observedAtMs },
      existing,
    );
    const errorKindChanged = (pod.errorKinds[outcome.quality] ?? '') !== outcome.errorKind;
    if (condition === existing && !errorKindChanged) return undefined;
    const conditions = mergePodConditions(pod.conditions, [condition]);
    this.#store.setPodConditions(pod.name, conditions, { ...pod.errorKinds, [outcome.quality]: outcome.errorKind });

    const gameServer = this.#store.get(pod.name);
    if (gameServer === undefined) return undefined;
    const decision = decide({ qualities: this.#qualities, podConditions: conditions, gameServer, now: this.#now() });
    const patched = applyGameServerPatch(gameServer, decision.gameServerPatch);
    // Keep the fields the pure core does not know (apiVersion, kind, uid, currentState).
    this.#store.update({
      ...gameServer,
      metadata: { ...gameServer.metadata, ...patched.metadata },
      spec: { ...gameServer.spec, ...patched.spec },
      status: {
        ...gameServer.status,
        ...(decision.statusChanged ? { serviceQualitiesConditions: decision.serviceQualitiesConditions } : {}),
      },
    });
    return { gameServer: pod.name, decision };
  }
}
