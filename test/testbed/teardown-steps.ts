// Teardown that carries on past a failed step: each step's error is logged and kept, and `finish` throws
// them together once every step has had its turn (a bed that half-stopped must still free the rest).
export class TeardownSteps {
  private readonly errors: unknown[] = [];

  constructor(private readonly log: (line: string) => void) {}

  async attempt(what: string, fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.errors.push(err);
      this.log(`testbed: ${what} failed: ${(err as Error).message}`);
    }
  }

  finish(message: string): void {
    if (this.errors.length > 0) throw new AggregateError(this.errors, message);
  }
}
