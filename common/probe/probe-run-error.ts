// Thrown by an ExecRuntime adapter when a command could not run or did not finish. The engine turns it
// into data (a failed run, or an `unknown` one for runtime_unavailable); it never escapes the engine.
import type { ErrorKind } from '../outcome.js';

export class ProbeRunError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProbeRunError';
    this.kind = kind;
  }
}

export function isProbeRunError(err: unknown): err is ProbeRunError {
  return err instanceof ProbeRunError;
}
