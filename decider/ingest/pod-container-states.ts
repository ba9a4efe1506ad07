// Whether a container runs, for the decider's own prober (pods on nodes without an agent): from the pod
// status in the decider's cache, the kubelet's view, since the decider has no CRI (docs/design.md §18
// "A container that is not running"). A fresh look is the same look: the cache is all the decider has.
import type { ContainerRunState, ContainerStates, ExecTarget } from '../../common/probe/types.js';
import type { PodView } from '../../rules/plan.js';

/** The pod's container as its status says; a pod gone or recreated (another UID) has no such container. */
export function podContainerState(pod: PodView | undefined, podUid: string, containerName: string): ContainerRunState {
  if (!pod || (podUid !== '' && pod.metadata.uid !== podUid)) return 'not_found';
  const status = pod.status?.containerStatuses?.find((s) => s.name === containerName);
  if (!status) return 'not_found';
  return status.state?.running ? 'running' : 'not_running';
}

export class PodContainerStates implements ContainerStates {
  constructor(private readonly pod: (namespace: string, name: string) => PodView | undefined) {}

  containerState(target: ExecTarget): Promise<ContainerRunState> {
    return Promise.resolve(podContainerState(this.pod(target.namespace, target.podName), target.podUid, target.containerName));
  }
}
