// The leader elector's Lease, read and written through the API server with optimistic concurrency.
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';
import type { KubeApi } from './kube-client.js';
import type { LeaseSpec, LeaseStore } from './leader-elector.js';

const LEASE_TIMEOUT_MS = 5_000;

export class KubeLeaseStore implements LeaseStore {
  private readonly collection: string;
  /** The Lease's holder as last read (a standby names it to the agents it refuses). */
  private lastHolder: string | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    private readonly name: string,
    private readonly onWrite?: (verb: string, code: number) => void,
  ) {
    this.collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  }

  get holder(): string | undefined {
    return this.lastHolder;
  }

  async get(): Promise<{ spec: LeaseSpec; resourceVersion: string } | null> {
    const res = await this.api.request('GET', `${this.collection}/${encodeURIComponent(this.name)}`, { timeoutMs: LEASE_TIMEOUT_MS });
    if (res.status === 404) return null;
    if (res.status !== 200) throw new OkgSqError(ERROR_CODES.KUBE_API, `get lease ${this.namespace}/${this.name}: HTTP ${res.status}`);
    const body = res.body as { spec?: LeaseSpec; metadata: { resourceVersion: string } };
    this.lastHolder = body.spec?.holderIdentity || undefined;
    return { spec: body.spec ?? {}, resourceVersion: body.metadata.resourceVersion };
  }

  async create(spec: LeaseSpec): Promise<string | null> {
    const res = await this.api.request('POST', this.collection, {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace }, spec },
      timeoutMs: LEASE_TIMEOUT_MS,
    });
    this.onWrite?.('create', res.status);
    if (res.status === 409) return null;
    if (res.status >= 300) throw new OkgSqError(ERROR_CODES.KUBE_API, `create lease: HTTP ${res.status}`);
    return this.written(spec, res.body);
  }

  async update(spec: LeaseSpec, resourceVersion: string): Promise<string | null> {
    const res = await this.api.request('PUT', `${this.collection}/${encodeURIComponent(this.name)}`, {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace, resourceVersion }, spec },
      timeoutMs: LEASE_TIMEOUT_MS,
    });
    this.onWrite?.('update', res.status);
    if (res.status === 409) return null;
    if (res.status >= 300) throw new OkgSqError(ERROR_CODES.KUBE_API, `update lease: HTTP ${res.status}`);
    return this.written(spec, res.body);
  }

  /** The version a successful write produced. */
  private written(spec: LeaseSpec, body: unknown): string {
    const version = (body as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
    if (typeof version !== 'string') throw new OkgSqError(ERROR_CODES.KUBE_API, `lease ${this.namespace}/${this.name} written, but the answer has no resourceVersion`);
    this.lastHolder = spec.holderIdentity || undefined;
    return version;
  }
}
