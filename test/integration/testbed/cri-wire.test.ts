// The bed decodes CRI responses with real nanosecond timestamps, which the generated code (int64 as
// number) rejects; field numbers as upstream k8s.io/cri-api.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { ContainerStatusResponse } from '../../../proto/gen/cri/runtime/v1/api.js';
import { decodeContainerStatusResponse, decodeListPodSandboxResponse, decodePodSandboxStatusResponse } from '../../testbed/cri-wire.js';

const STARTED_NS = 1_795_000_000_123_456_789n; // 2026-11-18T…Z, far above Number.MAX_SAFE_INTEGER

test('ContainerStatus with nanosecond timestamps decodes to milliseconds (the generated decoder throws)', () => {
  const w = new BinaryWriter();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('abc123');
  w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('game').join();
  w.uint32(3 << 3).int32(1);
  w.uint32(4 << 3).int64(STARTED_NS - 5_000_000n);
  w.uint32(5 << 3).int64(STARTED_NS);
  w.uint32(7 << 3).int32(137);
  w.uint32((12 << 3) | 2).fork().uint32((1 << 3) | 2).string('io.kubernetes.container.name').uint32((2 << 3) | 2).string('game').join();
  w.uint32((99 << 3) | 2).string('a field we do not know');
  w.join();
  const bytes = Buffer.from(w.finish());

  assert.throws(() => ContainerStatusResponse.decode(bytes), /MAX_SAFE_INTEGER/);
  const { status } = decodeContainerStatusResponse(bytes);
  assert.equal(status.id, 'abc123');
  assert.equal(status.name, 'game');
  assert.equal(status.state, 1);
  assert.equal(status.startedAtMs, 1_795_000_000_123);
  assert.equal(status.createdAtMs, 1_795_000_000_118);
  assert.equal(status.exitCode, 137);
  assert.deepEqual(status.labels, { 'io.kubernetes.container.name': 'game' });
});

test('PodSandboxStatus gives the pod IP; ListPodSandbox gives ids and labels', () => {
  const s = new BinaryWriter();
  s.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('sb1').uint32(4 << 3).int64(STARTED_NS).uint32((5 << 3) | 2).fork().uint32((1 << 3) | 2).string('10.254.77.9').join().join();
  assert.deepEqual(decodePodSandboxStatusResponse(Buffer.from(s.finish())).status, { id: 'sb1', state: 0, ip: '10.254.77.9', createdAtMs: 1_795_000_000_123 });

  const l = new BinaryWriter();
  for (const id of ['a', 'b']) {
    l.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(id).uint32(3 << 3).int32(1).uint32(4 << 3).int64(STARTED_NS)
      .uint32((5 << 3) | 2).fork().uint32((1 << 3) | 2).string('io.kubernetes.pod.name').uint32((2 << 3) | 2).string(`pod-${id}`).join().join();
  }
  assert.deepEqual(decodeListPodSandboxResponse(Buffer.from(l.finish())).items, [
    { id: 'a', state: 1, labels: { 'io.kubernetes.pod.name': 'pod-a' } },
    { id: 'b', state: 1, labels: { 'io.kubernetes.pod.name': 'pod-b' } },
  ]);
});
