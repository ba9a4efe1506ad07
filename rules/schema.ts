// PURE: a GameServerSet's `spec.serviceQualities` (OKG's schema, unchanged) → validated ServiceQuality
// values with OKG's defaults, plus every problem found, each with a field path and a stable code. Each
// quality's shape is checked first against OKG's own CRD schema (crd-shape.ts, okg-crd-schema.gen.ts);
// only a quality of the right shape gets okg-sq's own checks (names, containers, ports, handlers,
// templates, actions), which may then rely on its types.
// Never throws; linear in the input; the number of problems reported per object is capped.
import type { ServiceQuality, ServiceQualityAction } from '../common/service-quality.js';
import { withOkgDefaults } from '../common/thresholds.js';
import { qualifiedNameError } from './kube-names.js';
import { conditionType } from './pod-conditions.js';
import { findImpossibleResults, findShadowed, parseAction } from './schema-actions.js';
import { checkShape } from './crd-shape.js';
import { SERVICE_QUALITIES_SCHEMA } from './okg-crd-schema.gen.js';
import { isObj, newCtx, Problems, quote, typeName, type Ctx, type Obj, type Problem, type TemplateContainer } from './schema-context.js';
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

const TIMING_FIELDS = ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const;
/** Pod condition types kruise's PodProbeMarker webhook refuses as probe names. */
const KRUISE_RESERVED_NAMES = new Set(['PodScheduled', 'Initialized', 'Ready', 'ContainersReady', 'KruisePodReady', 'InPlaceUpdateReady']);
/** One quality's shape, from OpenKruiseGame's CRD. */
const QUALITY_SCHEMA = SERVICE_QUALITIES_SCHEMA.items!;

/** One quality whose shape OKG's CRD accepts: types hold, required fields are there (checkShape). */
function parseQuality(ctx: Ctx, path: string, sq: Obj, seen: Set<string>): ServiceQuality | undefined {
  const errorsBefore = ctx.p.errors;
  const name = sq['name'] as string;
  if (name === '') {
    ctx.p.add('error', 'MissingField', `${path}.name`, 'name must not be empty');
  } else {
    const err = qualifiedNameError(conditionType(name));
    if (err) ctx.p.add('error', 'InvalidName', `${path}.name`, `${quote(name)} makes the pod condition type ${quote(conditionType(name))}, which is not a valid label key: ${err}`);
    else if (KRUISE_RESERVED_NAMES.has(name)) ctx.p.add('warning', 'KruiseRejects', `${path}.name`, `stock OpenKruise rejects this set: its PodProbeMarker webhook refuses the probe name ${quote(name)}`);
    if (seen.has(name)) ctx.p.add('error', 'DuplicateName', `${path}.name`, `duplicate name ${quote(name)}: names must be unique within the set`);
    seen.add(name);
  }

  let containerName = '';
  let container: TemplateContainer | undefined = ctx.containers[0];
  const cn = (sq['containerName'] as string | undefined) ?? '';
  if (cn !== '') {
    containerName = cn;
    container = ctx.byName.get(cn)?.container;
    if (!container && ctx.containers.length > 0) {
      ctx.p.add('error', 'UnknownContainer', `${path}.containerName`, `the pod template has no container named ${quote(cn)} (it has ${ctx.namesShown})`);
    }
  } else if (ctx.containers.length > 1) {
    ctx.p.add('error', 'MissingContainerName', `${path}.containerName`, `containerName is required: the pod template has ${ctx.containers.length} containers (${ctx.namesShown})`);
  } else {
    ctx.p.add('warning', 'KruiseRejects', `${path}.containerName`, 'stock OpenKruise rejects this set: its PodProbeMarker webhook requires containerName (okg-sq uses the first container)');
  }

  const handler = parseHandler(ctx, path, sq, container);
  const timing: Partial<Record<(typeof TIMING_FIELDS)[number], number | undefined>> = {};
  for (const f of TIMING_FIELDS) {
    const v = sq[f] as number | null | undefined;
    if (typeof v === 'number' && v < 0) ctx.p.add('error', 'NegativeValue', `${path}.${f}`, `${f} must not be negative, got ${v}`);
    else timing[f] = v ?? undefined;
  }
  const permanent = sq['permanent'] === true;

  const actions: ServiceQualityAction[] = [];
  const ap = `${path}.serviceQualityAction`;
  const rawActions = (sq['serviceQualityAction'] as Obj[] | null | undefined) ?? [];
  const parsed = rawActions.map((a, j) => parseAction(ctx, `${ap}[${j}]`, a));
  findShadowed(ctx, ap, parsed);
  if (handler) findImpossibleResults(ctx, ap, handler, parsed);
  for (const a of parsed) if (a) actions.push(a);

  if (ctx.p.errors > errorsBefore || handler === undefined) return undefined;
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
      checkShape(p, SERVICE_QUALITIES_SCHEMA, raw, 'spec.serviceQualities', 'serviceQualities');
      return { qualities, problems: p.finish() };
    }
    const ctx = newCtx(p, podTemplateContainers(gss));
    const seen = new Set<string>();
    raw.forEach((sq: unknown, i) => {
      // The CRD's schema first (what the API server would refuse), then okg-sq's own checks on a quality of the right shape.
      const path = `spec.serviceQualities[${i}]`;
      if (!checkShape(p, QUALITY_SCHEMA, sq, path, `serviceQualities[${i}]`)) return;
      const q = parseQuality(ctx, path, sq as Obj, seen);
      if (q) qualities.push(q);
    });
  } catch (err) {
    // Defence in depth: hostile input must never crash the decider or the CLI.
    p.add('error', 'InvalidValue', 'spec.serviceQualities', `could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { qualities, problems: p.finish() };
}
