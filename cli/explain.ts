// `okg-sq explain <namespace>/<gameserver>`: for each service quality, the latest outcome (the pod
// condition) and who wrote it, the previous condition on the GameServer, whether okg-sq would fire now,
// and which actions match the current outcome and why the others do not.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { EXIT, UsageError, parseCliArgs, processIo, type CliIo } from './args.js';
import { OKGSQ_CONDITION_REASON, OWNER_GSS_LABEL, GAME_KRUISE_GROUP, GAME_KRUISE_VERSION } from '../common/okg-defaults.js';
import type { ServiceQuality } from '../common/service-quality.js';
import { decide, type QualityTrace } from '../decider/rules/evaluate.js';
import { conditionType } from '../decider/rules/pod-conditions.js';
import { parseServiceQualities, type Problem } from '../decider/rules/schema.js';
import type { GameServerView, PodCondition } from '../decider/rules/types.js';
import { trimGameServer, trimPod } from '../decider/kube/cluster-cache.js';
import { KubeClient, type KubeApi } from '../decider/kube/kube-client.js';

const USAGE = `Usage: okg-sq explain <namespace>/<gameserver> [--kubeconfig FILE]

Reads the GameServer, its Pod and its GameServerSet and explains, per service quality: the latest
probe outcome (the pod condition game.kruise.io/<name>) and whether okg-sq or another writer set it,
the previous condition on the GameServer, whether an evaluation now would fire, and which actions
match the current outcome (and why the others do not).
`;

const MAX_STALE_EVENTS_SHOWN = 3;

export interface ExplainInput {
  readonly gameServerSet: unknown;
  readonly gameServer: GameServerView;
  readonly podConditions: readonly PodCondition[];
  readonly now: Date;
  /** Recent ProbesStale Events of the set (the decider's word that some probes' agents are gone). */
  readonly staleEvents?: readonly { readonly message: string; readonly lastTimestamp?: string }[];
}

/** The explanation as text (pure: tests feed objects, runExplain feeds the cluster's). */
export function explainGameServer(input: ExplainInput): string {
  const { qualities, problems } = parseServiceQualities(input.gameServerSet);
  const gs = input.gameServer;
  const lines: string[] = [];
  lines.push(`GameServer ${gs.metadata.namespace ?? ''}/${gs.metadata.name}: opsState ${JSON.stringify(gs.spec?.opsState ?? '')}`);
  for (const p of problems.filter((x: Problem) => x.severity === 'error')) lines.push(`  invalid (skipped): ${p.path}: ${p.message}`);
  for (const e of input.staleEvents ?? []) lines.push(`  stale probes reported ${e.lastTimestamp ?? ''}: ${e.message}`);
  const now = decide({ qualities, podConditions: input.podConditions, gameServer: gs, now: input.now });
  // The same outcomes against no previous conditions: shows which actions the current outcome matches.
  const fresh = decide({ qualities, podConditions: input.podConditions, gameServer: { ...gs, status: {} }, now: input.now });
  qualities.forEach((q: ServiceQuality, i: number) => {
    const cond = input.podConditions.find((c) => c.type === conditionType(q.name));
    lines.push('', `quality ${q.name}`);
    if (!cond) {
      lines.push('  latest outcome: none yet (no pod condition): nothing fires until the probe crosses its threshold');
    } else {
      const writer = cond.reason === OKGSQ_CONDITION_REASON ? 'okg-sq' : `another writer (reason ${JSON.stringify(cond.reason ?? '')}, e.g. kruise-daemon)`;
      lines.push(`  latest outcome: ${cond.status} result ${JSON.stringify(cond.message ?? '')} probed ${cond.lastProbeTime ?? '-'} by ${writer}`);
    }
    const trace: QualityTrace | undefined = now.trace[i];
    const prev = trace?.previous;
    lines.push(
      prev
        ? `  previous: ${prev.status ?? '-'} result ${JSON.stringify(prev.result ?? '')} lastActionTransitionTime ${prev.lastActionTransitionTime ?? '-'}`
        : '  previous: none on the GameServer',
    );
    lines.push(`  evaluation now: ${trace?.fired ? 'FIRES' : 'does not fire'}: ${trace?.why ?? ''}`);
    const f = fresh.trace[i];
    if (cond && f) {
      for (const a of f.actions) lines.push(`    action ${a.index}: ${a.matched ? 'matches' : 'no match'}: ${a.why}`);
    }
  });
  if (now.gameServerPatch || now.statusChanged) {
    lines.push('', `pending writes: ${now.gameServerPatch ? `GameServer patch ${JSON.stringify(now.gameServerPatch)}` : ''}${now.gameServerPatch && now.statusChanged ? ' + ' : ''}${now.statusChanged ? 'status update' : ''}`);
  } else {
    lines.push('', 'converged: okg-sq has nothing to write for this GameServer');
  }
  return lines.join('\n') + '\n';
}

/**
 * The KubeConfig the way kubectl finds it, with errors that name the file: --kubeconfig, else $KUBECONFIG,
 * else ~/.kube/config, else the in-cluster service account. The client library's own fallback (an
 * http://localhost:8080 cluster) would only fail later with a message about TLS settings.
 */
export function loadKubeConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  const fromFile = (f: string, source: string): { kc: KubeConfig; source: string } => {
    try {
      kc.loadFromFile(f);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `not a valid kubeconfig: ${String((err as Error).message).split('\n')[0]}`;
      throw new UsageError(`${source}: cannot read ${f}: ${reason}`);
    }
    if (!kc.getCurrentCluster()) throw new UsageError(`${source}: ${f} has no current context with a cluster (current-context ${JSON.stringify(kc.getCurrentContext() ?? '')})`);
    return { kc, source: f };
  };
  if (file !== undefined) return fromFile(file, '--kubeconfig');
  const fromEnv = (env['KUBECONFIG'] ?? '').split(':').filter((f) => f !== '');
  if (fromEnv.length > 0) {
    // Several files: the client library merges them as kubectl does; only read errors are ours to name.
    if (fromEnv.length === 1) return fromFile(fromEnv[0]!, 'KUBECONFIG');
    kc.loadFromDefault();
    return { kc, source: `KUBECONFIG=${env['KUBECONFIG']}` };
  }
  const home = env['HOME'] ? join(env['HOME'], '.kube', 'config') : undefined;
  if (home !== undefined && existsSync(home)) return fromFile(home, '~/.kube/config');
  if (env['KUBERNETES_SERVICE_HOST']) {
    kc.loadFromCluster();
    return { kc, source: 'the in-cluster service account' };
  }
  throw new NoClusterError(`no kubeconfig: --kubeconfig not given, KUBECONFIG unset and ${home ?? '~/.kube/config'} does not exist`);
}

/** No way to reach a cluster was configured (exit 1: the command was right, the machine is not set up). */
class NoClusterError extends Error {}

async function getJson(api: KubeApi, path: string, what: string, server = ''): Promise<any> {
  let res;
  try {
    res = await api.request('GET', path);
  } catch (err) {
    // A connection problem, not a missing object: say which server (from which kubeconfig) failed.
    throw new Error(`cannot reach the Kubernetes API server ${server}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (res.status === 404) throw new Error(`${what} not found`);
  if (res.status !== 200) throw new Error(`GET ${what}: HTTP ${res.status}`);
  return res.body;
}

export async function runExplain(argv: string[], io: CliIo = processIo): Promise<number> {
  let api: KubeClient | undefined;
  try {
    const { values, positionals } = parseCliArgs(argv, { kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
    if (values.help) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    const target = positionals[0];
    const m = target === undefined || positionals.length !== 1 ? null : /^([^/]+)\/([^/]+)$/.exec(target);
    if (!m) throw new UsageError('want exactly one <namespace>/<gameserver>');
    const [, namespace, name] = m as unknown as [string, string, string];
    const { kc, source } = loadKubeConfig(values.kubeconfig);
    const server = `${kc.getCurrentCluster()?.server ?? '(none)'} (from ${source})`;
    api = new KubeClient(kc);
    const game = `/apis/${GAME_KRUISE_GROUP}/${GAME_KRUISE_VERSION}/namespaces/${encodeURIComponent(namespace)}`;
    const gs = trimGameServer(await getJson(api, `${game}/gameservers/${encodeURIComponent(name)}`, `GameServer ${namespace}/${name}`, server));
    const pod = trimPod(await getJson(api, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, `Pod ${namespace}/${name}`, server));
    const setName = gs.metadata.labels?.[OWNER_GSS_LABEL] ?? pod.metadata.labels?.[OWNER_GSS_LABEL];
    if (!setName) throw new UsageError(`GameServer ${namespace}/${name} has no ${OWNER_GSS_LABEL} label`);
    const gss = await getJson(api, `${game}/gameserversets/${encodeURIComponent(setName)}`, `GameServerSet ${namespace}/${setName}`, server);
    const selector = new URLSearchParams({ fieldSelector: `involvedObject.name=${setName},reason=ProbesStale` });
    const events = await getJson(api, `/api/v1/namespaces/${encodeURIComponent(namespace)}/events?${selector}`, 'Events', server);
    const staleEvents = ((events.items ?? []) as { message: string; lastTimestamp?: string }[])
      .sort((a, b) => String(b.lastTimestamp ?? '').localeCompare(String(a.lastTimestamp ?? '')))
      .slice(0, MAX_STALE_EVENTS_SHOWN);
    io.stdout.write(explainGameServer({ gameServerSet: gss, gameServer: gs, podConditions: pod.status?.conditions ?? [], now: new Date(), staleEvents }));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`okg-sq explain: ${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.stderr.write(`okg-sq explain: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  } finally {
    api?.close();
  }
}
