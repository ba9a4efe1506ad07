// PURE: OKG's syncServiceQualities (kruise-game pkg/controllers/gameserver/gameserver_manager.go) and the
// minimal GameServer patch built after it. Given the set's qualities, the pod's conditions, the GameServer
// and `now`, it returns the new status.serviceQualitiesConditions and the spec/labels/annotations patch.
// Deliberate differences: OKG accepts an action's `containers` but ignores it, okg-sq applies them,
// merged by container name; a label value rendered from the result that Kubernetes would refuse is left
// out with a warning (OKG sends it, and the API server refuses the whole patch, opsState included); so
// are an action's annotations when they would take the GameServer past Kubernetes' annotation size limit,
// an opsState or priority that is empty or not a valid label value (OKG copies them into pod labels), and
// a template that fails to render (its field is left alone with a warning; OKG writes the template's text).
import { stripOkgSeparators } from '../common/probe-result.js';
import type { GameServerContainer, IntOrString, ServiceQuality, ServiceQualityAction } from '../common/service-quality.js';
import { kubeTime, kubeTimeMs } from './kube-time.js';
import { isLabelValue } from './kube-names.js';
import { conditionType } from './pod-conditions.js';
import { parseBool } from './template/go-atoi.js';
import { isTemplate, parsePriorityTemplate, renderField } from './template.js';
import type { GameServerPatch, GameServerView, KubeTime, PodCondition, ServiceQualityCondition } from './types.js';
import { buildPatch, workingSpecOf, type WorkingSpec } from './gameserver-patch.js';
import { canonicalCondition, conditionsEqual, isSet } from './quality-conditions.js';

export interface DecideInput {
  readonly qualities: readonly ServiceQuality[];
  readonly podConditions: readonly PodCondition[];
  readonly gameServer: GameServerView;
  readonly now: Date;
}

export interface AppliedAction {
  readonly quality: string;
  readonly actionIndex: number;
  readonly state: boolean;
  readonly result: string;
  /** The opsState this action set (rendered), if it set one. */
  readonly opsState?: string;
}

/** Why an action's value was left alone (each is a Warning Event reason and a metric label). */
export const DECISION_WARNING_REASONS = ['InvalidUpdatePriority', 'InvalidDeletionPriority', 'InvalidLabelValue', 'AnnotationsTooLarge', 'InvalidOpsState', 'TemplateFailed'] as const;

export interface DecisionWarning {
  readonly quality: string;
  readonly actionIndex: number;
  /**
   * OKG's two Warning reasons for priority templates (okg-sq also gives them for a priority OKG could not
   * copy into its pod label), plus okg-sq's own: a label value, or an opsState, that Kubernetes would refuse
   * (OKG sends it, and the API server refuses the whole patch, or OKG's pod sync), annotations too large,
   * and a template that fails to render (OKG writes the template's own text as the value).
   */
  readonly reason: (typeof DECISION_WARNING_REASONS)[number];
  readonly message: string;
}

export interface QualityTrace {
  readonly quality: string;
  readonly status?: string;
  readonly result?: string;
  readonly previous?: ServiceQualityCondition;
  readonly fired: boolean;
  readonly why: string;
  readonly actions: { index: number; matched: boolean; why: string }[];
}

export interface Decision {
  readonly serviceQualitiesConditions: ServiceQualityCondition[];
  /** Whether serviceQualitiesConditions differ from the GameServer's current status. */
  readonly statusChanged: boolean;
  /** JSON merge patch for spec + labels + annotations; null when nothing changes. */
  readonly gameServerPatch: GameServerPatch | null;
  readonly applied: AppliedAction[];
  readonly warnings: DecisionWarning[];
  readonly trace: QualityTrace[];
}

/** Go's strconv.ParseBool ("1", "t", "TRUE"… match state: true): anything else (e.g. "Unknown") matches no action. */
export const parseGoBool = parseBool;

function mergeContainers(current: GameServerContainer[] | undefined, updates: readonly GameServerContainer[]): GameServerContainer[] {
  const merged = (current ?? []).map((c) => ({ ...c }));
  for (const u of updates) {
    const i = merged.findIndex((c) => c.name === u.name);
    if (i < 0) merged.push({ ...u });
    else merged[i] = { ...merged[i]!, ...Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined && v !== '')) } as GameServerContainer;
  }
  return merged;
}

function applyPriority(
  value: IntOrString,
  result: string,
  reason: DecisionWarning['reason'],
  where: { quality: string; actionIndex: number },
  warnings: DecisionWarning[],
): IntOrString | undefined {
  if (typeof value === 'number' || !isTemplate(value)) return value;
  const parsed = parsePriorityTemplate(value, result);
  if (parsed.ok) return parsed.value;
  const field = reason === 'InvalidDeletionPriority' ? 'DeletionPriority' : 'UpdatePriority';
  warnings.push({ ...where, reason, message: `Failed to parse ${field} template '${value}' with result '${result}': ${parsed.message}` });
  return undefined; // the field is left alone
}

/** A rendered value, or undefined (and a warning) where the template fails: the field is left alone. */
function renderOrWarn(text: string, result: string, field: string, where: { quality: string; actionIndex: number }, warnings: DecisionWarning[]): string | undefined {
  const r = renderField(text, result);
  if (r.ok) return r.value;
  warnings.push({ ...where, reason: 'TemplateFailed', message: `${field}: template ${JSON.stringify(text.slice(0, 80))} does not render with result ${JSON.stringify(result.slice(0, 80))}: ${r.reason}; the field is left alone (OKG would write the template's text)` });
  return undefined;
}

function renderMap(map: Readonly<Record<string, string>>, result: string, field: string, where: { quality: string; actionIndex: number }, warnings: DecisionWarning[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    const rendered = renderOrWarn(v, result, `${field} ${k}`, where, warnings);
    if (rendered !== undefined) out[k] = rendered;
  }
  return out;
}

/** Applies one matching action to the working copy, exactly in OKG's field order. */
function applyAction(action: ServiceQualityAction, result: string, spec: WorkingSpec, where: { quality: string; actionIndex: number }, warnings: DecisionWarning[]): string | undefined {
  if (action.deletionPriority !== undefined && action.deletionPriority !== null) {
    const v = applyPriority(action.deletionPriority, result, 'InvalidDeletionPriority', where, warnings);
    if (v !== undefined && syncableToPod(String(v), 'deletionPriority', 'gs-delete-priority', 'InvalidDeletionPriority', where, warnings)) spec.deletionPriority = v;
  }
  if (action.updatePriority !== undefined && action.updatePriority !== null) {
    const v = applyPriority(action.updatePriority, result, 'InvalidUpdatePriority', where, warnings);
    if (v !== undefined && syncableToPod(String(v), 'updatePriority', 'gs-update-priority', 'InvalidUpdatePriority', where, warnings)) spec.updatePriority = v;
  }
  let opsState: string | undefined;
  if (action.opsState) {
    const rendered = renderOrWarn(action.opsState, result, 'opsState', where, warnings);
    if (rendered === '') warnings.push({ ...where, reason: 'InvalidOpsState', message: 'rendered opsState is empty; the opsState is left alone' });
    else if (rendered !== undefined && syncableToPod(rendered, 'opsState', 'gs-opsState', 'InvalidOpsState', where, warnings)) {
      opsState = rendered;
      spec.opsState = opsState;
    }
  }
  if (action.networkDisabled !== undefined && action.networkDisabled !== null) spec.networkDisabled = action.networkDisabled;
  if (action.containers && action.containers.length > 0) spec.containers = mergeContainers(spec.containers, action.containers);
  if (action.labels && Object.keys(action.labels).length > 0) {
    for (const [k, v] of Object.entries(renderMap(action.labels, result, 'label', where, warnings))) {
      if (isLabelValue(v)) spec.labels[k] = v;
      else warnings.push({ ...where, reason: 'InvalidLabelValue', message: `label ${k}: rendered value ${JSON.stringify(v.slice(0, 80))} is not a valid label value; the label is left alone` });
    }
  }
  if (action.annotations && Object.keys(action.annotations).length > 0) {
    const rendered = renderMap(action.annotations, result, 'annotation', where, warnings);
    const size = annotationsBytes({ ...spec.annotations, ...rendered });
    if (size <= MAX_ANNOTATIONS_BYTES) Object.assign(spec.annotations, rendered);
    else warnings.push({ ...where, reason: 'AnnotationsTooLarge', message: `annotations would total ${size} bytes, over Kubernetes' limit of ${MAX_ANNOTATIONS_BYTES}; this action's annotations are left alone` });
  }
  return opsState;
}

/**
 * OKG copies opsState and the priorities into pod labels (`game.kruise.io/gs-opsState`, …): a value the
 * API server refuses as a label value stops OKG's pod sync for that GameServer. Such a value is left out.
 */
function syncableToPod(value: string, field: string, label: string, reason: DecisionWarning['reason'], where: { quality: string; actionIndex: number }, warnings: DecisionWarning[]): boolean {
  if (isLabelValue(value)) return true;
  warnings.push({
    ...where,
    reason,
    message: `${field} ${JSON.stringify(value.slice(0, 80))} is not a valid label value (OKG copies it into the pod label game.kruise.io/${label}); the ${field} is left alone`,
  });
  return false;
}

/**
 * Kubernetes' TotalAnnotationSizeLimitB: the API server refuses (422) an object whose annotations' keys
 * and values pass it, and with it the whole patch (the opsState of every other quality included).
 */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;
const encoder = new TextEncoder();

function annotationsBytes(annotations: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(annotations)) n += encoder.encode(k).length + encoder.encode(v).length;
  return n;
}

function actionWhy(action: ServiceQualityAction, state: boolean | undefined, result: string): { matched: boolean; why: string } {
  if (state === undefined) return { matched: false, why: 'status is not a boolean' };
  if (state !== action.state) return { matched: false, why: `state ${action.state} ≠ ${state}` };
  if (action.result && action.result !== result) return { matched: false, why: `result ${JSON.stringify(action.result)} ≠ ${JSON.stringify(result)}` };
  return { matched: true, why: action.result ? `state ${state} and result ${JSON.stringify(result)}` : `state ${state}, any result` };
}

function decideQuality(
  sq: ServiceQuality,
  podConditions: readonly PodCondition[],
  prev: ServiceQualityCondition | undefined,
  spec: WorkingSpec,
  now: { ms: number; kube: KubeTime },
  out: { applied: AppliedAction[]; warnings: DecisionWarning[] },
): { condition: ServiceQualityCondition; trace: QualityTrace } {
  const type = conditionType(sq.name);
  const pc = podConditions.find((c) => c.type === type);
  const previous = prev ? canonicalCondition(prev) : undefined;
  if (pc === undefined) {
    return {
      condition: { name: sq.name },
      trace: { quality: sq.name, ...(previous ? { previous } : {}), fired: false, why: `no pod condition ${type} yet`, actions: [] },
    };
  }
  const status = pc.status ?? '';
  const result = stripOkgSeparators(pc.message ?? '');
  const changed = prev !== undefined && ((prev.status ?? '') !== status || (prev.result ?? '') !== result);
  const prevActed = prev !== undefined && isSet(prev.lastActionTransitionTime);
  const fire = prev === undefined || (changed && (!prevActed || !sq.permanent));
  const why =
    prev === undefined ? 'no previous condition'
    : !changed ? 'status and result unchanged (edge trigger)'
    : fire ? (prevActed ? 'changed; not permanent' : 'changed; no action applied since the last change')
    : 'changed, but permanent and an action already applied';

  const actions: QualityTrace['actions'] = [];
  let lastAction: KubeTime | undefined;
  if (fire) {
    const state = parseGoBool(status);
    sq.actions.forEach((action, actionIndex) => {
      const verdict = actionWhy(action, state, result);
      actions.push({ index: actionIndex, ...verdict });
      if (!verdict.matched) return;
      const opsState = applyAction(action, result, spec, { quality: sq.name, actionIndex }, out.warnings);
      out.applied.push({ quality: sq.name, actionIndex, state: action.state, result, ...(opsState !== undefined ? { opsState } : {}) });
      lastAction = now.kube;
    });
  } else if (prev && isSet(prev.lastActionTransitionTime)) {
    lastAction = prev.lastActionTransitionTime;
  }

  // OKG: whichever of lastActionTransitionTime / lastProbeTime is closer to now; ties (and zero) → lastProbeTime.
  const lastProbe = isSet(pc.lastProbeTime) ? pc.lastProbeTime : undefined;
  const distance = (t: KubeTime | undefined, fresh: boolean): number => (t === undefined ? Infinity : fresh ? 0 : now.ms - kubeTimeMs(t)!);
  const actionFresh = fire && lastAction !== undefined; // OKG compares its in-memory now, not the truncated string
  const lastTransition = distance(lastAction, actionFresh) < distance(lastProbe, false) ? lastAction : lastProbe;

  const condition = canonicalCondition({
    name: sq.name,
    status,
    result,
    lastProbeTime: lastProbe,
    lastTransitionTime: lastTransition,
    lastActionTransitionTime: lastAction,
  });
  return {
    condition,
    trace: { quality: sq.name, status, result, ...(previous ? { previous } : {}), fired: fire, why, actions },
  };
}

export function decide(input: DecideInput): Decision {
  const nowMs = input.now.getTime();
  const now = { ms: nowMs, kube: kubeTime(nowMs) };
  const current = input.gameServer.status?.serviceQualitiesConditions ?? [];
  const prevByName = new Map<string, ServiceQualityCondition>();
  for (const c of current) prevByName.set(c.name, c); // a later duplicate wins, as in OKG's map
  const spec = workingSpecOf(input.gameServer);
  const out = { applied: [] as AppliedAction[], warnings: [] as DecisionWarning[] };
  const conditions: ServiceQualityCondition[] = [];
  const trace: QualityTrace[] = [];
  for (const sq of input.qualities) {
    const r = decideQuality(sq, input.podConditions, prevByName.get(sq.name), spec, now, out);
    conditions.push(r.condition);
    trace.push(r.trace);
  }
  return {
    serviceQualitiesConditions: conditions,
    statusChanged: !conditionsEqual(conditions, current),
    gameServerPatch: buildPatch(input.gameServer, spec),
    applied: out.applied,
    warnings: out.warnings,
    trace,
  };
}
