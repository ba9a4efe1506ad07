// tcp probes: the connection opens → true. Like kubelet, nothing is sent and the socket is closed at once.
import { connect } from 'node:net';
import { failedRun, NO_EXIT_CODE, networkErrorKind, type RunnerResult } from './runner-result.js';

export function tcpRunner(host: string, port: number, opts: { timeoutMs: number; signal: AbortSignal }): Promise<RunnerResult> {
  return new Promise((resolve) => {
    if (opts.signal.aborted) return resolve(failedRun('timeout', 'aborted before connecting'));
    const socket = connect({ host, port });
    let done = false;
    const finish = (result: RunnerResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(failedRun('timeout', `tcp ${host}:${port} aborted`));
    const timer = setTimeout(() => finish(failedRun('timeout', `tcp ${host}:${port}: no connection within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ state: true, result: '', exitCode: NO_EXIT_CODE, errorKind: '' }));
    socket.once('error', (err) => finish(failedRun(networkErrorKind(err), `tcp ${host}:${port}: ${err.message}`)));
  });
}
