// Shared pieces of the fault tier: the decider as a child process (so it can be kill -9'd), a simulated
// agent (the real AgentReporter + ProbeEngine over real gRPC, with scripted exec answers instead of a
// container runtime: the decider sees exactly what a real agent sends), the agent's identity (pod-bound
// token checked by TokenReview), the workload, and the counters every scenario asserts on.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { AgentReporter } from '../../agent/report/reporter.js';
import { ProbeEngine } from '../../common/probe/probe-engine.js';
import type { KubeApi } from '../../decider/kube/kube-client.js';
import { GAME, must } from '../integration/decider/kit.js';
import { testbedEnv } from '../testbed/env.js';
import { adminKubeConfig } from '../testbed/kube.js';
import { repoRoot } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { FakeExecRuntime } from '../unit/probe/fake-exec-runtime.js';
import { kubeconfigYaml } from './control-plane.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

export { GAME, must };

export const SET = 'arena';
export const QUALITY = 'healthy';
/** The label an applied action writes: its value is the probe result that fired it. */
export const DOWN_LABEL = 'okg-sq.test/down';
export const ACTION_REASON = 'ServiceQualityActionApplied';

/**
 * One quality whose only action is on `state: false`: the first (true) outcomes write conditions but apply
 * nothing, so each flip to false is exactly one action (opsState Maintaining + a label naming the result).
 */
export async function createArenaSet(api: KubeApi, ns: string): Promise<void> {
  await must(api, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: SET, namespace: ns },
    spec: {
      replicas: 1,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
      serviceQualities: [
        {
          name: QUALITY,
          containerName: 'game',
          permanent: false,
          exec: { command: ['/probe.sh'] },
          initialDelaySeconds: 1,
          periodSeconds: 1,
          timeoutSeconds: 1,
          failureThreshold: 1,
          serviceQualityAction: [{ state: false, opsState: 'Maintaining', labels: { [DOWN_LABEL]: '{{.Result}}' } }],
        },
      ],
    },
  });
}

/** GameServer + Running pod on `node`; returns the pod UID (the simulated agent's exec key is `<uid>/game`). */
export async function createGameServer(api: KubeApi, ns: string, name: string, node: string): Promise<string> {
  const labels = { 'game.kruise.io/owner-gss': SET };
  await must(api, 'POST', `${GAME}/namespaces/${ns}/gameservers`, { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name, labels }, spec: { opsState: 'None' } });
  return runningPod(api, ns, name, node);
}

/**
 * A Running pod `name` on `node`, then its GameServer with an owner reference to it, as OKG's controller
 * makes them (reclaimPolicy Cascade); returns the pod UID.
 */
export async function createOwnedGameServer(api: KubeApi, ns: string, name: string, node: string): Promise<string> {
  const uid = await runningPod(api, ns, name, node);
  await must(api, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServer',
    metadata: { name, labels: { 'game.kruise.io/owner-gss': SET }, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid, controller: true, blockOwnerDeletion: true }] },
    spec: { opsState: 'None' },
  });
  return uid;
}

async function runningPod(api: KubeApi, ns: string, name: string, node: string): Promise<string> {
  const labels = { 'game.kruise.io/owner-gss': SET };
  const pod = await must(api, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name, labels }, spec: { nodeName: node, containers: [{ name: 'game', image: 'busybox' }] } });
  const started = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await must(
    api,
    'PATCH',
    `/api/v1/namespaces/${ns}/pods/${name}/status`,
    {
      status: {
        phase: 'Running',
        podIP: '10.254.200.2',
        containerStatuses: [{ name: 'game', ready: true, restartCount: 0, image: 'busybox', imageID: 'sha256:0', containerID: `containerd://${pod.metadata.uid}`, state: { running: { startedAt: started } } }],
      },
    },
    'application/merge-patch+json',
  );
  return pod.metadata.uid as string;
}

/**
 * A fault proxy in front of the bed's own apiserver, and a kubeconfig (admin token) pointing at it: for
 * scenarios that need no restartable control plane, only to see, hold or answer the decider's requests.
 */
export async function bedProxy(name: string): Promise<{ proxy: FaultProxy; kubeconfig: string }> {
  const env = testbedEnv();
  const proxy = await startFaultProxy({ upstream: env.apiserverUrl, ca: Buffer.from(adminKubeConfig().getCurrentCluster()!.caData!, 'base64') });
  const kubeconfig = join(env.workDir, `${name}-proxied-kubeconfig`);
  writeFileSync(kubeconfig, kubeconfigYaml(proxy.url, undefined, env.adminToken), { mode: 0o600 });
  return { proxy, kubeconfig };
}

/** ServiceAccount okg-sq-agent, its pod on `node`, and a pod-bound token (what the chart's DaemonSet gets). */
export async function agentToken(api: KubeApi, ns: string, node: string): Promise<string> {
  await must(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'okg-sq-agent' } });
  const pod = await must(api, 'POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: `okg-sq-agent-${node}` },
    spec: { nodeName: node, serviceAccountName: 'okg-sq-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] },
  });
  const review = await must(api, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/okg-sq-agent/token`, {
    spec: { audiences: ['okg-sq'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
  });
  return review.status.token as string;
}

export async function createNamespaceOn(api: KubeApi, name: string): Promise<string> {
  await must(api, 'POST', '/api/v1/namespaces', { metadata: { name } });
  await must(api, 'POST', `/api/v1/namespaces/${name}/serviceaccounts`, { metadata: { name: 'default' } });
  return name;
}

/** The real reporter and probe engine; execs answered by `exec` (per `<pod uid>/<container>`). */
export class SimulatedAgent {
  readonly exec = new FakeExecRuntime();
  readonly engine: ProbeEngine;
  readonly reporter: AgentReporter;

  constructor(opts: { node: string; address: string; token: string }) {
    let reporter: AgentReporter | undefined;
    this.engine = new ProbeEngine({ exec: this.exec, onOutcome: (o) => reporter?.offer(o), slotMs: 20 });
    reporter = new AgentReporter({
      nodeName: opts.node,
      address: opts.address,
      credentials: credentials.createInsecure(),
      readToken: async () => opts.token,
      runtimeInfo: async () => ({ name: 'simulated', version: '0' }),
      agentVersion: 'fault-test',
      engine: this.engine,
      logger: pino({ level: process.env.OKGSQ_TEST_LOG_LEVEL ?? 'silent' }),
      // Quicker than the agent's defaults (0.5 s → 30 s) so a restart converges within a test's budget.
      backoffInitialMs: 200,
      backoffMaxMs: 2_000,
      countersIntervalMs: 1_000,
    });
    this.reporter = reporter;
  }

  /** What every container of `uids` answers from now on. */
  answer(uids: Iterable<string>, exitCode: number, stdout: string): void {
    for (const uid of uids) this.exec.answer(`${uid}/game`, { exitCode, stdout });
  }

  start(): void {
    this.engine.start();
    this.reporter.start();
  }

  async stop(): Promise<void> {
    await this.reporter.stop();
    await this.engine.stop();
  }
}

/** `node dist-…/decider/main.js` as the chart runs it; kill -9 able. */
export class DeciderProcess {
  child: ChildProcess | undefined;
  log = '';

  constructor(private readonly env: Record<string, string>) {}

  start(): void {
    const main = join(repoRoot(import.meta.url), process.env.OKGSQ_DIST_DIR ?? 'dist', 'decider', 'main.js');
    const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer): void => void (this.log = (this.log + c.toString()).slice(-200_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }

  /** SIGKILL: no drain, no lease release, in-flight requests cut. */
  async kill9(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.exited();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited();
    clearTimeout(timer);
  }

  async waitReady(httpPort: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => {
      if (!this.running) throw new Error(`decider exited: ${this.log.slice(-3000)}`);
      if ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status !== 200) return false;
      // Every synced replica is Ready; the fault tests need the one that leads.
      return /^okgsq_leader 1$/m.test(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
    }, { timeoutMs, intervalMs: 100, what: 'decider /readyz and okgsq_leader 1' }).catch((err: Error) => {
      throw new Error(`${err.message}; decider log tail:\n${this.log.slice(-3000)}`, { cause: err });
    });
  }

  /** Log lines (pino JSON) whose msg is `msg`. */
  lines(msg: string): any[] {
    const out: any[] = [];
    for (const line of this.log.split('\n')) {
      if (!line.includes(`"msg":"${msg}"`)) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a line cut by the tail
      }
    }
    return out;
  }
}

/**
 * Applied-action occurrences counted by Events (an Event counts `count` times): per GameServer for Events
 * on a GameServer, and in total for Events on GameServerSets (a wave's Events aggregated on its set).
 */
export async function actionEvents(api: KubeApi, ns: string): Promise<{ perGameServer: Map<string, number>; onSets: number }> {
  const list = await must(api, 'GET', `/api/v1/namespaces/${ns}/events`);
  const perGameServer = new Map<string, number>();
  let onSets = 0;
  for (const e of list.items as any[]) {
    if (e.reason !== ACTION_REASON) continue;
    if (e.involvedObject?.kind === 'GameServerSet') {
      onSets += e.count ?? 1;
      continue;
    }
    const name = e.involvedObject?.name as string;
    perGameServer.set(name, (perGameServer.get(name) ?? 0) + (e.count ?? 1));
  }
  return { perGameServer, onSets };
}

export async function gameServers(api: KubeApi, ns: string): Promise<Map<string, any>> {
  const list = await must(api, 'GET', `${GAME}/namespaces/${ns}/gameservers`);
  return new Map((list.items as any[]).map((gs) => [gs.metadata.name as string, gs]));
}

/** The GameServer shows the action fired by result `result` and the condition False/`result`. */
export function showsAction(gs: any, result: string): boolean {
  const cond = gs?.status?.serviceQualitiesConditions?.find((c: any) => c.name === QUALITY);
  return gs?.spec?.opsState === 'Maintaining' && gs?.metadata?.labels?.[DOWN_LABEL] === result && cond?.status === 'False' && cond?.result === result;
}

/** The GameServer shows a true outcome with `result` (default "up", what `group` answers) and no action. */
export function showsHealthy(gs: any, result = 'up'): boolean {
  const cond = gs?.status?.serviceQualitiesConditions?.find((c: any) => c.name === QUALITY);
  return gs?.spec?.opsState === 'None' && cond?.status === 'True' && cond?.result === result && !gs?.metadata?.labels?.[DOWN_LABEL];
}

/** Waits until `check` holds for every named GameServer; returns the time it took. */
export async function waitAll(api: KubeApi, ns: string, names: readonly string[], check: (gs: any) => boolean, what: string, timeoutMs = 60_000): Promise<number> {
  const start = Date.now();
  let bad: string[] = [];
  try {
    await waitFor(async () => {
      const all = await gameServers(api, ns);
      bad = names.filter((n) => !check(all.get(n)));
      return bad.length === 0;
    }, { timeoutMs, intervalMs: 100, what });
  } catch (err) {
    const all = await gameServers(api, ns).catch(() => new Map());
    const sample = bad.slice(0, 2).map((n) => ({ n, spec: all.get(n)?.spec, labels: all.get(n)?.metadata?.labels, status: all.get(n)?.status }));
    throw new Error(`${what}: ${bad.length} of ${names.length} not there, e.g. ${JSON.stringify(sample)}`, { cause: err });
  }
  return Date.now() - start;
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) out.set(key(i), (out.get(key(i)) ?? 0) + 1);
  return out;
}
