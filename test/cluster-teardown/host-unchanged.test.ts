// A cluster bed leaves the host as it found it (run outside any bed: it starts one itself, with --netpol:
// kube-router's network-policy controller too). While the bed runs a pod under a NetworkPolicy, its KUBE-*
// chains (kube-router's among them), kube-router's ipsets and kubepods cgroups exist (so the comparison can fail), but the host's
// sysctls and mounts are untouched (the node's live in its private mount namespace); afterwards chains,
// cgroups, mounts, sysctls, the kubelet's fixed paths are as before, and no process, bridge, route or work
// dir of that bed is left.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readClusterLock } from '../testbed/cluster-host.js';
import { listSlots, readSlot, slotNetwork } from '../testbed/slots.js';
import { hostState, type HostState } from './host-state.js';

const cli = fileURLToPath(new URL('../testbed/cli.js', import.meta.url));
const probe = fileURLToPath(new URL('./probe-host.js', import.meta.url));

test('a cluster bed with --netpol leaves the host as before: chains, ipsets, cgroups, mounts, sysctls, processes, bridge, route, work dir', () => {
  const before = hostState();
  const run = spawnSync(process.execPath, [cli, 'run', '--cluster', '--netpol', '--', process.execPath, probe], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, `cli.js run --cluster --netpol failed:\n${run.stderr.slice(-4000)}`);
  const during = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { workDir: string; runnerPid: number; slot: number; state: HostState; mountsInWorkDir: string[] };

  assert.ok(during.state.kubeChains.length > 0, 'kube-proxy and the kubelet made their chains while the bed ran');
  assert.ok(during.state.kubeChains.includes('v4 filter/KUBE-ROUTER-FORWARD'), 'kube-router made its chains while the bed ran');
  assert.ok(during.state.kubeRules.some((r) => r.includes('KUBE-ROUTER-FORWARD')), 'kube-router hooked FORWARD while the bed ran');
  assert.ok(during.state.kubeRouterIpsets.length > 0, 'kube-router made ipsets for the NetworkPolicy while the bed ran');
  assert.ok(during.state.kubepodsCgroups.length > 0, 'the kubelet made its kubepods cgroups while the bed ran');
  assert.deepEqual(during.state.sysctls, before.sysctls, 'the host\'s sysctls are untouched even while the bed runs');
  assert.deepEqual(during.mountsInWorkDir, [], 'the node\'s mounts (pod root filesystems, volumes, network namespaces) stay in its mount namespace');
  assert.equal(during.state.varLibKubelet, before.varLibKubelet, '/var/lib/kubelet is the node\'s own');

  const after = hostState();
  const next = readClusterLock();
  if (next && next.ownerPid !== during.runnerPid) {
    // Another cluster bed started since ours ended (a developer's machine): the host-wide chains and
    // cgroups are its own now; the rest must still be as before.
    const shared = { kubeChains: [], kubeRules: [], kubeRouterIpsets: [], kubepodsCgroups: [] };
    assert.deepEqual({ ...after, ...shared }, { ...before, ...shared }, 'the host is as before');
  } else {
    assert.deepEqual(after, before, 'the host is as before');
  }
  assert.equal(existsSync(during.workDir), false, 'the work dir is gone');
  const mentioning = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(during.workDir);
    } catch {
      return false;
    }
  });
  assert.deepEqual(mentioning, [], 'no process of the bed (kubelet, containerd, shims, control plane) is left');
  assert.notEqual(next?.ownerPid, during.runnerPid, 'the cluster lock is released');
  // Its slot's bridge and route are gone, unless another bed took the slot since.
  assert.equal(typeof during.slot, 'number');
  const slot = listSlots().find((s) => s.workDir === during.workDir);
  assert.equal(slot, undefined, 'the slot is released');
  if (!readSlot(during.slot)) {
    const { bridge, subnet } = slotNetwork(during.slot);
    assert.equal(spawnSync('ip', ['link', 'show', 'dev', bridge], { stdio: 'ignore' }).status !== 0, true, `bridge ${bridge} is gone`);
    assert.equal(spawnSync('ip', ['route', 'show'], { encoding: 'utf8' }).stdout.includes(subnet), false, `no route to ${subnet} is left`);
  }
});
