// A hostile agent with a real identity against the running decider: the decider process on the bed's
// apiserver, GameServers whose pods are marked Running on one node (no containers: nothing probes them),
// and a raw gRPC client holding that node's real pod-bound token, which sends whatever outcomes and
// counters a test writes. Lower tiers check each rule alone; this one proves the running program keeps
// them against the real API server.
import { randomBytes } from 'node:crypto';
import { bedProxy } from '../fault/fault-kit.js';
import type { FaultProxy } from '../fault/fault-proxy.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../../common/probe-duration-buckets.js';
import type { Outcome as WireOutcome, QualityCounters as WireCounters } from '../../proto/gen/okgsq/v1/agent.js';
import { createNamespace } from '../testbed/kube.js';
import { waitFor } from '../testbed/wait-for.js';
import { TestAgent, wireOutcome } from '../unit/decider/ingest/ingest-kit.js';
import { adminClient, agentToken, DeciderProcess, GAME, metricSum, must } from './bad-kit.js';

export { metricSum };

export const SET = 'room';

export interface Room {
  readonly name: string;
  readonly uid: string;
}

export class WireBed {
  readonly admin = adminClient();
  readonly node = `wire-${randomBytes(3).toString('hex')}`;
  readonly agents: TestAgent[] = [];
  ns = '';
  token = '';
  decider: DeciderProcess | undefined;
  /** Between the decider and the apiserver, when started with `proxied`: sees (and counts) every request. */
  proxy: FaultProxy | undefined;

  /**
   * Namespace, set `room` with `qualities`, the node's agent identity, and the decider process (talking to
   * the apiserver through a fault proxy with `proxied`).
   */
  async start(prefix: string, qualities: unknown[], deciderEnv: Record<string, string> = {}, proxied = false): Promise<void> {
    this.ns = await createNamespace(prefix);
    await must(this.admin, 'POST', `${GAME}/namespaces/${this.ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1',
      kind: 'GameServerSet',
      metadata: { name: SET, namespace: this.ns },
      spec: { replicas: 1, gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } }, serviceQualities: qualities },
    });
    this.token = await agentToken(this.admin, this.ns, this.node);
    if (proxied) {
      const { proxy, kubeconfig } = await bedProxy(this.ns);
      this.proxy = proxy;
      deciderEnv = { KUBECONFIG: kubeconfig, ...deciderEnv };
    }
    this.decider = await DeciderProcess.start(this.ns, deciderEnv);
  }

  /** GameServer + Pod `name`, the pod Running on the bed's node as a kubelet would mark it. */
  async room(name: string): Promise<Room> {
    const labels = { 'game.kruise.io/owner-gss': SET };
    await must(this.admin, 'POST', `${GAME}/namespaces/${this.ns}/gameservers`, { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name, labels }, spec: { opsState: 'None' } });
    const pod = await must(this.admin, 'POST', `/api/v1/namespaces/${this.ns}/pods`, { metadata: { name, labels }, spec: { nodeName: this.node, containers: [{ name: 'game', image: 'busybox' }] } });
    const started = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await must(this.admin, 'PATCH', `/api/v1/namespaces/${this.ns}/pods/${name}/status`, {
      status: {
        phase: 'Running',
        podIP: '10.254.250.2',
        containerStatuses: [{ name: 'game', ready: true, restartCount: 0, image: 'busybox', imageID: 'sha256:0', containerID: `containerd://${pod.metadata.uid}`, state: { running: { startedAt: started } } }],
      },
    }, 'application/merge-patch+json');
    return { name, uid: pod.metadata.uid as string };
  }

  /** A stream with the node's real token, after its plan holds `probes` probes. */
  async agent(probes: number, token = this.token, timeoutMs = 15_000): Promise<TestAgent> {
    const agent = new TestAgent(`127.0.0.1:${this.decider!.grpcPort}`, token).hello(this.node);
    this.agents.push(agent);
    await waitFor(() => {
      if (agent.error) throw new Error(`stream refused: ${agent.error.code} ${agent.error.details}`);
      return agent.plans().reduce((n, p) => n + p.upsert.length - p.remove.length, 0) >= probes;
    }, { timeoutMs, what: `a plan with ${probes} probes` });
    return agent;
  }

  async gameServer(name: string): Promise<any> {
    return must(this.admin, 'GET', `${GAME}/namespaces/${this.ns}/gameservers/${name}`);
  }

  async pod(name: string): Promise<any> {
    return must(this.admin, 'GET', `/api/v1/namespaces/${this.ns}/pods/${name}`);
  }

  async waitGameServer(name: string, check: (gs: any) => boolean, what: string, timeoutMs = 15_000): Promise<any> {
    return waitFor(async () => {
      const gs = await this.gameServer(name);
      return check(gs) ? gs : false;
    }, { timeoutMs, intervalMs: 100, what: `${name}: ${what}` }).catch(async (err) => {
      throw new Error(`${err.message}; GameServer now: ${JSON.stringify(await this.gameServer(name).catch(() => undefined))}\ndecider log:\n${this.decider?.program.log.slice(-3000)}`, { cause: err });
    });
  }

  async metrics(): Promise<string> {
    return this.decider!.metrics();
  }

  /** Warning/Normal Events about GameServer `name`. */
  async events(name: string): Promise<{ type: string; reason: string; message: string; count: number }[]> {
    const list = await must(this.admin, 'GET', `/api/v1/namespaces/${this.ns}/events`);
    return (list.items as any[])
      .filter((e) => e.involvedObject?.kind === 'GameServer' && e.involvedObject?.name === name)
      .map((e) => ({ type: e.type, reason: e.reason, message: e.message as string, count: e.count ?? 1 }));
  }

  async stop(): Promise<void> {
    for (const a of this.agents) a.close();
    await this.decider?.program.stop();
    await this.proxy?.close();
    this.admin.close();
  }
}

export function outcome(room: Room, quality: string, state: boolean, result: string, observedUnixMs = Date.now()): WireOutcome {
  return { ...wireOutcome(room.uid, quality, state, result), observedUnixMs };
}

/** One run per report of `quality`, in the first duration bucket. */
export function counters(namespace: string, quality: string, runs = 1): WireCounters {
  const buckets = new Array(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
  buckets[0] = runs;
  return { namespace, gameServerSet: SET, quality, runs: [{ outcome: 'true', errorKind: '', count: runs }], durationBucketCounts: buckets, durationSumSeconds: 0.001 * runs };
}
