// The incumbent alone (okg-sq not installed, kruise-daemon probing on): OKG's own chain
// PodProbeMarker → NodePodProbe → kruise-daemon → pod condition → GameServer moves the minecraft scenario.
// The reference for the side-by-side comparison with okg-sq (coexistence.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../testbed/wait-for.js';
import { describeWrites, OkgBed, requireOkgMode, SCENARIO_SEQUENCES, USERS } from './okg-kit.js';

test('OKG alone: PodProbeMarker → NodePodProbe → kruise-daemon → pod condition → GameServer flips the minecraft scenario once per change', async () => {
  requireOkgMode('probing-on');
  const bed = new OkgBed('probing-on');
  try {
    const namespace = await bed.applyMinecraft('okg-alone');
    const pods = await bed.waitForReplicas(namespace, 3);
    const nodeName = pods.get('minecraft-0')!.spec!.nodeName!;
    // kruise-manager turns the PodProbeMarker into the node's NodePodProbe …
    await waitFor(async () => {
      const npp = await bed.custom.getClusterCustomObject({ group: 'apps.kruise.io', version: 'v1alpha1', plural: 'nodepodprobes', name: nodeName }) as any;
      const probed = new Set((npp.spec?.podProbes ?? []).filter((p: any) => p.namespace === namespace).map((p: any) => p.name));
      return probed.size === 3;
    }, { timeoutMs: 120_000, intervalMs: 1000, what: `NodePodProbe ${nodeName} listing the three pods` });
    // … kruise-daemon probes and kruise-manager writes the condition (first outcome: all up, False).
    for (const name of pods.keys()) {
      await waitFor(async () => {
        const pod = await bed.core.readNamespacedPod({ namespace, name });
        return pod.status?.conditions?.find((c) => c.type === 'game.kruise.io/healthy')?.status === 'False';
      }, { timeoutMs: 120_000, intervalMs: 500, what: `${name}'s condition game.kruise.io/healthy False` });
    }
    const recorder = await bed.recordOpsStates(namespace);
    try {
      await bed.ctl(namespace, 'minecraft-0', 'kill-gate', 'minecraft-0');
      await bed.ctl(namespace, 'minecraft-1', 'kill-data', 'minecraft-1');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'GateMaintaining');
      await bed.waitForOpsState(namespace, 'minecraft-1', 'DataMaintaining');
      // OKG patches the spec first, then the status with the probe's result (kruise keeps stdout on exit 0).
      await waitFor(async () => (await bed.gameServer(namespace, 'minecraft-0')).status?.serviceQualitiesConditions?.[0]?.result === 'gate', { timeoutMs: 60_000, intervalMs: 250, what: 'minecraft-0\'s stored result gate' });
      await bed.ctl(namespace, 'minecraft-0', 'start', 'minecraft-0');
      await bed.ctl(namespace, 'minecraft-1', 'start', 'minecraft-1');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'None');
      await bed.waitForOpsState(namespace, 'minecraft-1', 'None');
    } finally {
      recorder.stop();
    }
    assert.deepEqual(Object.fromEntries(recorder.sequences), SCENARIO_SEQUENCES);
    const events = bed.audit(namespace);
    const conditionWriters = new Set(events.filter((e) => e.objectRef?.resource === 'pods' && e.objectRef.subresource === 'status').map((e) => e.user.username));
    assert.ok(conditionWriters.has(USERS.kruise) || conditionWriters.has(USERS.kruiseDaemon), `a kruise component wrote the pod conditions: ${[...conditionWriters].join(', ')}`);
    const opsWriters = new Set(events.filter((e) => e.objectRef?.resource === 'gameservers' && !e.objectRef.subresource && e.verb === 'patch').map((e) => e.user.username));
    assert.deepEqual([...opsWriters], [USERS.kruiseGame], `only OKG's controller patched the GameServers: ${describeWrites(events.filter((e) => e.objectRef?.resource === 'gameservers')).join('; ')}`);
  } finally {
    bed.close();
  }
});
