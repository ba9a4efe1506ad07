// A TCP load balancer on 127.0.0.1 that sends each new connection to the next backend in turn, as
// kube-proxy does for a Service with several Ready endpoints. A connection is never moved: a client that
// wants another backend must open a new connection. A backend that refuses makes the client's
// connection close (an endpoint that went away), and the next connection goes to the next backend.
// A `SILENT` backend accepts the connection, reads what comes and never answers (a hung process, or a
// path lost after the handshake): the client's TLS or HTTP/2 handshake waits until the client gives up.
import net from 'node:net';

export const SILENT = 'silent';

export interface RoundRobinProxy {
  readonly address: string;
  /** Backend index chosen for each accepted connection, in order. */
  readonly picks: readonly number[];
  /** What happened to each connection (for a failing test's message). */
  readonly events: readonly string[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: readonly (number | typeof SILENT)[]): Promise<RoundRobinProxy> {
  const picks: number[] = [];
  const events: string[] = [];
  const t0 = Date.now();
  const note = (n: number, what: string): void => void events.push(`${Date.now() - t0}ms #${n} ${what}`);
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = net.createServer((client) => {
    const index = picks.length % backends.length;
    picks.push(index);
    const n = picks.length;
    note(n, `-> backend ${index}`);
    const backend = backends[index]!;
    if (backend === SILENT) {
      track(client);
      client.on('error', () => client.destroy());
      client.on('close', () => note(n, 'closed (silent backend)'));
      client.resume();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: backend });
    let fromUpstream = 0;
    let fromClient = 0;
    upstream.on('data', (b: Buffer) => (fromUpstream += b.length));
    client.on('data', (b: Buffer) => (fromClient += b.length));
    upstream.on('error', (e) => note(n, `upstream error ${e.message}`));
    client.on('close', () => note(n, `closed (client ${fromClient} B, upstream ${fromUpstream} B)`));
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    picks,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
