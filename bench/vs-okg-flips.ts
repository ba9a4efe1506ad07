// The flips of bench/vs-okg.ts: a file flipped inside each game container through the CRI, and the
// GameServers' opsState as a watch sees it, so flip → opsState latency is measured end to end.
import { Watch } from '@kubernetes/client-node';
import type { OkgBed } from '../test/okg-tier/okg-kit.js';
import { waitFor } from '../test/testbed/wait-for.js';

/** The file the probe reads: 1 while the quality holds. */
export const FLAG = '/tmp/okgsq-bench-flag';
/** The opsState the action writes when the quality holds. */
export const ACTION = 'Maintaining';
export const SETTLE_TIMEOUT_MS = 120_000;

export interface Seen {
  opsState: string;
  t: number;
}

export class OpsWatch {
  readonly history = new Map<string, Seen[]>();
  private abort: (() => void) | undefined;
  private stopped = false;
  constructor(private readonly bed: OkgBed, private readonly namespace: string) {}

  async start(): Promise<void> {
    const watch = new Watch(this.bed.kc);
    const req = await watch.watch(`/apis/game.kruise.io/v1alpha1/namespaces/${this.namespace}/gameservers`, {}, (type: string, gs: any) => {
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      const seq = this.history.get(gs.metadata.name) ?? [];
      const opsState = gs.spec?.opsState ?? 'None';
      if (seq.at(-1)?.opsState !== opsState) seq.push({ opsState, t: Date.now() });
      this.history.set(gs.metadata.name, seq);
    }, () => {
      if (!this.stopped) void this.start();
    });
    this.abort = () => req.abort();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.();
  }

  /** When the GameServer first showed opsState at or after `since`. */
  shown(name: string, opsState: string, since: number): number | undefined {
    return this.history.get(name)?.find((s) => s.opsState === opsState && s.t >= since)?.t;
  }
}

export interface Flip {
  name: string;
  up: boolean;
  /** When the file changed, by the container's clock (the host's). */
  t: number;
}

export class Flipper {
  private containers = new Map<string, string>();
  constructor(private readonly bed: OkgBed, private readonly namespace: string) {}

  async resolve(names: string[]): Promise<void> {
    const { containers } = await this.bed.cri.listContainers({ filter: { id: '', state: undefined, podSandboxId: '', labelSelector: { 'io.kubernetes.pod.namespace': this.namespace, 'io.kubernetes.container.name': 'minecraft' } } });
    this.containers = new Map(containers.filter((c) => c.state === 1).map((c) => [c.labels['io.kubernetes.pod.name']!, c.id]));
    for (const n of names) if (!this.containers.has(n)) throw new Error(`no running minecraft container for ${this.namespace}/${n}`);
  }

  async flip(name: string, up: boolean): Promise<Flip> {
    const res = await this.bed.cri.execSync({ containerId: this.containers.get(name)!, cmd: ['/bin/sh', '-c', `echo ${up ? 1 : 0} > ${FLAG} && date +%s%N`], timeout: 30 });
    if (res.exitCode !== 0) throw new Error(`flip of ${name}: exit ${res.exitCode}: ${res.stderr.toString()}`);
    return { name, up, t: Number(BigInt(res.stdout.toString().trim()) / 1_000_000n) };
  }
}

export const opsFor = (up: boolean): string => (up ? ACTION : 'None');

export async function waitShown(watch: OpsWatch, flips: Flip[], timeoutMs = SETTLE_TIMEOUT_MS): Promise<number[]> {
  await waitFor(() => flips.every((f) => watch.shown(f.name, opsFor(f.up), f.t) !== undefined), { timeoutMs, intervalMs: 100, what: `${flips.length} GameServers to show their flips` });
  return flips.map((f) => watch.shown(f.name, opsFor(f.up), f.t)! - f.t);
}
