// The shapes the pure evaluation core reads and returns. Kubernetes JSON shapes (as the API server
// and `kubectl get -o yaml` show them), trimmed to the fields okg-sq reads or writes.
import type { IntOrString, GameServerContainer } from '../common/service-quality.js';

/** A Kubernetes timestamp as serialised by metav1.Time: RFC 3339, whole seconds, UTC. */
export type KubeTime = string;

export interface PodCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown' | string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastProbeTime?: KubeTime | null;
  readonly lastTransitionTime?: KubeTime | null;
}

/** One entry of GameServer `status.serviceQualitiesConditions`, as OKG writes it. */
export interface ServiceQualityCondition {
  readonly name: string;
  readonly status?: string;
  readonly result?: string;
  readonly lastProbeTime?: KubeTime | null;
  readonly lastTransitionTime?: KubeTime | null;
  readonly lastActionTransitionTime?: KubeTime | null;
}

export interface GameServerSpecView {
  readonly opsState?: string;
  readonly updatePriority?: IntOrString;
  readonly deletionPriority?: IntOrString;
  readonly networkDisabled?: boolean;
  readonly containers?: readonly GameServerContainer[];
}

export interface GameServerView {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: GameServerSpecView;
  readonly status?: {
    readonly serviceQualitiesConditions?: readonly ServiceQualityCondition[];
  };
}

/** A JSON merge patch for a GameServer's spec, labels and annotations: only the fields that change. */
export interface GameServerPatch {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    opsState?: string;
    updatePriority?: IntOrString;
    deletionPriority?: IntOrString;
    networkDisabled?: boolean;
    containers?: GameServerContainer[];
  };
}
