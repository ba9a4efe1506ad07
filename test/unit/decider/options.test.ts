// Decider options: defaults, validation naming the variable and the bad value, frozen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deciderOptions } from '../../../decider/options.js';

const base = { POD_NAME: 'decider-0', POD_NAMESPACE: 'okg-sq', OKGSQ_TLS_CERT_FILE: '/tls/tls.crt', OKGSQ_TLS_KEY_FILE: '/tls/tls.key' };

test('defaults are the documented ones', () => {
  const o = deciderOptions(base);
  assert.deepEqual(
    { ...o, namespaces: [...o.namespaces] },
    {
      podName: 'decider-0',
      podNamespace: 'okg-sq',
      namespaces: [],
      grpcPort: 9443,
      httpPort: 8080,
      tls: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' },
      tokenAudience: 'okg-sq',
      agentNamespace: 'okg-sq',
      agentServiceAccount: 'okg-sq-agent',
      kubeQps: 50,
      kubeBurst: 100,
      writeConcurrency: 8,
      flushWindowMs: 20,
      leaderElection: true,
      leaseName: 'okg-sq-decider',
      leaseDurationSeconds: 10,
      agentlessNodeSelector: 'type=virtual-kubelet',
      remoteExec: false,
      agentStaleSeconds: 60,
      logLevel: 'info',
      kubeconfig: '',
    },
  );
  assert.ok(Object.isFrozen(o));
});

test('bad values are refused with the variable and the value named', () => {
  const table: [Record<string, string>, RegExp][] = [
    [{ OKGSQ_KUBE_QPS: 'fast' }, /OKGSQ_KUBE_QPS="fast"/],
    [{ OKGSQ_WRITE_CONCURRENCY: '0' }, /OKGSQ_WRITE_CONCURRENCY="0"/],
    [{ OKGSQ_LEADER_ELECTION: 'maybe' }, /OKGSQ_LEADER_ELECTION="maybe"/],
    [{ OKGSQ_NAMESPACES: 'a,B_b' }, /OKGSQ_NAMESPACES.*"B_b"/],
    [{ OKGSQ_LOG_LEVEL: 'loud' }, /OKGSQ_LOG_LEVEL="loud"/],
    [{ OKGSQ_TLS_KEY_FILE: '' }, /OKGSQ_TLS_KEY_FILE/],
    [{ POD_NAME: '' }, /POD_NAME.*required/],
  ];
  for (const [env, want] of table) assert.throws(() => deciderOptions({ ...base, ...env }), want, JSON.stringify(env));
});

test('plaintext gRPC only when asked for; namespaces are a comma list', () => {
  const o = deciderOptions({ POD_NAME: 'd', POD_NAMESPACE: 'n', OKGSQ_INSECURE_GRPC: 'true', OKGSQ_NAMESPACES: 'games, more-games' });
  assert.equal(o.tls, 'insecure');
  assert.deepEqual([...o.namespaces], ['games', 'more-games']);
  assert.throws(() => deciderOptions({ POD_NAME: 'd', POD_NAMESPACE: 'n' }), /OKGSQ_TLS_CERT_FILE.*OKGSQ_INSECURE_GRPC/);
});
