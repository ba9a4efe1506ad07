// The decider as the chart runs it: `node dist/decider/main.js` configured by environment variables.
// It becomes ready (caches synced) and leader, serves /metrics, and on SIGTERM fails readiness, releases the
// lease and exits 0. A bad option exits 2 naming the variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { testbedEnv } from '../../testbed/env.js';
import { freePort } from '../../testbed/free-port.js';
import { repoRoot } from '../../testbed/repo-root.js';
import { waitFor } from '../../testbed/wait-for.js';
import { KubeClient } from '../../../decider/kube/kube-client.js';
import { must } from './kit.js';

const main = join(repoRoot(import.meta.url), process.env.OKGSQ_DIST_DIR ?? 'dist', 'decider', 'main.js');

test('ready and leader, metrics served, SIGTERM releases the lease and exits 0', async () => {
  const kubeConfig = adminKubeConfig();
  const admin = new KubeClient(kubeConfig);
  const ns = await createNamespace('dkube-proc', kubeConfig);
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  let log = '';
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: testbedEnv().kubeconfig,
      POD_NAME: 'decider-proc-0',
      POD_NAMESPACE: ns,
      OKGSQ_NAMESPACES: ns,
      OKGSQ_HTTP_PORT: String(httpPort),
      OKGSQ_GRPC_PORT: String(grpcPort),
      OKGSQ_INSECURE_GRPC: 'true',
      OKGSQ_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, { timeoutMs: 20_000, what: '/readyz 200' });
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(metrics, /^okgsq_leader 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
    const lease = await must(admin, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/okg-sq-decider`);
    assert.equal(lease.spec.holderIdentity, 'decider-proc-0');
    assert.equal(lease.spec.leaseDurationSeconds, 10);
    assert.match(log, /"msg":"became leader"/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, log.slice(-2000));
    const released = await must(admin, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/okg-sq-decider`);
    assert.ok(!released.spec.holderIdentity, 'the lease is released for the next replica');
    assert.match(log, /"msg":"decider stopped"/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    admin.close();
  }
});

test('a crashed leader (SIGKILL, lease not released) is replaced within the lease duration + one retry', async () => {
  const kubeConfig = adminKubeConfig();
  const admin = new KubeClient(kubeConfig);
  const ns = await createNamespace('dkube-crash', kubeConfig);
  const start = async (name: string) => {
    const httpPort = await freePort();
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        KUBECONFIG: testbedEnv().kubeconfig,
        POD_NAME: name,
        POD_NAMESPACE: ns,
        OKGSQ_NAMESPACES: ns,
        OKGSQ_HTTP_PORT: String(httpPort),
        OKGSQ_GRPC_PORT: String(await freePort()),
        OKGSQ_INSECURE_GRPC: 'true',
        OKGSQ_LEASE_DURATION_SECONDS: '4',
      },
      stdio: 'ignore',
    });
    const ready = async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.status === 200;
    // Readiness is not leadership (every synced replica is Ready): the leader is the one with okgsq_leader 1.
    const leading = async () => /^okgsq_leader 1$/m.test((await (await fetch(`http://127.0.0.1:${httpPort}/metrics`).catch(() => undefined))?.text()) ?? '');
    return { child, ready, leading };
  };
  const a = await start('decider-a');
  const b = await start('decider-b');
  try {
    await waitFor(async () => (await a.leading()) || (await b.leading()), { timeoutMs: 20_000, what: 'a leader' });
    const [leader, standby] = (await a.leading()) ? [a, b] : [b, a];
    await waitFor(async () => (await a.ready()) && (await b.ready()), { timeoutMs: 20_000, what: 'both replicas Ready' });
    assert.equal(await standby.leading(), false, 'exactly one replica leads');
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await waitFor(() => standby.leading(), { timeoutMs: 15_000, intervalMs: 100, what: 'the standby takes over' });
    const failoverMs = Date.now() - killedAt;
    assert.ok(failoverMs <= 4_000 + 2_000 + 1_500, `failover took ${failoverMs} ms`);
  } finally {
    for (const c of [a.child, b.child]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    admin.close();
  }
});

test('a bad option exits 2 and names the variable and value', () => {
  const res = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', POD_NAME: 'x', POD_NAMESPACE: 'y', OKGSQ_INSECURE_GRPC: 'true', OKGSQ_KUBE_BURST: 'lots' }, encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /OKGSQ_KUBE_BURST="lots"/);
});
