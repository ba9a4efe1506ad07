// Shared setup of the e2e tests: a namespace, a FakeKubelet node, the agent's identity (ServiceAccount,
// Pod, pod-bound token), a decider in this process and the real agent as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testbedEnv } from '../testbed/env.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { FakeKubelet } from '../testbed/fake-kubelet.js';
import { CriClient } from '../testbed/cri-client.js';
import { repoRoot } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { KubeClient } from '../../decider/kube/kube-client.js';
import type { Decider } from '../../decider/decider.js';
import { CountingApi, GAME, must, startTestDecider, testOptions } from '../integration/decider/kit.js';

export { GAME, must };

export class E2eBed {
  readonly env = testbedEnv();
  readonly kubeConfig = adminKubeConfig();
  readonly admin = new KubeClient(this.kubeConfig);
  readonly cri = new CriClient(this.env.containerdSocket);
  readonly nodeName = `e2e-${randomBytes(3).toString('hex')}`;
  readonly kubelet: FakeKubelet;
  ns = '';
  d: { decider: Decider; api: CountingApi } | undefined;
  agent: ChildProcess | undefined;
  agentLog = '';
  private tokenFile = '';

  /** `nodeLabels`: the FakeKubelet node's labels (e.g. type=virtual-kubelet for a node without agent). */
  constructor(opts: { nodeLabels?: Record<string, string> } = {}) {
    this.kubelet = new FakeKubelet({ socket: this.env.containerdSocket, nodeName: this.nodeName, kubeConfig: this.kubeConfig, ...(opts.nodeLabels ? { nodeLabels: opts.nodeLabels } : {}) });
  }

  /** Namespace + the agent's ServiceAccount, Pod and token. Create the workload next, then start(). */
  async prepare(prefix: string): Promise<void> {
    this.ns = await createNamespace(prefix, this.kubeConfig);
    await must(this.admin, 'POST', `/api/v1/namespaces/${this.ns}/serviceaccounts`, { metadata: { name: 'okg-sq-agent' } });
    const agentPod = await must(this.admin, 'POST', `/api/v1/namespaces/${this.ns}/pods`, {
      metadata: { name: 'okg-sq-agent-0' },
      spec: { nodeName: this.nodeName, serviceAccountName: 'okg-sq-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] },
    });
    const review = await must(this.admin, 'POST', `/api/v1/namespaces/${this.ns}/serviceaccounts/okg-sq-agent/token`, {
      spec: { audiences: ['okg-sq'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'okg-sq-agent-0', uid: agentPod.metadata.uid } },
    });
    const dir = mkdtempSync(join(this.env.workDir, `${prefix}-`));
    this.tokenFile = join(dir, 'token');
    writeFileSync(this.tokenFile, review.status.token);
  }

  /** The decider (in this process, real TokenReview auth) and, unless `agent: false`, the agent (a child process). */
  async start(opts: { agent?: boolean; deciderEnv?: Record<string, string> } = {}): Promise<void> {
    this.d = await startTestDecider(this.kubeConfig, testOptions(this.ns, `decider-${this.ns}`, { OKGSQ_AGENT_NAMESPACE: this.ns, ...opts.deciderEnv }), true);
    // Ready means synced (standbys are Ready too): wait for it to lead, so the agent is served.
    await waitFor(() => this.d!.decider.active(), { timeoutMs: 20_000, what: 'decider ready and leading' });
    if (opts.agent === false) return;
    this.startAgent(`127.0.0.1:${this.d.decider.grpcPort}`);
  }

  /** The real agent (a child process) with this bed's node and token, streaming to `deciderAddress`. */
  startAgent(deciderAddress: string): ChildProcess {
    this.agent = spawn(process.execPath, [join(repoRoot(import.meta.url), process.env.OKGSQ_DIST_DIR ?? 'dist', 'agent', 'main.js')], {
      env: {
        ...process.env,
        OKGSQ_NODE_NAME: this.nodeName,
        OKGSQ_DECIDER_ADDRESS: deciderAddress,
        OKGSQ_INSECURE_GRPC: 'true',
        OKGSQ_TOKEN_FILE: this.tokenFile,
        OKGSQ_CRI_ENDPOINT: `unix://${this.env.containerdSocket}`,
        OKGSQ_HTTP_PORT: '0',
        OKGSQ_RESYNC_SECONDS: '5',
        OKGSQ_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (c: Buffer): void => void (this.agentLog = (this.agentLog + c.toString()).slice(-20_000));
    this.agent.stdout!.on('data', keep);
    this.agent.stderr!.on('data', keep);
    return this.agent;
  }

  async stop(): Promise<void> {
    const agent = this.agent;
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill('SIGTERM');
      await waitFor(() => agent.exitCode !== null || agent.signalCode !== null, { timeoutMs: 10_000, what: 'agent exit' }).catch(() => agent.kill('SIGKILL'));
    }
    await this.d?.decider.stop();
    (this.d?.api.inner as KubeClient | undefined)?.close();
    await this.kubelet.close();
    this.cri.close();
    this.admin.close();
  }

  async gameServer(name: string): Promise<any> {
    return must(this.admin, 'GET', `${GAME}/namespaces/${this.ns}/gameservers/${name}`);
  }

  /** Waits until `check` holds for the GameServer; on timeout the error shows the object and the agent's log. */
  async waitForGameServer(name: string, what: string, check: (gs: any) => boolean, timeoutMs = 30_000): Promise<any> {
    let last: any;
    try {
      return await waitFor(async () => {
        last = await this.gameServer(name);
        return check(last) ? last : false;
      }, { timeoutMs, intervalMs: 200, what });
    } catch (err) {
      throw new Error(`${what}: GameServer ${JSON.stringify({ spec: last?.spec, labels: last?.metadata?.labels, annotations: last?.metadata?.annotations, status: last?.status })}; agent log tail:\n${this.agentLog.slice(-3000)}`, { cause: err });
    }
  }

  /** Sum of okgsq_probe_runs_total as the decider exports it (the agent's counters). */
  async probeRuns(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.d!.decider.httpPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) if (line.startsWith('okgsq_probe_runs_total{')) sum += Number(line.split(' ').pop());
    return sum;
  }

  /** Waits for `count` more probe runs reported: "nothing changed" is checked after real probing. */
  async moreProbeRuns(count: number): Promise<void> {
    const start = await this.probeRuns();
    await waitFor(async () => (await this.probeRuns()) >= start + count, { timeoutMs: 30_000, intervalMs: 200, what: `${count} more probe runs` });
  }

  async exec(containerId: string, script: string): Promise<void> {
    const res = await this.cri.execSync({ containerId, cmd: ['/bin/sh', '-c', script], timeout: 10 });
    if (res.exitCode !== 0) throw new Error(`exec ${script}: exit ${res.exitCode}: ${res.stderr.toString()}`);
  }
}
