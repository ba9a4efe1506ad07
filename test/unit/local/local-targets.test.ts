import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localPodView, localTargets } from '../../../cli/local/local-targets.js';
import type { ServiceQuality } from '../../../common/service-quality.js';
import { podTemplateContainers } from '../../../rules/schema.js';

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
const containers = podTemplateContainers(gss);
const quality = (name: string, extra: Partial<ServiceQuality>): ServiceQuality => ({
  name,
  containerName: '',
  handler: { kind: 'exec', command: ['/bin/sh', './probe.sh'] },
  timing,
  permanent: false,
  actions: [],
  ...extra,
});
const pods = [0, 1].map((i) => ({ name: `arena-${i}`, namespace: 'default', uid: `uid-${i}` }));
const STARTED = Date.parse('2026-11-25T20:00:00Z');

test('one target per replica and quality, at 127.0.0.1, named ports resolved, first container by default', () => {
  const qualities = [
    quality('healthy', {}),
    quality('opsstate', { containerName: 'game', handler: { kind: 'httpGet', path: '/opsstate', port: 'status', scheme: 'HTTP', headers: [] } }),
  ];
  const { targets, problems } = localTargets({ gameServerSet: 'arena', qualities, containers, pods, startedAtMs: STARTED });
  assert.deepEqual(problems, []);
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
    containerStartedAtMs: STARTED,
  });
  assert.equal(targets[0]?.containerName, 'game', 'no containerName: the first container');
  assert.deepEqual(targets.map((t) => t.key.podUid), ['uid-0', 'uid-0', 'uid-1', 'uid-1']);
});

test('a named port the container does not have, or an unknown container, is reported once (not per replica)', () => {
  const qualities = [
    quality('players', { containerName: 'game', handler: { kind: 'tcpSocket', port: 'query' } }),
    quality('side', { containerName: 'nope' }),
  ];
  const { targets, problems } = localTargets({ gameServerSet: 'arena', qualities, containers, pods, startedAtMs: STARTED });
  assert.deepEqual(targets, []);
  assert.deepEqual(problems.map((p) => [p.severity, p.code, p.path]), [
    ['error', 'UnresolvedPort', 'spec.serviceQualities[0].tcpSocket.port'],
    ['error', 'ContainerNotFound', 'spec.serviceQualities[1].containerName'],
  ]);
});

test('the simulated pod looks like a running, scheduled pod of the template', () => {
  const view = localPodView(pods[0]!, containers, STARTED);
  assert.equal(view.status?.phase, 'Running');
  assert.equal(view.status?.podIP, '127.0.0.1');
  assert.ok(view.spec?.nodeName);
  assert.deepEqual(view.spec?.containers?.map((c) => c.name), ['game', 'sidecar']);
  assert.equal(view.status?.containerStatuses?.[0]?.state?.running?.startedAt, '2026-11-25T20:00:00.000Z');
});
