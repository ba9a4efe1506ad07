// What the decider benchmarks read from the API server: applied-action Events, API Priority and Fairness
// rejections, metric sums, and a ServiceAccount kubeconfig for the decider under test.
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from '../decider/kube/kube-client.js';
import { must } from './bench-kit.js';

/** Applied-action Events in the namespace: how many objects, and the actions their counts add up to. */
export async function actionEventOccurrences(api: KubeClient, ns: string): Promise<{ objects: number; occurrences: number }> {
  const list = await must(api, 'GET', `/api/v1/namespaces/${ns}/events`);
  const items = (list.items as { reason: string; count?: number }[]).filter((e) => e.reason === 'ServiceQualityActionApplied');
  return { objects: items.length, occurrences: items.reduce((a, e) => a + (e.count ?? 1), 0) };
}

/** Requests API Priority and Fairness rejected (429), all priority levels. */
export async function apfRejected(api: KubeClient): Promise<number> {
  const res = await api.request('GET', '/metrics');
  return metricTotal(String(res.body), '', 'apiserver_flowcontrol_rejected_requests_total');
}

/** Sum of a Prometheus text exposition's samples whose line contains `match` (of `name`, or every sample). */
export function metricTotal(text: string, match: string, name?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes(match) || (name !== undefined && !line.startsWith(`${name}{`))) continue;
    const v = Number(line.split(' ').pop());
    if (Number.isFinite(v)) total += v;
  }
  return total;
}

/**
 * A kubeconfig for ServiceAccount okgsq-bench-decider of `ns`, bound to cluster-admin: authorised for
 * everything, but not system:masters, so API Priority and Fairness classifies it like a deployed decider.
 */
export async function serviceAccountKubeConfig(admin: KubeClient, adminConfig: KubeConfig, ns: string): Promise<KubeConfig> {
  const sa = 'okgsq-bench-decider';
  await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: sa } });
  await must(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: `${ns}-${sa}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
  const tr = await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { spec: { expirationSeconds: 86_400 } });
  const cluster = adminConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: sa, token: tr.status.token as string }],
    contexts: [{ name: sa, cluster: cluster.name, user: sa }],
    currentContext: sa,
  });
  return kc;
}
