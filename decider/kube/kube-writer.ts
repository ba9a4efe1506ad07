// Sends the batcher's steps to the API server and feeds each answer (the object as written) back into
// the cache, so the next computation starts from what we wrote, not from a lagging watch.
// Every patch carries the uid of the object it was computed from, as Kubernetes' own status writers do:
// the API server refuses it on a successor under the same name. A retry, and every write of a custom
// resource's status subresource (which ignores metadata in the body), also carries the resourceVersion
// (docs/design.md §13, "Writes that land on the object they were computed for").
import type { KubeApi } from './kube-client.js';
import type { StepAnswer, StepWriter, WriteStep, WriteResource } from './write-step.js';
import { GAME_API_PREFIX } from './cluster-cache.js';

/** Where the written objects' answers go (ClusterCache's reflectors). */
export interface WrittenObjectSink {
  observe(resource: WriteResource, obj: unknown): void;
  /** The object is gone from the API server (a re-read answered 404). */
  forget(resource: WriteResource, namespace: string, name: string): void;
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

/** The step's patch with its precondition in `metadata`. */
export function preconditionedBody(step: WriteStep): unknown {
  const body = (step.body ?? {}) as { metadata?: Record<string, unknown> };
  const { uid, resourceVersion, pinned } = step.precondition;
  return { ...body, metadata: { ...body.metadata, uid, ...(pinned && resourceVersion !== undefined ? { resourceVersion } : {}) } };
}

/**
 * A patch whose `metadata.uid` differs from the object's is refused 422 Invalid on `metadata.uid` (the API
 * server treats the uid as immutable rather than as a 409 precondition): the object was replaced.
 */
export function isUidMismatch(status: number, body: unknown): boolean {
  if (status !== 422) return false;
  const causes = (body as { details?: { causes?: { field?: string }[] } } | undefined)?.details?.causes;
  return Array.isArray(causes) && causes.some((c) => c?.field === 'metadata.uid');
}

export class KubeWriter implements StepWriter {
  constructor(
    private readonly api: KubeApi,
    private readonly sink: WrittenObjectSink,
  ) {}

  async write(step: WriteStep, signal: AbortSignal): Promise<StepAnswer> {
    const res = await this.api.request('PATCH', stepPath(step.resource, step.namespace, step.name), {
      body: preconditionedBody(step),
      contentType: step.contentType,
      timeoutMs: WRITE_TIMEOUT_MS,
      signal,
    });
    if (res.status >= 200 && res.status < 300) this.sink.observe(step.resource, res.body);
    return isUidMismatch(res.status, res.body) ? { ...res, conflict: true } : res;
  }

  /** Re-reads both objects a GameServer's writes are computed from: its pod and itself (same name). */
  async refresh(step: WriteStep, signal: AbortSignal): Promise<void> {
    for (const resource of ['pods/status', 'gameservers'] as const) await this.reread(resource, step, signal);
  }

  read(step: WriteStep, signal: AbortSignal): Promise<unknown> {
    return this.reread(step.resource, step, signal);
  }

  /** GETs the object `resource` of the step's name into the cache (or out of it when gone); returns it. */
  private async reread(resource: WriteResource, step: WriteStep, signal: AbortSignal): Promise<unknown> {
    const path = stepPath(resource, step.namespace, step.name).replace(/\/status$/, '');
    const res = await this.api.request('GET', path, { timeoutMs: WRITE_TIMEOUT_MS, signal });
    if (res.status === 200) this.sink.observe(resource, res.body);
    else if (res.status === 404) this.sink.forget(resource, step.namespace, step.name);
    return res.status === 200 ? res.body : null;
  }
}
