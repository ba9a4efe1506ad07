import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localTargets, resolveHandler, templateContainers } from '../../../cli/local/local-targets.js';
import type { ServiceQuality } from '../../../common/service-quality.js';

const timing = { initialDelaySeconds: 1, timeoutSeconds: 2, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };
const gss = {
  spec: {
    gameServerTemplate: {
      spec: {
        containers: [
          { name: 'game', ports: [{ name: 'status', containerPort: 18080 }, { containerPort: 7777 }] },
          { name: 'sidecar' },
        ],
      },
    },
  },
};
const qualities: ServiceQuality[] = [
  { name: 'healthy', containerName: '', handler: { kind: 'exec', command: ['/bin/sh', './probe.sh'] }, timing, permanent: false, actions: [] },
  {
    name: 'opsstate',
    containerName: 'game',
    handler: { kind: 'httpGet', path: '/opsstate', port: 'status', scheme: 'HTTP', headers: [] },
    timing,
    permanent: false,
    actions: [],
  },
];

test('containers and their ports are read from the pod template', () => {
  assert.deepEqual(templateContainers(gss), [
    { name: 'game', ports: [{ name: 'status', containerPort: 18080 }, { containerPort: 7777 }] },
    { name: 'sidecar', ports: [] },
  ]);
  assert.deepEqual(templateContainers({}), []);
});

test('one target per replica and quality, at 127.0.0.1, named ports resolved, first container by default', () => {
  const pods = [0, 1].map((i) => ({ name: `arena-${i}`, namespace: 'default', uid: `uid-${i}` }));
  const targets = localTargets({ gameServerSet: 'arena', qualities, containers: templateContainers(gss), pods, startedAtMs: 1234 });
  assert.equal(targets.length, 4);
  assert.deepEqual(targets[1], {
    key: { podUid: 'uid-0', quality: 'opsstate' },
    namespace: 'default',
    podName: 'arena-0',
    gameServerSet: 'arena',
    containerName: 'game',
    podIp: '127.0.0.1',
    handler: { kind: 'httpGet', path: '/opsstate', port: 18080, scheme: 'HTTP', headers: [] },
    timing,
    containerStartedAtMs: 1234,
  });
  assert.equal(targets[0]?.containerName, 'game', 'no containerName: the first container');
  assert.deepEqual(targets.map((t) => t.key.podUid), ['uid-0', 'uid-0', 'uid-1', 'uid-1']);
});

test('numeric ports pass through; an unknown named port is an error naming quality and port', () => {
  const game = templateContainers(gss)[0];
  assert.deepEqual(resolveHandler({ kind: 'tcpSocket', port: 7777 }, game, 'q'), { kind: 'tcpSocket', port: 7777 });
  assert.deepEqual(resolveHandler({ kind: 'tcpSocket', port: '7777' }, game, 'q'), { kind: 'tcpSocket', port: 7777 });
  assert.throws(() => resolveHandler({ kind: 'tcpSocket', port: 'query' }, game, 'players'), /quality players: port "query" is not a named port of container game/);
});
