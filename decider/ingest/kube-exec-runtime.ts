// ExecRuntime over the Kubernetes exec API (pods/exec, websocket), for pods on nodes with no agent.
// Only used when the operator opts in (OKGSQ_REMOTE_EXEC=true): pods/exec is a powerful permission.
// client-node speaks the exec websocket's channel protocol; every REST call goes through KubeApi, the
// decider's one HTTP path (docs/design.md §31).
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../common/clock.js';
import { settleOnce } from '../../common/settle-once.js';
import type { ErrorKind } from '../../common/outcome.js';
import { MAX_OUTPUT_BYTES } from '../../common/probe-result.js';
import { ProbeRunError } from '../../common/probe/probe-run-error.js';
import type { ExecOutput, ExecRuntime, ExecTarget } from '../../common/probe/types.js';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';
import type { KubeApi } from '../kube/kube-client.js';

/** The websocket transport Exec uses (not exported by name from the package). */
export type WebSocketInterface = NonNullable<ConstructorParameters<typeof Exec>[1]>;

export interface KubeExecDeps {
  /** Replaces the websocket transport (unit tests). */
  readonly ws?: WebSocketInterface;
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

/** A pod, or undefined when it does not exist. */
async function readPod(api: KubeApi, namespace: string, name: string): Promise<V1Pod | undefined> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
  const res = await api.request('GET', path);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new OkgSqError(ERROR_CODES.KUBE_API, `GET pod ${namespace}/${name}: HTTP ${res.status}`);
  return res.body as V1Pod;
}

export class KubeExecRuntime implements ExecRuntime {
  private readonly exec: Exec;
  private readonly clock: Clock;

  /** `api` reads the pod only to explain a refused exec. */
  constructor(kubeConfig: KubeConfig, private readonly api: KubeApi, deps: KubeExecDeps = {}) {
    this.exec = new Exec(kubeConfig, deps.ws);
    this.clock = deps.clock ?? systemClock;
  }

  async execSync(
    target: ExecTarget,
    argv: readonly string[],
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<ExecOutput> {
    const stdout = new BoundedSink();
    const stderr = new BoundedSink();
    const where = `${target.namespace}/${target.podName}/${target.containerName}`;
    let socket: { close(): void; terminate?(): void } | undefined;
    let released = false;
    type Ended = { ok: ExecOutput } | { err: ProbeRunError };
    const ended = settleOnce<Ended>({
      ...opts,
      clock: this.clock,
      timedOut: () => ({ err: new ProbeRunError('timeout', `exec in ${where} timed out after ${opts.timeoutMs} ms`) }),
      aborted: () => ({ err: new ProbeRunError('runtime_unavailable', `exec in ${where} aborted`) }),
      // A hanging command is abandoned: closing the websocket is all the exec API lets us do.
      release: () => {
        released = true;
        try {
          if (socket?.terminate) socket.terminate();
          else socket?.close();
        } catch {
          // already closed
        }
      },
    }, (finish) => {
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
            if (released) {
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
    const end = await ended;
    if ('err' in end) throw end.err;
    return end.ok;
  }

  private async refusalKind(message: string, target: ExecTarget): Promise<ErrorKind> {
    const code = Number(HANDSHAKE_STATUS.exec(message)?.[1] ?? 0);
    if (code === 0) return errorKindOf(message);
    if (code === 401 || code === 403 || code === 429) return 'runtime_unavailable';
    try {
      return diagnoseRefusal(await readPod(this.api, target.namespace, target.podName), target);
    } catch {
      return 'runtime_unavailable';
    }
  }
}
