// CRI timestamps are int64 nanoseconds since the Unix epoch (~1.8e18 today, above 2^53), generated as
// bigint (scripts/proto-gen.sh: forceLong=bigint for the CRI file). Everything else in okg-sq uses Unix
// ms numbers; this is the one place that converts.
const NANOS_PER_MS = 1_000_000n;

/** Unix ns → Unix ms (truncated). 0 (the runtime's "not set", e.g. a container not started yet) stays 0. */
export function criNanosToMs(nanos: bigint): number {
  return Number(nanos / NANOS_PER_MS);
}
