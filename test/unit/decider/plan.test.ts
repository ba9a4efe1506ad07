// Table tests of the pure planner: which probes a pod gets, with ports resolved and timing carried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planPod, resolveHandler, type PodView } from '../../../rules/plan.js';
import type { ServiceQuality } from '../../../common/service-quality.js';

const timing = { initialDelaySeconds: 10, timeoutSeconds: 5, periodSeconds: 3, successThreshold: 1, failureThreshold: 3 };

function quality(name: string, handler: ServiceQuality['handler'], containerName = ''): ServiceQuality {
  return { name, containerName, handler, timing, permanent: false, actions: [] };
}

function pod(over: { phase?: string; nodeName?: string; podIP?: string; deleting?: boolean } = {}): PodView {
  return {
    metadata: { name: 'mc-0', namespace: 'ns', uid: 'uid-0', labels: { 'game.kruise.io/owner-gss': 'mc' }, ...(over.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      nodeName: over.nodeName ?? 'node-a',
      containers: [
        { name: 'game', ports: [{ name: 'http', containerPort: 8080 }, { name: 'query', containerPort: 25565 }] },
        { name: 'sidecar' },
      ],
    },
    status: {
      phase: over.phase ?? 'Running',
      podIP: over.podIP ?? '10.254.77.5',
      containerStatuses: [
        { name: 'game', state: { running: { startedAt: '2026-11-25T20:00:00Z' } } },
        { name: 'sidecar', state: {} },
      ],
    },
  };
}

const exec = quality('gate', { kind: 'exec', command: ['/probe.sh'] });

test('a running scheduled pod gets one target per quality, on its node, with the first container by default', () => {
  const plan = planPod('mc', [exec, quality('idle', { kind: 'tcpSocket', port: 'query' }, 'game')], pod());
  assert.equal(plan.node, 'node-a');
  assert.deepEqual(plan.problems, []);
  assert.deepEqual(plan.targets.map((t) => [t.key.podUid, t.key.quality, t.containerName, t.podIp, t.gameServerSet, t.namespace, t.podName]), [
    ['uid-0', 'gate', 'game', '10.254.77.5', 'mc', 'ns', 'mc-0'],
    ['uid-0', 'idle', 'game', '10.254.77.5', 'mc', 'ns', 'mc-0'],
  ]);
  assert.deepEqual(plan.targets[1]!.handler, { kind: 'tcpSocket', port: 25565 });
  assert.equal(plan.targets[0]!.containerStartedAtMs, Date.parse('2026-11-25T20:00:00Z'));
  assert.deepEqual(plan.targets[0]!.timing, timing);
});

test('pods that are not probeable get no targets', () => {
  const cases: [string, PodView][] = [
    ['pending', pod({ phase: 'Pending' })],
    ['unscheduled', pod({ nodeName: '' })],
    ['no IP yet', pod({ podIP: '' })],
    ['terminating', pod({ deleting: true })],
  ];
  for (const [what, p] of cases) {
    const plan = planPod('mc', [exec], p);
    assert.deepEqual(plan, { node: '', targets: [], problems: [] }, what);
  }
});

test('a container that is not running yet has an unknown start time (0)', () => {
  const plan = planPod('mc', [quality('side', { kind: 'exec', command: ['true'] }, 'sidecar')], pod());
  assert.equal(plan.targets[0]!.containerStartedAtMs, 0);
  assert.equal(plan.targets[0]!.containerName, 'sidecar');
});

test('an unresolvable port or a missing container skips only that quality, with a problem', () => {
  const plan = planPod(
    'mc',
    [
      quality('web', { kind: 'httpGet', path: '/state', port: 'nope', scheme: 'HTTP', headers: [] }),
      exec,
      quality('ghost', { kind: 'exec', command: ['true'] }, 'missing'),
    ],
    pod(),
  );
  assert.deepEqual(plan.targets.map((t) => t.key.quality), ['gate']);
  assert.deepEqual(plan.problems.map((p) => [p.code, p.path]), [
    ['UnresolvedPort', 'spec.serviceQualities[0].httpGet.port'],
    ['ContainerNotFound', 'spec.serviceQualities[2].containerName'],
  ]);
});

test('port resolution follows the kubelet: names from the container, numeric strings, range checked', () => {
  const ports = [{ name: 'http', containerPort: 8080 }];
  const table: [number | string, number | string][] = [
    ['http', 8080],
    [9000, 9000],
    ['9001', 9001],
    ['grpc', 'no port named "grpc"'],
    [0, 'port 0 is out of range 1-65535'],
    [70000, 'port 70000 is out of range 1-65535'],
  ];
  for (const [port, want] of table) {
    const got = resolveHandler({ kind: 'httpGet', path: '/', port, scheme: 'HTTP', headers: [] }, ports);
    assert.deepEqual(typeof got === 'string' ? got : got.kind === 'httpGet' ? got.port : got, want, String(port));
  }
  assert.deepEqual(resolveHandler({ kind: 'grpc', port: 50051, service: '' }, []), { kind: 'grpc', port: 50051, service: '' });
});
