// The engine's exec admission: a global cap on concurrent execs (each costs the runtime a process) and at
// most one exec in flight per container. A waiter for a busy container does not block waiters for
// other containers (no head-of-line blocking), and a waiter gives up after its own deadline.
import type { Clock, TimerHandle } from '../clock.js';

export type ReleaseSlot = () => void;

interface Waiter {
  readonly container: string;
  readonly grant: (release: ReleaseSlot | undefined) => void;
  timer: TimerHandle | undefined;
}

export class ExecSlots {
  private readonly max: number;
  private readonly clock: Clock;
  private readonly busy = new Set<string>();
  private waiters: Waiter[] = [];

  constructor(maxConcurrent: number, clock: Clock) {
    this.max = Math.max(1, maxConcurrent);
    this.clock = clock;
  }

  get active(): number {
    return this.busy.size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function, or undefined when no slot came within `waitMs` or on abort. */
  acquire(container: string, waitMs: number, signal: AbortSignal): Promise<ReleaseSlot | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    if (this.free(container)) return Promise.resolve(this.take(container));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        container,
        grant: (release) => {
          waiter.timer?.cancel();
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
        timer: undefined,
      };
      const giveUp = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.grant(undefined);
      };
      const onAbort = (): void => giveUp();
      waiter.timer = this.clock.setTimeout(giveUp, waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private free(container: string): boolean {
    return this.busy.size < this.max && !this.busy.has(container);
  }

  private take(container: string): ReleaseSlot {
    this.busy.add(container);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy.delete(container);
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    for (let i = 0; i < this.waiters.length && this.busy.size < this.max; ) {
      const w = this.waiters[i]!;
      if (this.busy.has(w.container)) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      w.grant(this.take(w.container));
    }
  }
}
