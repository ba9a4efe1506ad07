// tcp probes: the connection opens → true. Like kubelet, nothing is sent and the socket is closed at once.
import { connect, type Socket } from 'node:net';
import { settleOnce } from '../settle-once.js';
import { failedRun, NO_EXIT_CODE, networkErrorKind, type RunnerResult } from './runner-result.js';

export function tcpRunner(host: string, port: number, opts: { timeoutMs: number; signal: AbortSignal }): Promise<RunnerResult> {
  let socket: Socket | undefined;
  return settleOnce(
    {
      ...opts,
      timedOut: () => failedRun('timeout', `tcp ${host}:${port}: no connection within ${opts.timeoutMs} ms`),
      aborted: () => failedRun('timeout', `tcp ${host}:${port} aborted`),
      release: () => socket?.destroy(),
    },
    (finish) => {
      socket = connect({ host, port });
      socket.once('connect', () => finish({ state: true, result: '', exitCode: NO_EXIT_CODE, errorKind: '' }));
      socket.once('error', (err) => finish(failedRun(networkErrorKind(err), `tcp ${host}:${port}: ${err.message}`)));
    },
  );
}
