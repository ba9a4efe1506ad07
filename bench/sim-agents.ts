// Simulated agents for the decider benches: one child process holds many "nodes", each with its own
// real grpc-js stream (hello, full plan, outcome batches) to the decider under test, the way the real
// agent speaks the protocol. It probes nothing: the parent tells it which outcomes flip, and it stamps
// each outcome with the time it "crossed its threshold" (observedUnixMs), so the parent can measure
// flip → patch end to end, gRPC transit included. Run by decider-flips.ts through fork().
import { credentials, Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { AgentServiceClient, type AgentMessage, type DeciderMessage, type Outcome as WireOutcome, type QualityCounters } from '../proto/gen/okgsq/v1/agent.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../common/probe-duration-buckets.js';

/**
 * A real agent reports its run counters every few seconds; the decider takes that as the node's
 * heartbeat (a silent node goes stale, with a Warning Event). The simulated nodes do the same.
 */
const COUNTERS_INTERVAL_MS = 5_000;

export type SimCommand =
  | { cmd: 'connect'; address: string; nodes: string[]; expectedKeys: number; sharedConnection?: boolean }
  | { cmd: 'flips'; quality: string; names: string[]; rate: number }
  | { cmd: 'resync' }
  | { cmd: 'disconnect' }
  | { cmd: 'exit' };

export type SimReply =
  | { type: 'connected'; keys: number; ms: number }
  | { type: 'flipped'; count: number; ms: number; planUpdates: number }
  | { type: 'resynced'; outcomes: number }
  | { type: 'disconnected' }
  | { type: 'error'; message: string };

interface Key {
  node: string;
  podUid: string;
  quality: string;
}

interface Latest {
  state: boolean;
  result: string;
  observedUnixMs: number;
}

const HEALTHY_RESULTS = ['', ''];
/** 'load' flips its result only (state stays true): a result change that matches no action. */
const LOAD_RESULTS = ['low', 'high'];

class SimAgents {
  private readonly streams = new Map<string, ClientDuplexStream<AgentMessage, DeciderMessage>>();
  private readonly clients: AgentServiceClient[] = [];
  /** podName/quality → key, from the plans the decider sent. */
  private readonly keys = new Map<string, Key>();
  private readonly latest = new Map<string, Latest>();
  private generation = new Map<string, number>();
  /** node → the namespace and set of its plan (counters are labelled with them). */
  private readonly namespaces = new Map<string, { namespace: string; set: string }>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Plan messages received (all nodes), to see how much plan traffic the decider sends during flips. */
  private planUpdates = 0;

  async connect(address: string, nodes: string[], expectedKeys: number, sharedConnection = false): Promise<SimReply> {
    const t0 = Date.now();
    this.keys.clear();
    for (const node of nodes) {
      // One client with a local subchannel pool per node: its own TCP connection, as each real agent
      // has (grpc-js would otherwise share one connection between clients of the same target).
      // sharedConnection: all nodes' streams on one HTTP/2 connection (grpc-js's global subchannel pool).
      const client = new AgentServiceClient(address, credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        ...(sharedConnection ? {} : { 'grpc.use_local_subchannel_pool': 1 }),
      });
      this.clients.push(client);
      const md = new Metadata();
      md.set('authorization', `Bearer bench-${node}`);
      const stream = client.connect(md);
      stream.on('data', (m: DeciderMessage) => {
        if (m.body?.$case !== 'plan') return;
        const plan = m.body.value;
        this.planUpdates++;
        this.generation.set(node, plan.generation);
        for (const a of plan.upsert) {
          this.keys.set(`${a.podName}/${a.quality}`, { node, podUid: a.podUid, quality: a.quality });
          this.namespaces.set(node, { namespace: a.namespace, set: a.gameServerSet });
        }
      });
      stream.on('error', () => undefined); // ends are expected on disconnect/restart
      stream.write({ body: { $case: 'hello', value: { nodeName: node, agentVersion: 'bench-sim', runtimeName: 'sim', runtimeVersion: '0' } } });
      this.streams.set(node, stream);
    }
    const deadline = Date.now() + 120_000;
    while (this.keys.size < expectedKeys) {
      if (Date.now() > deadline) return { type: 'error', message: `plans hold ${this.keys.size} of ${expectedKeys} keys after 120 s` };
      await new Promise((r) => setTimeout(r, 20));
    }
    // On reconnect a real agent re-sends its latest state: do the same.
    this.sendAll(true);
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.sendCounters(), COUNTERS_INTERVAL_MS);
    return { type: 'connected', keys: this.keys.size, ms: Date.now() - t0 };
  }

  private outcome(key: Key, l: Latest): WireOutcome {
    return { podUid: key.podUid, quality: key.quality, state: l.state, result: l.result, exitCode: l.state ? 0 : 1, errorKind: '', durationMs: 4, observedUnixMs: l.observedUnixMs };
  }

  private send(node: string, outcomes: WireOutcome[], resync: boolean): void {
    this.streams.get(node)?.write({ body: { $case: 'outcomes', value: { outcomes, resync, counters: [], planGeneration: this.generation.get(node) ?? 0 } } });
  }

  private sendCounters(): void {
    const buckets = new Array<number>(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
    buckets[0] = 1;
    for (const [node, stream] of this.streams) {
      const labels = this.namespaces.get(node);
      if (!labels) continue;
      const counters: QualityCounters[] = [{ namespace: labels.namespace, gameServerSet: labels.set, quality: 'healthy', runs: [{ outcome: 'true', errorKind: '', count: 1 }], durationBucketCounts: buckets, durationSumSeconds: 0.004 }];
      stream.write({ body: { $case: 'outcomes', value: { outcomes: [], resync: false, counters, planGeneration: this.generation.get(node) ?? 0 } } });
    }
  }

  private sendAll(resync: boolean): number {
    const perNode = new Map<string, WireOutcome[]>();
    for (const [id, l] of this.latest) {
      const key = this.keys.get(id);
      if (!key) continue;
      let list = perNode.get(key.node);
      if (!list) perNode.set(key.node, (list = []));
      list.push(this.outcome(key, l));
    }
    let n = 0;
    for (const [node, list] of perNode) {
      for (let i = 0; i < list.length; i += 500) this.send(node, list.slice(i, i + 500), resync);
      n += list.length;
    }
    return n;
  }

  /** Flips each named GameServer's quality once, paced at `rate` per second (0: all at once, batched per node). */
  async flips(quality: string, names: string[], rate: number): Promise<SimReply> {
    const t0 = Date.now();
    const flipOne = (name: string, now: number): [string, WireOutcome] | undefined => {
      const id = `${name}/${quality}`;
      const key = this.keys.get(id);
      if (!key) return undefined;
      const prev = this.latest.get(id);
      let next: Latest;
      if (quality === 'load') {
        const i = prev ? (LOAD_RESULTS.indexOf(prev.result) + 1) % 2 : 0;
        next = { state: true, result: LOAD_RESULTS[i]!, observedUnixMs: now };
      } else {
        const state = !(prev?.state ?? true);
        next = { state, result: HEALTHY_RESULTS[state ? 0 : 1]!, observedUnixMs: now };
      }
      this.latest.set(id, next);
      return [key.node, this.outcome(key, next)];
    };
    let count = 0;
    if (rate <= 0) {
      const now = Date.now();
      const perNode = new Map<string, WireOutcome[]>();
      for (const name of names) {
        const f = flipOne(name, now);
        if (!f) continue;
        count++;
        let list = perNode.get(f[0]);
        if (!list) perNode.set(f[0], (list = []));
        list.push(f[1]);
      }
      for (const [node, list] of perNode) this.send(node, list, false);
    } else {
      for (let i = 0; i < names.length; i++) {
        const wait = t0 + (i * 1000) / rate - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing the load, not waiting for a result
        const f = flipOne(names[i]!, Date.now());
        if (!f) continue;
        count++;
        this.send(f[0], [f[1]], false);
      }
    }
    const planUpdates = this.planUpdates;
    this.planUpdates = 0;
    return { type: 'flipped', count, ms: Date.now() - t0, planUpdates };
  }

  resync(): SimReply {
    return { type: 'resynced', outcomes: this.sendAll(true) };
  }

  disconnect(): SimReply {
    clearInterval(this.heartbeat);
    for (const s of this.streams.values()) s.end();
    this.streams.clear();
    for (const c of this.clients) c.close();
    this.clients.length = 0;
    return { type: 'disconnected' };
  }
}

const sim = new SimAgents();
process.on('message', (m: SimCommand) => {
  const reply = (r: SimReply | Promise<SimReply>): void =>
    void Promise.resolve(r).then(
      (v) => process.send?.(v),
      (err: unknown) => process.send?.({ type: 'error', message: String(err) }),
    );
  switch (m.cmd) {
    case 'connect':
      return reply(sim.connect(m.address, m.nodes, m.expectedKeys, m.sharedConnection));
    case 'flips':
      return reply(sim.flips(m.quality, m.names, m.rate));
    case 'resync':
      return reply(sim.resync());
    case 'disconnect':
      return reply(sim.disconnect());
    case 'exit':
      sim.disconnect();
      process.exit(0);
  }
});
// The parent died: do not linger.
process.on('disconnect', () => process.exit(0));
