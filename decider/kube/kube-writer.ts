// Sends the batcher's steps to the API server and feeds each answer (the object as written) back into
// the cache, so the next computation starts from what we wrote, not from a lagging watch.
import type { KubeApi, KubeResponse } from './kube-client.js';
import type { StepWriter, WriteStep, WriteResource } from './write-batcher.js';
import { GAME_API_PREFIX } from './cluster-cache.js';

/** Where the written objects' answers go (ClusterCache's reflectors). */
export interface WrittenObjectSink {
  observe(resource: WriteResource, obj: unknown): void;
}

const WRITE_TIMEOUT_MS = 10_000;

export function stepPath(resource: WriteResource, namespace: string, name: string): string {
  const ns = encodeURIComponent(namespace);
  const n = encodeURIComponent(name);
  switch (resource) {
    case 'pods/status':
      return `/api/v1/namespaces/${ns}/pods/${n}/status`;
    case 'gameservers':
      return `${GAME_API_PREFIX}/namespaces/${ns}/gameservers/${n}`;
    case 'gameservers/status':
      return `${GAME_API_PREFIX}/namespaces/${ns}/gameservers/${n}/status`;
  }
}

export class KubeWriter implements StepWriter {
  constructor(
    private readonly api: KubeApi,
    private readonly sink: WrittenObjectSink,
  ) {}

  async write(step: WriteStep, signal: AbortSignal): Promise<KubeResponse> {
    const res = await this.api.request('PATCH', stepPath(step.resource, step.namespace, step.name), {
      body: step.body,
      contentType: step.contentType,
      timeoutMs: WRITE_TIMEOUT_MS,
      signal,
    });
    if (res.status >= 200 && res.status < 300) this.sink.observe(step.resource, res.body);
    return res;
  }

  async refresh(step: WriteStep, signal: AbortSignal): Promise<void> {
    const path = stepPath(step.resource, step.namespace, step.name).replace(/\/status$/, '');
    const res = await this.api.request('GET', path, { timeoutMs: WRITE_TIMEOUT_MS, signal });
    if (res.status === 200) this.sink.observe(step.resource, res.body);
  }
}
