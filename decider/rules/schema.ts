// PURE: a GameServerSet's `spec.serviceQualities` (OKG's schema, unchanged) → validated ServiceQuality
// values with OKG's defaults, plus every problem found, each with a field path and a stable code.
// Never throws; linear in the input; the number of problems reported per object is capped.
import type { ServiceQuality, ServiceQualityAction } from '../../common/service-quality.js';
import { withOkgDefaults } from '../../common/thresholds.js';
import { qualifiedNameError } from './kube-names.js';
import { conditionType } from './pod-conditions.js';
import { findImpossibleResults, findShadowed, parseAction } from './schema-actions.js';
import { isObj, newCtx, present, Problems, quote, typeName, type Ctx, type Obj, type Problem, type TemplateContainer } from './schema-context.js';
import { parseHandler } from './schema-handler.js';

export { MAX_PROBLEMS_PER_OBJECT, PROBLEM_CODES, type Problem, type ProblemCode, type TemplateContainer } from './schema-context.js';

export function gssName(gss: unknown): string {
  const name = isObj(gss) && isObj(gss['metadata']) ? gss['metadata']['name'] : undefined;
  return typeof name === 'string' ? name : '';
}

/** spec.gameServerTemplate.spec.containers, leniently read (bad entries skipped). */
export function podTemplateContainers(gss: unknown): TemplateContainer[] {
  const spec = isObj(gss) ? gss['spec'] : undefined;
  const tmpl = isObj(spec) ? spec['gameServerTemplate'] : undefined;
  const podSpec = isObj(tmpl) ? tmpl['spec'] : undefined;
  const containers = isObj(podSpec) ? podSpec['containers'] : undefined;
  if (!Array.isArray(containers)) return [];
  const out: TemplateContainer[] = [];
  for (const c of containers) {
    if (!isObj(c) || typeof c['name'] !== 'string') continue;
    const ports = Array.isArray(c['ports'])
      ? c['ports'].filter(isObj).flatMap((p) =>
          typeof p['containerPort'] === 'number' ? [{ ...(typeof p['name'] === 'string' ? { name: p['name'] } : {}), containerPort: p['containerPort'] }] : [],
        )
      : [];
    out.push({ name: c['name'], ports });
  }
  return out;
}

const QUALITY_FIELDS = new Set([
  'name', 'containerName', 'permanent', 'serviceQualityAction',
  'exec', 'httpGet', 'tcpSocket', 'grpc',
  'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds',
]);
const TIMING_FIELDS = ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const;
/** Pod condition types kruise's PodProbeMarker webhook refuses as probe names. */
const KRUISE_RESERVED_NAMES = new Set(['PodScheduled', 'Initialized', 'Ready', 'ContainersReady', 'KruisePodReady', 'InPlaceUpdateReady']);

function parseTimingField(ctx: Ctx, path: string, sq: Obj, field: (typeof TIMING_FIELDS)[number]): number | undefined {
  if (!present(sq, field)) return undefined;
  const v = sq[field];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    ctx.p.add('error', 'WrongType', `${path}.${field}`, `${field} must be an integer, got ${quote(v)}`);
    return undefined;
  }
  if (v < 0) {
    ctx.p.add('error', 'NegativeValue', `${path}.${field}`, `${field} must not be negative, got ${v}`);
    return undefined;
  }
  return v;
}

function parseQuality(ctx: Ctx, path: string, raw: unknown, seen: Set<string>): ServiceQuality | undefined {
  if (!isObj(raw)) {
    ctx.p.add('error', 'WrongType', path, `a service quality must be an object, got ${typeName(raw)}`);
    return undefined;
  }
  const errorsBefore = ctx.p.errors;
  for (const k of Object.keys(raw)) {
    if (!QUALITY_FIELDS.has(k)) ctx.p.add('warning', 'UnknownField', `${path}.${k}`, `unknown field ${quote(k)} (OKG ignores it)`);
  }

  const name = raw['name'];
  if (typeof name !== 'string' || name === '') {
    ctx.p.add('error', name === undefined ? 'MissingField' : 'WrongType', `${path}.name`, 'name must be a non-empty string');
  } else {
    const err = qualifiedNameError(conditionType(name));
    if (err) ctx.p.add('error', 'InvalidName', `${path}.name`, `${quote(name)} makes the pod condition type ${quote(conditionType(name))}, which is not a valid label key: ${err}`);
    else if (KRUISE_RESERVED_NAMES.has(name)) ctx.p.add('warning', 'KruiseRejects', `${path}.name`, `stock OpenKruise rejects this set: its PodProbeMarker webhook refuses the probe name ${quote(name)}`);
    if (seen.has(name)) ctx.p.add('error', 'DuplicateName', `${path}.name`, `duplicate name ${quote(name)}: names must be unique within the set`);
    seen.add(name);
  }

  let containerName = '';
  let container: TemplateContainer | undefined = ctx.containers[0];
  if (present(raw, 'containerName') && raw['containerName'] !== '') {
    const cn = raw['containerName'];
    if (typeof cn !== 'string') ctx.p.add('error', 'WrongType', `${path}.containerName`, `containerName must be a string, got ${typeName(cn)}`);
    else {
      containerName = cn;
      container = ctx.byName.get(cn)?.container;
      if (!container && ctx.containers.length > 0) {
        ctx.p.add('error', 'UnknownContainer', `${path}.containerName`, `the pod template has no container named ${quote(cn)} (it has ${ctx.namesShown})`);
      }
    }
  } else if (ctx.containers.length > 1) {
    ctx.p.add('error', 'MissingContainerName', `${path}.containerName`, `containerName is required: the pod template has ${ctx.containers.length} containers (${ctx.namesShown})`);
  } else {
    ctx.p.add('warning', 'KruiseRejects', `${path}.containerName`, 'stock OpenKruise rejects this set: its PodProbeMarker webhook requires containerName (okg-sq uses the first container)');
  }

  const handler = parseHandler(ctx, path, raw, container);
  const timing: Partial<Record<(typeof TIMING_FIELDS)[number], number | undefined>> = {};
  for (const f of TIMING_FIELDS) timing[f] = parseTimingField(ctx, path, raw, f);

  let permanent = false;
  if (present(raw, 'permanent')) {
    if (typeof raw['permanent'] !== 'boolean') ctx.p.add('error', 'WrongType', `${path}.permanent`, `permanent must be true or false, got ${quote(raw['permanent'])}`);
    else permanent = raw['permanent'];
  }

  const actions: ServiceQualityAction[] = [];
  const ap = `${path}.serviceQualityAction`;
  if (present(raw, 'serviceQualityAction')) {
    const rawActions = raw['serviceQualityAction'];
    if (!Array.isArray(rawActions)) ctx.p.add('error', 'WrongType', ap, `serviceQualityAction must be a list, got ${typeName(rawActions)}`);
    else {
      const parsed = rawActions.map((a, j) => parseAction(ctx, `${ap}[${j}]`, a));
      findShadowed(ctx, ap, parsed);
      if (handler) findImpossibleResults(ctx, ap, handler, parsed);
      for (const a of parsed) if (a) actions.push(a);
    }
  }

  if (ctx.p.errors > errorsBefore || handler === undefined || typeof name !== 'string') return undefined;
  return Object.freeze({ name, containerName, handler, timing: withOkgDefaults(timing), permanent, actions });
}

/** Parses `spec.serviceQualities`; qualities with errors are left out, the others returned in order. */
export function parseServiceQualities(gss: unknown): { qualities: ServiceQuality[]; problems: Problem[] } {
  const p = new Problems();
  const qualities: ServiceQuality[] = [];
  try {
    if (!isObj(gss)) {
      p.add('error', 'NotAnObject', '', `a GameServerSet must be an object, got ${typeName(gss)}`);
      return { qualities, problems: p.finish() };
    }
    const spec = gss['spec'];
    if (!isObj(spec)) {
      if (spec !== undefined) p.add('error', 'WrongType', 'spec', `spec must be an object, got ${typeName(spec)}`);
      return { qualities, problems: p.finish() };
    }
    const raw = spec['serviceQualities'];
    if (raw === undefined || raw === null) return { qualities, problems: p.finish() };
    if (!Array.isArray(raw)) {
      p.add('error', 'WrongType', 'spec.serviceQualities', `serviceQualities must be a list, got ${typeName(raw)}`);
      return { qualities, problems: p.finish() };
    }
    const ctx = newCtx(p, podTemplateContainers(gss));
    const seen = new Set<string>();
    raw.forEach((sq, i) => {
      const q = parseQuality(ctx, `spec.serviceQualities[${i}]`, sq, seen);
      if (q) qualities.push(q);
    });
  } catch (err) {
    // Defence in depth: hostile input must never crash the decider or the CLI.
    p.add('error', 'InvalidValue', 'spec.serviceQualities', `could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { qualities, problems: p.finish() };
}
