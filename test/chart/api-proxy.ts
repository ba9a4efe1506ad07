// A plain-HTTP proxy on 127.0.0.1 to the bed's API server that adds the admin bearer token, as
// `kubectl proxy` does. For programs that cannot be given a token outside a pod: the Prometheus Operator
// takes only --apiserver (+ client certificates) out of cluster, and Prometheus' Kubernetes discovery an
// api_server. Streams (watches) pass through as they come.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ApiProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

/** Request headers that belong to the hop, not to the API request. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'authorization']);

export async function startApiProxy(kc: KubeConfig): Promise<ApiProxy> {
  const cluster = kc.getCurrentCluster();
  const token = kc.getCurrentUser()?.token;
  if (!cluster || !token) throw new Error('api proxy: the kubeconfig has no current cluster with a token user');
  const upstream = new URL(cluster.server);
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_HEADERS.has(k.toLowerCase())));
    const out = httpsRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, ca, headers: { ...headers, authorization: `Bearer ${token}` } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
    // A client that goes away (a watch closed) ends the upstream request too.
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
