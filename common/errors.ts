// One error class for program errors, with a stable code callers and tests can match on.
// Probe failures are data (common/outcome.ts), never thrown.

export const ERROR_CODES = {
  INVALID_OPTION: 'OKGSQ_INVALID_OPTION',
  INVALID_INPUT: 'OKGSQ_INVALID_INPUT',
  RUNTIME_UNAVAILABLE: 'OKGSQ_RUNTIME_UNAVAILABLE',
  UNAUTHENTICATED: 'OKGSQ_UNAUTHENTICATED',
  PERMISSION_DENIED: 'OKGSQ_PERMISSION_DENIED',
  KUBE_API: 'OKGSQ_KUBE_API',
  STOPPED: 'OKGSQ_STOPPED',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class OkgSqError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OkgSqError';
    this.code = code;
  }
}
