// The API client reads its credentials at most once a second, not per request, and still picks up a
// rotated token without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../decider/kube/kube-client.js';
import { waitFor } from '../../testbed/wait-for.js';

test('a rotated token is used by later requests, without a restart', async () => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    res.setHeader('content-type', 'application/json');
    res.end('{"kind":"Status"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'token-1' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient(kc);
  try {
    const res = await client.request('GET', '/api');
    assert.equal(res.status, 200);
    assert.equal(seen[0], 'Bearer token-1');
    // The token rotates (client-node re-reads an in-cluster token file every 60 s and updates its user).
    kc.users[0] = { name: 'u', token: 'token-2' };
    await waitFor(async () => {
      await client.request('GET', '/api');
      return seen.at(-1) === 'Bearer token-2';
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the rotated token in use' });
  } finally {
    client.close();
    server.close();
  }
});
