import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { CriExecRuntime, FRESH_SETTLE_MS, KUBELET_LABELS, type CriPort } from '../../../agent/cri/cri-exec-runtime.js';
import { resolveCriEndpoint } from '../../../agent/cri/cri-endpoint.js';
import { Container, ContainerState, ContainerStatus } from '../../../proto/gen/cri/runtime/v1/api.js';
import { ProbeRunError } from '../../../common/probe/probe-run-error.js';
import type { ExecTarget, ProbeTarget } from '../../../common/probe/types.js';
import { FakeClock, settle } from '../probe/fake-clock.js';
import type { Outcome } from '../../../common/outcome.js';
import { ProbeEngine } from '../../../common/probe/probe-engine.js';

const RUNNING = ContainerState.CONTAINER_RUNNING;
const EXITED = ContainerState.CONTAINER_EXITED;
/** 2026-11-18T…Z in the runtime's Unix nanoseconds: above 2^53, as every real CRI timestamp is. */
const STARTED_NS = 1_795_000_000_123_456_789n;

function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function container(id: string, podUid: string, name: string, state = RUNNING, attempt = 0, createdAt = STARTED_NS): Container {
  return Container.fromPartial({
    id,
    state,
    createdAt,
    metadata: { name, attempt },
    labels: { [KUBELET_LABELS.podUid]: podUid, [KUBELET_LABELS.containerName]: name },
  });
}

class FakeCri implements CriPort {
  containers: Container[] = [];
  calls: string[] = [];
  execAnswer: (id: string) => Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> = async () => ({
    stdout: Buffer.from('gate\n'),
    stderr: Buffer.alloc(0),
    exitCode: 0,
  });
  async listContainers(): Promise<Container[]> {
    this.calls.push('ListContainers');
    return this.containers;
  }
  /** The listed container's state (RUNNING when not listed, as before); `gone` ids answer NOT_FOUND. */
  gone = new Set<string>();
  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    this.calls.push('ContainerStatus');
    if (this.gone.has(id)) throw grpcError(status.NOT_FOUND, `container "${id}": not found`);
    const state = this.containers.find((c) => c.id === id)?.state ?? RUNNING;
    return ContainerStatus.fromPartial({ id, state, createdAt: STARTED_NS - 5_000_000n, startedAt: STARTED_NS });
  }
  async execSync(id: string) {
    this.calls.push(`ExecSync:${id}`);
    return this.execAnswer(id);
  }
}

/** One running container 'a' of uid-1, listed; no call recorded yet. */
async function listedRunning(clock = new FakeClock()): Promise<{ cri: FakeCri; rt: CriExecRuntime }> {
  const cri = new FakeCri();
  cri.containers = [container('a', 'uid-1', 'game')];
  const rt = new CriExecRuntime(cri, { clock });
  await rt.refresh();
  cri.calls.length = 0;
  return { cri, rt };
}

const target: ExecTarget = { namespace: 'ns', podName: 'p', podUid: 'uid-1', containerName: 'game' };
const opts = { timeoutMs: 1_000, signal: new AbortController().signal };

async function rejectsWithKind(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ProbeRunError && err.kind === kind);
}

describe('CriExecRuntime.containerState', () => {
  it('tells running, not running and missing apart per pod UID (one container name in two pods)', async () => {
    const cri = new FakeCri();
    cri.containers = [container('a', 'uid-1', 'game'), container('b', 'uid-2', 'game', EXITED)];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    assert.equal(await rt.containerState(target), 'running');
    assert.equal(await rt.containerState({ ...target, podUid: 'uid-2' }), 'not_running');
    assert.equal(await rt.containerState({ ...target, podUid: 'uid-3' }), 'not_found');
    assert.deepEqual(cri.calls, ['ListContainers'], 'from one listing');
  });

  it('a runtime that never answered a listing cannot tell', async () => {
    const cri = new FakeCri();
    cri.listContainers = async () => {
      throw grpcError(status.UNAVAILABLE, 'no runtime');
    };
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    assert.equal(await rt.containerState(target), undefined);
  });

  it('fresh: a container that stopped or went since the listing is seen at once', async () => {
    const cri = new FakeCri();
    cri.containers = [container('a', 'uid-1', 'game')];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    assert.equal(await rt.containerState(target), 'running');
    cri.containers = [container('a', 'uid-1', 'game', EXITED)];
    assert.equal(await rt.containerState(target), 'running', 'the listing is not asked again in steady state');
    assert.equal(await rt.containerState(target, { fresh: true }), 'not_running');
    cri.containers = [container('c', 'uid-1', 'game', RUNNING, 1)];
    await rt.refresh();
    cri.gone.add('c');
    cri.containers = [];
    assert.equal(await rt.containerState(target, { fresh: true }), 'not_found');
  });

  it('fresh with settle: a container still running is asked again until FRESH_SETTLE_MS, then is running', async () => {
    const clock = new FakeClock();
    const { cri, rt } = await listedRunning(clock);
    const answer = rt.containerState(target, { fresh: true, settle: true });
    await clock.advance(FRESH_SETTLE_MS);
    assert.equal(await answer, 'running');
    assert.ok(cri.calls.filter((c) => c === 'ContainerStatus').length > 1);
    assert.ok(!cri.calls.includes('ListContainers'));
  });

  it('fresh without settle: one ContainerStatus, answered with no time passing', async () => {
    const { cri, rt } = await listedRunning();
    let answer: string | undefined;
    void rt.containerState(target, { fresh: true }).then((a) => void (answer = a));
    await settle();
    assert.equal(answer, 'running');
    assert.deepEqual(cri.calls, ['ContainerStatus']);
  });
});

describe('CriExecRuntime under the probe engine (docs/design.md §18)', () => {
  const probe: ProbeTarget = {
    key: { podUid: 'uid-1', quality: 'up' },
    namespace: 'ns',
    podName: 'p',
    gameServerSet: 'gss',
    containerName: 'game',
    podIp: '127.0.0.1',
    handler: { kind: 'exec', command: ['/probe.sh'] },
    timing: { initialDelaySeconds: 1, timeoutSeconds: 2, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
    containerStartedAtMs: 0,
  };

  /** The engine over the runtime over a fake CRI, the container started 100 s before the clock's start (a whole second: a slot). */
  async function bed() {
    const clock = new FakeClock(Math.ceil(Number(STARTED_NS / 1_000_000n) / 1_000) * 1_000 + 100_000);
    const { cri, rt } = await listedRunning(clock);
    const outcomes: Outcome[] = [];
    const engine = new ProbeEngine({ exec: rt, clock, onOutcome: (o) => outcomes.push(o), random: () => 0 });
    engine.upsert([probe]);
    engine.start();
    await clock.advance(0);
    assert.deepEqual(outcomes.map((o) => o.state), [true], 'the first run: exit 0');
    return { cri, clock, engine, outcomes };
  }

  it("a live container's exec that starts failing (its own exit code) is published false by the run that saw it", async () => {
    const { cri, clock, engine, outcomes } = await bed();
    const started = clock.now();
    cri.execAnswer = async () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 1 });
    await clock.advance(1_000); // the next run, one period on
    assert.deepEqual(outcomes.map((o) => [o.state, o.exitCode]), [[true, 0], [false, 1]]);
    assert.equal(outcomes[1]!.observedAtMs, started + 1_000, 'not held for FRESH_SETTLE_MS');
    await engine.stop();
  });

  it('an exec killed with its container (exit 137), which the runtime still lists as running for a moment, publishes no false', async () => {
    const { cri, clock, engine, outcomes } = await bed();
    cri.execAnswer = async () => {
      // containerd handles the container's own exit a little after the killed exec returns.
      clock.setTimeout(() => void (cri.containers = [container('a', 'uid-1', 'game', EXITED)]), 300);
      return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 137 };
    };
    await clock.advance(3_000);
    assert.deepEqual(outcomes.map((o) => o.state), [true]);
    await engine.stop();
  });
});

describe('CriExecRuntime', () => {
  it('makes exactly one CRI call (ExecSync) per exec probe in steady state', async () => {
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game'), container('c0', 'uid-1', 'game', EXITED)];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    await rt.execSync(target, ['/probe.sh'], opts);
    cri.calls = [];
    for (let i = 0; i < 50; i++) {
      const out = await rt.execSync(target, ['/probe.sh'], opts);
      assert.equal(new TextDecoder().decode(out.stdout), 'gate\n');
    }
    assert.deepEqual(new Set(cri.calls), new Set(['ExecSync:c1']));
    assert.equal(cri.calls.length, 50);
  });

  it('picks up a restarted container: a stale ID costs one relist and one retry', async () => {
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game')];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    await rt.execSync(target, ['x'], opts);
    cri.containers = [container('c1', 'uid-1', 'game', EXITED), container('c2', 'uid-1', 'game', RUNNING, 1)];
    cri.execAnswer = async (id) => {
      if (id === 'c1') throw grpcError(status.NOT_FOUND, 'container c1 not found');
      return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 3 };
    };
    cri.calls = [];
    const out = await rt.execSync(target, ['x'], opts);
    assert.equal(out.exitCode, 3);
    assert.deepEqual(cri.calls, ['ExecSync:c1', 'ListContainers', 'ExecSync:c2']);
  });

  it('of two running containers of one attempt, execs in the one created last, even 1 ns later', async () => {
    const cri = new FakeCri();
    // Unix ns above 2^53: as numbers these two would be equal.
    cri.containers = [container('newer', 'uid-1', 'game', RUNNING, 0, STARTED_NS + 1n), container('older', 'uid-1', 'game', RUNNING, 0, STARTED_NS)];
    assert.equal(Number(STARTED_NS), Number(STARTED_NS + 1n));
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    await rt.execSync(target, ['x'], opts);
    assert.deepEqual(cri.calls, ['ListContainers', 'ExecSync:newer']);
  });

  it('tells a stopped container from a missing one, and rate-limits relists for misses', async () => {
    const clock = new FakeClock();
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game', EXITED)];
    const rt = new CriExecRuntime(cri, { clock });
    await rejectsWithKind(rt.execSync(target, ['x'], opts), 'container_not_running');
    await rejectsWithKind(rt.execSync({ ...target, containerName: 'nope' }, ['x'], opts), 'container_not_found');
    await rejectsWithKind(rt.execSync({ ...target, containerName: 'nope' }, ['x'], opts), 'container_not_found');
    assert.equal(cri.calls.filter((c) => c === 'ListContainers').length, 1, 'misses within a second share one relist');
    await clock.advance(1_000);
    await rejectsWithKind(rt.execSync({ ...target, containerName: 'nope' }, ['x'], opts), 'container_not_found');
    assert.equal(cri.calls.filter((c) => c === 'ListContainers').length, 2);
  });

  it('maps CRI statuses to error kinds', async () => {
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game')];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    const cases: [status, string, string][] = [
      [status.DEADLINE_EXCEEDED, 'timeout exceeded', 'timeout'],
      [status.UNAVAILABLE, 'connect ENOENT', 'runtime_unavailable'],
      [status.UNKNOWN, 'exec: "nope": executable file not found in $PATH', 'exec_failed'],
    ];
    for (const [code, details, kind] of cases) {
      cri.execAnswer = async () => {
        throw grpcError(code, details);
      };
      await rejectsWithKind(rt.execSync(target, ['x'], opts), kind);
    }
  });

  it("CRI-O's answer to a timed-out exec (exit -1, 'command timed out') is a timeout; another exit -1 is an exit code", async () => {
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game')];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    cri.execAnswer = async () => ({ stdout: Buffer.alloc(0), stderr: Buffer.from('command timed out'), exitCode: -1 });
    await rejectsWithKind(rt.execSync(target, ['sleep', '30'], opts), 'timeout');
    cri.execAnswer = async () => ({ stdout: Buffer.from('x'), stderr: Buffer.from('oops'), exitCode: -1 });
    assert.equal((await rt.execSync(target, ['sh'], opts)).exitCode, -1);
  });

  it('reads the container start once per container ID', async () => {
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game')];
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    assert.equal(await rt.containerStartedAtMs(target), 1_795_000_000_123, 'Unix ns from the runtime → Unix ms');
    assert.equal(await rt.containerStartedAtMs(target), 1_795_000_000_123);
    assert.equal(cri.calls.filter((c) => c === 'ContainerStatus').length, 1);
    assert.equal(await rt.containerStartedAtMs({ ...target, podUid: 'other' }), undefined);
  });

  it('asks a runtime that cannot tell the start time only once per container', async () => {
    const cri = new FakeCri();
    cri.containers = [container('c1', 'uid-1', 'game')];
    cri.containerStatus = async () => {
      cri.calls.push('ContainerStatus');
      throw grpcError(status.UNIMPLEMENTED, 'no');
    };
    const rt = new CriExecRuntime(cri, { clock: new FakeClock() });
    for (let i = 0; i < 5; i++) assert.equal(await rt.containerStartedAtMs(target), undefined);
    assert.equal(cri.calls.filter((c) => c === 'ContainerStatus').length, 1);
  });
});

describe('resolveCriEndpoint', () => {
  it('uses the configured endpoint, else the first default socket that exists', () => {
    assert.equal(resolveCriEndpoint('/tmp/x.sock'), 'unix:///tmp/x.sock');
    assert.equal(resolveCriEndpoint('unix:///a.sock'), 'unix:///a.sock');
    assert.equal(resolveCriEndpoint('', (p) => p === '/var/run/crio/crio.sock'), 'unix:///var/run/crio/crio.sock');
    assert.throws(() => resolveCriEndpoint('', () => false), /OKGSQ_CRI_ENDPOINT/);
    assert.throws(() => resolveCriEndpoint('tcp://x'), /not unix/);
  });
});
