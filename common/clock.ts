// Time as a port: the probe engine and the decider's loops take a Clock so tests can drive time by hand.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Unix ms. */
  now(): number;
  /** Calls `fn` once after `ms`; the handle cancels it. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
});
