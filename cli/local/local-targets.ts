// The simulated pods as the decider's planner sees pods, so `okg-sq local` builds its probe targets
// with the very code that builds the agents' plans (rules/plan.ts): same container choice,
// same named-port resolution, same problems. Only the address differs: every pod is 127.0.0.1.
import type { ServiceQuality } from '../../common/service-quality.js';
import type { ProbeTarget } from '../../common/probe/types.js';
import { planPod, type PlanProblem, type PodView } from '../../rules/plan.js';
import type { TemplateContainer } from '../../rules/schema.js';

/** Where network probes go in local mode: every replica's server listens on this machine. */
export const LOCAL_POD_IP = '127.0.0.1';
/** The node name the simulated pods are "scheduled" on (the planner wants one). */
export const LOCAL_NODE_NAME = 'localhost';

export interface LocalPodRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** A running pod of the set's template, as the informer would show it; containers started at `startedAtMs`. */
export function localPodView(pod: LocalPodRef, containers: readonly TemplateContainer[], startedAtMs: number): PodView {
  const startedAt = new Date(startedAtMs).toISOString();
  return {
    metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
    spec: { nodeName: LOCAL_NODE_NAME, containers: containers.map((c) => ({ name: c.name, ports: c.ports })) },
    status: {
      phase: 'Running',
      podIP: LOCAL_POD_IP,
      containerStatuses: containers.map((c) => ({ name: c.name, state: { running: { startedAt } } })),
    },
  };
}

/**
 * One target per pod and quality, in the set's order. Problems (unknown container, unresolvable
 * named port) are the same for every pod, so each is reported once.
 */
export function localTargets(input: {
  readonly gameServerSet: string;
  readonly qualities: readonly ServiceQuality[];
  readonly containers: readonly TemplateContainer[];
  readonly pods: readonly LocalPodRef[];
  /** The simulated containers start with `okg-sq local`: initialDelaySeconds counts from then. */
  readonly startedAtMs: number;
}): { targets: ProbeTarget[]; problems: PlanProblem[] } {
  const targets: ProbeTarget[] = [];
  const problems = new Map<string, PlanProblem>();
  for (const pod of input.pods) {
    const plan = planPod(input.gameServerSet, input.qualities, localPodView(pod, input.containers, input.startedAtMs));
    targets.push(...plan.targets);
    for (const p of plan.problems) {
      const key = `${p.code} ${p.path}`;
      // Pod names differ per replica; the problem is the template's, so name the first pod only.
      if (!problems.has(key)) problems.set(key, p);
    }
  }
  return { targets, problems: [...problems.values()] };
}
