// The generated CRI code (ts-proto, forceLong=bigint for the CRI file only) round-trips the runtime's
// int64 nanosecond timestamps, which are above 2^53; okg-sq's own API keeps int64 as number.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { criNanosToMs } from '../../../agent/cri/cri-time.js';
import { ContainerStatusResponse, ExecSyncRequest, ListContainersResponse } from '../../../proto/gen/cri/runtime/v1/api.js';

const STARTED_NS = 1_795_000_000_123_456_789n; // 2026-11-18T…Z

test('ContainerStatus bytes as a runtime writes them decode with exact nanoseconds; unknown fields skipped', () => {
  // Written field by field (not with the generated encoder) so the test does not check the codec against itself.
  const w = new BinaryWriter();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('abc123');
  w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('game').uint32(2 << 3).uint32(4).join();
  w.uint32(3 << 3).int32(1);
  w.uint32(4 << 3).int64(STARTED_NS - 5_000_000n);
  w.uint32(5 << 3).int64(STARTED_NS);
  w.uint32(7 << 3).int32(137);
  w.uint32((12 << 3) | 2).fork().uint32((1 << 3) | 2).string('io.kubernetes.container.name').uint32((2 << 3) | 2).string('game').join();
  w.uint32((99 << 3) | 2).string('a field we do not know');
  w.join();

  const { status } = ContainerStatusResponse.decode(w.finish());
  assert.ok(status);
  assert.equal(status.id, 'abc123');
  assert.deepEqual(status.metadata, { name: 'game', attempt: 4 });
  assert.equal(status.state, 1);
  assert.equal(status.startedAt, STARTED_NS);
  assert.equal(status.createdAt, STARTED_NS - 5_000_000n);
  assert.equal(status.finishedAt, 0n);
  assert.equal(status.exitCode, 137);
  assert.deepEqual(status.labels, { 'io.kubernetes.container.name': 'game' });
  assert.equal(criNanosToMs(status.startedAt), 1_795_000_000_123);
  assert.equal(criNanosToMs(status.finishedAt), 0, 'not finished stays 0');
});

test('ListContainers and ExecSync round-trip through the generated codec', () => {
  const list = ListContainersResponse.fromPartial({
    containers: [{ id: 'a', createdAt: STARTED_NS, state: 1, labels: { k: 'v' } }, { id: 'b', createdAt: STARTED_NS + 1n }],
  });
  assert.deepEqual(ListContainersResponse.decode(ListContainersResponse.encode(list).finish()), list);

  const exec = ExecSyncRequest.fromPartial({ containerId: 'a', cmd: ['/probe.sh'], timeout: 5n });
  assert.deepEqual(ExecSyncRequest.decode(ExecSyncRequest.encode(exec).finish()), exec);
});

test('criNanosToMs truncates to the millisecond', () => {
  assert.equal(criNanosToMs(1_795_000_000_123_999_999n), 1_795_000_000_123);
  assert.equal(criNanosToMs(0n), 0);
});
