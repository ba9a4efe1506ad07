// A promise-returning CRI runtime.v1 client over containerd's unix socket, for the bed's fake kubelet and
// smoke tests (the agent has its own adapter). It is the generated client with deadlines: a stuck runtime
// fails the test. Replies are the generated messages; their times are Unix ns as bigint (criNanosToMs).
import { credentials, Metadata, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import {
  RuntimeServiceClient,
  type ContainerStatusRequest, type ContainerStatusResponse,
  type CreateContainerRequest, type CreateContainerResponse,
  type ExecSyncRequest, type ExecSyncResponse,
  type ListContainersRequest, type ListContainersResponse,
  type ListPodSandboxRequest, type ListPodSandboxResponse,
  type PodSandboxStatusRequest, type PodSandboxStatusResponse,
  type RemoveContainerRequest, type RemoveContainerResponse,
  type RemovePodSandboxRequest, type RemovePodSandboxResponse,
  type RunPodSandboxRequest, type RunPodSandboxResponse,
  type StartContainerRequest, type StartContainerResponse,
  type StopContainerRequest, type StopContainerResponse,
  type StopPodSandboxRequest, type StopPodSandboxResponse,
  type VersionRequest, type VersionResponse,
} from '../../proto/gen/cri/runtime/v1/api.js';

/** Generous: sandbox creation runs CNI and starts a shim on 2 busy cores. */
const DEFAULT_CALL_DEADLINE_MS = 60_000;

/** CRI timeouts are int64 seconds (bigint in the generated code); tests write small numbers. */
type WithSeconds<T extends { timeout: bigint }> = Omit<T, 'timeout'> & { timeout: number | bigint };

type Callback<Res> = (err: ServiceError | null, res: Res) => void;
type Start<Res> = (md: Metadata, opts: { deadline: number }, cb: Callback<Res>) => ClientUnaryCall;

export class CriClient {
  private readonly client: RuntimeServiceClient;

  constructor(socket: string) {
    this.client = new RuntimeServiceClient(`unix://${socket}`, credentials.createInsecure());
  }

  private call<Res>(start: Start<Res>, deadlineMs = DEFAULT_CALL_DEADLINE_MS): Promise<Res> {
    return new Promise((resolve, reject) => {
      start(new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  version(req: Partial<VersionRequest> = {}): Promise<VersionResponse> {
    return this.call((md, o, cb) => this.client.version({ version: 'v1', ...req }, md, o, cb));
  }
  runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse> {
    return this.call((md, o, cb) => this.client.runPodSandbox(req, md, o, cb));
  }
  stopPodSandbox(req: StopPodSandboxRequest): Promise<StopPodSandboxResponse> {
    return this.call((md, o, cb) => this.client.stopPodSandbox(req, md, o, cb));
  }
  removePodSandbox(req: RemovePodSandboxRequest): Promise<RemovePodSandboxResponse> {
    return this.call((md, o, cb) => this.client.removePodSandbox(req, md, o, cb));
  }
  podSandboxStatus(req: PodSandboxStatusRequest): Promise<PodSandboxStatusResponse> {
    return this.call((md, o, cb) => this.client.podSandboxStatus(req, md, o, cb));
  }
  listPodSandbox(req: ListPodSandboxRequest = { filter: undefined }): Promise<ListPodSandboxResponse> {
    return this.call((md, o, cb) => this.client.listPodSandbox(req, md, o, cb));
  }
  createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse> {
    return this.call((md, o, cb) => this.client.createContainer(req, md, o, cb));
  }
  startContainer(req: StartContainerRequest): Promise<StartContainerResponse> {
    return this.call((md, o, cb) => this.client.startContainer(req, md, o, cb));
  }
  stopContainer(req: WithSeconds<StopContainerRequest>): Promise<StopContainerResponse> {
    const request: StopContainerRequest = { ...req, timeout: BigInt(req.timeout) };
    return this.call((md, o, cb) => this.client.stopContainer(request, md, o, cb));
  }
  removeContainer(req: RemoveContainerRequest): Promise<RemoveContainerResponse> {
    return this.call((md, o, cb) => this.client.removeContainer(req, md, o, cb));
  }
  listContainers(req: ListContainersRequest = { filter: undefined }): Promise<ListContainersResponse> {
    return this.call((md, o, cb) => this.client.listContainers(req, md, o, cb));
  }
  containerStatus(req: ContainerStatusRequest): Promise<ContainerStatusResponse> {
    return this.call((md, o, cb) => this.client.containerStatus(req, md, o, cb));
  }
  /** The gRPC deadline is the exec timeout plus slack, so the runtime's own timeout answers first. */
  execSync(req: WithSeconds<ExecSyncRequest>, deadlineMs?: number): Promise<ExecSyncResponse> {
    const request: ExecSyncRequest = { ...req, timeout: BigInt(req.timeout) };
    const timeoutS = Number(request.timeout);
    return this.call((md, o, cb) => this.client.execSync(request, md, o, cb), deadlineMs ?? (timeoutS > 0 ? timeoutS * 1000 + 10_000 : DEFAULT_CALL_DEADLINE_MS));
  }

  close(): void {
    this.client.close();
  }
}
