// Bad input end to end, through the running system: the real decider process (real apiserver, informers,
// planner, Events), the real agent process probing real containerd containers (FakeKubelet), on one
// GameServerSet that mixes hostile qualities with a valid one.
// Lower-level proofs this tier does not repeat: schema problems and caps (test/unit/rules/schema.test.ts,
// test/unit/cli/check.test.ts), named ports (test/unit/decider/plan.test.ts), output normalisation and
// http redirects/timeouts against local servers (test/unit/probe/runners.test.ts), CRI timeouts, 1 MiB and
// binary output on the adapter alone (test/integration/agent/cri-exec.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { testbedEnv } from '../testbed/env.js';
import { createNamespace } from '../testbed/kube.js';
import { FakeKubelet, type RunningPod } from '../testbed/fake-kubelet.js';
import { CriClient } from '../testbed/cri-client.js';
import { waitFor } from '../testbed/wait-for.js';
import { adminClient, agentToken, DeciderProcess, eventsAbout, GAME, metricSum, must, startAgent, type Program } from './bad-kit.js';

const SET = 'arena';
const MANY_ACTIONS = 10_000;
const BAD_ACTIONS = 2_000; // 10,000 of them would pass etcd's 1.5 MiB request limit together with the rest
const timing = (timeoutSeconds: number, periodSeconds = 1) => ({ initialDelaySeconds: 1, periodSeconds, timeoutSeconds, failureThreshold: 1, successThreshold: 1 });

/** A busybox game container: httpd with two CGI scripts (an off-pod redirect, a never-answering one). */
function gameCommand(stolenPort: number): string[] {
  const redir = `#!/bin/sh\nprintf 'HTTP/1.1 302 Found\\r\\nLocation: http://127.0.0.1:${stolenPort}/stolen\\r\\nContent-Length: 0\\r\\n\\r\\n'\n`;
  const hang = '#!/bin/sh\nexec sleep 99994\n';
  return ['/bin/sh', '-c', [
    'mkdir -p /www/cgi-bin', 'printf ok > /www/state',
    // base64: the scripts hold quotes and CRLFs that would not survive another layer of shell quoting
    `echo ${Buffer.from(redir).toString('base64')} | base64 -d > /www/cgi-bin/redir`,
    `echo ${Buffer.from(hang).toString('base64')} | base64 -d > /www/cgi-bin/hang`,
    'chmod +x /www/cgi-bin/*',
    'httpd -p 8080 -h /www', 'exec sleep 1000000',
  ].join('; ')];
}

function qualities(): unknown[] {
  const exec = (command: string[]) => ({ exec: { command } });
  return [
    // [0] the valid one that must keep working whatever its neighbours are
    { name: 'good', containerName: 'game', permanent: false, ...exec(['cat', '/www/state']), ...timing(2), serviceQualityAction: [{ state: true, labels: { 'okg-sq.test/good': '{{.Result}}' } }] },
    // [1] 1 MiB of output
    { name: 'big', containerName: 'game', permanent: false, ...exec(['sh', '-c', "head -c 1048576 /dev/zero | tr '\\0' a"]), ...timing(3, 2), serviceQualityAction: [] },
    // [2] binary output
    { name: 'binary', containerName: 'game', permanent: false, ...exec(['head', '-c', '65536', '/dev/urandom']), ...timing(3, 2), serviceQualityAction: [] },
    // [3] invalid UTF-8, separators, and a 3-byte character across the 1024-byte cut
    { name: 'utf8', containerName: 'game', permanent: false, ...exec(['sh', '-c', "printf '\\377\\376|x\\n'; head -c 1016 /dev/zero | tr '\\0' c; printf '\\342\\202\\254tail'"]), ...timing(3, 2), serviceQualityAction: [] },
    // [4] never exits (the exec'd process itself)
    { name: 'hang', containerName: 'game', permanent: false, ...exec(['sleep', '99991']), ...timing(1, 2), serviceQualityAction: [{ state: false, labels: { 'okg-sq.test/hang': 'failed' } }] },
    // [5] fork-happy: background children, then hangs
    { name: 'forky', containerName: 'game', permanent: false, ...exec(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 99992 & done; exec sleep 99993']), ...timing(1, 3), serviceQualityAction: [] },
    // [6] an http target that redirects off the pod
    { name: 'redirect', containerName: 'game', permanent: false, httpGet: { port: 'http', path: '/cgi-bin/redir' }, ...timing(2), serviceQualityAction: [] },
    // [7] an http target that never answers
    { name: 'silent', containerName: 'game', permanent: false, httpGet: { port: 'http', path: '/cgi-bin/hang' }, ...timing(1, 2), serviceQualityAction: [] },
    // [8] a named port the template has but the running pod does not: refused by the planner
    { name: 'ghost', containerName: 'game', permanent: false, tcpSocket: { port: 'ghost' }, ...timing(1), serviceQualityAction: [] },
    // [9] a name that makes an invalid pod condition type
    { name: 'not a label key!', containerName: 'game', permanent: false, ...exec(['true']), serviceQualityAction: [] },
    // [10] wrong values where the CRD's types allow them
    { name: 'typed', containerName: 'game', permanent: false, ...exec(['true']), timeoutSeconds: -5, serviceQualityAction: [{ state: true, labels: { 'okg-sq.test/x': 'not a label value!' } }] },
    // [11] a huge list of bad actions
    {
      name: 'huge', containerName: 'game', permanent: false, ...exec(['true']),
      serviceQualityAction: Array.from({ length: BAD_ACTIONS }, (_, i) => ({ state: true, labels: { [`bad key ${i}`]: 'v' } })),
    },
    // [12] 10,000 valid actions: all walked, the last match wins
    {
      name: 'many', containerName: 'game', permanent: false, ...exec(['echo', 'm']), ...timing(2, 2),
      serviceQualityAction: Array.from({ length: MANY_ACTIONS }, (_, i) => ({ state: true, annotations: { 'okg-sq.test/n': String(i) } })),
    },
  ];
}

/** Host PIDs whose cgroup is the container's (cgroupfs: the path ends with the container ID). */
function hostProcessesOf(containerId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(containerId)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

describe('hostile GameServerSet and probe output through the running decider and agent', () => {
  const admin = adminClient();
  const env = testbedEnv();
  const node = `bad-${randomBytes(3).toString('hex')}`;
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: node });
  const cri = new CriClient(env.containerdSocket);
  let ns = '';
  let decider: DeciderProcess | undefined;
  let agent: Program | undefined;
  let pod: RunningPod;
  let vanishing: RunningPod;
  let stolen: Server;
  let stolenHits = 0;

  before(async () => {
    stolen = createServer((_req, res) => {
      stolenHits++;
      res.end('stolen');
    });
    await new Promise<void>((resolve) => stolen.listen(0, '127.0.0.1', resolve));
    ns = await createNamespace('bad-sets');
    const template = { spec: { containers: [{ name: 'game', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }, { name: 'ghost', containerPort: 9999 }] }] } };
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: SET, namespace: ns },
      spec: { replicas: 1, gameServerTemplate: template, serviceQualities: qualities() },
    });
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer',
      metadata: { name: `${SET}-0`, namespace: ns, labels: { 'game.kruise.io/owner-gss': SET } }, spec: { opsState: 'None' },
    });
    pod = await kubelet.runPod({
      namespace: ns, name: `${SET}-0`, labels: { 'game.kruise.io/owner-gss': SET },
      containers: [{ name: 'game', command: gameCommand((stolen.address() as AddressInfo).port), ports: [{ name: 'http', containerPort: 8080 }] }],
    });
    // A second set whose only quality is slow (2 s), so that an exec is in flight most of the time.
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: 'vanish', namespace: ns },
      spec: {
        replicas: 1, gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
        serviceQualities: [{ name: 'slow', containerName: 'game', permanent: false, exec: { command: ['sh', '-c', 'sleep 2; echo done'] }, ...timing(5), serviceQualityAction: [] }],
      },
    });
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer',
      metadata: { name: 'vanish-0', namespace: ns, labels: { 'game.kruise.io/owner-gss': 'vanish' } }, spec: { opsState: 'None' },
    });
    vanishing = await kubelet.runPod({
      namespace: ns, name: 'vanish-0', labels: { 'game.kruise.io/owner-gss': 'vanish' },
      containers: [{ name: 'game', command: ['sleep', '1000000'] }],
    });
    const token = await agentToken(admin, ns, node);
    decider = await DeciderProcess.start(ns);
    agent = startAgent(node, decider.grpcPort, token);
  });

  after(async () => {
    await agent?.stop();
    await decider?.program.stop();
    await kubelet.close();
    cri.close();
    admin.close();
    await new Promise((resolve) => stolen?.close(resolve));
  });

  const condition = (gs: any, name: string) => gs?.status?.serviceQualitiesConditions?.find((c: any) => c.name === name);
  let last: any;
  async function waitForGs(what: string, check: (gs: any) => boolean, timeoutMs = 40_000, name = `${SET}-0`): Promise<any> {
    try {
      return await waitFor(async () => {
        last = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/${name}`);
        return check(last) ? last : false;
      }, { timeoutMs, intervalMs: 250, what });
    } catch (err) {
      const conds = (last?.status?.serviceQualitiesConditions ?? []).map((c: any) => ({ ...c, result: String(c.result ?? '').slice(0, 60) }));
      throw new Error(`${what}: conditions ${JSON.stringify(conds)}\nagent log:\n${agent?.log.slice(-3000)}\ndecider log:\n${decider?.program.log.slice(-3000)}`, { cause: err });
    }
  }
  async function inContainer(script: string): Promise<string> {
    const res = await cri.execSync({ containerId: pod.containers[0]!.id, cmd: ['/bin/sh', '-c', script], timeout: 10 });
    return res.stdout.toString().trim();
  }

  it('skips the invalid qualities with a Warning Event on the set naming each field, and counts them', async () => {
    const text = await waitFor(async () => {
      const events = await eventsAbout(admin, ns, 'GameServerSet', SET);
      const spec = events.find((e) => e.type === 'Warning' && e.reason === 'InvalidServiceQuality' && e.message.startsWith('skipped invalid'));
      return spec?.message;
    }, { timeoutMs: 30_000, what: 'the InvalidServiceQuality Event' });
    assert.match(text, /spec\.serviceQualities\[9\]\.name: "not a label key!" makes the pod condition type/);
    assert.match(text, /spec\.serviceQualities\[10\]\.timeoutSeconds: timeoutSeconds must not be negative, got -5/);
    assert.match(text, /spec\.serviceQualities\[10\]\.serviceQualityAction\[0\]\.labels\["okg-sq\.test\/x"\]: "not a label value!" is not a valid label value/);
    assert.match(text, /spec\.serviceQualities\[11\]\.serviceQualityAction\[0\]\.labels\["bad key 0"\]/);
    // 2,000 bad actions give one bounded message, not 2,000 problems.
    assert.ok(text.length < 64 * 1024, `the Event message is ${text.length} characters`);
    console.log(`InvalidServiceQuality Event: ${text.length} characters for ${BAD_ACTIONS} bad actions and 2 bad qualities`);
    const metrics = await decider!.metrics();
    assert.equal(metricSum(metrics, 'okgsq_invalid_qualities', `gameserverset="${SET}"`), 3, 'not a label key!, typed, huge');
  });

  it('refuses an unknown named port in the planner with a Warning naming the quality and the port', async () => {
    const ghost = await waitFor(async () => (await eventsAbout(admin, ns, 'GameServerSet', SET)).find((e) => e.message.includes('no port named')), { timeoutMs: 30_000, what: 'the ghost port Event' });
    assert.equal(ghost.type, 'Warning');
    assert.match(ghost.message, /spec\.serviceQualities\[8\]\.tcpSocket\.port: .*no port named "ghost"/);
  });

  it('bounds 1 MiB, binary and invalid UTF-8 output to 1024 bytes on a UTF-8 boundary, without | or \\n', async () => {
    const gs = await waitForGs('big, binary and utf8 outcomes', (g) => ['big', 'binary', 'utf8'].every((n) => condition(g, n)?.status === 'True'));
    assert.equal(condition(gs, 'big').result, 'a'.repeat(1024));
    const binary: string = condition(gs, 'binary').result;
    assert.ok(Buffer.byteLength(binary) <= 1024 && Buffer.byteLength(binary) > 900, `binary result of ${Buffer.byteLength(binary)} bytes`);
    assert.ok(!/[|\n]/.test(binary));
    // \377\376 → two U+FFFD (6 bytes), "|x\n" → "x" (1), 1016 × c: 1023 bytes; the € (3 bytes) would cross 1024.
    assert.equal(condition(gs, 'utf8').result, '\uFFFD\uFFFDx' + 'c'.repeat(1016));
    // The pod condition carries the same bounded text.
    const podObj = await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/${SET}-0`);
    assert.equal(podObj.status.conditions.find((c: any) => c.type === 'game.kruise.io/big')?.message, 'a'.repeat(1024));
  });

  it('reports a probe that never exits as false after its timeout, and kills it', async () => {
    const gs = await waitForGs('hang reported false', (g) => condition(g, 'hang')?.status === 'False' && condition(g, 'silent')?.status === 'False');
    assert.equal(gs.metadata.labels['okg-sq.test/hang'], 'failed', 'the state: false action applied');
    assert.equal(condition(gs, 'hang').result ?? '', '', 'a timeout has no result');
    await waitFor(async () => metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="hang",outcome="false",error_kind="timeout"') >= 2, { timeoutMs: 30_000, what: 'hang counted as timeouts' });
    // Every run was killed at its timeout: at most the one in flight is alive (period 2 s, timeout 1 s).
    const alive = Number(await inContainer('ps -o args | grep -c "^sleep 99991" || true'));
    assert.ok(alive <= 1, `${alive} hanging probes alive in the container`);
  });

  it('reports an http target that never answers as a timeout (false)', async () => {
    await waitFor(async () => metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="silent",outcome="false",error_kind="timeout"') >= 1, { timeoutMs: 30_000, what: 'silent counted as timeout' });
  });

  it('does not follow a redirect off the pod (nothing reaches the other host)', async () => {
    const gs = await waitForGs('redirect outcome', (g) => condition(g, 'redirect') !== undefined && condition(g, 'redirect').status !== undefined);
    // As the kubelet: a redirect to another host is a success, not followed.
    assert.equal(condition(gs, 'redirect').status, 'True', JSON.stringify(condition(gs, 'redirect')) + (await decider!.metrics()).split('\n').filter((l) => l.includes('redirect')).join('\n'));
    await waitFor(async () => metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="redirect"') >= 3, { timeoutMs: 30_000, what: '3 redirect runs' });
    assert.equal(stolenHits, 0, 'the off-pod target was requested');
  });

  it('applies 10,000 actions in order (the last match wins)', async () => {
    const gs = await waitForGs('many applied', (g) => g.metadata.annotations?.['okg-sq.test/n'] !== undefined);
    assert.equal(gs.metadata.annotations['okg-sq.test/n'], String(MANY_ACTIONS - 1));
  });

  it('bounds a fork-happy probe: reported false at its timeout; children it left behind are counted', async () => {
    await waitForGs('forky reported false', (g) => condition(g, 'forky')?.status === 'False');
    await waitFor(async () => metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="forky",outcome="false",error_kind="timeout"') >= 2, { timeoutMs: 30_000, what: 'forky timeouts' });
    const exec = Number(await inContainer('ps -o args | grep -c "^sleep 99993" || true'));
    const children = Number(await inContainer('ps -o args | grep -c "^sleep 99992" || true'));
    // The exec'd process is killed at each timeout (at most the one in flight lives on)…
    assert.ok(exec <= 1, `${exec} timed-out forky execs alive`);
    // …but CRI ExecSync kills only that process: its background children survive in the container, as
    // they do under the kubelet (no CRI call kills an exec's process tree, and the agent runs no shell of
    // its own in the container). Reported, not hidden: at most 8 per run (the agent never runs a probe
    // twice per period); bounded by the pod's pids limit, gone with the container (last test).
    // The counters reach the decider with a lag: wait for the runs that account for what was seen.
    const runs = await waitFor(async () => {
      const n = metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="forky"');
      return n >= Math.ceil(children / 8) - 1 ? n : false; // - 1: the run in flight is not counted yet
    }, { timeoutMs: 20_000, what: `forky runs accounting for ${children} children` });
    console.log(`forky: ${runs} runs reported, ${children} orphaned children in the container`);
  });

  it('survives a container that vanishes mid-exec: it could not run, so its last state stands; counted as unknown', async () => {
    await waitForGs('slow first outcome', (g) => condition(g, 'slow')?.result === 'done', 40_000, 'vanish-0');
    // Under the agent's feet: the container is killed and removed through the CRI while its 2 s probe
    // runs; the Pod object still says Running, so the decider keeps planning it. A container that is gone
    // is not a failed probe (docs/design.md §18 "A container that is not running"): no `false`.
    const id = vanishing.containers[0]!.id;
    await cri.stopContainer({ containerId: id, timeout: 0 });
    await cri.removeContainer({ containerId: id });
    await waitFor(async () => metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="slow",outcome="unknown",error_kind="container_not_found"') >= 2, {
      timeoutMs: 30_000,
      what: 'container_not_found counted as could-not-run',
    });
    const gs = await waitForGs('slow still as it was', () => true, 10_000, 'vanish-0');
    assert.deepEqual([condition(gs, 'slow')?.status, condition(gs, 'slow')?.result], ['True', 'done']);
    assert.equal(metricSum(await decider!.metrics(), 'okgsq_probe_runs_total', 'quality="slow",outcome="false"'), 0, 'no run of the gone container counted false');
    assert.ok(agent!.alive, 'the agent is still up');
  });

  it('keeps the valid quality working, and both programs up with bounded memory', async () => {
    await waitForGs('good first outcome', (g) => g.metadata.labels?.['okg-sq.test/good'] === 'ok');
    await inContainer('printf flipped > /www/state');
    await waitForGs('good flipped', (g) => g.metadata.labels?.['okg-sq.test/good'] === 'flipped');
    assert.ok(await decider!.healthy(), 'decider /healthz');
    assert.ok(agent!.alive, `agent exited: ${agent!.log.slice(-2000)}`);
    const [d, a] = [decider!.program.rssMiB(), agent!.rssMiB()];
    console.log(`RSS: decider ${d.toFixed(0)} MiB, agent ${a.toFixed(0)} MiB`);
    assert.ok(d < 300, `decider RSS ${d} MiB`);
    assert.ok(a < 150, `agent RSS ${a} MiB`);
    assert.doesNotMatch(decider!.program.log + agent!.log, /uncaught|unhandled|FATAL/i);
  });

  it('leaves no process behind on the host once the pod is gone', async () => {
    const id = pod.containers[0]!.id;
    assert.ok(hostProcessesOf(id).length > 0, 'the check sees the container\'s processes');
    await kubelet.removePod(pod);
    await waitFor(() => hostProcessesOf(id).length === 0, { timeoutMs: 20_000, what: 'no process left in the removed container' });
    assert.ok(agent!.alive);
  });
});
