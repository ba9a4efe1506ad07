// What the decider does per published outcome, against the in-memory store: pod condition →
// OKG's evaluation (the decider's own path, decideFromOutcomes) → GameServer spec/metadata patch →
// status conditions.
import type { Outcome } from '../../common/outcome.js';
import type { ServiceQuality } from '../../common/service-quality.js';
import { decideFromOutcomes } from '../../rules/decide-from-outcomes.js';
import type { Decision } from '../../rules/evaluate.js';
import { applyGameServerPatch } from '../../rules/gameserver-patch.js';
import type { MemoryStore } from './memory-store.js';

export interface LocalPipelineOptions {
  readonly store: MemoryStore;
  readonly qualities: readonly ServiceQuality[];
  /** The evaluation's `now` (lastActionTransitionTime); default: the wall clock. */
  readonly now?: () => Date;
}

export class LocalPipeline {
  private readonly store: MemoryStore;
  private readonly qualities: readonly ServiceQuality[];
  private readonly now: () => Date;

  constructor(options: LocalPipelineOptions) {
    this.store = options.store;
    this.qualities = options.qualities;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Applies one published outcome. Returns the GameServer's name and the decision, or undefined when the outcome is for an
   * unknown pod or leaves the pod condition as it is (an unchanged result writes nothing, as in a cluster).
   */
  accept(outcome: Outcome): { readonly gameServer: string; readonly decision: Decision } | undefined {
    const pod = this.store.podByUid(outcome.podUid);
    if (pod === undefined) return undefined;
    const gameServer = this.store.get(pod.name);
    if (gameServer === undefined) return undefined;
    const { conditionUpdates, podConditions, decision } = decideFromOutcomes({
      qualities: this.qualities,
      podConditions: pod.conditions,
      outcomeOf: (quality) => (quality === outcome.quality ? outcome : undefined),
      gameServer,
      now: this.now(),
    });
    const errorKindChanged = (pod.errorKinds[outcome.quality] ?? '') !== outcome.errorKind;
    if (conditionUpdates.length === 0 && !errorKindChanged) return undefined;
    this.store.setPodConditions(pod.name, [...podConditions], { ...pod.errorKinds, [outcome.quality]: outcome.errorKind });

    const patched = applyGameServerPatch(gameServer, decision.gameServerPatch);
    // Keep the fields the pure core does not know (apiVersion, kind, uid, currentState).
    this.store.update({
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
