// The samples of one metric family on a decider pod's /metrics (the chart's http port), for the tiers
// that run the decider as a pod (cluster, OKG).
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { httpGet } from './https-get.js';

const DECIDER_HTTP_PORT = 8080;

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

export async function deciderMetric(pod: V1Pod, family: string): Promise<MetricSample[]> {
  const res = await httpGet(`http://${pod.status!.podIP}:${DECIDER_HTTP_PORT}/metrics`);
  assert.equal(res.status, 200, `decider ${pod.metadata!.name} /metrics`);
  const out: MetricSample[] = [];
  for (const line of res.body.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== family) continue;
    out.push({ labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])), value: Number(m[3]) });
  }
  return out;
}
