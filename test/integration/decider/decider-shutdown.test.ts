// The decider's stop sequence (what main.ts runs on SIGTERM) against the real kube-apiserver: /readyz
// turns 503 first, then the agent streams end UNAVAILABLE, then the queued writes are flushed, and only
// then does stop() resolve. The flush is held open by a client wrapper that parks object writes until
// released, so the shutdown window is observed deterministically, not raced with sleeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { waitFor } from '../../testbed/wait-for.js';
import { KubeClient, type KubeApi, type KubeResponse, type RequestOptions } from '../../../decider/kube/kube-client.js';
import { startDecider, type Decider } from '../../../decider/decider.js';
import { FakeAuthenticator, TestAgent } from '../../unit/decider/ingest/ingest-kit.js';
import { GAME, createGameServerAndPod, createSet, logger, must, testOptions } from './kit.js';

/** Parks GameServer and pod writes while `holding`, until release(); leases, events and reads pass. */
class HoldingApi implements KubeApi {
  holding = false;
  readonly parked: string[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  constructor(readonly inner: KubeClient) {}
  hold(): void {
    this.holding = true;
    this.gate = new Promise<void>((resolve) => (this.open = resolve));
  }
  release(): void {
    this.holding = false;
    this.open();
  }
  async request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse> {
    if (this.holding && method !== 'GET' && /\/(gameservers|pods)\//.test(path)) {
      this.parked.push(`${method} ${path}`);
      await this.gate;
    }
    return this.inner.request(method, path, options);
  }
  watch(path: string, onEvent: (event: { type: string; object: any }) => void, signal: AbortSignal): Promise<void> {
    return this.inner.watch(path, onEvent, signal);
  }
}

const kubeConfig = adminKubeConfig();
const admin = new KubeClient(kubeConfig);
let api: HoldingApi | undefined;
let decider: Decider | undefined;
const agents: TestAgent[] = [];
let ns = '';
let uid = '';

before(async () => {
  ns = await createNamespace('dstop');
  await createSet(admin, ns, 'minecraft');
  uid = await createGameServerAndPod(admin, ns, 'minecraft', 'minecraft-0', 'node-a', '10.254.78.10');
});

after(async () => {
  api?.release(); // never leave a stop() parked behind the gate
  for (const a of agents) a.close();
  await decider?.stop();
  api?.inner.close();
  admin.close();
});

async function readyz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

test('stop(): /readyz 503 at once, agent streams end UNAVAILABLE, queued writes flushed, then stopped', async () => {
  api = new HoldingApi(new KubeClient(kubeConfig));
  const d = await startDecider(testOptions(ns, 'decider-stop'), {
    kubeConfig,
    logger: logger.child({ decider: 'decider-stop' }),
    host: '127.0.0.1',
    api,
    authenticator: new FakeAuthenticator(),
  });
  decider = d;
  await waitFor(() => d.active(), { timeoutMs: 20_000, what: 'decider active (leader + synced)' });
  await d.batcher.drain(); // the fresh GameServer's status entries: the cluster is converged
  assert.equal(await readyz(d.httpPort), 200);

  const agent = new TestAgent(`127.0.0.1:${d.grpcPort}`, 'token-node-a').hello('node-a');
  agents.push(agent);
  await waitFor(() => agent.plans().length === 1, { timeoutMs: 10_000, what: "the agent's plan" });

  // A flip whose writes are parked at the apiserver: the batcher has work in flight when stop() begins.
  api.hold();
  d.pipeline.accept('node-a', [{ podUid: uid, quality: 'healthy-gate', state: false, result: '', exitCode: 1, errorKind: '', durationMs: 5, observedAtMs: Date.now() }]);
  await waitFor(() => api!.parked.length > 0, { timeoutMs: 10_000, what: 'a GameServer/pod write in flight' });

  let stopped = false;
  const stopping = d.stop().then(() => (stopped = true));
  // Not ready before anything else happens: same tick as stop(), no stream has ended yet.
  assert.equal(d.ready(), false);
  assert.equal(agent.error, undefined);

  // In the window: /readyz answers 503 while the flush is still held.
  assert.equal(await readyz(d.httpPort), 503);
  const ended = await agent.waitForError(10_000);
  assert.equal(ended.code, status.UNAVAILABLE, 'the agent is told to reconnect elsewhere');
  assert.equal(stopped, false, 'stop() waits for the queued writes');
  assert.equal(await readyz(d.httpPort), 503);

  api.release();
  await waitFor(() => stopped, { timeoutMs: 15_000, what: 'stop() to resolve after the flush' });
  await stopping;
  decider = undefined;
  // The flip was written before the process would exit, not dropped.
  const gs = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`);
  assert.equal(gs.spec.opsState, 'GateMaintaining');
  const pod = await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/minecraft-0`);
  assert.equal(pod.status.conditions.find((c: { type: string }) => c.type === 'game.kruise.io/healthy-gate')?.status, 'False');
  // And the HTTP server is gone with it.
  await assert.rejects(fetch(`http://127.0.0.1:${d.httpPort}/readyz`));
});
