// When an outcome may say it was observed. The time comes from the agent (untrusted, and on another
// clock), and becomes the pod condition's lastProbeTime: far in the future it cannot even be rendered
// (past year 9999 the API server refuses the patch, and with it every other quality of the GameServer).
// Upper bound: the decider's clock plus MAX_CLOCK_SKEW_MS. Lower bound: the pod's creation minus the same
// skew, not "now minus skew": an agent re-sends its latest outcomes with the time they were observed,
// which after a decider restart or a long disconnection can be hours ago and must still count.

/** How far an agent's clock may be from the decider's (docs/design.md, "Bounded inputs"). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Why `observedAtMs` is out of range, or undefined when it is fine. */
export function outcomeTimeProblem(observedAtMs: number, nowMs: number, podCreatedAtMs: number | undefined): string | undefined {
  if (observedAtMs > nowMs + MAX_CLOCK_SKEW_MS) return `observed ${observedAtMs - nowMs} ms in the future of the decider's clock (allowed skew ${MAX_CLOCK_SKEW_MS} ms)`;
  if (podCreatedAtMs !== undefined && observedAtMs < podCreatedAtMs - MAX_CLOCK_SKEW_MS) return `observed ${podCreatedAtMs - observedAtMs} ms before its pod was created`;
  return undefined;
}
