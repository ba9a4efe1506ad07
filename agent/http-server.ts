// /healthz, /readyz and /metrics on OKGSQ_HTTP_PORT. /healthz is liveness only: the agent is healthy while
// its loops run, whether or not the decider is reachable (restarting it would not bring the decider back).
// /readyz is 200 only when the CRI answers and the decider session is up (agent/readiness.ts); otherwise
// 503 with the reasons, one a line.
import { createServer } from 'node:http';
import type { Service } from '../common/lifecycle.js';
import type { AgentMetrics } from './metrics.js';

/** Listening once started; stop() closes it (a Service with no start()). */
export interface AgentHttpServer extends Service {
  readonly port: number;
}

export async function startHttpServer(
  port: number,
  metrics: AgentMetrics,
  healthy: () => boolean,
  notReadyReasons: () => Promise<string[]>,
  host = '0.0.0.0',
): Promise<AgentHttpServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'stopping\n');
    } else if (path === '/readyz') {
      notReadyReasons().then(
        (reasons) =>
          res
            .writeHead(reasons.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
            .end(reasons.length === 0 ? 'ok\n' : reasons.map((r) => `${r}\n`).join('')),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
