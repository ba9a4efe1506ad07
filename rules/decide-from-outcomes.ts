// PURE: the one path from probe outcomes to a decision, shared by the decider's pipeline, `okg-sq eval`
// and `okg-sq local`: each quality's latest outcome becomes its pod condition (unchanged when status and
// message are), the conditions are merged, and OKG's evaluation runs over them (docs/design.md §2, §3).
import type { ServiceQuality } from '../common/service-quality.js';
import { decide, type Decision } from './evaluate.js';
import { conditionType, mergePodConditions, podConditionFor, type ConditionOutcome } from './pod-conditions.js';
import type { GameServerView, PodCondition } from './types.js';

export interface OutcomesInput {
  readonly qualities: readonly ServiceQuality[];
  /** The pod's conditions as they are now (other writers' included). */
  readonly podConditions: readonly PodCondition[];
  /** A quality's latest outcome; undefined when there is none (its written condition stands). */
  readonly outcomeOf: (quality: string) => ConditionOutcome | undefined;
  readonly gameServer: GameServerView;
  readonly now: Date;
}

export interface OutcomesDecision {
  /** The pod conditions that change (to write with a strategic merge by type); empty when none does. */
  readonly conditionUpdates: PodCondition[];
  /** The pod's conditions after those changes: what the evaluation read. */
  readonly podConditions: readonly PodCondition[];
  readonly decision: Decision;
}

export function decideFromOutcomes(input: OutcomesInput): OutcomesDecision {
  const current = input.podConditions;
  const conditionUpdates: PodCondition[] = [];
  for (const q of input.qualities) {
    const outcome = input.outcomeOf(q.name);
    if (!outcome) continue;
    const existing = current.find((c) => c.type === conditionType(q.name));
    const next = podConditionFor(q.name, outcome, existing);
    if (next !== existing) conditionUpdates.push(next);
  }
  const podConditions = conditionUpdates.length > 0 ? mergePodConditions(current, conditionUpdates) : current;
  const decision = decide({ qualities: input.qualities, podConditions, gameServer: input.gameServer, now: input.now });
  return { conditionUpdates, podConditions, decision };
}
