// The table `okg-sq local` prints: `kubectl get gs` columns plus one column per quality.
import type { LocalGameServer, LocalPod } from './memory-store.js';

/** A quality cell longer than this is cut (with …) so the table stays readable. */
export const MAX_QUALITY_CELL_CHARS = 28;

/** Shown in a quality's column until its first outcome crosses its threshold. */
export const NO_OUTCOME_YET = '-';

const FIXED_HEADERS = ['NAME', 'STATE', 'OPSSTATE', 'DP', 'UP', 'NET-DISABLED'] as const;
const COLUMN_GAP = '   ';

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** `state/result` of one quality, `false(timeout)` when the probe failed without answering. */
export function qualityCell(gameServer: LocalGameServer, pod: LocalPod | undefined, quality: string): string {
  const condition = gameServer.status?.serviceQualitiesConditions?.find((c) => c.name === quality);
  if (condition?.status === undefined || condition.status === '') return NO_OUTCOME_YET;
  const state = condition.status === 'True' ? 'true' : condition.status === 'False' ? 'false' : condition.status.toLowerCase();
  const errorKind = pod?.errorKinds[quality] ?? '';
  const result = condition.result ?? '';
  const cell = errorKind !== '' && result === '' ? `${state}(${errorKind})` : result === '' ? state : `${state}/${result}`;
  // Results are untrusted bytes: keep control characters out of the terminal.
  return truncate(cell.replace(/[\u0000-\u001f\u007f]/g, ' '), MAX_QUALITY_CELL_CHARS);
}

/** The table's lines (no trailing newline), columns padded like kubectl's. */
export function formatTable(
  gameServers: readonly LocalGameServer[],
  pod: (name: string) => LocalPod | undefined,
  qualities: readonly string[],
): string[] {
  const header = [...FIXED_HEADERS, ...qualities.map((q) => q.toUpperCase())];
  const rows = gameServers.map((gs) => {
    const spec = gs.spec ?? {};
    return [
      gs.metadata.name,
      gs.status?.currentState ?? 'Ready',
      spec.opsState ?? 'None',
      String(spec.deletionPriority ?? 0),
      String(spec.updatePriority ?? 0),
      String(spec.networkDisabled ?? false),
      ...qualities.map((q) => qualityCell(gs, pod(gs.metadata.name), q)),
    ];
  });
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
      .join(COLUMN_GAP)
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
