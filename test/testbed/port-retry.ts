// freePort() releases the port before the server binds it, so another process can take it in between.
// Servers of the bed start through this: on "address already in use" they retry with fresh ports.
const MAX_BIND_ATTEMPTS = 3;

export async function withPortRetry<T>(start: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(attempt);
    } catch (err) {
      if (attempt >= MAX_BIND_ATTEMPTS || !/address already in use/i.test(String((err as Error).message))) throw err;
    }
  }
}
