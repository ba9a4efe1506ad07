// A TCP proxy that can partition its two sides: `cut()` stops forwarding in both directions without
// closing anything (a network partition: no RST, no FIN, the peers only notice through their own
// keepalives), connections opened during the cut are accepted but go nowhere; `heal()` resumes every
// connection that both peers still hold and connects the ones that waited. A side that gave up on its
// connection during the cut closes it, and the other side sees the close once the partition heals.
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** One side closed during the cut: the other learns it only when the partition heals. */
  dead: boolean;
}

export interface TcpProxy {
  readonly port: number;
  readonly address: string;
  /** Connections accepted so far (reconnects show here). */
  readonly accepted: number;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

/** `localAddress`: the address the proxy connects from (another loopback address makes another peer). */
export async function startTcpProxy(target: { host: string; port: number; localAddress?: string }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let partitioned = false;
  let accepted = 0;

  const end = (pair: Pair): void => {
    if (partitioned) {
      pair.dead = true;
      return;
    }
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };
  const link = (pair: Pair): void => {
    if (pair.dead) return end(pair);
    if (!pair.upstream) {
      const up = net.connect({ port: target.port, host: target.host, ...(target.localAddress ? { localAddress: target.localAddress } : {}) });
      pair.upstream = up;
      up.on('error', () => end(pair));
      up.on('close', () => end(pair));
    }
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
    pair.client.resume();
    pair.upstream.resume();
  };
  const unlink = (pair: Pair): void => {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    accepted++;
    const pair: Pair = { client, upstream: undefined, dead: false };
    pairs.add(pair);
    client.on('error', () => end(pair));
    client.on('close', () => end(pair));
    if (!partitioned) link(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cut: () => {
      partitioned = true;
      for (const p of pairs) unlink(p);
    },
    heal: () => {
      partitioned = false;
      for (const p of [...pairs]) link(p);
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
