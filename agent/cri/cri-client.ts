// A thin promise client for the CRI calls the agent makes, over the node's unix socket, with every call
// counted by method and status code (okgsq_agent_cri_calls_total). Errors are grpc-js ServiceErrors;
// CriExecRuntime maps them to probe error kinds.
import { credentials, Metadata, status as GrpcStatus, type ServiceError, type ClientUnaryCall } from '@grpc/grpc-js';
import {
  RuntimeServiceClient,
  type Container,
  type ContainerStatus,
  type ContainerStatusResponse,
  type ExecSyncRequest,
  type ExecSyncResponse,
  type ListContainersResponse,
  type VersionResponse,
} from '../../proto/gen/cri/runtime/v1/api.js';

/** Probe output above this is refused by grpc-js (RESOURCE_EXHAUSTED) instead of being buffered. */
export const MAX_CRI_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Deadline of the small bookkeeping calls (Version, ListContainers, ContainerStatus). */
export const CRI_CALL_TIMEOUT_MS = 5_000;

export type CriMethod = 'Version' | 'ListContainers' | 'ContainerStatus' | 'ExecSync';

export function grpcCodeName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? String(code);
}

export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

export class CriClient {
  readonly #client: RuntimeServiceClient;
  readonly #onCall: (method: CriMethod, code: string) => void;

  constructor(address: string, options: { onCall?: (method: CriMethod, code: string) => void } = {}) {
    this.#client = new RuntimeServiceClient(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_CRI_MESSAGE_BYTES,
      // Per-call bookkeeping the agent does not use; each costs CPU on every exec probe.
      'grpc.enable_retries': 0,
      'grpc.enable_channelz': 0,
      // A restarted runtime should be found again quickly.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
    this.#onCall = options.onCall ?? (() => {});
  }

  version(): Promise<VersionResponse> {
    return this.#unary('Version', (cb) =>
      this.#client.version({ version: 'v1' }, new Metadata(), { deadline: Date.now() + CRI_CALL_TIMEOUT_MS }, cb),
    );
  }

  /** Every container the runtime knows (any state), so a stopped one can be told from a missing one. */
  async listContainers(): Promise<Container[]> {
    const res = await this.#unary<ListContainersResponse>('ListContainers', (cb) =>
      this.#client.listContainers({ filter: undefined }, new Metadata(), { deadline: Date.now() + CRI_CALL_TIMEOUT_MS }, cb),
    );
    return res.containers;
  }

  /** The container's status; undefined if the runtime sent none. Times are Unix ns (see cri-time.ts). */
  async containerStatus(containerId: string): Promise<ContainerStatus | undefined> {
    const res = await this.#unary<ContainerStatusResponse>('ContainerStatus', (cb) =>
      this.#client.containerStatus({ containerId, verbose: false }, new Metadata(), { deadline: Date.now() + CRI_CALL_TIMEOUT_MS }, cb),
    );
    return res.status;
  }

  /** `timeoutSeconds` goes to the runtime (it kills the process); `deadlineMs` bounds the call itself. */
  execSync(containerId: string, cmd: readonly string[], timeoutSeconds: number, deadlineMs: number, signal: AbortSignal): Promise<ExecSyncResponse> {
    const request: ExecSyncRequest = { containerId, cmd: [...cmd], timeout: BigInt(timeoutSeconds) };
    let onAbort: (() => void) | undefined;
    // The listener is removed when the call ends: a caller may pass one long-lived signal to many execs.
    return this.#unary<ExecSyncResponse>('ExecSync', (cb) => {
      const call = this.#client.execSync(request, new Metadata(), { deadline: Date.now() + deadlineMs }, cb);
      onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      return call;
    }).finally(() => {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    });
  }

  close(): void {
    this.#client.close();
  }

  #unary<T>(method: CriMethod, start: (cb: (err: ServiceError | null, value?: T) => void) => ClientUnaryCall): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      start((err, value) => {
        this.#onCall(method, err ? grpcCodeName(err.code) : 'OK');
        if (err) reject(err);
        else resolve(value as T);
      });
    });
  }
}
