// The environment a container of the set's pod template gives its exec probes, as far as it can be
// known without a cluster: literal `value`s and the downward API's pod name, namespace and IP.
// (In a pod, an exec probe runs with the container's environment; scripts often rely on it.)
import type { ExecTarget } from '../../common/probe/types.js';
import { LOCAL_POD_IP } from './local-targets.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Downward API fields a simulated pod can answer. */
const FIELD_VALUES: Readonly<Record<string, (t: ExecTarget) => string>> = {
  'metadata.name': (t) => t.podName,
  'metadata.namespace': (t) => t.namespace,
  'metadata.uid': (t) => t.podUid,
  'status.podIP': () => LOCAL_POD_IP,
};

export interface ContainerEnv {
  /** The variables for one exec; empty for an unknown container. */
  (target: ExecTarget): Record<string, string>;
  /** Variables that cannot be simulated (secrets, config maps, resource fields), per container, for a note. */
  readonly skipped: ReadonlyMap<string, readonly string[]>;
}

/** Reads spec.gameServerTemplate.spec.containers[].env of the set, leniently (bad entries skipped). */
export function containerEnv(gss: unknown): ContainerEnv {
  const spec = isObj(gss) ? gss['spec'] : undefined;
  const tmpl = isObj(spec) ? spec['gameServerTemplate'] : undefined;
  const podSpec = isObj(tmpl) ? tmpl['spec'] : undefined;
  const containers = isObj(podSpec) && Array.isArray(podSpec['containers']) ? podSpec['containers'] : [];
  const byContainer = new Map<string, ((t: ExecTarget) => [string, string] | undefined)[]>();
  const skipped = new Map<string, string[]>();
  for (const c of containers) {
    if (!isObj(c) || typeof c['name'] !== 'string') continue;
    const name = c['name'];
    const entries: ((t: ExecTarget) => [string, string] | undefined)[] = [];
    for (const e of Array.isArray(c['env']) ? c['env'] : []) {
      if (!isObj(e) || typeof e['name'] !== 'string' || e['name'] === '') continue;
      const key = e['name'];
      const fieldRef = isObj(e['valueFrom']) ? e['valueFrom']['fieldRef'] : undefined;
      const fieldPath = isObj(fieldRef) ? fieldRef['fieldPath'] : undefined;
      const field = typeof fieldPath === 'string' ? FIELD_VALUES[fieldPath] : undefined;
      if (field !== undefined) {
        entries.push((t) => [key, field(t)]);
      } else if (e['valueFrom'] === undefined || e['valueFrom'] === null) {
        const value = typeof e['value'] === 'string' ? e['value'] : '';
        entries.push(() => [key, value]);
      } else {
        skipped.set(name, [...(skipped.get(name) ?? []), key]);
      }
    }
    byContainer.set(name, entries);
  }
  const env = ((target: ExecTarget) => {
    const out: Record<string, string> = {};
    for (const entry of byContainer.get(target.containerName) ?? []) {
      const kv = entry(target);
      if (kv !== undefined) out[kv[0]] = kv[1];
    }
    return out;
  }) as ContainerEnv;
  Object.defineProperty(env, 'skipped', { value: skipped });
  return env;
}
