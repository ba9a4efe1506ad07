// `okg-sq explain <namespace>/<gameserver>`: for each service quality, the latest outcome (the pod
// condition) and who wrote it, the previous condition on the GameServer, whether okg-sq would fire now,
// and which actions match the current outcome and why the others do not.
import { EXIT, PROGRAM, UsageError, parseCliArgs, processIo, type CliIo } from './args.js';
import { OKGSQ_CONDITION_REASON, OWNER_GSS_LABEL, GAME_KRUISE_GROUP, GAME_KRUISE_VERSION } from '../common/okg-defaults.js';
import type { ServiceQuality } from '../common/service-quality.js';
import { decide, type QualityTrace } from '../rules/evaluate.js';
import { kubeTimeMs } from '../rules/kube-time.js';
import { conditionType } from '../rules/pod-conditions.js';
import { gssName, parseServiceQualities, type Problem } from '../rules/schema.js';
import type { GameServerView, PodCondition } from '../rules/types.js';
import { trimGameServer, trimPod } from '../decider/kube/cluster-cache.js';
import { KubeClient, type KubeApi } from '../decider/kube/kube-client.js';
import { loadKubeConfig } from './kubeconfig.js';

/** The `version` of `explain -o json`'s shape (Explanation): bumped only when a field changes meaning. */
export const EXPLAIN_JSON_VERSION = 1;

export const EXPLAIN_USAGE = `Usage: ${PROGRAM} explain [<namespace>/]<gameserver> [-n NAMESPACE] [--context NAME]
                        [--kubeconfig FILE] [-o text|json]

Reads the GameServer, its Pod and its GameServerSet and explains, per service quality: the latest
probe outcome (the pod condition game.kruise.io/<name>) and whether okg-sq or another writer set it,
the previous condition on the GameServer, whether an evaluation now would fire, and which actions
match the current outcome (and why the others do not).

Options:
  -n, --namespace NAME     the GameServer's namespace (default: <namespace>/ in the name, else the
                           context's namespace, else "default")
      --context NAME       the kubeconfig context to use (default: its current context)
      --kubeconfig FILE    default: $KUBECONFIG, else ~/.kube/config, else the in-cluster account
  -o, --output text|json   json: one object, {"version": ${EXPLAIN_JSON_VERSION}, …} (README, "The CLI")
Exit status: 0 explained, 1 not found or the cluster unreachable, 2 usage error.
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

/**
 * What `explain -o json` prints: a stable shape, versioned (fields are only ever added; a change of
 * meaning bumps `version`). Times are the cluster's RFC 3339 strings, null when unset.
 */
export interface Explanation {
  readonly version: typeof EXPLAIN_JSON_VERSION;
  readonly gameServer: { readonly namespace: string; readonly name: string; readonly opsState: string };
  readonly gameServerSet: string;
  /** serviceQualities entries skipped as invalid (the decider does not run them). */
  readonly invalidQualities: readonly { readonly path: string; readonly code: string; readonly message: string }[];
  /** The latest ProbesStale Events of the set, newest first. */
  readonly staleReports: readonly { readonly time: string | null; readonly message: string }[];
  readonly qualities: readonly QualityExplanation[];
  /** What okg-sq would write now; null when the GameServer has converged. */
  readonly pending: { readonly gameServerPatch: unknown; readonly statusChanged: boolean } | null;
}

export interface QualityExplanation {
  readonly name: string;
  /** The pod condition game.kruise.io/<name>; null before the first outcome crossed its threshold. */
  readonly latest: {
    readonly status: string;
    readonly result: string;
    readonly probeTime: string | null;
    /** "okg-sq", or "other" (kruise-daemon or anyone else; `reason` says who). */
    readonly writtenBy: 'okg-sq' | 'other';
    readonly reason: string;
  } | null;
  /** The entry of status.serviceQualitiesConditions; null when the GameServer has none. */
  readonly previous: { readonly status: string | null; readonly result: string; readonly lastActionTransitionTime: string | null } | null;
  readonly evaluation: { readonly fires: boolean; readonly why: string };
  /** Whether each action matches the latest outcome; empty while there is none. */
  readonly actions: readonly { readonly index: number; readonly matches: boolean; readonly why: string }[];
}

/** The explanation as data (pure: tests feed objects, runExplain feeds the cluster's). */
export function explainData(input: ExplainInput): Explanation {
  const { qualities, problems } = parseServiceQualities(input.gameServerSet);
  const gs = input.gameServer;
  const now = decide({ qualities, podConditions: input.podConditions, gameServer: gs, now: input.now });
  // The same outcomes against no previous conditions: shows which actions the current outcome matches.
  const fresh = decide({ qualities, podConditions: input.podConditions, gameServer: { ...gs, status: {} }, now: input.now });
  return {
    version: EXPLAIN_JSON_VERSION,
    gameServer: { namespace: gs.metadata.namespace ?? '', name: gs.metadata.name, opsState: gs.spec?.opsState ?? '' },
    gameServerSet: gssName(input.gameServerSet),
    invalidQualities: problems.filter((p: Problem) => p.severity === 'error').map((p) => ({ path: p.path, code: p.code, message: p.message })),
    staleReports: (input.staleEvents ?? []).map((e) => ({ time: e.lastTimestamp ?? null, message: e.message })),
    qualities: qualities.map((q: ServiceQuality, i: number): QualityExplanation => {
      const cond = input.podConditions.find((c) => c.type === conditionType(q.name));
      const trace: QualityTrace | undefined = now.trace[i];
      const prev = trace?.previous;
      return {
        name: q.name,
        latest: cond
          ? {
              status: cond.status,
              result: cond.message ?? '',
              probeTime: cond.lastProbeTime ?? null,
              writtenBy: cond.reason === OKGSQ_CONDITION_REASON ? 'okg-sq' : 'other',
              reason: cond.reason ?? '',
            }
          : null,
        previous: prev ? { status: prev.status ?? null, result: prev.result ?? '', lastActionTransitionTime: prev.lastActionTransitionTime ?? null } : null,
        evaluation: { fires: trace?.fired ?? false, why: whyNotFired(q, trace, cond) },
        actions: cond ? (fresh.trace[i]?.actions ?? []).map((a) => ({ index: a.index, matches: a.matched, why: a.why })) : [],
      };
    }),
    pending: now.gameServerPatch || now.statusChanged ? { gameServerPatch: now.gameServerPatch, statusChanged: now.statusChanged } : null,
  };
}

/**
 * The evaluation's `why`, plus what a converged GameServer no longer shows: once the decider has stored a
 * non-firing outcome the stored condition equals it ("unchanged"), yet the user asks why the change to it
 * did not fire. For a permanent quality whose action applied before the latest outcome came, that is the
 * reason (docs/design.md §3: an acted permanent quality never fires again).
 */
function whyNotFired(q: ServiceQuality, trace: QualityTrace | undefined, cond: PodCondition | undefined): string {
  const why = trace?.why ?? '';
  const stored = trace?.previous;
  if (!trace || !stored || trace.fired || !q.permanent) return why;
  const unchanged = (stored.status ?? '') === (trace.status ?? '') && (stored.result ?? '') === (trace.result ?? '');
  const acted = kubeTimeMs(stored.lastActionTransitionTime);
  const came = kubeTimeMs(cond?.lastProbeTime);
  if (!unchanged || acted === undefined || came === undefined || came <= acted) return why;
  return `${why}; this outcome came at ${cond!.lastProbeTime}, after an action applied at ${stored.lastActionTransitionTime}, and did not fire: permanent, an action already applied`;
}

/** The explanation as text. */
export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  lines.push(`GameServer ${e.gameServer.namespace}/${e.gameServer.name}: opsState ${JSON.stringify(e.gameServer.opsState)}`);
  for (const p of e.invalidQualities) lines.push(`  invalid (skipped): ${p.path}: ${p.message}`);
  for (const r of e.staleReports) lines.push(`  stale probes reported ${r.time ?? ''}: ${r.message}`);
  for (const q of e.qualities) {
    lines.push('', `quality ${q.name}`);
    if (!q.latest) {
      lines.push('  latest outcome: none yet (no pod condition): nothing fires until the probe crosses its threshold');
    } else {
      const writer = q.latest.writtenBy === 'okg-sq' ? 'okg-sq' : `another writer (reason ${JSON.stringify(q.latest.reason)}, e.g. kruise-daemon)`;
      lines.push(`  latest outcome: ${q.latest.status} result ${JSON.stringify(q.latest.result)} probed ${q.latest.probeTime ?? '-'} by ${writer}`);
    }
    lines.push(
      q.previous
        ? `  previous: ${q.previous.status ?? '-'} result ${JSON.stringify(q.previous.result)} lastActionTransitionTime ${q.previous.lastActionTransitionTime ?? '-'}`
        : '  previous: none on the GameServer',
    );
    lines.push(`  evaluation now: ${q.evaluation.fires ? 'FIRES' : 'does not fire'}: ${q.evaluation.why}`);
    for (const a of q.actions) lines.push(`    action ${a.index}: ${a.matches ? 'matches' : 'no match'}: ${a.why}`);
  }
  if (e.pending) {
    const patch = e.pending.gameServerPatch ? `GameServer patch ${JSON.stringify(e.pending.gameServerPatch)}` : '';
    lines.push('', `pending writes: ${patch}${patch && e.pending.statusChanged ? ' + ' : ''}${e.pending.statusChanged ? 'status update' : ''}`);
  } else {
    lines.push('', 'converged: okg-sq has nothing to write for this GameServer');
  }
  return lines.join('\n') + '\n';
}

/** The explanation as text (pure: tests feed objects, runExplain feeds the cluster's). */
export function explainGameServer(input: ExplainInput): string {
  return formatExplanation(explainData(input));
}

/** The GameServer to explain: NAMESPACE/NAME, or NAME with -n, the context's namespace, or "default" (as kubectl). */
export function resolveTarget(positionals: readonly string[], flagNamespace: string | undefined, contextNamespace: string | undefined): { namespace: string; name: string } {
  const [target] = positionals;
  if (target === undefined || positionals.length !== 1) throw new UsageError('want exactly one [<namespace>/]<gameserver>');
  const m = /^(?:([^/]+)\/)?([^/]+)$/.exec(target);
  if (!m) throw new UsageError(`${JSON.stringify(target)} is not [<namespace>/]<gameserver>`);
  const [, inName, name] = m as unknown as [string, string | undefined, string];
  if (flagNamespace === '') throw new UsageError('-n/--namespace is empty');
  if (inName !== undefined && flagNamespace !== undefined && inName !== flagNamespace) {
    throw new UsageError(`${JSON.stringify(target)} and -n ${flagNamespace} name different namespaces`);
  }
  return { namespace: inName ?? flagNamespace ?? (contextNamespace || 'default'), name };
}

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
    const { values, positionals } = parseCliArgs(
      argv,
      {
        namespace: { type: 'string', short: 'n' },
        context: { type: 'string' },
        kubeconfig: { type: 'string' },
        output: { type: 'string', short: 'o', default: 'text' },
        help: { type: 'boolean', short: 'h' },
      },
      true,
    );
    if (values.help) {
      io.stdout.write(EXPLAIN_USAGE);
      return EXIT.ok;
    }
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, got ${JSON.stringify(output)}`);
    // The target's form is checked before any kubeconfig is read: a typo is a usage error either way.
    resolveTarget(positionals, values.namespace, undefined);
    const { kc, source } = loadKubeConfig({ file: values.kubeconfig, context: values.context });
    const { namespace, name } = resolveTarget(positionals, values.namespace, kc.getContextObject(kc.getCurrentContext())?.namespace);
    const server = `${kc.getCurrentCluster()?.server ?? '(none)'} (from ${source})`;
    api = new KubeClient(kc);
    const game = `/apis/${GAME_KRUISE_GROUP}/${GAME_KRUISE_VERSION}/namespaces/${encodeURIComponent(namespace)}`;
    const gs = trimGameServer(await getJson(api, `${game}/gameservers/${encodeURIComponent(name)}`, `GameServer ${namespace}/${name}`, server));
    const pod = trimPod(await getJson(api, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, `Pod ${namespace}/${name}`, server));
    const setName = gs.metadata.labels?.[OWNER_GSS_LABEL] ?? pod.metadata.labels?.[OWNER_GSS_LABEL];
    if (!setName) throw new Error(`GameServer ${namespace}/${name} has no ${OWNER_GSS_LABEL} label: it belongs to no GameServerSet`);
    const gss = await getJson(api, `${game}/gameserversets/${encodeURIComponent(setName)}`, `GameServerSet ${namespace}/${setName}`, server);
    const selector = new URLSearchParams({ fieldSelector: `involvedObject.name=${setName},reason=ProbesStale` });
    const events = await getJson(api, `/api/v1/namespaces/${encodeURIComponent(namespace)}/events?${selector}`, 'Events', server);
    const staleEvents = ((events.items ?? []) as { message: string; lastTimestamp?: string }[])
      .sort((a, b) => String(b.lastTimestamp ?? '').localeCompare(String(a.lastTimestamp ?? '')))
      .slice(0, MAX_STALE_EVENTS_SHOWN);
    const explanation = explainData({ gameServerSet: gss, gameServer: gs, podConditions: pod.status?.conditions ?? [], now: new Date(), staleEvents });
    io.stdout.write(output === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`okg-sq explain: ${err.message}\n\n${EXPLAIN_USAGE}`);
      return EXIT.usage;
    }
    io.stderr.write(`okg-sq explain: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  } finally {
    api?.close();
  }
}
