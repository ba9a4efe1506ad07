// Probe duration histogram buckets, in seconds. The agent counts runs per bucket and the decider
// re-exports them, so both must use this list: append only, never reorder.
export const PROBE_DURATION_BUCKETS_SECONDS = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);
