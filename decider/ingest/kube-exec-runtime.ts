// ExecRuntime over the Kubernetes exec API (pods/exec, websocket), for pods on nodes with no agent.
// Only used when the operator opts in (OKGSQ_REMOTE_EXEC=true): pods/exec is a powerful permission.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';

/** The websocket transport Exec uses (not exported by name from the package). */
export type WebSocketInterface = NonNullable<ConstructorParameters<typeof Exec>[1]>;
import type { ErrorKind } from '../../common/outcome.js';
import { MAX_OUTPUT_BYTES } from '../../common/probe-result.js';
import { ProbeRunError } from '../../common/probe/probe-run-error.js';
import type { ExecOutput, ExecRuntime, ExecTarget } from '../../common/probe/types.js';

/** Keeps the first MAX_OUTPUT_BYTES and drops the rest, still draining the socket. */
class BoundedSink extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const room = MAX_OUTPUT_BYTES - this.size;
    if (room > 0) {
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(kept);
      this.size += kept.length;
    }
    done();
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

/** The exit code in an exec's final V1Status: Success = 0; NonZeroExitCode carries it in causes. */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
}

/** What a failed exec handshake or a Failure status means for the probe. */
export function errorKindOf(message: string): ErrorKind {
  const m = message.toLowerCase();
  if (/not found|is not valid for pod|404/.test(m)) return 'container_not_found';
  if (/not running|containercreating|terminated|waiting to start/.test(m)) return 'container_not_running';
  // Our own problem (no permission, no apiserver, no kubelet route): the probe could not run.
  if (/forbidden|403|401|unauthorized|econnrefused|enotfound|etimedout|socket hang up|502|503/.test(m)) return 'runtime_unavailable';
  return 'exec_failed';
}

export class KubeExecRuntime implements ExecRuntime {
  private readonly exec: Exec;

  /** `ws` replaces the websocket transport in unit tests. */
  constructor(kubeConfig: KubeConfig, ws?: WebSocketInterface) {
    this.exec = new Exec(kubeConfig, ws);
  }

  async execSync(
    target: ExecTarget,
    argv: readonly string[],
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<ExecOutput> {
    const stdout = new BoundedSink();
    const stderr = new BoundedSink();
    return new Promise<ExecOutput>((resolve, reject) => {
      let socket: { close(): void; terminate?(): void } | undefined;
      let settled = false;
      const finish = (outcome: { ok: ExecOutput } | { err: ProbeRunError }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        // A hanging command is abandoned: closing the websocket is all the exec API lets us do.
        try {
          socket?.terminate ? socket.terminate() : socket?.close();
        } catch {
          // already closed
        }
        if ('ok' in outcome) resolve(outcome.ok);
        else reject(outcome.err);
      };
      const where = `${target.namespace}/${target.podName}/${target.containerName}`;
      const timer = setTimeout(
        () => finish({ err: new ProbeRunError('timeout', `exec in ${where} timed out after ${opts.timeoutMs} ms`) }),
        opts.timeoutMs,
      );
      const onAbort = (): void => finish({ err: new ProbeRunError('runtime_unavailable', `exec in ${where} aborted`) });
      if (opts.signal.aborted) return onAbort();
      opts.signal.addEventListener('abort', onAbort, { once: true });

      const onStatus = (status: V1Status): void => {
        const exitCode = exitCodeOf(status);
        if (exitCode !== undefined) {
          finish({ ok: { exitCode, stdout: stdout.bytes(), stderr: stderr.bytes() } });
        } else {
          const message = status.message ?? status.reason ?? 'exec failed';
          finish({ err: new ProbeRunError(errorKindOf(message), `exec in ${where}: ${message}`) });
        }
      };
      this.exec
        .exec(target.namespace, target.podName, target.containerName, [...argv], stdout, stderr, null, false, onStatus)
        .then(
          (ws) => {
            socket = ws;
            if (settled) {
              // Timed out or aborted while connecting: abandon the late socket.
              ws.close();
              return;
            }
            ws.on?.('close', () =>
              finish({ err: new ProbeRunError('exec_failed', `exec in ${where} ended without an exit status`) }),
            );
          },
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            finish({ err: new ProbeRunError(errorKindOf(message), `exec in ${where}: ${message}`, { cause: err }) });
          },
        );
    });
  }
}
