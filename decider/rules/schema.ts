// PURE: a GameServerSet's `spec.serviceQualities` (OKG's schema, unchanged) → validated ServiceQuality
// values with OKG's defaults, plus every problem found, each with a field path and a stable code.
// Never throws; linear in the input; the number of problems reported per object is capped.
import { MAX_RESULT_BYTES } from '../../common/probe-result.js';
import type {
  GameServerContainer,
  HttpHeader,
  IntOrString,
  ProbeHandlerSpec,
  ServiceQuality,
  ServiceQualityAction,
} from '../../common/service-quality.js';
import { withOkgDefaults } from '../../common/thresholds.js';
import { isLabelValue, MAX_LABEL_VALUE, qualifiedNameError } from './kube-names.js';
import { conditionType } from './pod-conditions.js';
import { checkTemplate, goAtoiToInt32, isTemplate, probeTemplateExecution } from './template.js';

export interface Problem {
  readonly severity: 'error' | 'warning';
  readonly code: ProblemCode;
  /** e.g. spec.serviceQualities[1].serviceQualityAction[0].opsState */
  readonly path: string;
  readonly message: string;
}

export const PROBLEM_CODES = [
  'NotAnObject',
  'WrongType',
  'MissingField',
  'InvalidName',
  'DuplicateName',
  'NoHandler',
  'SeveralHandlers',
  'MissingContainerName',
  'UnknownContainer',
  'UnknownPortName',
  'InvalidPort',
  'HostRefused',
  'NegativeValue',
  'InvalidValue',
  'NeverMatches',
  'Shadowed',
  'NoEffect',
  'TemplateParse',
  'TemplateExecution',
  'PriorityNotInteger',
  'InvalidLabelKey',
  'InvalidLabelValue',
  'UnknownField',
  'KruiseRejects',
  'TooManyProblems',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** Past this many problems for one object, the rest are summed up in one final entry. */
export const MAX_PROBLEMS_PER_OBJECT = 100;
/** How much of a user's value is quoted back in a message. */
const MAX_QUOTED_CHARS = 60;
const MAX_PORT = 65535;
const MAX_PORT_NAME = 15;

/** The pod template's containers as the schema needs them (name, named ports). */
export interface TemplateContainer {
  readonly name: string;
  readonly ports: readonly { readonly name?: string; readonly containerPort: number }[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const present = (o: Obj, k: string): boolean => o[k] !== undefined && o[k] !== null;

function quote(v: unknown): string {
  let text: string;
  try {
    text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(cut);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

class Problems {
  readonly list: Problem[] = [];
  #omitted = 0;
  #omittedErrors = 0;
  errors = 0;

  add(severity: Problem['severity'], code: ProblemCode, path: string, message: string): void {
    if (severity === 'error') this.errors++;
    if (this.list.length >= MAX_PROBLEMS_PER_OBJECT) {
      this.#omitted++;
      if (severity === 'error') this.#omittedErrors++;
      return;
    }
    this.list.push({ severity, code, path, message });
  }

  finish(): Problem[] {
    if (this.#omitted > 0) {
      this.list.push({
        severity: this.#omittedErrors > 0 ? 'error' : 'warning',
        code: 'TooManyProblems',
        path: 'spec.serviceQualities',
        message: `${this.#omitted} more problems (${this.#omittedErrors} errors) not shown`,
      });
    }
    return this.list;
  }
}

/** Kubernetes' IsValidPortName (IANA_SVC_NAME). */
function portNameError(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_PORT_NAME) return `a port name has 1 to ${MAX_PORT_NAME} characters`;
  if (!/^[-a-z0-9]+$/.test(name)) return 'a port name has only lowercase letters, digits and "-"';
  if (!/[a-z]/.test(name)) return 'a port name has at least one letter';
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--')) return 'a port name has no leading, trailing or double "-"';
  return undefined;
}

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

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
const ACTION_FIELDS = new Set(['state', 'result', 'opsState', 'updatePriority', 'deletionPriority', 'networkDisabled', 'containers', 'labels', 'annotations']);
const TIMING_FIELDS = ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const;
const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;
/** Pod condition types kruise's PodProbeMarker webhook refuses as probe names. */
const KRUISE_RESERVED_NAMES = new Set(['PodScheduled', 'Initialized', 'Ready', 'ContainersReady', 'KruisePodReady', 'InPlaceUpdateReady']);
/** Results tried when looking for template execution errors that do not depend on the branch taken. */
const SAMPLE_RESULTS = ['', '0', 'x'];

interface Ctx {
  readonly p: Problems;
  readonly containers: readonly TemplateContainer[];
  /** Containers by name, and their port names: lookups stay O(1) however many containers or qualities. */
  readonly byName: ReadonlyMap<string, { readonly container: TemplateContainer; readonly portNames: ReadonlySet<string> }>;
  /** The container names as shown in messages (a bounded list). */
  readonly namesShown: string;
}

/** How many names a message lists before it says "…". */
const MAX_NAMES_SHOWN = 5;

function newCtx(p: Problems, containers: TemplateContainer[]): Ctx {
  const byName = new Map<string, { container: TemplateContainer; portNames: Set<string> }>();
  for (const c of containers) {
    if (!byName.has(c.name)) byName.set(c.name, { container: c, portNames: new Set(c.ports.flatMap((x) => (x.name ? [x.name] : []))) });
  }
  const names = containers.slice(0, MAX_NAMES_SHOWN).map((c) => c.name.slice(0, MAX_QUOTED_CHARS));
  const namesShown = names.join(', ') + (containers.length > MAX_NAMES_SHOWN ? ', …' : '');
  return { p, containers, byName, namesShown };
}

function checkTemplateField(ctx: Ctx, path: string, text: string, result: string | undefined): boolean {
  if (!isTemplate(text)) return true;
  const err = checkTemplate(text);
  if (err !== undefined) {
    ctx.p.add('error', 'TemplateParse', path, `template does not parse in okg-sq's Go-template subset: ${err}`);
    return false;
  }
  const exec = probeTemplateExecution(text, result ? [result, ...SAMPLE_RESULTS] : SAMPLE_RESULTS);
  if (exec !== undefined) ctx.p.add('warning', 'TemplateExecution', path, `template fails when executed, so OKG keeps the text as written: ${exec}`);
  return true;
}

function parsePort(ctx: Ctx, path: string, port: unknown, container: TemplateContainer | undefined, allowName: boolean): number | string | undefined {
  if (typeof port === 'number') {
    if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
      ctx.p.add('error', 'InvalidPort', path, `port ${quote(port)} must be an integer from 1 to ${MAX_PORT}`);
      return undefined;
    }
    return port;
  }
  if (typeof port === 'string') {
    if (!allowName) {
      ctx.p.add('error', 'InvalidPort', path, `grpc.port must be a number (Kubernetes does not resolve named ports for grpc), got ${quote(port)}`);
      return undefined;
    }
    if (/^[0-9]+$/.test(port)) {
      ctx.p.add('error', 'InvalidPort', path, `port ${quote(port)} is a string of digits; write it as a number`);
      return undefined;
    }
    const bad = portNameError(port);
    if (bad) {
      ctx.p.add('error', 'InvalidPort', path, `port name ${quote(port)} is invalid: ${bad}`);
      return undefined;
    }
    if (container && !ctx.byName.get(container.name)?.portNames.has(port)) {
      ctx.p.add('error', 'UnknownPortName', path, `container ${quote(container.name)} has no port named ${quote(port)}`);
      return undefined;
    }
    return port;
  }
  ctx.p.add('error', port === undefined || port === null ? 'MissingField' : 'WrongType', path, `port must be a number or a port name, got ${typeName(port)}`);
  return undefined;
}

function refuseHost(ctx: Ctx, path: string, h: Obj): boolean {
  if (present(h, 'host') && h['host'] !== '') {
    ctx.p.add('error', 'HostRefused', `${path}.host`, 'host is refused: probes go to the pod\'s own IP (a host would let a GameServerSet make the prober call any address)');
    return false;
  }
  return true;
}

function parseHandler(ctx: Ctx, path: string, sq: Obj, container: TemplateContainer | undefined): ProbeHandlerSpec | undefined {
  const found = HANDLERS.filter((k) => present(sq, k));
  if (found.length === 0) {
    ctx.p.add('error', 'NoHandler', path, 'no probe handler: set one of exec, httpGet, tcpSocket, grpc');
    return undefined;
  }
  if (found.length > 1) {
    ctx.p.add('error', 'SeveralHandlers', `${path}.${found[1]}`, `only one probe handler may be set, found ${found.join(', ')}`);
    return undefined;
  }
  const kind = found[0]!;
  const hp = `${path}.${kind}`;
  const h = sq[kind];
  if (!isObj(h)) {
    ctx.p.add('error', 'WrongType', hp, `${kind} must be an object, got ${typeName(h)}`);
    return undefined;
  }
  switch (kind) {
    case 'exec': {
      const cmd = h['command'];
      if (!Array.isArray(cmd) || cmd.length === 0) {
        ctx.p.add('error', cmd === undefined ? 'MissingField' : 'WrongType', `${hp}.command`, 'exec.command must be a non-empty list of strings');
        return undefined;
      }
      const bad = cmd.findIndex((c) => typeof c !== 'string');
      if (bad >= 0) {
        ctx.p.add('error', 'WrongType', `${hp}.command[${bad}]`, `command entries must be strings, got ${typeName(cmd[bad])}`);
        return undefined;
      }
      return { kind: 'exec', command: cmd as string[] };
    }
    case 'httpGet': {
      ctx.p.add('warning', 'KruiseRejects', hp, 'stock OpenKruise rejects this set: its PodProbeMarker webhook does not support httpGet probes (exec and tcpSocket only); okg-sq runs it');
      const hostOk = refuseHost(ctx, hp, h);
      const port = parsePort(ctx, `${hp}.port`, h['port'], container, true);
      let ok = hostOk && port !== undefined;
      const scheme = h['scheme'] ?? 'HTTP';
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') {
        ctx.p.add('error', 'InvalidValue', `${hp}.scheme`, `scheme must be HTTP or HTTPS, got ${quote(scheme)}`);
        ok = false;
      }
      const path0 = h['path'] ?? '/';
      if (typeof path0 !== 'string') {
        ctx.p.add('error', 'WrongType', `${hp}.path`, `path must be a string, got ${typeName(path0)}`);
        ok = false;
      }
      const headers: HttpHeader[] = [];
      const rawHeaders = h['httpHeaders'] ?? [];
      if (!Array.isArray(rawHeaders)) {
        ctx.p.add('error', 'WrongType', `${hp}.httpHeaders`, 'httpHeaders must be a list of {name, value}');
        ok = false;
      } else {
        rawHeaders.forEach((hd, i) => {
          if (isObj(hd) && typeof hd['name'] === 'string' && hd['name'] !== '' && typeof (hd['value'] ?? '') === 'string') {
            headers.push({ name: hd['name'], value: (hd['value'] as string | undefined) ?? '' });
          } else {
            ctx.p.add('error', 'WrongType', `${hp}.httpHeaders[${i}]`, 'a header must be {name: string, value: string}');
            ok = false;
          }
        });
      }
      if (!ok) return undefined;
      const p = path0 as string;
      return { kind: 'httpGet', path: p === '' ? '/' : p, port: port!, scheme: scheme as 'HTTP' | 'HTTPS', headers };
    }
    case 'tcpSocket': {
      const hostOk = refuseHost(ctx, hp, h);
      const port = parsePort(ctx, `${hp}.port`, h['port'], container, true);
      return hostOk && port !== undefined ? { kind: 'tcpSocket', port } : undefined;
    }
    case 'grpc': {
      ctx.p.add('warning', 'KruiseRejects', hp, 'stock OpenKruise rejects this set: its PodProbeMarker webhook knows exec and tcpSocket handlers only ("must specify a handler type"); okg-sq runs grpc probes');
      const port = parsePort(ctx, `${hp}.port`, h['port'], container, false);
      const service = h['service'] ?? '';
      if (typeof service !== 'string') {
        ctx.p.add('error', 'WrongType', `${hp}.service`, `service must be a string, got ${typeName(service)}`);
        return undefined;
      }
      return port !== undefined ? { kind: 'grpc', port: port as number, service } : undefined;
    }
  }
}

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

function parseAction(ctx: Ctx, path: string, raw: unknown): ServiceQualityAction | undefined {
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
function findShadowed(ctx: Ctx, path: string, actions: readonly (ServiceQualityAction | undefined)[]): void {
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

function findImpossibleResults(ctx: Ctx, path: string, handler: ProbeHandlerSpec, actions: readonly (ServiceQualityAction | undefined)[]): void {
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
