// A thin promise client for the CRI calls the agent makes, over the node's unix socket, with every call
// counted by method and status code (okgsq_agent_cri_calls_total). The calls go through CriTransport
// (node:http2, not a grpc-js client: docs/design.md §29 "The agent's CRI calls"); errors are ServiceErrors
// with grpc-js's codes, which CriExecRuntime maps to probe error kinds.
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  ContainerStatusRequest,
  ContainerStatusResponse,
  ExecSyncRequest,
  ExecSyncResponse,
  ListContainersRequest,
  ListContainersResponse,
  VersionRequest,
  VersionResponse,
  type Container,
  type ContainerStatus,
} from '../../proto/gen/cri/runtime/v1/api.js';
import { socketPath } from './cri-endpoint.js';
import { CriCallError, CriTransport } from './cri-transport.js';

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

const SERVICE_PATH = '/runtime.v1.RuntimeService/';

/** A generated message type: what a call needs to encode its request and decode its response. */
interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

export class CriClient {
  private readonly transport: CriTransport;
  private readonly onCall: (method: CriMethod, code: string) => void;

  /** `address`: `unix:///path` (criAddress). */
  constructor(address: string, options: { onCall?: (method: CriMethod, code: string) => void } = {}) {
    this.transport = new CriTransport(socketPath(address), { maxResponseBytes: MAX_CRI_MESSAGE_BYTES });
    this.onCall = options.onCall ?? (() => {});
  }

  version(): Promise<VersionResponse> {
    return this.unary('Version', VersionRequest, VersionResponse, { version: 'v1' }, CRI_CALL_TIMEOUT_MS);
  }

  /** Every container the runtime knows (any state), so a stopped one can be told from a missing one. */
  async listContainers(): Promise<Container[]> {
    const res = await this.unary('ListContainers', ListContainersRequest, ListContainersResponse, { filter: undefined }, CRI_CALL_TIMEOUT_MS);
    return res.containers;
  }

  /** The container's status; undefined if the runtime sent none. Times are Unix ns (see cri-time.ts). */
  async containerStatus(containerId: string): Promise<ContainerStatus | undefined> {
    const res = await this.unary('ContainerStatus', ContainerStatusRequest, ContainerStatusResponse, { containerId, verbose: false }, CRI_CALL_TIMEOUT_MS);
    return res.status;
  }

  /** `timeoutSeconds` goes to the runtime (it kills the process); `deadlineMs` bounds the call itself. */
  execSync(containerId: string, cmd: readonly string[], timeoutSeconds: number, deadlineMs: number, signal: AbortSignal): Promise<ExecSyncResponse> {
    return this.unary('ExecSync', ExecSyncRequest, ExecSyncResponse, { containerId, cmd: [...cmd], timeout: BigInt(timeoutSeconds) }, deadlineMs, signal);
  }

  close(): void {
    this.transport.close();
  }

  private async unary<Req, Res>(method: CriMethod, req: Codec<Req>, res: Codec<Res>, request: Req, deadlineMs: number, signal?: AbortSignal): Promise<Res> {
    let response: Res;
    try {
      const bytes = await this.transport.unary(SERVICE_PATH + method, req.encode(request).finish(), { deadlineMs, ...(signal ? { signal } : {}) });
      try {
        response = res.decode(bytes);
      } catch (err) {
        throw new CriCallError(GrpcStatus.INTERNAL, `Failed to parse server response: ${(err as Error).message}`, { cause: err });
      }
    } catch (err) {
      this.onCall(method, isServiceError(err) ? grpcCodeName(err.code) : 'UNKNOWN');
      throw err;
    }
    this.onCall(method, 'OK');
    return response;
  }
}
