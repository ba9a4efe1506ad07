// Waits until a GameServer satisfies a condition (an opsState, a quality's condition); on timeout the
// error carries the last GameServer read (its spec and status), which is what tells a slow flip from a
// wrong one.
import { waitFor } from './wait-for.js';

export async function waitForGameServer(read: () => Promise<any>, what: string, ok: (gs: any) => boolean, timeoutMs: number): Promise<any> {
  let last: any;
  try {
    return await waitFor(async () => {
      last = await read();
      return ok(last) ? last : false;
    }, { timeoutMs, intervalMs: 250, what: `GameServer ${what}` });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last GameServer: ${JSON.stringify({ spec: last?.spec, status: last?.status })}`, { cause: err });
  }
}

export function waitForOpsState(read: () => Promise<any>, what: string, opsState: string, timeoutMs: number): Promise<any> {
  return waitForGameServer(read, `${what} opsState ${opsState}`, (gs) => gs.spec?.opsState === opsState, timeoutMs);
}
