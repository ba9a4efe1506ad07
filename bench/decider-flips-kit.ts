// The decider-flips benchmark's harness (bench/decider-flips.ts): the simulated agents' child process
// (sim-agents.ts) and its commands, an allow-all authenticator, and the flip → patch latency probe.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Decider } from '../decider/decider.js';
import type { AgentAuthenticator } from '../decider/ingest/ports.js';
import { splitObjectKey, type ObjectKey } from '../decider/kube/object-key.js';
import { pace } from './bench-kit.js';
import type { SimCommand, SimReply } from './sim-agents.js';

/** Every simulated agent connects from 127.0.0.1: the per-address limit on streams awaiting authentication is lifted. */
export const SIM_AGENT_LIMITS = { maxPendingStreamsPerPeer: 1_000_000 };

/** Any token is the agent of the node it claims: the bench measures the decider, not TokenReview. */
export const allowAll: AgentAuthenticator = {
  authenticate: async (_token, node) => ({ node, podName: `agent-${node}`, podUid: `agent-${node}`, expiresAtMs: Number.MAX_SAFE_INTEGER }),
  revoked: () => undefined,
  onChange: () => undefined,
};

export class Sim {
  readonly child: ChildProcess;
  private waiting: ((r: SimReply) => void) | undefined;
  constructor() {
    this.child = fork(fileURLToPath(new URL('./sim-agents.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (r: SimReply) => this.waiting?.(r));
  }
  async call(c: SimCommand): Promise<SimReply> {
    const reply = new Promise<SimReply>((resolve) => (this.waiting = resolve));
    this.child.send(c);
    const r = await reply;
    if (r.type === 'error') throw new Error(`simulated agents: ${r.message}`);
    return r;
  }
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'exit' } satisfies SimCommand);
    await Promise.race([exited, pace(5_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Flip → patch, end to end: from the outcome's observedUnixMs (stamped by the simulated agent when it
 * "crossed its threshold") to the moment the decider's last write for that GameServer returned.
 * The batcher calls pipeline.compute(key) per write job; its job.done() runs after the job's writes.
 */
export function latencyProbe(decider: Decider): { samples: number[]; internal: number[] } {
  const samples: number[] = [];
  const internal: number[] = [];
  const compute = decider.pipeline.compute.bind(decider.pipeline);
  decider.pipeline.compute = (key: ObjectKey) => {
    const job = compute(key);
    if (!job) return job;
    const { namespace, name } = splitObjectKey(key);
    const pod = decider.cache.pods.get(namespace, name);
    const observed = pod ? decider.pipeline.latestOutcome({ podUid: pod.metadata.uid, quality: 'healthy' })?.observedAtMs : undefined;
    const done = job.done;
    return {
      ...job,
      done: () => {
        if (observed !== undefined && job.steps.some((s) => s.resource === 'gameservers')) samples.push(Date.now() - observed);
        done?.();
      },
    };
  };
  const observe = decider.metrics.flipToPatch.bind(decider.metrics);
  decider.metrics.flipToPatch = (s: number) => {
    internal.push(s * 1000);
    observe(s);
  };
  return { samples, internal };
}
