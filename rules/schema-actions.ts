// PURE: a quality's serviceQualityAction list, its shape already checked against OKG's CRD: each action's
// values, and the actions that can never match or are always overwritten by later ones (warnings: OKG
// runs them, to no effect).
import { MAX_RESULT_BYTES } from '../common/probe-result.js';
import type { GameServerContainer, IntOrString, ProbeHandlerSpec, ServiceQualityAction } from '../common/service-quality.js';
import { isLabelValue, MAX_LABEL_VALUE, qualifiedNameError } from './kube-names.js';
import { checkTemplateField, mapKeyPath, present, quote, type Ctx, type Obj } from './schema-context.js';
import { goAtoiToInt32, isTemplate } from './template.js';

const encoder = new TextEncoder();
const utf8Length = (s: string): number => encoder.encode(s).length;

function parseStringMap(ctx: Ctx, path: string, raw: Record<string, string>, isLabels: boolean, result: string | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let ok = true;
  for (const [k, v] of Object.entries(raw)) {
    if (v === null) continue; // pruned by the API server, as checkShape treats it
    const kp = mapKeyPath(path, k);
    const keyErr = qualifiedNameError(k);
    if (keyErr) {
      ctx.p.add('error', 'InvalidLabelKey', kp, `${quote(k)} is not a valid ${isLabels ? 'label' : 'annotation'} key: ${keyErr}`);
      ok = false;
    }
    if (!checkTemplateField(ctx, kp, v, result)) ok = false;
    else if (isLabels && !isTemplate(v) && !isLabelValue(v)) {
      ctx.p.add('error', 'InvalidLabelValue', kp, `${quote(v)} is not a valid label value (at most ${MAX_LABEL_VALUE} characters, [-A-Za-z0-9_.], alphanumeric at both ends)`);
      ok = false;
    }
    out[k] = v;
  }
  return ok ? out : undefined;
}

function parsePriority(ctx: Ctx, path: string, raw: number | string, result: string | undefined): IntOrString | undefined {
  if (typeof raw === 'number') {
    if (raw >= -(2 ** 31) && raw < 2 ** 31) return raw;
    ctx.p.add('error', 'InvalidValue', path, `priority ${quote(raw)} must be a 32-bit integer`);
    return undefined;
  }
  if (isTemplate(raw)) return checkTemplateField(ctx, path, raw, result) ? raw : undefined;
  if (goAtoiToInt32(raw) === undefined) {
    ctx.p.add('warning', 'PriorityNotInteger', path, `priority ${quote(raw)} is neither an integer nor a template; OKG writes it as is and sorts it as 0`);
  }
  return raw;
}

function parseContainers(ctx: Ctx, path: string, raw: readonly { readonly name: string; readonly image?: string | null }[]): GameServerContainer[] | undefined {
  const out: GameServerContainer[] = [];
  let ok = true;
  raw.forEach((c, i) => {
    if (c.name === '') {
      ctx.p.add('error', 'InvalidValue', `${path}[${i}].name`, 'a container name must not be empty');
      ok = false;
      return;
    }
    if (ctx.containers.length > 0 && !ctx.byName.has(c.name)) {
      ctx.p.add('error', 'UnknownContainer', `${path}[${i}].name`, `the pod template has no container named ${quote(c.name)}`);
      ok = false;
    }
    out.push({ name: c.name, ...(typeof c.image === 'string' && c.image !== '' ? { image: c.image } : {}) });
  });
  return ok ? out : undefined;
}

/** One action whose shape OKG's CRD accepts (checkShape): its values' own rules. */
export function parseAction(ctx: Ctx, path: string, raw: Obj): ServiceQualityAction | undefined {
  const errorsBefore = ctx.p.errors;
  const state = raw['state'] as boolean;
  const result = (raw['result'] as string | null | undefined) ?? undefined;
  if (result !== undefined) {
    if (/[|\n]/.test(result)) {
      ctx.p.add('warning', 'NeverMatches', `${path}.result`, 'never matches: "|" and newlines are removed from every probe result before comparing');
    } else if (utf8Length(result) > MAX_RESULT_BYTES) {
      ctx.p.add('warning', 'NeverMatches', `${path}.result`, `never matches: probe results are capped at ${MAX_RESULT_BYTES} bytes`);
    }
  }
  const action: { -readonly [K in keyof ServiceQualityAction]: ServiceQualityAction[K] } = { state };
  if (result) action.result = result;
  const ops = raw['opsState'] as string | null | undefined;
  // opsState is free text in OKG (its manual uses custom states such as GateMaintaining): no warning.
  if (typeof ops === 'string' && checkTemplateField(ctx, `${path}.opsState`, ops, result) && ops !== '') action.opsState = ops;
  for (const field of ['updatePriority', 'deletionPriority'] as const) {
    const v = raw[field] as number | string | null | undefined;
    if (v !== undefined && v !== null) {
      const parsed = parsePriority(ctx, `${path}.${field}`, v, result);
      if (parsed !== undefined) action[field] = parsed;
    }
  }
  if (typeof raw['networkDisabled'] === 'boolean') action.networkDisabled = raw['networkDisabled'];
  if (present(raw, 'containers')) {
    const c = parseContainers(ctx, `${path}.containers`, raw['containers'] as { name: string; image?: string | null }[]);
    if (c && c.length > 0) action.containers = c;
  }
  for (const field of ['labels', 'annotations'] as const) {
    if (present(raw, field)) {
      const m = parseStringMap(ctx, `${path}.${field}`, raw[field] as Record<string, string>, field === 'labels', result);
      if (m && Object.keys(m).length > 0) action[field] = m;
    }
  }
  if (ctx.p.errors > errorsBefore) return undefined;
  if (effectTokens(action).length === 0) ctx.p.add('warning', 'NoEffect', path, 'this action sets nothing (no opsState, priorities, networkDisabled, containers, labels or annotations)');
  return action;
}

/** What an action writes, one token per field or map key; a later action with all of them overwrites it. */
function effectTokens(a: ServiceQualityAction): string[] {
  const t: string[] = [];
  if (a.opsState) t.push('opsState');
  if (a.updatePriority !== undefined) t.push('updatePriority');
  if (a.deletionPriority !== undefined) t.push('deletionPriority');
  if (a.networkDisabled !== undefined) t.push('networkDisabled');
  for (const c of a.containers ?? []) t.push(`container:${c.name}:${c.image === undefined ? '' : 'image'}`);
  for (const k of Object.keys(a.labels ?? {})) t.push(`label:${k}`);
  for (const k of Object.keys(a.annotations ?? {})) t.push(`annotation:${k}`);
  return t;
}

/** Tokens an action is sure to overwrite (a priority template may fail to render and leave the field alone). */
function sureOverwrites(a: ServiceQualityAction): string[] {
  return effectTokens(a).filter(
    (t) => !((t === 'updatePriority' && typeof a.updatePriority === 'string' && isTemplate(a.updatePriority)) ||
      (t === 'deletionPriority' && typeof a.deletionPriority === 'string' && isTemplate(a.deletionPriority))),
  );
}

/**
 * Warns about actions whose every effect a later action always overwrites: the later ones match whenever
 * this one does (same state, and no result or the same result). One pass from the end, so linear.
 */
export function findShadowed(ctx: Ctx, path: string, actions: readonly (ServiceQualityAction | undefined)[]): void {
  const later = new Map<string, Set<string>>(); // `${state}\u0000${result}` → tokens overwritten by later actions
  const group = (state: boolean, result: string): Set<string> => {
    const key = `${state}\u0000${result}`;
    let s = later.get(key);
    if (!s) later.set(key, (s = new Set()));
    return s;
  };
  for (let j = actions.length - 1; j >= 0; j--) {
    const a = actions[j];
    if (!a) continue;
    const tokens = effectTokens(a);
    const broad = group(a.state, '');
    const same = a.result ? group(a.state, a.result) : broad;
    if (tokens.length > 0 && tokens.every((t) => broad.has(t) || same.has(t))) {
      ctx.p.add('warning', 'Shadowed', `${path}[${j}]`, 'shadowed: later actions that match whenever this one does overwrite everything it sets, so it has no effect');
    }
    for (const t of sureOverwrites(a)) same.add(t);
  }
}

/**
 * The only results a handler can produce, per state, where they are few: a tcp probe has no output; a
 * grpc probe's result is the health status name (common/runners/grpc-runner.ts), '' when it failed.
 */
const POSSIBLE_RESULTS: Partial<Record<ProbeHandlerSpec['kind'], Record<'true' | 'false', readonly string[]>>> = {
  tcpSocket: { true: [''], false: [''] },
  grpc: { true: ['SERVING'], false: ['', 'UNKNOWN', 'NOT_SERVING', 'SERVICE_UNKNOWN'] },
};

export function findImpossibleResults(ctx: Ctx, path: string, handler: ProbeHandlerSpec, actions: readonly (ServiceQualityAction | undefined)[]): void {
  const possible = POSSIBLE_RESULTS[handler.kind];
  if (!possible) return;
  actions.forEach((a, j) => {
    if (!a?.result) return;
    const can = possible[a.state ? 'true' : 'false'];
    if (!can.includes(a.result)) {
      const shown = can.filter((r) => r !== '').map((r) => JSON.stringify(r));
      ctx.p.add('warning', 'NeverMatches', `${path}[${j}].result`,
        `never matches: a ${handler.kind} probe with state ${a.state} reports ${shown.length > 0 ? `${shown.join(', ')} or no result` : 'no result'}`);
    }
  });
}
