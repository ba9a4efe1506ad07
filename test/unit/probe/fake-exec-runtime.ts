// An ExecRuntime whose answers the test scripts per container; records every call.
import { ProbeRunError } from '../../../common/probe/probe-run-error.js';
import type { ContainerRunState, ContainerStateOptions, ExecOutput, ExecRuntime, ExecTarget } from '../../../common/probe/types.js';

export type FakeAnswer =
  | { readonly exitCode: number; readonly stdout?: string }
  | { readonly error: ConstructorParameters<typeof ProbeRunError>[0] }
  | { readonly hang: true; readonly ignoreAbort?: boolean };

export class FakeExecRuntime implements ExecRuntime {
  readonly calls: { container: string; argv: readonly string[]; timeoutMs: number }[] = [];
  active = 0;
  maxActive = 0;
  readonly activePerContainer = new Map<string, number>();
  maxPerContainer = 0;
  readonly startedAt = new Map<string, number>();
  #answers = new Map<string, FakeAnswer>();
  #held: (() => void)[] = [];

  /** What `container` (pod uid/container name) answers from now on. */
  answer(container: string, answer: FakeAnswer): void {
    this.#answers.set(container, answer);
  }

  /** Ends every hanging exec with exit 0. */
  releaseAll(): void {
    const held = this.#held;
    this.#held = [];
    for (const r of held) r();
  }

  /** What containerState() answers per container; a container not in it: the runtime cannot tell. */
  readonly states = new Map<string, ContainerRunState>();
  readonly stateCalls: { container: string; fresh: boolean; settle: boolean }[] = [];

  async containerState(target: ExecTarget, opts: ContainerStateOptions = {}): Promise<ContainerRunState | undefined> {
    const container = `${target.podUid}/${target.containerName}`;
    this.stateCalls.push({ container, fresh: opts.fresh ?? false, settle: opts.settle ?? false });
    return this.states.get(container);
  }

  async containerStartedAtMs(target: ExecTarget): Promise<number | undefined> {
    return this.startedAt.get(`${target.podUid}/${target.containerName}`);
  }

  async execSync(target: ExecTarget, argv: readonly string[], opts: { timeoutMs: number; signal: AbortSignal }): Promise<ExecOutput> {
    const container = `${target.podUid}/${target.containerName}`;
    this.calls.push({ container, argv, timeoutMs: opts.timeoutMs });
    const answer = this.#answers.get(container) ?? { exitCode: 0, stdout: '' };
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const perContainer = (this.activePerContainer.get(container) ?? 0) + 1;
    this.activePerContainer.set(container, perContainer);
    this.maxPerContainer = Math.max(this.maxPerContainer, perContainer);
    try {
      await Promise.resolve();
      if ('error' in answer) throw new ProbeRunError(answer.error, `fake ${answer.error}`);
      if ('hang' in answer) {
        await new Promise<void>((resolve, reject) => {
          this.#held.push(resolve);
          if (!answer.ignoreAbort) opts.signal.addEventListener('abort', () => reject(new ProbeRunError('timeout', 'aborted')), { once: true });
        });
        return { exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array() };
      }
      return { exitCode: answer.exitCode, stdout: new TextEncoder().encode(answer.stdout ?? ''), stderr: new Uint8Array() };
    } finally {
      this.active--;
      this.activePerContainer.set(container, (this.activePerContainer.get(container) ?? 1) - 1);
    }
  }
}
