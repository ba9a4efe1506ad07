// The migration runbook of docs/operations.md ("Switching a running cluster over"), on a live
// GameServerSet whose GameServers OKG's own chain has moved. First the reason for the runbook, seen on
// the bed: with kruise-daemon's probing off, kruise-manager's NodePodProbe controller still copies the
// results stored before the switch onto the pods when it reconciles (here: after a restart of
// kruise-manager), overwriting a newer condition. Then the runbook: stored results cleared, okg-sq
// installed, no GameServer changes opsState because of the switch, okg-sq moves them, and the same
// reconcile copies nothing back. Then the way back: okg-sq uninstalled, the gate on, OKG's chain in charge.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { OKGSQ_CONDITION_REASON } from '../../common/okg-defaults.js';
import { installChart, RELEASE_NAME, RELEASE_NAMESPACE } from '../testbed/cluster-bed.js';
import { httpGet } from '../testbed/https-get.js';
import { waitFor } from '../testbed/wait-for.js';
import { OkgBed, requireOkgMode, SCENARIO_SEQUENCES } from './okg-kit.js';

const execFileAsync = promisify(execFile);
const ROLLOUT_TIMEOUT_MS = 300_000;
const CONDITION = 'game.kruise.io/healthy';
const KRUISE_METRICS_PORT = 8080;

async function condition(bed: OkgBed, namespace: string, name: string): Promise<{ status?: string; reason?: string; message?: string } | undefined> {
  const pod = await bed.core.readNamespacedPod({ namespace, name });
  return pod.status?.conditions?.find((c) => c.type === CONDITION);
}

/** Waits until the running kruise-manager has reconciled a NodePodProbe (its controller_runtime_reconcile_total). */
async function waitForNodePodProbeReconcile(bed: OkgBed): Promise<void> {
  await waitFor(async () => {
    const pods = await bed.core.listNamespacedPod({ namespace: 'kruise-system', labelSelector: 'control-plane=controller-manager' });
    const ip = pods.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)?.status?.podIP;
    if (!ip) return false;
    const res = await httpGet(`http://${ip}:${KRUISE_METRICS_PORT}/metrics`);
    const m = /^controller_runtime_reconcile_total\{controller="NodePodProbe-controller",result="success"\} (\S+)$/m.exec(res.body);
    return m !== null && Number(m[1]) > 0;
  }, { timeoutMs: 120_000, intervalMs: 1000, what: 'kruise-manager to reconcile the NodePodProbe' });
}

/** kruise-daemon's PodProbeMarkerGate on or off, as an operator would set it (a patch of the DaemonSet's args). */
async function setProbingGate(bed: OkgBed, on: boolean): Promise<void> {
  const ds = JSON.parse(await bed.kubectlRun('-n', 'kruise-system', 'get', 'ds', 'kruise-daemon', '-o', 'json'));
  const args = (ds.spec.template.spec.containers[0].args as string[]).filter((a) => !a.startsWith('--feature-gates='));
  args.push(`--feature-gates=PodProbeMarkerGate=${on}`);
  await bed.kubectlRun('-n', 'kruise-system', 'patch', 'ds', 'kruise-daemon', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/args', value: args }]));
  await bed.kubectlRun('-n', 'kruise-system', 'rollout', 'status', 'ds/kruise-daemon', `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`);
}

/** Deletes kruise-manager's pod and waits for the new one: on start it reconciles every NodePodProbe. */
async function restartKruiseManager(bed: OkgBed): Promise<void> {
  await bed.kubectlRun('-n', 'kruise-system', 'delete', 'pod', '-l', 'control-plane=controller-manager', '--wait=true');
  await bed.kubectlRun('-n', 'kruise-system', 'rollout', 'status', 'deploy/kruise-controller-manager', `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`);
}

test('switching from OKG\'s chain to okg-sq: stale stored results come back unless cleared; by the runbook no opsState changes because of the switch', async () => {
  requireOkgMode('probing-on');
  const bed = new OkgBed('probing-on');
  try {
    const namespace = await bed.applyMinecraft('okg-migrate');
    await bed.waitForReplicas(namespace, 3);
    const recorder = await bed.recordOpsStates(namespace);
    try {
      // OKG's chain moves minecraft-0; the NodePodProbe stores "gate" for it, "False" for the others.
      await bed.ctl(namespace, 'minecraft-0', 'kill-gate', 'minecraft-0');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'GateMaintaining');
      await waitFor(async () => (await condition(bed, namespace, 'minecraft-1'))?.status === 'False', { timeoutMs: 120_000, intervalMs: 500, what: 'minecraft-1\'s condition from kruise' });

      await setProbingGate(bed, false);

      // Why the runbook clears: a newer condition on minecraft-1 (written here as a prober would) is
      // replaced by the stale stored one when kruise-manager reconciles the NodePodProbe.
      await bed.kubectlRun('-n', namespace, 'patch', 'pod', 'minecraft-1', '--subresource=status', '--type=strategic', '-p',
        JSON.stringify({ status: { conditions: [{ type: CONDITION, status: 'True', message: 'data', lastProbeTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } }));
      await bed.waitForOpsState(namespace, 'minecraft-1', 'DataMaintaining');
      await restartKruiseManager(bed);
      await waitFor(async () => (await condition(bed, namespace, 'minecraft-1'))?.status === 'False', { timeoutMs: 120_000, intervalMs: 500, what: 'kruise-manager to copy the stored result back onto minecraft-1' });
      await bed.waitForOpsState(namespace, 'minecraft-1', 'None');

      // The runbook: clear the stored results, install okg-sq.
      for (const npp of (await bed.kubectlRun('get', 'nodepodprobes', '-o', 'name')).split('\n').filter(Boolean)) {
        await bed.kubectlRun('patch', npp, '--subresource=status', '--type=merge', '-p', '{"status":{"podProbeStatuses":null}}');
      }
      await installChart({ workDir: bed.env.workDir, kubeconfig: bed.env.kubeconfig, helmBin: bed.env.helmBin, socket: bed.env.containerdSocket, log: () => {} });
      // okg-sq takes over: its first outcome for minecraft-0 is "gate" again, written as its own condition
      // (the others' conditions already say what okg-sq finds).
      await waitFor(async () => (await condition(bed, namespace, 'minecraft-0'))?.reason === OKGSQ_CONDITION_REASON, { timeoutMs: 180_000, intervalMs: 500, what: 'okg-sq\'s condition on minecraft-0' });
      assert.equal((await bed.gameServer(namespace, 'minecraft-0')).spec.opsState, 'GateMaintaining');

      // okg-sq moves minecraft-0 back; kruise-manager's reconcile after a restart finds nothing to copy.
      await bed.ctl(namespace, 'minecraft-0', 'start', 'minecraft-0');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'None');
      await restartKruiseManager(bed);
      await waitForNodePodProbeReconcile(bed);
      const after = await condition(bed, namespace, 'minecraft-0');
      assert.equal(after?.reason, OKGSQ_CONDITION_REASON, 'minecraft-0\'s condition is still okg-sq\'s');
      assert.equal(after?.status, 'False', 'and says the gate is back');
      assert.equal((await bed.gameServer(namespace, 'minecraft-0')).spec.opsState, 'None');

      // The way back: `helm uninstall` okg-sq, the gate on again. Nothing changes because of the switch;
      // then OKG's chain moves minecraft-0 again and writes its condition.
      await execFileAsync(bed.env.helmBin, ['--kubeconfig', bed.env.kubeconfig, 'uninstall', RELEASE_NAME, '-n', RELEASE_NAMESPACE, '--wait']);
      await setProbingGate(bed, true);
      await bed.ctl(namespace, 'minecraft-0', 'kill-gate', 'minecraft-0');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'GateMaintaining');
      const back = await condition(bed, namespace, 'minecraft-0');
      assert.equal(back?.status, 'True', 'kruise-daemon found the gate down');
      assert.notEqual(back?.reason, OKGSQ_CONDITION_REASON, 'written by OKG\'s chain, not okg-sq');
    } finally {
      recorder.stop();
    }
    // minecraft-1's DataMaintaining and back is the stale copy above (the reason for the runbook); after the
    // clearing, okg-sq's install and its uninstall nothing changed but what the game servers did (the last
    // GateMaintaining is the flip after the way back).
    assert.deepEqual(Object.fromEntries(recorder.sequences), { ...SCENARIO_SEQUENCES, 'minecraft-0': [...SCENARIO_SEQUENCES['minecraft-0']!, 'GateMaintaining'] });
  } finally {
    bed.close();
  }
});
