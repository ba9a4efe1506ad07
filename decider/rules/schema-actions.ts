// PURE: a quality's serviceQualityAction list: each action's fields, and the actions that can never
// match or are always overwritten by later ones (warnings: OKG runs them, to no effect).
import { MAX_RESULT_BYTES } from '../../common/probe-result.js';
import type { GameServerContainer, IntOrString, ProbeHandlerSpec, ServiceQualityAction } from '../../common/service-quality.js';
import { isLabelValue, MAX_LABEL_VALUE, qualifiedNameError } from './kube-names.js';
import { checkTemplateField, isObj, MAX_QUOTED_CHARS, present, quote, typeName, type Ctx } from './schema-context.js';
import { goAtoiToInt32, isTemplate } from './template.js';

const encoder = new TextEncoder();
const utf8Length = (s: string): number => encoder.encode(s).length;
const ACTION_FIELDS = new Set(['state', 'result', 'opsState', 'updatePriority', 'deletionPriority', 'networkDisabled', 'containers', 'labels', 'annotations']);

function parseStringMap(ctx: Ctx, path: string, raw: unknown, isLabels: boolean, result: string | undefined): Record<string, string> | undefined {
  if (!isObj(raw)) {
    ctx.p.add('error', 'WrongType', path, `must be a map of strings, got ${typeName(raw)}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const [k, v] of Object.entries(raw)) {
    const kp = `${path}[${JSON.stringify(k.length > MAX_QUOTED_CHARS ? k.slice(0, MAX_QUOTED_CHARS) : k)}]`;
    const keyErr = qualifiedNameError(k);
    if (keyErr) {
      ctx.p.add('error', 'InvalidLabelKey', kp, `${quote(k)} is not a valid ${isLabels ? 'label' : 'annotation'} key: ${keyErr}`);
      ok = false;
    }
    if (typeof v !== 'string') {
      ctx.p.add('error', 'WrongType', kp, `value must be a string, got ${typeName(v)}`);
      ok = false;
      continue;
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

function parsePriority(ctx: Ctx, path: string, raw: unknown, result: string | undefined): IntOrString | undefined {
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && raw >= -(2 ** 31) && raw < 2 ** 31) return raw;
    ctx.p.add('error', 'InvalidValue', path, `priority ${quote(raw)} must be a 32-bit integer`);
    return undefined;
  }
  if (typeof raw !== 'string') {
    ctx.p.add('error', 'WrongType', path, `priority must be an integer or a string, got ${typeName(raw)}`);
    return undefined;
  }
  if (isTemplate(raw)) return checkTemplateField(ctx, path, raw, result) ? raw : undefined;
  if (goAtoiToInt32(raw) === undefined) {
    ctx.p.add('warning', 'PriorityNotInteger', path, `priority ${quote(raw)} is neither an integer nor a template; OKG writes it as is and sorts it as 0`);
  }
  return raw;
}

function parseContainers(ctx: Ctx, path: string, raw: unknown): GameServerContainer[] | undefined {
  if (!Array.isArray(raw)) {
    ctx.p.add('error', 'WrongType', path, `containers must be a list, got ${typeName(raw)}`);
    return undefined;
  }
  const out: GameServerContainer[] = [];
  let ok = true;
  raw.forEach((c, i) => {
    if (!isObj(c) || typeof c['name'] !== 'string' || c['name'] === '' || (c['image'] !== undefined && typeof c['image'] !== 'string')) {
      ctx.p.add('error', 'WrongType', `${path}[${i}]`, 'a container must be {name: string, image?: string}');
      ok = false;
      return;
    }
    if (ctx.containers.length > 0 && !ctx.byName.has(c['name'])) {
      ctx.p.add('error', 'UnknownContainer', `${path}[${i}].name`, `the pod template has no container named ${quote(c['name'])}`);
      ok = false;
    }
    out.push({ name: c['name'], ...(typeof c['image'] === 'string' && c['image'] !== '' ? { image: c['image'] } : {}) });
  });
  return ok ? out : undefined;
}

export function parseAction(ctx: Ctx, path: string, raw: unknown): ServiceQualityAction | undefined {
  if (!isObj(raw)) {
    ctx.p.add('error', 'WrongType', path, `an action must be an object, got ${typeName(raw)}`);
    return undefined;
  }
  const errorsBefore = ctx.p.errors;
  for (const k of Object.keys(raw)) {
    if (!ACTION_FIELDS.has(k)) ctx.p.add('warning', 'UnknownField', `${path}.${k}`, `unknown field ${quote(k)} (OKG ignores it)`);
  }
  let state = false;
  if (!present(raw, 'state')) ctx.p.add('warning', 'MissingField', `${path}.state`, 'state is missing; OKG reads it as false');
  else if (typeof raw['state'] !== 'boolean') ctx.p.add('error', 'WrongType', `${path}.state`, `state must be true or false, got ${quote(raw['state'])}`);
  else state = raw['state'];

  let result: string | undefined;
  if (present(raw, 'result')) {
    if (typeof raw['result'] !== 'string') ctx.p.add('error', 'WrongType', `${path}.result`, `result must be a string, got ${typeName(raw['result'])}`);
    else {
      result = raw['result'];
      if (/[|\n]/.test(result)) {
        ctx.p.add('warning', 'NeverMatches', `${path}.result`, 'never matches: "|" and newlines are removed from every probe result before comparing');
      } else if (utf8Length(result) > MAX_RESULT_BYTES) {
        ctx.p.add('warning', 'NeverMatches', `${path}.result`, `never matches: probe results are capped at ${MAX_RESULT_BYTES} bytes`);
      }
    }
  }
  const action: { -readonly [K in keyof ServiceQualityAction]: ServiceQualityAction[K] } = { state };
  if (result) action.result = result;
  if (present(raw, 'opsState')) {
    const ops = raw['opsState'];
    if (typeof ops !== 'string') ctx.p.add('error', 'WrongType', `${path}.opsState`, `opsState must be a string, got ${typeName(ops)}`);
    // opsState is free text in OKG (its manual uses custom states such as GateMaintaining): no warning.
    else if (checkTemplateField(ctx, `${path}.opsState`, ops, result) && ops !== '') action.opsState = ops;
  }
  for (const field of ['updatePriority', 'deletionPriority'] as const) {
    if (present(raw, field)) {
      const v = parsePriority(ctx, `${path}.${field}`, raw[field], result);
      if (v !== undefined) action[field] = v;
    }
  }
  if (present(raw, 'networkDisabled')) {
    if (typeof raw['networkDisabled'] !== 'boolean') ctx.p.add('error', 'WrongType', `${path}.networkDisabled`, `networkDisabled must be true or false, got ${quote(raw['networkDisabled'])}`);
    else action.networkDisabled = raw['networkDisabled'];
  }
  if (present(raw, 'containers')) {
    const c = parseContainers(ctx, `${path}.containers`, raw['containers']);
    if (c && c.length > 0) action.containers = c;
  }
  for (const field of ['labels', 'annotations'] as const) {
    if (present(raw, field)) {
      const m = parseStringMap(ctx, `${path}.${field}`, raw[field], field === 'labels', result);
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
