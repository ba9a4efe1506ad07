// `okg-sq eval`: the what-if of the evaluation core, touching nothing. From a GameServerSet, a GameServer
// (and optionally its Pod) and the given probe outcomes, prints the pod conditions, the GameServer merge
// patch and the new serviceQualitiesConditions that okg-sq would write.
import { ERROR_CODES, OkgSqError } from '../common/errors.js';
import { normaliseResult } from '../common/probe-result.js';
import { decideFromOutcomes } from '../rules/decide-from-outcomes.js';
import { parseServiceQualities } from '../rules/schema.js';
import type { GameServerView, PodCondition } from '../rules/types.js';
import { EXIT, parseCliArgs, processIo, PROGRAM, UsageError, type CliIo } from './args.js';
import { kindOf, readYamlDocuments } from './yaml-documents.js';

export const EVAL_USAGE = `Usage: ${PROGRAM} eval --gameserverset FILE --gameserver FILE --outcome QUALITY=true|false[:RESULT]…
                   [--pod FILE] [--now RFC3339]

Prints, as JSON, what okg-sq would write for these probe outcomes:
  {"podConditions": […], "gameServerPatch": {…} | null, "serviceQualitiesConditions": […]}
podConditions is the pod's whole condition list after the write (starting from --pod's, if given).
Feed the output back (patch applied to the GameServer, conditions stored as its status and the pod's)
and the same outcomes give a null patch and the same conditions.
Exit status: 0 ok, 1 failure, 2 usage error (bad arguments, unreadable or unsuitable files).
`;

export interface EvalOutcome {
  readonly quality: string;
  readonly state: boolean;
  readonly result: string;
}

/** QUALITY=true|false[:RESULT]; the result is normalised as a probe's output would be. */
export function parseOutcomeArg(arg: string): EvalOutcome {
  const m = /^([^=]+)=(true|false)(?::([\s\S]*))?$/.exec(arg);
  if (!m) throw new UsageError(`--outcome ${JSON.stringify(arg)}: expected QUALITY=true|false[:RESULT]`);
  return { quality: m[1]!, state: m[2] === 'true', result: normaliseResult(m[3] ?? '') };
}

async function loadOne(file: string, kind: string): Promise<Record<string, unknown>> {
  // The items of a kind: List count as documents: `kubectl get gs -o yaml` (no name) prints a List.
  const docs = (await readYamlDocuments(file))
    .map((d) => d.value)
    .filter((v) => v !== null && v !== undefined)
    .flatMap((v) => {
      const items = kindOf(v) === 'List' ? (v as { items?: unknown }).items : undefined;
      return Array.isArray(items) ? (items as unknown[]) : [v];
    });
  const ofKind = docs.filter((v) => kindOf(v) === kind);
  const pick = ofKind.length > 0 ? ofKind : docs.length === 1 && kindOf(docs[0]) === undefined ? docs : [];
  if (pick.length !== 1) {
    const kinds = [...new Set(docs.map((v) => kindOf(v) ?? '(no kind)'))];
    const has = pick.length === 0 ? ` (the file has: ${kinds.join(', ') || 'nothing'})` : '';
    throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: expected exactly one ${kind}, found ${pick.length}${has}`);
  }
  const value = pick[0];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: the ${kind} is not an object`);
  return value as Record<string, unknown>;
}

function asGameServer(raw: Record<string, unknown>, file: string): GameServerView {
  const metadata = raw['metadata'];
  if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { name?: unknown }).name !== 'string') {
    throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: the GameServer has no metadata.name`);
  }
  return raw as unknown as GameServerView;
}

function podConditionsOf(raw: Record<string, unknown>): PodCondition[] {
  const status = raw['status'];
  const conditions = typeof status === 'object' && status !== null ? (status as { conditions?: unknown }).conditions : undefined;
  return Array.isArray(conditions) ? conditions.filter((c): c is PodCondition => typeof c === 'object' && c !== null && typeof c.type === 'string') : [];
}

export async function runEval(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let values;
  let outcomes: EvalOutcome[];
  let now: Date;
  try {
    ({ values } = parseCliArgs(
      argv,
      {
        gameserverset: { type: 'string' },
        gameserver: { type: 'string' },
        pod: { type: 'string' },
        outcome: { type: 'string', multiple: true },
        now: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      false,
    ));
    if (values.help) {
      io.stdout.write(EVAL_USAGE);
      return EXIT.ok;
    }
    if (!values.gameserverset) throw new UsageError('--gameserverset is required');
    if (!values.gameserver) throw new UsageError('--gameserver is required');
    outcomes = (values.outcome ?? []).map(parseOutcomeArg);
    // One probe has one outcome at a time: two for the same quality would silently keep the last.
    const seen = new Set<string>();
    for (const o of outcomes) {
      if (seen.has(o.quality)) throw new UsageError(`--outcome given twice for ${JSON.stringify(o.quality)}: give one outcome per quality`);
      seen.add(o.quality);
    }
    if (values.now !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(values.now) || Number.isNaN(Date.parse(values.now))) {
        throw new UsageError(`--now ${JSON.stringify(values.now)}: expected an RFC 3339 time such as 2026-11-25T20:00:00Z`);
      }
      now = new Date(values.now);
    } else now = new Date();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`okg-sq eval: ${err.message}\n\n${EVAL_USAGE}`);
    return EXIT.usage;
  }

  try {
    const gss = await loadOne(values.gameserverset, 'GameServerSet');
    const gameServer = asGameServer(await loadOne(values.gameserver, 'GameServer'), values.gameserver);
    const pod = values.pod ? await loadOne(values.pod, 'Pod') : undefined;
    const { qualities, problems } = parseServiceQualities(gss);
    for (const p of problems) io.stderr.write(`${values.gameserverset}: ${p.severity}: ${p.path}: ${p.message} [${p.code}]\n`);
    const known = new Set(qualities.map((q) => q.name));
    for (const o of outcomes) {
      if (!known.has(o.quality)) {
        const invalid = problems.some((p) => p.severity === 'error');
        io.stderr.write(`okg-sq eval: --outcome names ${JSON.stringify(o.quality)}, which is not a${invalid ? ' valid' : ''} service quality of the set (it has: ${[...known].join(', ') || 'none'})\n`);
        return EXIT.usage;
      }
    }
    const given = new Map(outcomes.map((o) => [o.quality, { state: o.state, result: o.result, observedAtMs: now.getTime() }]));
    const { podConditions, decision } = decideFromOutcomes({
      qualities,
      podConditions: pod ? podConditionsOf(pod) : [],
      outcomeOf: (quality) => given.get(quality),
      gameServer,
      now,
    });
    for (const w of decision.warnings) io.stderr.write(`okg-sq eval: warning: ${w.reason}: ${w.message}\n`);
    const out = {
      podConditions,
      gameServerPatch: decision.gameServerPatch,
      serviceQualitiesConditions: decision.serviceQualitiesConditions,
    };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof OkgSqError && err.code === ERROR_CODES.INVALID_INPUT) {
      io.stderr.write(`okg-sq eval: ${err.message}\n`);
      return EXIT.usage; // the files given are unreadable or not what was asked for
    }
    throw err;
  }
}
