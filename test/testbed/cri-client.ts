// A promise-returning CRI runtime.v1 client over containerd's unix socket, for the bed's fake kubelet and
// smoke tests (the agent has its own adapter). Calls carry a deadline so a stuck runtime fails the test.
import { credentials, makeGenericClientConstructor, Metadata, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import {
  RuntimeServiceService,
  type ContainerStatusRequest,
  type CreateContainerRequest, type CreateContainerResponse,
  type ExecSyncRequest, type ExecSyncResponse,
  type ListContainersRequest,
  type ListPodSandboxRequest,
  type PodSandboxStatusRequest,
  type RemoveContainerRequest, type RemoveContainerResponse,
  type RemovePodSandboxRequest, type RemovePodSandboxResponse,
  type RunPodSandboxRequest, type RunPodSandboxResponse,
  type StartContainerRequest, type StartContainerResponse,
  type StopContainerRequest, type StopContainerResponse,
  type StopPodSandboxRequest, type StopPodSandboxResponse,
  type VersionRequest, type VersionResponse,
} from '../../proto/gen/cri/runtime/v1/api.js';
import {
  decodeContainerStatusResponse, decodeListContainersResponse, decodeListPodSandboxResponse, decodePodSandboxStatusResponse,
  type ContainerStatusView, type ContainerView, type SandboxStatusView, type SandboxView,
} from './cri-wire.js';

// The generated service, with our own decoders for the responses holding int64 nanosecond timestamps.
const BedRuntimeService = {
  ...RuntimeServiceService,
  podSandboxStatus: { ...RuntimeServiceService.podSandboxStatus, responseDeserialize: decodePodSandboxStatusResponse },
  listPodSandbox: { ...RuntimeServiceService.listPodSandbox, responseDeserialize: decodeListPodSandboxResponse },
  containerStatus: { ...RuntimeServiceService.containerStatus, responseDeserialize: decodeContainerStatusResponse },
  listContainers: { ...RuntimeServiceService.listContainers, responseDeserialize: decodeListContainersResponse },
} as const;
const BedRuntimeClient = makeGenericClientConstructor(BedRuntimeService as never, 'runtime.v1.RuntimeService');
type AnyUnary = Unary<unknown, unknown>;

/** Generous: sandbox creation runs CNI and starts a shim on 2 busy cores. */
const DEFAULT_CALL_DEADLINE_MS = 60_000;

type Unary<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

export class CriClient {
  private readonly client: Client & Record<string, AnyUnary>;

  constructor(socket: string) {
    this.client = new BedRuntimeClient(`unix://${socket}`, credentials.createInsecure()) as unknown as Client & Record<string, AnyUnary>;
  }

  private call<Req, Res>(name: keyof typeof BedRuntimeService, req: Req, deadlineMs = DEFAULT_CALL_DEADLINE_MS): Promise<Res> {
    const method = this.client[name] as unknown as Unary<Req, Res>;
    return new Promise((resolve, reject) => {
      method.call(this.client, req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  version(req: Partial<VersionRequest> = {}): Promise<VersionResponse> {
    return this.call<VersionRequest, VersionResponse>('version', { version: 'v1', ...req });
  }
  runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse> {
    return this.call('runPodSandbox', req);
  }
  stopPodSandbox(req: StopPodSandboxRequest): Promise<StopPodSandboxResponse> {
    return this.call('stopPodSandbox', req);
  }
  removePodSandbox(req: RemovePodSandboxRequest): Promise<RemovePodSandboxResponse> {
    return this.call('removePodSandbox', req);
  }
  podSandboxStatus(req: PodSandboxStatusRequest): Promise<{ status: SandboxStatusView }> {
    return this.call('podSandboxStatus', req);
  }
  listPodSandbox(req: ListPodSandboxRequest = { filter: undefined }): Promise<{ items: SandboxView[] }> {
    return this.call('listPodSandbox', req);
  }
  createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse> {
    return this.call('createContainer', req);
  }
  startContainer(req: StartContainerRequest): Promise<StartContainerResponse> {
    return this.call('startContainer', req);
  }
  stopContainer(req: StopContainerRequest): Promise<StopContainerResponse> {
    return this.call('stopContainer', req);
  }
  removeContainer(req: RemoveContainerRequest): Promise<RemoveContainerResponse> {
    return this.call('removeContainer', req);
  }
  listContainers(req: ListContainersRequest = { filter: undefined }): Promise<{ containers: ContainerView[] }> {
    return this.call('listContainers', req);
  }
  containerStatus(req: ContainerStatusRequest): Promise<{ status: ContainerStatusView }> {
    return this.call('containerStatus', req);
  }
  /** The gRPC deadline is the exec timeout plus slack, so the runtime's own timeout answers first. */
  execSync(req: ExecSyncRequest, deadlineMs?: number): Promise<ExecSyncResponse> {
    return this.call('execSync', req, deadlineMs ?? (req.timeout > 0 ? req.timeout * 1000 + 10_000 : DEFAULT_CALL_DEADLINE_MS));
  }

  close(): void {
    this.client.close();
  }
}
