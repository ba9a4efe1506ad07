// The decider exports exactly the agreed okgsq_ metrics, with the agents' counters as a real histogram.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeciderMetrics } from '../../../decider/metrics.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../../../common/probe-duration-buckets.js';

const AGREED = [
  'okgsq_action_values_refused_total',
  'okgsq_actions_applied_total',
  'okgsq_agent_sessions_revoked_total',
  'okgsq_agent_streams_refused_total',
  'okgsq_agents_connected',
  'okgsq_batch_size',
  'okgsq_events_dropped_total',
  'okgsq_flip_to_patch_seconds',
  'okgsq_foreign_condition_writes_total',
  'okgsq_gameservers',
  'okgsq_informer_synced',
  'okgsq_invalid_qualities',
  'okgsq_kube_writes_total',
  'okgsq_leader',
  'okgsq_node_probes_stale',
  'okgsq_outcomes_received_total',
  'okgsq_outcomes_rejected_total',
  'okgsq_outcomes_throttled_total',
  'okgsq_planned_nodes',
  'okgsq_probe_duration_seconds',
  'okgsq_probe_runs_total',
  'okgsq_probes_stale',
  'okgsq_ratelimiter_wait_seconds',
  'okgsq_write_queue_depth',
];

test('exactly the agreed okgsq_ metric families, plus default process metrics', async () => {
  const m = new DeciderMetrics();
  const text = await m.registry.metrics();
  const families = [...text.matchAll(/^# TYPE (okgsq_\S+) /gm)].map((x) => x[1]).sort();
  assert.deepEqual(families, AGREED);
  assert.match(text, /^process_cpu_seconds_total/m);
});

test('agent counters become runs by outcome and a cumulative duration histogram; GameServers counted by opsState at scrape time', async () => {
  const m = new DeciderMetrics({ defaultMetrics: false });
  const buckets = new Array(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
  buckets[0] = 2; // ≤ 5 ms
  buckets[PROBE_DURATION_BUCKETS_SECONDS.length] = 1; // +Inf
  m.qualitiesDeclared('ns', 'mc', ['healthy']);
  const c = { namespace: 'ns', gameServerSet: 'mc', quality: 'healthy', runs: [{ outcome: 'true' as const, errorKind: '', count: 2 }, { outcome: 'false' as const, errorKind: 'timeout', count: 1 }], durationBucketCounts: buckets, durationSumSeconds: 40.01 };
  m.probeCounters([c]);
  m.probeCounters([c]);
  m.setGameServerSource(() => [
    { namespace: 'ns', gameServerSet: 'mc', opsState: 'None' },
    { namespace: 'ns', gameServerSet: 'mc', opsState: 'None' },
    { namespace: 'ns', gameServerSet: 'mc', opsState: 'Maintaining' },
  ]);
  const text = await m.registry.metrics();
  assert.match(text, /okgsq_probe_runs_total\{namespace="ns",gameserverset="mc",quality="healthy",outcome="true",error_kind=""\} 4/);
  assert.match(text, /okgsq_probe_runs_total\{[^}]*outcome="false",error_kind="timeout"\} 2/);
  assert.match(text, /okgsq_probe_duration_seconds_bucket\{namespace="ns",gameserverset="mc",quality="healthy",le="0.005"\} 4/);
  assert.match(text, /okgsq_probe_duration_seconds_bucket\{[^}]*le="30"\} 4/);
  assert.match(text, /okgsq_probe_duration_seconds_bucket\{[^}]*le="\+Inf"\} 6/);
  assert.match(text, /okgsq_probe_duration_seconds_count\{[^}]*\} 6/);
  assert.match(text, /okgsq_gameservers\{namespace="ns",gameserverset="mc",ops_state="None"\} 2/);
  assert.match(text, /okgsq_gameservers\{namespace="ns",gameserverset="mc",ops_state="Maintaining"\} 1/);
});

test('outcomes that slowed a flooding agent are counted (the ingest port is wired, not left optional)', async () => {
  const m = new DeciderMetrics({ defaultMetrics: false });
  m.outcomesThrottled(1500);
  m.outcomesThrottled(500);
  assert.match(await m.registry.metrics(), /^okgsq_outcomes_throttled_total 2000$/m);
});

test('refused agent streams are counted by reason, every reason exported from the start', async () => {
  const m = new DeciderMetrics({ defaultMetrics: false });
  let text = await m.registry.metrics();
  for (const reason of ['not_leader', 'unauthenticated', 'permission_denied', 'invalid_argument', 'deadline_exceeded', 'auth_unavailable', 'peer_limit', 'overloaded', 'cancelled']) {
    assert.match(text, new RegExp(`^okgsq_agent_streams_refused_total\\{reason="${reason}"\\} 0$`, 'm'));
  }
  for (const reason of ['token_expired', 'pod_gone']) assert.match(text, new RegExp(`^okgsq_agent_sessions_revoked_total\\{reason="${reason}"\\} 0$`, 'm'));
  m.streamRefused('not_leader');
  m.streamRefused('not_leader');
  m.streamRefused('unauthenticated');
  text = await m.registry.metrics();
  assert.match(text, /^okgsq_agent_streams_refused_total\{reason="not_leader"\} 2$/m);
  assert.match(text, /^okgsq_agent_streams_refused_total\{reason="unauthenticated"\} 1$/m);
  assert.match(text, /^okgsq_agent_streams_refused_total\{reason="permission_denied"\} 0$/m);
});

test('stale probes per node replace each other; the planned nodes are counted; every reject reason starts at 0', async () => {
  const m = new DeciderMetrics({ defaultMetrics: false });
  let text = await m.registry.metrics();
  for (const reason of ['unplanned', 'invalid', 'not_probeable']) assert.match(text, new RegExp(`^okgsq_outcomes_rejected_total\\{reason="${reason}"\\} 0$`, 'm'));
  assert.match(text, /^okgsq_planned_nodes 0$/m);
  m.nodesStale(3, new Map([['node-a', { reason: 'disconnected' as const, count: 4 }]]));
  text = await m.registry.metrics();
  assert.match(text, /^okgsq_planned_nodes 3$/m);
  assert.match(text, /^okgsq_node_probes_stale\{node="node-a",reason="disconnected"\} 4$/m);
  m.nodesStale(3, new Map([['node-b', { reason: 'silent' as const, count: 1 }]]));
  text = await m.registry.metrics();
  assert.doesNotMatch(text, /node="node-a"/, 'a node fresh again leaves the gauge');
  assert.match(text, /^okgsq_node_probes_stale\{node="node-b",reason="silent"\} 1$/m);
});

test('no series carries a result-rendered value: actions are counted per quality, whatever opsState they rendered', async () => {
  const m = new DeciderMetrics({ defaultMetrics: false });
  m.qualitiesDeclared('ns', 'mc', ['state']);
  for (let i = 0; i < 50; i++) m.actionApplied('ns', 'mc', 'state');
  const lines = (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('okgsq_actions_applied_total{'));
  assert.deepEqual(lines, ['okgsq_actions_applied_total{namespace="ns",gameserverset="mc",quality="state"} 50']);
});

test('series of a quality its set no longer declares (or of a deleted set) are deleted, and not made again by late counters', async () => {
  const m = new DeciderMetrics({ defaultMetrics: false });
  const buckets = new Array(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
  buckets[0] = 1;
  const counters = (quality: string) => ({ namespace: 'ns', gameServerSet: 'mc', quality, runs: [{ outcome: 'false' as const, errorKind: 'timeout', count: 1 }], durationBucketCounts: buckets, durationSumSeconds: 0.001 });
  m.qualitiesDeclared('ns', 'mc', ['gate', 'data']);
  m.probeCounters([counters('gate'), counters('data')]);
  m.actionApplied('ns', 'mc', 'gate');
  m.foreignConditionWrite('ns', 'mc', 'gate');
  m.actionValueRefused('ns', 'mc', 'gate', 'InvalidOpsState');
  const quality = async (q: string) => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('okgsq_') && l.includes(`quality="${q}"`));
  // 1 run + 13 buckets (+Inf included) + sum + count + 1 action + 1 foreign write + 1 refused value
  assert.equal((await quality('gate')).length, 19);
  m.qualitiesDeclared('ns', 'mc', ['data']);
  assert.deepEqual(await quality('gate'), []);
  assert.ok((await quality('data')).length > 0);
  m.probeCounters([counters('gate')]); // an agent's report still in flight
  m.actionApplied('ns', 'mc', 'gate');
  assert.deepEqual(await quality('gate'), []);
  m.qualitiesDeclared('ns', 'mc', []);
  assert.deepEqual(await quality('data'), []);
});
