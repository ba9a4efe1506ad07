// The one lifecycle shape of both programs' long-lived parts (docs/design.md §20 One lifecycle), as the
// kubelet prober's workers and client-go's informers have run/stop:
// - a Service does its work between start() and stop(); start() returns at once (its loops run in the
//   background), stop() resolves once nothing of it runs and is idempotent. A service that is already
//   working when its async factory returns (a listening server) has no start().
// - a LeaderGated part of the decider works only while this replica leads: activate() on gaining the
//   lease, deactivate() on losing it; it may be activated again later. Shutdown is stop(), not deactivate().
// A composition root keeps its services in a list, starts them in order and stops them in reverse.
import type { Logger } from 'pino';
import { LOG } from './log-fields.js';

export type LifecycleState = 'new' | 'running' | 'stopped';

export interface Service {
  start?(): void;
  stop(): Promise<void>;
}

export interface LeaderGated {
  activate(): void;
  /** Stops work at once; what it still waits for (streams ending) may be awaited. */
  deactivate(): void | Promise<void>;
}

export interface NamedService {
  readonly name: string;
  readonly service: Service;
}

/** Starts services in order and stops them in reverse; a service that fails to stop does not keep the rest running. */
export class ServiceList {
  private state: LifecycleState = 'new';
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly services: readonly NamedService[],
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    for (const { service } of this.services) service.start?.();
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    return (this.stopped ??= (async () => {
      for (const { name, service } of [...this.services].reverse()) {
        try {
          await service.stop();
        } catch (err) {
          this.log.warn({ [LOG.err]: err, [LOG.component]: name }, 'service did not stop cleanly');
        }
      }
    })());
  }
}

/** A program's SIGTERM/SIGINT: stop once, then exit 0 (1 when stopping failed). Called by each main.ts. */
export function exitOnSignals(program: Service, logger: Logger): void {
  let exiting = false;
  const shutdown = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutting down');
    program.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ [LOG.err]: err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
