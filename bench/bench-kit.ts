// Shared helpers of the bench scripts: apiserver write counters, percentiles, paced loops, the report
// (one JSON document, then a table) and the machine's facts printed next to every figure.
import { cpus, loadavg } from 'node:os';
import type { KubeApi } from '../decider/kube/kube-client.js';
import { OkgSqError, ERROR_CODES } from '../common/errors.js';

export const GAME = '/apis/game.kruise.io/v1alpha1';

export async function must(api: KubeApi, method: string, path: string, body?: unknown, merge = false): Promise<any> {
  const res = await api.request(method, path, { body, ...(merge ? { contentType: 'application/merge-patch+json' as const } : {}) });
  if (res.status >= 300) throw new OkgSqError(ERROR_CODES.KUBE_API, `${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Runs fn over items with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/**
 * Mutating requests the apiserver itself counted (apiserver_request_total), keyed "VERB resource[/sub]".
 * Counted by the server, so nothing the decider does can hide a write from the bench.
 */
export async function apiserverWrites(api: KubeApi): Promise<Map<string, number>> {
  const res = await api.request('GET', '/metrics');
  const out = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string): string => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(label('verb'))) continue;
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? '/' + label('subresource') : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.split(' ').pop()));
  }
  return out;
}

export function deltaOf(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d[k] = v - (before.get(k) ?? 0);
  return d;
}

/** Writes to objects (GameServers, pods), leaving out Events and the leader lease. */
export function objectWrites(d: Record<string, number>): number {
  return Object.entries(d)
    .filter(([k]) => !k.includes('events') && !k.includes('leases'))
    .reduce((a, [, v]) => a + v, 0);
}

export function eventWrites(d: Record<string, number>): number {
  return Object.entries(d)
    .filter(([k]) => k.includes('events'))
    .reduce((a, [, v]) => a + v, 0);
}

export function leaseWrites(d: Record<string, number>): number {
  return Object.entries(d)
    .filter(([k]) => k.includes('leases'))
    .reduce((a, [, v]) => a + v, 0);
}

/** Nearest-rank percentile of an unsorted list (NaN when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The machine next to the figures: the box is shared, so the load average matters. */
export function machine(): Record<string, string | number> {
  const [l1, l5, l15] = loadavg();
  return { cores: cpus().length, node: process.version, loadavg: `${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)}`, date: new Date().toISOString() };
}

/** Resolves after ms; only for pacing a load generator or a soak window, never to wait for a result. */
export function pace(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

export interface Row {
  readonly goal: string;
  readonly measured: string;
  readonly target: string;
  readonly met: boolean | 'n/a';
}

/** Prints the JSON document (machine-readable) then the goal table (human-readable). */
export function report(bench: string, figures: Record<string, unknown>, rows: readonly Row[]): void {
  process.stdout.write(`${JSON.stringify({ bench, machine: machine(), figures, rows }, null, 2)}\n\n`);
  const head = ['goal', 'measured', 'target', 'met'];
  const cells = rows.map((r) => [r.goal, r.measured, r.target, r.met === 'n/a' ? 'n/a' : r.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(widths[i]!)).join(' | ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${cells.map(line).join('\n')}\n`);
}

/** Progress lines go to stderr so stdout stays the report. */
export function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/**
 * The apiserver's own time for mutating requests (apiserver_request_duration_seconds sum and count,
 * summed over resources): tells "the apiserver got slower" apart from "the client sent less".
 */
export async function apiserverWriteSeconds(api: KubeApi): Promise<{ sum: number; count: number }> {
  const res = await api.request('GET', '/metrics');
  let sum = 0;
  let count = 0;
  for (const line of String(res.body).split('\n')) {
    const m = /^apiserver_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const verb = /(?:^|,)verb="([^"]*)"/.exec(m[2]!)?.[1] ?? '';
    const resource = /(?:^|,)resource="([^"]*)"/.exec(m[2]!)?.[1] ?? '';
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(verb) || resource === 'leases') continue;
    if (m[1] === 'sum') sum += Number(m[3]);
    else count += Number(m[3]);
  }
  return { sum, count };
}
