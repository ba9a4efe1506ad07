// Shared helpers of the OKG tier: it runs under `cli.js run --cluster --okg [--install]`, where OKG's own
// controllers (kruise-manager, kruise-daemon, kruise-game-manager) run as pods beside, or instead of,
// okg-sq. GameServerSets are applied as users write them (examples/minecraft); OKG creates the Advanced
// StatefulSet, the pods and the GameServers. Writes are told apart by the apiserver's audit log.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, Watch, type V1Pod } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { AUDIT_LOG_ENV_VAR, CLUSTER_ENV_VARS, OKG_ENV_VAR } from '../testbed/cluster-bed.js';
import { CriClient } from '../testbed/cri-client.js';
import { deciderMetric, type MetricSample } from '../testbed/decider-metrics.js';
import { testbedEnv } from '../testbed/env.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { repoPath } from '../testbed/repo-root.js';
import { waitForOpsState } from '../testbed/game-server-wait.js';
import { waitFor } from '../testbed/wait-for.js';

const execFileAsync = promisify(execFile);
export const GROUP = 'game.kruise.io';
export const VERSION = 'v1alpha1';
export const POD_TIMEOUT_MS = 300_000;
export const FLIP_TIMEOUT_MS = 120_000;
/** How long nobody may write to a settled pod or GameServer (issue 11: 60 s after each flip). */
export const QUIET_WINDOW_MS = 60_000;
/** A write older than this ends a burst of writes (okg-sq's three per change, OKG's label copy onto the pod). */
const BURST_GAP_MS = 5_000;
export const MINECRAFT_IMAGE = (version: string): string => `localhost:5000/okgsq/minecraft-example:${version}`;
/** The users of OKG's controllers and okg-sq's decider (their ServiceAccounts), as the audit log names them. */
export const USERS = {
  kruiseGame: 'system:serviceaccount:kruise-game-system:kruise-game-controller-manager',
  kruise: 'system:serviceaccount:kruise-system:kruise-manager',
  kruiseDaemon: 'system:serviceaccount:kruise-system:kruise-daemon',
} as const;
/** The bed's admin (the test's own kubectl and client calls). */
export const ADMIN_USER = 'okgsq-testbed-admin';

export interface AuditEvent {
  stage: string;
  verb: string;
  user: { username: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  /** The body of a write to a GameServer's spec (the bed's audit policy records only those). */
  requestObject?: unknown;
}

export type OkgMode = 'probing-on' | 'probing-off';

/**
 * Fails the test when the bed runs OKG's stack in the other mode: `--okg` is for the probing-on tests,
 * `--okg --install` for the probing-off ones (scripts/test.sh names each file's bed; a test never skips).
 */
export function requireOkgMode(want: OkgMode): void {
  const mode = process.env[OKG_ENV_VAR];
  if (mode === want) return;
  throw new Error(`this test needs the bed's OKG mode ${want} (${want === 'probing-on' ? 'cli.js run --cluster --okg' : 'cli.js run --cluster --okg --install'}), the bed has ${mode ?? 'no OKG stack'}`);
}

export class OkgBed {
  readonly env = testbedEnv();
  readonly mode: OkgMode;
  readonly auditLog: string;
  readonly kubectl: string;
  readonly release: string | undefined;
  readonly kc = adminKubeConfig();
  readonly core = this.kc.makeApiClient(CoreV1Api);
  readonly custom = this.kc.makeApiClient(CustomObjectsApi);
  readonly coordination = this.kc.makeApiClient(CoordinationV1Api);
  readonly cri = new CriClient(this.env.containerdSocket);

  constructor(want?: OkgMode) {
    const mode = process.env[OKG_ENV_VAR];
    if (mode !== 'probing-on' && mode !== 'probing-off') {
      throw new Error(`${OKG_ENV_VAR} is not set: this test needs the cluster bed with OKG's stack; run under \`node dist/test/testbed/cli.js run --cluster --okg [--install] -- …\``);
    }
    if (want && mode !== want) {
      throw new Error(`this test needs kruise-daemon's probing ${want === 'probing-on' ? 'on (no --install)' : 'off (--install)'}; the bed has ${mode}`);
    }
    this.mode = mode;
    this.auditLog = process.env[AUDIT_LOG_ENV_VAR]!;
    this.kubectl = process.env[CLUSTER_ENV_VARS.kubectlBin]!;
    this.release = process.env[CLUSTER_ENV_VARS.release] || undefined;
  }

  close(): void {
    this.cri.close();
  }

  /** The decider's user (its ServiceAccount), when okg-sq is installed. */
  deciderUser(): string {
    assert.ok(this.release, 'okg-sq is installed (--install)');
    const namespace = this.release.split('/')[0]!;
    return `system:serviceaccount:${namespace}:${this.release.split('/')[1]}-decider`;
  }

  /**
   * `kubectl apply` of examples/minecraft/gameserverset.yaml into a fresh namespace, as a user would,
   * with the example image's name and optional changes of the spec. Returns the namespace.
   */
  async applyMinecraft(prefix: string, change: (gss: any) => void = () => {}): Promise<string> {
    const namespace = await createNamespace(prefix, this.kc);
    await this.applyGss(namespace, change);
    return namespace;
  }

  /**
   * (Re-)applies the example (kubectl apply) with the example image 1.0 and the given changes: a change
   * the previous apply made and this one does not is undone, as with any `kubectl apply`.
   */
  async applyGss(namespace: string, change: (gss: any) => void): Promise<void> {
    const gss = parse(readFileSync(repoPath('examples', 'minecraft', 'gameserverset.yaml'), 'utf8'));
    gss.metadata.namespace = namespace;
    const game = gss.spec.gameServerTemplate.spec.containers[0];
    game.image = MINECRAFT_IMAGE('1.0');
    // The bed's images are imported, never pulled; kruise's Advanced StatefulSet defaults an unset policy
    // to Always (for in-place updates: apis/apps/defaults/pod.go), which would try a registry.
    game.imagePullPolicy = 'IfNotPresent';
    change(gss);
    const file = join(this.env.workDir, `${namespace}-gss.yaml`);
    writeFileSync(file, stringify(gss));
    await this.kubectlRun('apply', '-f', file);
  }

  async kubectlRun(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(this.kubectl, ['--kubeconfig', this.env.kubeconfig, ...args], { maxBuffer: 16 << 20 })
      .catch((err: Error & { stderr?: string }) => {
        throw new Error(`kubectl ${args.join(' ')}: ${err.stderr || err.message}`, { cause: err });
      });
    return stdout;
  }

  async gameServers(namespace: string, set = 'minecraft'): Promise<any[]> {
    const list = await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', labelSelector: `game.kruise.io/owner-gss=${set}` });
    return (list.items as any[]).filter((gs) => !gs.metadata.deletionTimestamp);
  }

  async gameServer(namespace: string, name: string): Promise<any> {
    return this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', name });
  }

  /** Waits for `replicas` running pods of the set, each with its GameServer (made by OKG), and returns the pods by name. */
  async waitForReplicas(namespace: string, replicas: number, set = 'minecraft'): Promise<Map<string, V1Pod>> {
    return waitFor(async () => {
      const pods = (await this.core.listNamespacedPod({ namespace, labelSelector: `game.kruise.io/owner-gss=${set}` })).items
        .filter((p) => !p.metadata?.deletionTimestamp && p.status?.containerStatuses?.[0]?.state?.running);
      if (pods.length !== replicas) return false;
      const servers = await this.gameServers(namespace, set);
      if (servers.length !== replicas) return false;
      const names = new Set(servers.map((gs) => gs.metadata.name));
      if (!pods.every((p) => names.has(p.metadata!.name!))) return false;
      return new Map(pods.map((p) => [p.metadata!.name!, p]));
    }, { timeoutMs: POD_TIMEOUT_MS, intervalMs: 1000, what: `${replicas} running pods of ${namespace}/${set}, each with its GameServer` });
  }

  /**
   * Waits until each named GameServer's status has the first outcome of every quality okg-sq probes
   * (all False: the game's processes are up and, with okg-sq, nothing is published before a real outcome).
   */
  async waitForFirstOutcomes(namespace: string, names: string[], qualities: string[]): Promise<void> {
    for (const name of names) {
      await waitFor(async () => {
        const conditions: any[] = (await this.gameServer(namespace, name)).status?.serviceQualitiesConditions ?? [];
        return qualities.every((q) => conditions.find((c) => c.name === q)?.status === 'False');
      }, { timeoutMs: FLIP_TIMEOUT_MS, intervalMs: 500, what: `${namespace}/${name}'s first outcomes of ${qualities.join(', ')}` });
    }
  }

  waitForOpsState(namespace: string, name: string, opsState: string): Promise<any> {
    return waitForOpsState(() => this.gameServer(namespace, name), `${namespace}/${name}`, opsState, FLIP_TIMEOUT_MS);
  }

  /** Runs examples/minecraft/ctl.sh in the pod's game container through the CRI (kill-gate, kill-data, start). */
  async ctl(namespace: string, pod: string, ...args: string[]): Promise<void> {
    await this.exec(namespace, pod, '/bin/sh', '/minecraft/ctl.sh', ...args);
  }

  /** Runs a command in the pod's game container through the CRI (as the game would change its own state); it must exit 0. */
  async exec(namespace: string, pod: string, ...argv: string[]): Promise<void> {
    const { containers } = await this.cri.listContainers({ filter: { id: '', state: undefined, podSandboxId: '', labelSelector: { 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.name': pod, 'io.kubernetes.container.name': 'minecraft' } } });
    const running = containers.filter((c) => c.state === 1); // CONTAINER_RUNNING
    assert.equal(running.length, 1, `one running minecraft container in ${namespace}/${pod}`);
    const res = await this.cri.execSync({ containerId: running[0]!.id, cmd: argv, timeout: 30 });
    assert.equal(res.exitCode, 0, `${argv.join(' ')} in ${namespace}/${pod}: ${res.stdout.toString()}${res.stderr.toString()}`);
  }

  /** Audit events (ResponseComplete, successful) of writes to the namespace's pods and GameServers. */
  audit(namespace: string, since?: Date): AuditEvent[] {
    return this.auditAll(namespace, since).filter((e) => (e.responseStatus?.code ?? 0) < 300);
  }

  /** Audit events (ResponseComplete) of writes to the namespace's pods and GameServers, refused ones included. */
  auditAll(namespace: string, since?: Date): AuditEvent[] {
    const out: AuditEvent[] = [];
    for (const line of readFileSync(this.auditLog, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as AuditEvent;
      if (e.stage !== 'ResponseComplete' || e.objectRef?.namespace !== namespace) continue;
      if (since && new Date(e.requestReceivedTimestamp) < since) continue;
      out.push(e);
    }
    return out;
  }

  /**
   * Waits until the named objects' writes have stopped (none for BURST_GAP_MS: okg-sq's three, OKG's label
   * copy onto the pod), then asserts that nobody writes them for QUIET_WINDOW_MS.
   */
  async assertQuietAfterSettling(namespace: string, names: string[]): Promise<void> {
    const ours = (since?: Date) => this.audit(namespace, since).filter((e) => names.includes(e.objectRef?.name ?? ''));
    await waitFor(() => {
      const last = ours().at(-1);
      return !last || Date.now() - new Date(last.requestReceivedTimestamp).getTime() > BURST_GAP_MS;
    }, { timeoutMs: 120_000, intervalMs: 500, what: `writes to ${names.join(', ')} to stop` });
    const start = new Date();
    await delay(QUIET_WINDOW_MS);
    assert.deepEqual(describeWrites(ours(start)), [], `no write to ${names.join(', ')} in the ${QUIET_WINDOW_MS / 1000} s after settling`);
  }

  /** The decider pod holding the leader Lease (okg-sq installed). */
  async leaderDecider(): Promise<V1Pod> {
    assert.ok(this.release, 'okg-sq is installed (--install)');
    const [namespace, name] = this.release.split('/') as [string, string];
    return waitFor(async () => {
      const lease = await this.coordination.readNamespacedLease({ namespace, name: `${name}-decider` });
      const holder = lease.spec?.holderIdentity;
      if (!holder) return false;
      const pod = await this.core.readNamespacedPod({ namespace, name: holder });
      return pod.status?.podIP ? pod : false;
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'the leader decider pod' });
  }

  /** The samples of one metric family on the leader decider's /metrics. */
  async deciderMetric(family: string): Promise<MetricSample[]> {
    return deciderMetric(await this.leaderDecider(), family);
  }

  /** Watches the namespace's GameServers and records each one's sequence of spec.opsState values. */
  async recordOpsStates(namespace: string): Promise<{ sequences: Map<string, string[]>; stop: () => void }> {
    const sequences = new Map<string, string[]>();
    const watch = new Watch(this.kc);
    const req = await watch.watch(`/apis/${GROUP}/${VERSION}/namespaces/${namespace}/gameservers`, {}, (type: string, gs: any) => {
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      const seq = sequences.get(gs.metadata.name) ?? [];
      const state = gs.spec?.opsState ?? 'None';
      if (seq.at(-1) !== state) seq.push(state);
      sequences.set(gs.metadata.name, seq);
    }, () => {});
    return { sequences, stop: () => req.abort() };
  }
}

/**
 * Each GameServer's sequence of opsState values after the minecraft scenario: minecraft-0 loses and gets
 * back its gate process, minecraft-1 its data process, minecraft-2 is left alone.
 */
export const SCENARIO_SEQUENCES: Readonly<Record<string, readonly string[]>> = {
  'minecraft-0': ['None', 'GateMaintaining', 'None'],
  'minecraft-1': ['None', 'DataMaintaining', 'None'],
  'minecraft-2': ['None'],
};

/** "user verb resource[/subresource] name" for messages. */
export function describeWrites(events: AuditEvent[]): string[] {
  return events.map((e) => `${e.requestReceivedTimestamp} ${e.user.username} ${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.name}${e.requestObject === undefined ? '' : ` ${JSON.stringify(e.requestObject)}`}`);
}

/**
 * What OKG's controller computes for one quality from the pod's condition game.kruise.io/<name>
 * (kruise-game's syncServiceQualities): status and lastProbeTime copied, the message with '|' and newlines
 * removed as the result.
 */
export function okgQualityFromPod(pod: V1Pod, quality: string): { name: string; status: string; result: string; lastProbeTime: string } | undefined {
  const cond = pod.status?.conditions?.find((c) => c.type === `game.kruise.io/${quality}`);
  if (!cond) return undefined;
  const probe = cond.lastProbeTime as unknown as Date | string | undefined;
  return {
    name: quality,
    status: cond.status,
    result: (cond.message ?? '').replaceAll('|', '').replaceAll('\n', ''),
    lastProbeTime: probe instanceof Date ? probe.toISOString().replace(/\.\d{3}Z$/, 'Z') : String(probe ?? ''),
  };
}
