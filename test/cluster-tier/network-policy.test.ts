// examples/http in a game namespace under a default-deny ingress NetworkPolicy, on the cluster bed with an
// enforcing implementation (cli.js run --cluster --install --netpol: kube-router's network-policy
// controller; docs/design.md §32 "NetworkPolicy enforcement on the cluster bed"). First the policy is shown
// to bite (a pod of another namespace is refused at the game's port, after it got through before). With
// the chart's default host-network agent the http probe still reaches the game (its traffic comes from the
// node, as the kubelet's does) and the body becomes the opsState. Upgraded to a pod-network agent with the
// chart's own NetworkPolicies, the probe is refused: the GameServer keeps its opsState, the condition turns
// False and the decider counts refused probe runs, until docs/security.md's example policy for game
// namespaces is applied as written; then the probe works again. The release is rolled back at the end (the
// cluster tier's tests share it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { chartFiles } from '../chart/chart-files.js';
import { helm } from '../chart/helm.js';
import { NETPOL_ENV_VAR, RELEASE_NAME } from '../testbed/cluster-bed.js';
import { TEST_IMAGES } from '../testbed/images.js';
import { createNamespace } from '../testbed/kube.js';
import { repoPath } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { ClusterBed, exampleSet, GAME_SERVER_TIMEOUT_MS, POD_READY_TIMEOUT_MS, qualityCondition } from './cluster-kit.js';

const execFileAsync = promisify(execFile);
/** The example's status port (named `status`) and path: busybox httpd serves /www, the file is the body. */
const STATUS_PORT = 18080;
const SERVE = `mkdir -p /www; printf None >/www/opsstate; httpd -p ${STATUS_PORT} -h /www; exec sleep 2147483647`;
/** Probe runs counted while the pod-network agent is refused, before the test looks at the opsState again. */
const REFUSED_RUNS = 5;
const POLICY_TIMEOUT_MS = 60_000;

const DEFAULT_DENY = (namespace: string): string => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: ${namespace}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`;

test('under a default-deny ingress policy: the host-network agent\'s http probe works; a pod-network agent\'s is refused until docs/security.md\'s policy allows it', async () => {
  assert.equal(process.env[NETPOL_ENV_VAR], 'kube-router', `${NETPOL_ENV_VAR} is not set: run under \`cli.js run --cluster --install --netpol\``);
  const bed = new ClusterBed();
  const kubeconfig = { kubeconfig: bed.env.kubeconfig };
  const ns = ['--namespace', bed.releaseNamespace];
  const workDir = mkdtempSync(join(bed.env.workDir, 'network-policy-'));
  /** `kubectl apply -f` of YAML text, as a user applies a policy. */
  const apply = async (name: string, yaml: string): Promise<void> => {
    const file = join(workDir, `${name}.yaml`);
    writeFileSync(file, yaml);
    await execFileAsync(bed.cluster.kubectlBin, ['--kubeconfig', bed.env.kubeconfig, 'apply', '-f', file]);
  };
  let revision = '';
  try {
    const set = exampleSet('http');
    const quality = set.spec.serviceQualities[0].name as string;
    const container = set.spec.gameServerTemplate.spec.containers[0]!;
    const game = await createNamespace('ct-netpol', bed.kc);
    const [name] = await bed.createGameServers(game, set, {
      containers: [{ name: container.name, image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', ports: container.ports, command: ['sh', '-c', SERVE] }],
    });
    const body = (text: string): Promise<void> => bed.shell(game, name!, container.name, `printf '%s' '${text}' >/www/opsstate`);
    const gamePod = await bed.core.readNamespacedPod({ namespace: game, name: name! });
    const address = `${gamePod.status!.podIP}:${STATUS_PORT}`;
    await bed.waitForGameServer(game, name!, 'the first outcome: 200 "None"', (gs) => qualityCondition(gs, quality)?.result === 'None' && qualityCondition(gs, quality)?.status === 'True');

    // A pod of another namespace reaches the game's port, until the default-deny policy refuses it.
    const clients = await createNamespace('ct-netpol-client', bed.kc);
    await bed.core.createNamespacedPod({ namespace: clients, body: { metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', command: ['sleep', '2147483647'] }] } } });
    await waitFor(async () => (await bed.core.readNamespacedPod({ namespace: clients, name: 'client' })).status?.containerStatuses?.[0]?.state?.running, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: 'client pod running' });
    // busybox nc, not wget: the bed's static busybox's wget crashes in its address lookup.
    const fetchFromClient = (): Promise<{ exitCode: number; stdout: string; stderr: string }> => bed.exec(clients, 'client', 'c', `printf 'GET /opsstate HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${address.replace(':', ' ')}`);
    const open = await fetchFromClient();
    assert.equal(open.exitCode, 0, `before the policy the client reaches ${address}: ${open.stderr}`);
    assert.match(open.stdout, /^HTTP\/1\.[01] 200 [\s\S]*\r\n\r\nNone$/, 'and gets the game\'s answer');
    await apply('default-deny', DEFAULT_DENY(game));
    const refused = await waitFor(async () => {
      const res = await fetchFromClient();
      return res.exitCode !== 0 ? res : undefined;
    }, { timeoutMs: POLICY_TIMEOUT_MS, intervalMs: 500, what: `the default-deny policy refusing ${clients}/client at ${address}` });
    assert.match(refused.stderr, /refused|timed out|unreachable/i, 'the connection is refused, not answered');

    // The chart's default: the agent on the host network probes from the node, which the policy lets through.
    const agents = await bed.pods('agent');
    assert.deepEqual(agents.map((p) => p.spec?.hostNetwork), [true], 'the release runs the chart\'s default host-network agent');
    await body('Allocated');
    await bed.waitForOpsState(game, name!, 'Allocated');
    assert.notEqual((await fetchFromClient()).exitCode, 0, 'the policy still refuses other pods');

    // A pod-network agent with the chart's own NetworkPolicies. The decider's egress to the API server names
    // the bed's API server endpoint (its address and port after the Service's DNAT), as values.yaml says.
    revision = JSON.parse((await helm(['history', RELEASE_NAME, ...ns, '-o', 'json'], kubeconfig)).stdout).at(-1).revision.toString();
    const apiserver = new URL(bed.env.apiserverUrl);
    await helm([
      'upgrade', RELEASE_NAME, chartFiles.chartDir(), ...ns, '--reset-then-reuse-values',
      '--set', 'agent.hostNetwork=false', '--set', 'networkPolicy.enabled=true',
      '--set', `networkPolicy.apiServer.cidrs={${apiserver.hostname}/32}`, '--set', `networkPolicy.apiServer.ports={${apiserver.port}}`,
      '--wait', '--timeout', '5m',
    ], kubeconfig);
    const podAgent = await waitFor(async () => (await bed.readyPods('agent')).find((p) => p.spec?.hostNetwork !== true), { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: 'the pod-network agent Ready' });
    const leader = await leaderPod(bed);
    const refusedRuns = async (): Promise<number> => (await bed.deciderMetric(leader, 'okgsq_probe_runs_total'))
      .filter((s) => s.labels.namespace === game && s.labels.quality === quality && s.labels.outcome === 'false' && ['connection_refused', 'connection_failed', 'timeout'].includes(s.labels.error_kind ?? ''))
      .reduce((sum, s) => sum + s.value, 0);
    const failing = await bed.waitForGameServer(game, name!, `the probe from pod ${podAgent.metadata!.name} (${podAgent.status?.podIP}) failing`, (gs) => qualityCondition(gs, quality)?.status === 'False');
    assert.equal(failing.spec.opsState, 'Allocated', 'no action for a failed probe (examples/http has none for state false)');
    await body('Maintaining');
    // The agent reports its counters with its outcomes' resync, not with each run.
    const start = await waitFor(async () => {
      const runs = await refusedRuns();
      return runs > 0 ? runs : undefined;
    }, { timeoutMs: GAME_SERVER_TIMEOUT_MS, intervalMs: 500, what: `the decider counting refused probe runs of ${game}/${name}` });
    await waitFor(async () => (await refusedRuns()) >= start + REFUSED_RUNS, { timeoutMs: GAME_SERVER_TIMEOUT_MS, intervalMs: 500, what: `${REFUSED_RUNS} more refused probe runs of ${game}/${name}` });
    const still = await bed.gameServer(game, name!);
    assert.equal(still.spec.opsState, 'Allocated', 'the body "Maintaining" never reaches the decider while the policy refuses the agent');
    assert.equal(qualityCondition(still, quality)?.status, 'False');

    // docs/security.md's example, as written for release okg-sq in okg-sq-system and namespace games.
    const text = readFileSync(repoPath('docs', 'security.md'), 'utf8');
    const example = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => /kind: NetworkPolicy/.test(b));
    assert.ok(example, 'docs/security.md has the example policy');
    assert.equal(bed.releaseNamespace, 'okg-sq-system', 'the bed installs the release where the example expects it');
    assert.equal(RELEASE_NAME, 'okg-sq');
    await apply('allow-okg-sq-probes', example.replaceAll('namespace: games', `namespace: ${game}`));
    await bed.waitForOpsState(game, name!, 'Maintaining');
    await bed.waitForGameServer(game, name!, 'the probe passing again', (gs) => qualityCondition(gs, quality)?.status === 'True');
    assert.notEqual((await fetchFromClient()).exitCode, 0, 'the example lets okg-sq\'s pods through, not other pods');
  } finally {
    if (revision) await helm(['rollback', RELEASE_NAME, revision, ...ns, '--wait', '--timeout', '5m'], kubeconfig);
    bed.close();
  }
});

/** The decider pod holding the lease: the agents' streams, and so their probe counters, go to it. */
async function leaderPod(bed: ClusterBed): Promise<V1Pod> {
  const name = await waitFor(() => bed.leader(), { timeoutMs: GAME_SERVER_TIMEOUT_MS, intervalMs: 500, what: 'a decider leader' });
  return bed.readyPod('decider', name);
}
