import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerEnv } from '../../../cli/local/container-env.js';

const gss = {
  spec: {
    gameServerTemplate: {
      spec: {
        containers: [
          {
            name: 'game',
            env: [
              { name: 'GAME_MODE', value: 'pvp' },
              { name: 'EMPTY' },
              { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
              { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { value: 'no name' },
            ],
          },
          { name: 'sidecar', env: [{ name: 'SIDE', value: '1' }] },
        ],
      },
    },
  },
};
const target = (containerName: string) => ({ namespace: 'default', podName: 'arena-2', podUid: 'uid-2', containerName });

test("a container's literal values and downward API fields are its probes' environment", () => {
  const env = containerEnv(gss);
  assert.deepEqual(env(target('game')), {
    GAME_MODE: 'pvp',
    EMPTY: '',
    MY_POD: 'arena-2',
    MY_NS: 'default',
    MY_IP: '127.0.0.1',
  });
  assert.deepEqual(env(target('sidecar')), { SIDE: '1' }, 'per container');
  assert.deepEqual(env(target('nope')), {});
});

test('what cannot be simulated is listed, so the user can be told', () => {
  assert.deepEqual([...containerEnv(gss).skipped], [['game', ['DB_PASSWORD', 'NODE']]]);
  assert.deepEqual([...containerEnv({}).skipped], []);
});
