// One probe run of any handler kind. Never throws: every failure is a RunnerResult.
import type { ExecRuntime, ProbeTarget } from '../probe/types.js';
import { execTargetOf } from '../probe/types.js';
import { execRunner } from './exec-runner.js';
import { grpcRunner } from './grpc-runner.js';
import { httpRunner } from './http-runner.js';
import { failedRun, type RunnerResult } from './runner-result.js';
import { tcpRunner } from './tcp-runner.js';

export function runProbe(
  target: ProbeTarget,
  exec: ExecRuntime | undefined,
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<RunnerResult> {
  const h = target.handler;
  // Without an IP a network probe would go to this host (net and http default to localhost): never that.
  if (h.kind !== 'exec' && target.podIp === '') {
    return Promise.resolve(failedRun('connection_failed', `${target.namespace}/${target.podName} has no pod IP yet`));
  }
  switch (h.kind) {
    case 'exec':
      return execRunner(exec, execTargetOf(target), h.command, opts);
    case 'httpGet':
      return httpRunner(target.podIp, h, opts);
    case 'tcpSocket':
      return tcpRunner(target.podIp, h.port, opts);
    case 'grpc':
      return grpcRunner(target.podIp, h.port, h.service, opts);
  }
}
