// The wave at equal QPS for bench/vs-okg.ts (docs/design.md §30 "The wave at equal QPS"): the write budget
// of the component that writes the GameServers in OKG's chain (kruise-game-manager, as the bed installs it
// from its manifests) is read from its Deployment, and okg-sq's decider is given the same budget before a
// second wave. OKG's side needs no second wave: it already runs at that budget.
import { AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { RELEASE_NAME, RELEASE_NAMESPACE } from '../test/testbed/cluster-bed.js';
import { KRUISE_GAME_NAMESPACE } from '../test/testbed/okg-stack.js';
import { waitFor } from '../test/testbed/wait-for.js';
import type { OkgBed } from '../test/okg-tier/okg-kit.js';

export interface WriteLimit {
  qps: number;
  burst: number;
  /** Where the figures came from. */
  source: string;
}

/**
 * What controller-runtime's GetConfig sets when the rest config has none (sigs.k8s.io/controller-runtime
 * v0.19.0 pkg/client/config: "the Kubernetes controller manager defaults"); kruise-game-manager leaves its
 * config alone when --api-server-qps / --api-server-qps-burst are 0, their default.
 */
const CONTROLLER_RUNTIME_QPS = 20;
const CONTROLLER_RUNTIME_BURST = 30;
const ROLLOUT_TIMEOUT_MS = 180_000;

function flagValue(args: string[], flag: string): number {
  const arg = args.find((a) => a.startsWith(`${flag}=`));
  return arg === undefined ? 0 : Number(arg.slice(flag.length + 1));
}

/** kruise-game-manager's effective client QPS and burst, from the flags its Deployment runs with. */
export async function kruiseGameWriteLimit(bed: OkgBed): Promise<WriteLimit> {
  const apps = bed.kc.makeApiClient(AppsV1Api);
  const deploy = await apps.readNamespacedDeployment({ namespace: KRUISE_GAME_NAMESPACE, name: 'kruise-game-controller-manager' });
  const args = deploy.spec!.template.spec!.containers.find((c) => c.name === 'manager')!.args ?? [];
  const qps = flagValue(args, '--api-server-qps');
  const burst = flagValue(args, '--api-server-qps-burst');
  return {
    qps: qps > 0 ? qps : CONTROLLER_RUNTIME_QPS,
    burst: burst > 0 ? burst : CONTROLLER_RUNTIME_BURST,
    source: `kruise-game-manager --api-server-qps=${qps || `(0: controller-runtime's ${CONTROLLER_RUNTIME_QPS})`} --api-server-qps-burst=${burst || `(0: controller-runtime's ${CONTROLLER_RUNTIME_BURST})`}`,
  };
}

function rolledOut(d: V1Deployment): boolean {
  const s = d.status ?? {};
  const want = d.spec!.replicas ?? 1;
  return (s.observedGeneration ?? 0) >= d.metadata!.generation! && s.updatedReplicas === want && s.readyReplicas === want && s.replicas === want && (s.unavailableReplicas ?? 0) === 0;
}

/**
 * Gives the deciders the write budget `limit` (the chart's decider.kube.qps / burst, i.e. the env the chart
 * renders) and waits until every decider runs with it. Which decider leads afterwards is the caller's check.
 */
export async function setDeciderWriteLimit(bed: OkgBed, limit: WriteLimit): Promise<void> {
  const apps = bed.kc.makeApiClient(AppsV1Api);
  const name = `${RELEASE_NAME}-decider`;
  const deploy = await apps.readNamespacedDeployment({ namespace: RELEASE_NAMESPACE, name });
  const c = deploy.spec!.template.spec!.containers.find((x) => (x.env ?? []).some((e) => e.name === 'OKGSQ_KUBE_QPS'));
  if (!c) throw new Error(`${name} has no container with OKGSQ_KUBE_QPS`);
  const set = { OKGSQ_KUBE_QPS: String(limit.qps), OKGSQ_KUBE_BURST: String(limit.burst) };
  c.env = [...c.env!.filter((e) => !(e.name in set)), ...Object.entries(set).map(([k, value]) => ({ name: k, value }))];
  await apps.replaceNamespacedDeployment({ namespace: RELEASE_NAMESPACE, name, body: deploy });
  await waitFor(async () => rolledOut(await apps.readNamespacedDeployment({ namespace: RELEASE_NAMESPACE, name })),
    { timeoutMs: ROLLOUT_TIMEOUT_MS, intervalMs: 1000, what: `${name} rolled out with OKGSQ_KUBE_QPS=${limit.qps} OKGSQ_KUBE_BURST=${limit.burst}` });
  // The old ReplicaSet's pods may still be terminating after the Deployment reports done.
  await waitFor(async () => {
    const pods = (await bed.core.listNamespacedPod({ namespace: RELEASE_NAMESPACE })).items.filter((p) => p.metadata!.name!.startsWith(`${name}-`));
    return pods.every((p) => !p.metadata!.deletionTimestamp && p.spec!.containers.some((x) => (x.env ?? []).some((e) => e.name === 'OKGSQ_KUBE_QPS' && e.value === set.OKGSQ_KUBE_QPS)));
  }, { timeoutMs: ROLLOUT_TIMEOUT_MS, intervalMs: 1000, what: `only ${name} pods with the new budget left` });
}
