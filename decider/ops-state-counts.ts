// GameServers per (namespace, set, opsState) for the okgsq_gameservers gauge, with a bounded label set.
// opsState is free text in OKG: `opsState: "{{.Result}}"` can give every GameServer of a set its own value,
// and one series per GameServer is the cardinality docs/design.md §14 rules out. OKG's own opsStates always
// keep their series; past MAX_OTHER_OPS_STATES other values per set, the least common fold into OTHER_OPS_STATE.
import { KNOWN_OPS_STATES } from '../common/okg-defaults.js';

export interface GameServerCount {
  readonly namespace: string;
  readonly gameServerSet: string;
  readonly opsState: string;
}

export interface OpsStateCount {
  readonly namespace: string;
  readonly gameServerSet: string;
  readonly opsState: string;
  readonly count: number;
}

export const MAX_OTHER_OPS_STATES = 10;
/** Not a valid label value (labels start with an alphanumeric), so no real opsState can be written as it. */
export const OTHER_OPS_STATE = '_other';

const KNOWN = new Set<string>(KNOWN_OPS_STATES);

export function countOpsStates(gameServers: Iterable<GameServerCount>, maxOther = MAX_OTHER_OPS_STATES): OpsStateCount[] {
  const bySet = new Map<string, { namespace: string; gameServerSet: string; counts: Map<string, number> }>();
  for (const g of gameServers) {
    const key = `${g.namespace}\u0000${g.gameServerSet}`;
    let set = bySet.get(key);
    if (!set) bySet.set(key, (set = { namespace: g.namespace, gameServerSet: g.gameServerSet, counts: new Map() }));
    set.counts.set(g.opsState, (set.counts.get(g.opsState) ?? 0) + 1);
  }
  const out: OpsStateCount[] = [];
  for (const { namespace, gameServerSet, counts } of bySet.values()) {
    // Most common first; ties by name, so the same cluster always gives the same series.
    const others = [...counts].filter(([state]) => !KNOWN.has(state)).sort(([a, n], [b, m]) => m - n || (a < b ? -1 : a > b ? 1 : 0));
    const folded = others.slice(maxOther).reduce((sum, [, n]) => sum + n, 0);
    const kept = [...counts].filter(([state]) => KNOWN.has(state)).concat(others.slice(0, maxOther));
    if (folded > 0) kept.push([OTHER_OPS_STATE, folded]);
    for (const [opsState, count] of kept) out.push({ namespace, gameServerSet, opsState, count });
  }
  return out;
}
