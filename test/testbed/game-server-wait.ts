// Waits until a GameServer shows an opsState; on timeout the error carries the last GameServer read (its
// spec and status), which is what tells a slow flip from a wrong one.
import { waitFor } from './wait-for.js';

export async function waitForOpsState(read: () => Promise<any>, what: string, opsState: string, timeoutMs: number): Promise<any> {
  let last: any;
  try {
    return await waitFor(async () => {
      last = await read();
      return last.spec?.opsState === opsState ? last : false;
    }, { timeoutMs, intervalMs: 250, what: `GameServer ${what} opsState ${opsState}` });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last GameServer: ${JSON.stringify({ spec: last?.spec, status: last?.status })}`, { cause: err });
  }
}
