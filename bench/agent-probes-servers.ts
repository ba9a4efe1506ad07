// The agent benchmark's child processes (bench/agent-probes.ts), each in its own process so its CPU is not
// counted: a fake CRI RuntimeService on a unix socket, and the games' HTTP endpoint.
//   node dist/bench/agent-probes-servers.js --serve-fake-cri <socket> | --serve-http
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { RuntimeServiceService, type ExecSyncRequest, type ExecSyncResponse, type ListContainersResponse } from '../proto/gen/cri/runtime/v1/api.js';

/** This module, as the script the benchmark spawns. */
export const SERVERS_SCRIPT = fileURLToPath(import.meta.url);
export const FAKE_CRI_FLAG = '--serve-fake-cri';
export const FAKE_CRI_PODS = 500;
export const FAKE_CRI_CONTAINER = 'game';

/** Child-process mode: a CRI RuntimeService on a unix socket whose containers answer every exec at once. */
export async function serveFakeCri(socket: string): Promise<void> {
  const containers: ListContainersResponse['containers'] = Array.from({ length: FAKE_CRI_PODS }, (_, i) => ({
    id: `c${i}`,
    podSandboxId: `s${i}`,
    metadata: { name: FAKE_CRI_CONTAINER, attempt: 0 },
    image: undefined,
    imageRef: '',
    state: 1,
    createdAt: 0n,
    labels: { 'io.kubernetes.pod.uid': `pod-${i}`, 'io.kubernetes.container.name': FAKE_CRI_CONTAINER },
    annotations: {},
  }));
  const stdout = Buffer.from('gate\n');
  const impl: UntypedServiceImplementation = {
    version: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '0', runtimeApiVersion: 'v1' }),
    listContainers: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<ListContainersResponse>) => cb(null, { containers }),
    // started_at 0 (unknown): the agent falls back to the plan's start; a real runtime answers in ns.
    containerStatus: (call: ServerUnaryCall<{ containerId: string }, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, { status: { id: call.request.containerId, state: 1, createdAt: 0n, startedAt: 0n, finishedAt: 0n, exitCode: 0, labels: {}, annotations: {} }, info: {} }),
    execSync: (_call: ServerUnaryCall<ExecSyncRequest, ExecSyncResponse>, cb: sendUnaryData<ExecSyncResponse>) =>
      cb(null, { stdout, stderr: Buffer.alloc(0), exitCode: 0 }),
  };
  const server = new Server();
  server.addService(RuntimeServiceService, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => server.forceShutdown());
}


export const HTTP_SERVER_FLAG = '--serve-http';

/** Child-process mode: the games' HTTP endpoint, answering every probe "gate" at once. */
export async function serveHttp(): Promise<void> {
  const server = createServer((_req, res) => res.end('gate'));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}


if (process.argv[1] === SERVERS_SCRIPT) {
  const serve = process.argv[2] === FAKE_CRI_FLAG ? serveFakeCri(process.argv[3]!) : process.argv[2] === HTTP_SERVER_FLAG ? serveHttp() : Promise.reject(new Error(`usage: ${FAKE_CRI_FLAG} <socket> | ${HTTP_SERVER_FLAG}`));
  serve.catch((err: unknown) => {
    process.stderr.write(`agent-probes-servers: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
