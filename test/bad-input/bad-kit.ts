// Shared setup of the bad-input tier: the REAL programs as child processes (the decider's and the agent's
// main.js from the same output tree, as the chart runs them), an agent identity with a real pod-bound
// token, and helpers to read their /metrics and /proc. Everything spawned is killed in `close()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { testbedEnv } from '../testbed/env.js';
import { freePort } from '../testbed/free-port.js';
import { repoRoot } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { KubeClient } from '../../decider/kube/kube-client.js';
import { adminKubeConfig } from '../testbed/kube.js';
import { GAME, must } from '../integration/decider/kit.js';
import type { FakeKubelet } from '../testbed/fake-kubelet.js';

export { GAME, must };

const DIST = join(repoRoot(import.meta.url), process.env.OKGSQ_DIST_DIR ?? 'dist');
export const DECIDER_MAIN = join(DIST, 'decider', 'main.js');
export const AGENT_MAIN = join(DIST, 'agent', 'main.js');
export const CLI_MAIN = join(DIST, 'cli', 'main.js');

/** A child process whose output is kept (tail) for failure messages. */
export class Program {
  log = '';
  constructor(readonly name: string, readonly child: ChildProcess) {
    const keep = (c: Buffer): void => void (this.log = (this.log + c.toString()).slice(-200_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  /** Resident set size in MiB, from /proc (the process must be alive). */
  rssMiB(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return Number(m![1]) / 1024;
  }
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    await waitFor(() => !this.alive, { timeoutMs: 10_000, what: `${this.name} exit` }).catch(() => this.child.kill('SIGKILL'));
  }
}

function start(name: string, main: string, env: Record<string, string>): Program {
  return new Program(name, spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Sum of a metric's samples whose line matches `labels` (a substring of the label set), from /metrics text. */
export function metricSum(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}

export class DeciderProcess {
  constructor(readonly program: Program, readonly httpPort: number, readonly grpcPort: number) {}

  static async start(ns: string, extra: Record<string, string> = {}): Promise<DeciderProcess> {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const program = start('decider', DECIDER_MAIN, {
      KUBECONFIG: testbedEnv().kubeconfig,
      POD_NAME: `decider-${ns}`,
      POD_NAMESPACE: ns,
      OKGSQ_NAMESPACES: ns,
      OKGSQ_AGENT_NAMESPACE: ns,
      OKGSQ_HTTP_PORT: String(httpPort),
      OKGSQ_GRPC_PORT: String(grpcPort),
      OKGSQ_INSECURE_GRPC: 'true',
      OKGSQ_FLUSH_WINDOW_MS: '10',
      OKGSQ_AGENTLESS_NODE_SELECTOR: '',
      OKGSQ_LOG_LEVEL: 'info',
      ...extra,
    });
    const d = new DeciderProcess(program, httpPort, grpcPort);
    // Every synced replica is Ready (/readyz); the tests need it leading too (okgsq_leader 1).
    const get = (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`).catch(() => undefined);
    await waitFor(async () => program.alive && (await get('/readyz'))?.status === 200 && /^okgsq_leader 1$/m.test((await (await get('/metrics'))?.text()) ?? ''), {
      timeoutMs: 30_000,
      what: 'decider /readyz and okgsq_leader 1',
    }).catch((err) => {
      throw new Error(`decider not ready; log tail:\n${program.log.slice(-3000)}`, { cause: err });
    });
    return d;
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.httpPort}/metrics`)).text();
  }

  async healthy(): Promise<boolean> {
    return this.program.alive && (await fetch(`http://127.0.0.1:${this.httpPort}/healthz`).catch(() => undefined))?.status === 200;
  }
}

/** The agent's identity as in production: ServiceAccount okg-sq-agent, a Pod on `node`, a pod-bound token. */
export async function agentToken(admin: KubeClient, ns: string, node: string, expirationSeconds = 3600): Promise<string> {
  await admin.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: 'okg-sq-agent' } } }); // 409 on the second call: fine
  const pod = await must(admin, 'POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: `okg-sq-agent-${node}` },
    spec: { nodeName: node, serviceAccountName: 'okg-sq-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] },
  });
  const review = await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/okg-sq-agent/token`, {
    spec: { audiences: ['okg-sq'], expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
  });
  return review.status.token as string;
}

export function startAgent(node: string, deciderGrpcPort: number, token: string, extra: Record<string, string> = {}): Program {
  const dir = mkdtempSync(join(testbedEnv().workDir, `bad-agent-${node}-`));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token);
  return start(`agent ${node}`, AGENT_MAIN, {
    OKGSQ_NODE_NAME: node,
    OKGSQ_DECIDER_ADDRESS: `127.0.0.1:${deciderGrpcPort}`,
    OKGSQ_INSECURE_GRPC: 'true',
    OKGSQ_TOKEN_FILE: tokenFile,
    OKGSQ_CRI_ENDPOINT: `unix://${testbedEnv().containerdSocket}`,
    OKGSQ_HTTP_PORT: '0',
    OKGSQ_RESYNC_SECONDS: '5',
    OKGSQ_LOG_LEVEL: 'info',
    ...extra,
  });
}

export function adminClient(): KubeClient {
  return new KubeClient(adminKubeConfig());
}

/** Events of the namespace about one object, as `reason: message` lines. */
export async function eventsAbout(admin: KubeClient, ns: string, kind: string, name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await must(admin, 'GET', `/api/v1/namespaces/${ns}/events`);
  return (list.items as any[]).filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name).map((e) => ({ type: e.type, reason: e.reason, message: e.message as string }));
}

/** GameServer `room-0` of set `room` and its running pod, whose probes read /state ("Allocated"); returns the container ID. */
export async function startRoom(admin: KubeClient, kubelet: FakeKubelet, ns: string): Promise<string> {
  await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
    apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name: 'room-0', namespace: ns, labels: { 'game.kruise.io/owner-gss': 'room' } }, spec: { opsState: 'None' },
  });
  const pod = await kubelet.runPod({ namespace: ns, name: 'room-0', labels: { 'game.kruise.io/owner-gss': 'room' }, containers: [{ name: 'game', command: ['sh', '-c', 'printf Allocated > /state; exec sleep 1000000'] }] });
  return pod.containers[0]!.id;
}

/** The bed's service-account signing key (test/testbed/certs.ts writes sa.key next to the apiserver). */
function signingKey(): string {
  const root = dirname(testbedEnv().kubeconfig);
  const stack = [root];
  for (let depth = 0; stack.length > 0 && depth < 200; depth++) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      if (entry === 'sa.key') return readFileSync(p, 'utf8');
      if (!entry.startsWith('.') && statSync(p).isDirectory() && p.split('/').length - root.split('/').length < 3) stack.push(p);
    }
  }
  throw new Error(`no sa.key under ${root}`);
}

/** The same claims, issued 2 h ago and expiring `expiresInSeconds` from now, signed with the real key. */
export function resigned(token: string, expiresInSeconds: number): string {
  const [h, p] = token.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  Object.assign(claims, { iat: now - 7200, nbf: now - 7200, exp: now + expiresInSeconds });
  const body = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(signingKey()).toString('base64url')}`;
}
