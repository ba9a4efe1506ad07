// ExecRuntime over the Kubernetes exec API (pods/exec, websocket), for pods on nodes with no agent.
// Only used when the operator opts in (OKGSQ_REMOTE_EXEC=true): pods/exec is a powerful permission.
import { Writable } from 'node:stream';
import { ApiException, CoreV1Api, Exec, type KubeConfig, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../common/clock.js';
import type { ErrorKind } from '../../common/outcome.js';
import { MAX_OUTPUT_BYTES } from '../../common/probe-result.js';
import { ProbeRunError } from '../../common/probe/probe-run-error.js';
import type { ExecOutput, ExecRuntime, ExecTarget } from '../../common/probe/types.js';

/** The websocket transport Exec uses (not exported by name from the package). */
export type WebSocketInterface = NonNullable<ConstructorParameters<typeof Exec>[1]>;

export interface KubeExecDeps {
  /** Replaces the websocket transport (unit tests). */
  readonly ws?: WebSocketInterface;
  /** Reads a pod, undefined when it does not exist; used only to explain a refused exec. */
  readonly readPod?: (namespace: string, name: string) => Promise<V1Pod | undefined>;
  /** Times the exec timeout; the system clock by default. */
  readonly clock?: Clock;
}

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

/** What a Failure status's message means for the probe. */
export function errorKindOf(message: string): ErrorKind {
  const m = message.toLowerCase();
  if (/not found|is not valid for pod/.test(m)) return 'container_not_found';
  if (/not running|containercreating|terminated|waiting to start/.test(m)) return 'container_not_running';
  // Our own problem (no permission, no apiserver, no route to the kubelet): the probe could not run.
  if (/forbidden|unauthorized|econnrefused|enotfound|etimedout|econnreset|socket hang up/.test(m)) return 'runtime_unavailable';
  return 'exec_failed';
}

/**
 * Why the apiserver refused an exec, from the pod itself: the websocket handshake only gives a status
 * code, and 404 means "no such pod" as well as "no such node". A refusal that is not the pod's fault
 * (its container exists and runs) is ours: the probe could not run.
 */
export function diagnoseRefusal(pod: V1Pod | undefined, target: ExecTarget): ErrorKind {
  if (!pod || (target.podUid && pod.metadata?.uid && pod.metadata.uid !== target.podUid)) return 'container_not_found';
  if (!pod.spec?.containers.some((c) => c.name === target.containerName)) return 'container_not_found';
  const status = pod.status?.containerStatuses?.find((c) => c.name === target.containerName);
  if (status && !status.state?.running) return 'container_not_running';
  return 'runtime_unavailable';
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

const HANDSHAKE_STATUS = /Unexpected server response: (\d{3})/;

export class KubeExecRuntime implements ExecRuntime {
  private readonly exec: Exec;
  private readonly readPod: (namespace: string, name: string) => Promise<V1Pod | undefined>;
  private readonly clock: Clock;

  constructor(kubeConfig: KubeConfig, deps: KubeExecDeps = {}) {
    this.exec = new Exec(kubeConfig, deps.ws);
    this.clock = deps.clock ?? systemClock;
    if (deps.readPod) {
      this.readPod = deps.readPod;
    } else {
      const core = kubeConfig.makeApiClient(CoreV1Api);
      this.readPod = async (namespace, name) => {
        try {
          return await core.readNamespacedPod({ namespace, name });
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) return undefined;
          throw err;
        }
      };
    }
  }

  async execSync(
    target: ExecTarget,
    argv: readonly string[],
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<ExecOutput> {
    const stdout = new BoundedSink();
    const stderr = new BoundedSink();
    const where = `${target.namespace}/${target.podName}/${target.containerName}`;
    return new Promise<ExecOutput>((resolve, reject) => {
      let socket: { close(): void; terminate?(): void } | undefined;
      let settled = false;
      const finish = (outcome: { ok: ExecOutput } | { err: ProbeRunError }): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        opts.signal.removeEventListener('abort', onAbort);
        // A hanging command is abandoned: closing the websocket is all the exec API lets us do.
        try {
          if (socket?.terminate) socket.terminate();
          else socket?.close();
        } catch {
          // already closed
        }
        if ('ok' in outcome) resolve(outcome.ok);
        else reject(outcome.err);
      };
      const timer = this.clock.setTimeout(
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
            // The handshake rejects with the websocket's ErrorEvent ({ message, error }), not an Error.
            const message = messageOf(err);
            const cause = (err as { error?: unknown } | null)?.error ?? err;
            void this.refusalKind(message, target).then((kind) =>
              finish({ err: new ProbeRunError(kind, `exec in ${where}: ${message}`, { cause }) }),
            );
          },
        );
    });
  }

  private async refusalKind(message: string, target: ExecTarget): Promise<ErrorKind> {
    const code = Number(HANDSHAKE_STATUS.exec(message)?.[1] ?? 0);
    if (code === 0) return errorKindOf(message);
    if (code === 401 || code === 403 || code === 429) return 'runtime_unavailable';
    try {
      return diagnoseRefusal(await this.readPod(target.namespace, target.podName), target);
    } catch {
      return 'runtime_unavailable';
    }
  }
}
