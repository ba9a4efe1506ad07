// The agent's readiness (/readyz): ready only while it can do its job, so a DaemonSet rollout with a bad
// CRI socket, TLS setting or token stops at the first node (docs/design.md §19 "Agent readiness"):
// not stopping, the CRI runtime answers (a Version call), and a session with the decider is up (a plan
// received on the stream). Liveness (/healthz) stays apart: restarting the agent brings neither back.

export interface ReadinessChecks {
  readonly stopping: () => boolean;
  /** The decider stream carries a plan (AgentReporter.connected). */
  readonly sessionUp: () => boolean;
  /** Resolves when the runtime answers; rejects with why not. */
  readonly criVersion: () => Promise<unknown>;
}

/** Why the agent is not ready; empty when it is. Concurrent calls share one CRI call. */
export class AgentReadiness {
  private readonly checks: ReadinessChecks;
  private criCall: Promise<string | undefined> | undefined;

  constructor(checks: ReadinessChecks) {
    this.checks = checks;
  }

  async notReadyReasons(): Promise<string[]> {
    if (this.checks.stopping()) return ['stopping'];
    const reasons: string[] = [];
    const cri = await this.criProblem();
    if (cri) reasons.push(cri);
    if (!this.checks.sessionUp()) reasons.push('no session with the decider');
    return reasons;
  }

  private criProblem(): Promise<string | undefined> {
    this.criCall ??= this.checks.criVersion().then(
      () => undefined,
      (err: unknown) => `the CRI runtime does not answer: ${err instanceof Error ? err.message : String(err)}`,
    ).finally(() => {
      this.criCall = undefined;
    });
    return this.criCall;
  }
}
