// PURE: the GameServer fields OKG's actions may set, as a working copy (WorkingSpec), and the minimal JSON
// merge patch from the GameServer to that copy: only what changed, arrays (containers) replaced, label and
// annotation maps merged key by key, so nothing another writer set is touched (docs/design.md §3, §4).
import type { GameServerContainer, IntOrString } from '../common/service-quality.js';
import type { GameServerPatch, GameServerView } from './types.js';

/** The mutable copy of the GameServer fields actions may set. */
export interface WorkingSpec {
  opsState: string;
  updatePriority: IntOrString | undefined;
  deletionPriority: IntOrString | undefined;
  networkDisabled: boolean | undefined;
  containers: GameServerContainer[] | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function workingSpecOf(gs: GameServerView): WorkingSpec {
  return {
    opsState: gs.spec?.opsState ?? '',
    updatePriority: gs.spec?.updatePriority ?? undefined,
    deletionPriority: gs.spec?.deletionPriority ?? undefined,
    networkDisabled: gs.spec?.networkDisabled ?? undefined,
    containers: gs.spec?.containers ? gs.spec.containers.map((c) => ({ ...c })) : undefined,
    labels: { ...(gs.metadata.labels ?? {}) },
    annotations: { ...(gs.metadata.annotations ?? {}) },
  };
}

function priorityEqual(a: IntOrString | undefined, b: IntOrString | undefined): boolean {
  return a === b;
}

/** The merge patch that takes `gs` to `spec`, or null when nothing changed. */
export function buildPatch(gs: GameServerView, spec: WorkingSpec): GameServerPatch | null {
  const patch: GameServerPatch = {};
  const specPatch: NonNullable<GameServerPatch['spec']> = {};
  if ((gs.spec?.opsState ?? '') !== spec.opsState) specPatch.opsState = spec.opsState;
  if (!priorityEqual(gs.spec?.updatePriority ?? undefined, spec.updatePriority) && spec.updatePriority !== undefined) specPatch.updatePriority = spec.updatePriority;
  if (!priorityEqual(gs.spec?.deletionPriority ?? undefined, spec.deletionPriority) && spec.deletionPriority !== undefined) specPatch.deletionPriority = spec.deletionPriority;
  if ((gs.spec?.networkDisabled ?? undefined) !== spec.networkDisabled && spec.networkDisabled !== undefined) specPatch.networkDisabled = spec.networkDisabled;
  if (spec.containers !== undefined && JSON.stringify(gs.spec?.containers ?? []) !== JSON.stringify(spec.containers)) specPatch.containers = spec.containers;
  if (Object.keys(specPatch).length > 0) patch.spec = specPatch;

  const changedKeys = (before: Readonly<Record<string, string>> | undefined, after: Record<string, string>): Record<string, string> | undefined => {
    const diff: Record<string, string> = {};
    for (const [k, v] of Object.entries(after)) if (before?.[k] !== v) diff[k] = v;
    return Object.keys(diff).length > 0 ? diff : undefined;
  };
  const labels = changedKeys(gs.metadata.labels, spec.labels);
  const annotations = changedKeys(gs.metadata.annotations, spec.annotations);
  if (labels || annotations) patch.metadata = { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
  return patch.spec || patch.metadata ? patch : null;
}

/** The GameServer after a JSON merge patch from `decide` (arrays replaced, maps merged). */
export function applyGameServerPatch(gs: GameServerView, patch: GameServerPatch | null): GameServerView {
  if (patch === null) return gs;
  return {
    ...gs,
    metadata: {
      ...gs.metadata,
      ...(patch.metadata?.labels ? { labels: { ...(gs.metadata.labels ?? {}), ...patch.metadata.labels } } : {}),
      ...(patch.metadata?.annotations ? { annotations: { ...(gs.metadata.annotations ?? {}), ...patch.metadata.annotations } } : {}),
    },
    ...(patch.spec ? { spec: { ...(gs.spec ?? {}), ...patch.spec } } : {}),
  };
}
