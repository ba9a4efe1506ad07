// `helm lint` and `helm template` of every ci/*-values.yaml scenario, with assertions on what a
// cluster operator relies on: least-privilege RBAC, a credential-free agent, hardened pods, TLS wired
// end to end, the env vars the programs read, and the monitoring objects.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { testbedEnv } from '../testbed/env.js';
import { chartFiles, repoRoot } from './chart-files.js';
import { DECIDER_PERMISSIONS, REMOTE_EXEC_PERMISSIONS, permissionKey, type Permission } from './expected-rbac.js';
import { findObject, helm, renderChart, TEMPLATE_KUBE_VERSION, type KubeObject } from './helm.js';

const RELEASE_NAMESPACE = 'okg-sq-system';

interface Scenario {
  file: string;
  values: Record<string, any>;
  objects: KubeObject[];
}

async function loadScenarios(): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  for (const file of chartFiles.ciValuesFiles()) {
    const values = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, any>;
    scenarios.push({ file, values, objects: await renderChart({ valuesFile: file, namespace: RELEASE_NAMESPACE }) });
  }
  return scenarios;
}

const scenarios = await loadScenarios();
const byName = (name: string): Scenario => {
  const s = scenarios.find((x) => basename(x.file) === `${name}-values.yaml`);
  assert.ok(s, `ci/${name}-values.yaml exists`);
  return s;
};

/** Env vars Node itself reads (the programs' options.ts never do). */
const NODE_READS = new Set(['NODE_OPTIONS']);

type Container = { name: string; env?: { name: string; value?: string; valueFrom?: any }[]; [k: string]: any };

function podSpec(objects: readonly KubeObject[], kind: 'Deployment' | 'DaemonSet'): Record<string, any> {
  return findObject(objects, kind).spec.template.spec;
}
function container(objects: readonly KubeObject[], kind: 'Deployment' | 'DaemonSet'): Container {
  return podSpec(objects, kind).containers[0] as Container;
}
function env(c: Container): Map<string, { value?: string; valueFrom?: any }> {
  return new Map((c.env ?? []).map((e) => [e.name, e]));
}
function envValue(c: Container, name: string): string | undefined {
  return env(c).get(name)?.value;
}

/** Every (verb, group/resource[/sub]) the rendered Roles and ClusterRoles grant, with where. */
function grants(objects: readonly KubeObject[]): { key: string; kind: string; namespace?: string; resourceNames?: string[] }[] {
  const out: { key: string; kind: string; namespace?: string; resourceNames?: string[] }[] = [];
  for (const o of objects.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole')) {
    for (const rule of o.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]) {
      for (const group of rule.apiGroups) {
        for (const res of rule.resources) {
          const [resource, subresource] = res.split('/');
          for (const verb of rule.verbs) {
            out.push({ key: permissionKey({ group, resource: resource!, subresource, verb }), kind: o.kind, namespace: o.metadata.namespace, resourceNames: rule.resourceNames });
          }
        }
      }
    }
  }
  return out;
}

describe('helm lint', () => {
  for (const file of chartFiles.ciValuesFiles()) {
    it(`passes for ${basename(file)}`, async () => {
      const { stdout } = await helm(['lint', '--strict', chartFiles.chartDir(), '--values', file, '--kube-version', TEMPLATE_KUBE_VERSION]);
      assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }
});

/** agent.nodeOptions in values.yaml: what the chart ships by default. */
const AGENT_NODE_OPTIONS_DEFAULT: string = (parseYaml(readFileSync(join(chartFiles.chartDir(), 'values.yaml'), 'utf8')) as any).agent.nodeOptions;

describe('agent NODE_OPTIONS (RSS at 1,000 probes: ~75 MiB with them, ~119 MiB with V8 defaults)', () => {
  it('ships the same flags in the chart and in Dockerfile.agent', () => {
    assert.match(AGENT_NODE_OPTIONS_DEFAULT, /--max-semi-space-size=\d+/);
    assert.match(AGENT_NODE_OPTIONS_DEFAULT, /--max-old-space-size=\d+/);
    const dockerfile = readFileSync(join(repoRoot(), 'Dockerfile.agent'), 'utf8');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.equal(/^ENV NODE_OPTIONS="([^"]*)"$/m.exec(finalStage)?.[1], AGENT_NODE_OPTIONS_DEFAULT, "the image's ENV (final stage) equals the chart's default");
    assert.equal(dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM ')).match(/NODE_OPTIONS/g), null, 'not in the build stages: tsc needs more heap');
  });

  it('is overridable with agent.nodeOptions, and empty leaves V8 its defaults', async () => {
    const agentEnv = async (set: Record<string, string>) => envValue(container(await renderChart({ set }), 'DaemonSet'), 'NODE_OPTIONS');
    assert.equal(await agentEnv({ 'agent.nodeOptions': '--max-old-space-size=96' }), '--max-old-space-size=96');
    assert.equal(await agentEnv({ 'agent.nodeOptions': '' }), undefined);
    await assert.rejects(renderChart({ set: { 'agent.nodeOptions': 'max-old-space-size' } }), /agent\/nodeOptions/);
  });
});

describe('agent readiness and rollout', () => {
  it('probes the agent on /readyz and holds a rollout for agent.minReadySeconds (10 by default)', async () => {
    const objects = await renderChart({});
    const agent = container(objects, 'DaemonSet');
    assert.deepEqual(agent.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(agent.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.equal(findObject(objects, 'DaemonSet').spec.minReadySeconds, 10);
    const set = await renderChart({ set: { 'agent.minReadySeconds': '30' } });
    assert.equal(findObject(set, 'DaemonSet').spec.minReadySeconds, 30);
    await assert.rejects(renderChart({ set: { 'agent.minReadySeconds': '-1' } }), /minReadySeconds/);
  });
});

describe('values.schema.json', () => {
  it('refuses unknown keys, unknown runtimes and a custom runtime without a path, naming the value', async () => {
    await assert.rejects(renderChart({ set: { 'decider.replica': '3' } }), /additional properties 'replica' not allowed/);
    await assert.rejects(renderChart({ set: { 'agent.criSocket.runtime': 'docker' } }), /runtime/);
    await assert.rejects(renderChart({ set: { 'agent.criSocket.runtime': 'custom' } }), /agent\.criSocket\.path is required/);
    await assert.rejects(renderChart({ set: { 'tls.mode': 'existingSecret' } }), /tls\.existingSecret is required/);
  });

  it('refuses two deciders without leader election', async () => {
    await assert.rejects(renderChart({ set: { 'decider.leaderElection.enabled': 'false' } }), /leaderElection\.enabled must be true when decider\.replicas > 1/);
  });
});

for (const scenario of scenarios) {
  const name = basename(scenario.file);
  describe(`helm template with ${name}`, () => {
    const { objects, values } = scenario;
    const remoteExec = values.decider?.remoteExec?.enabled === true;
    const namespaces: string[] = values.decider?.namespaces ?? [];
    const agentEnabled = values.agent?.enabled !== false;

    it('labels every object with the standard app.kubernetes.io labels', () => {
      for (const o of objects) {
        const labels = o.metadata.labels ?? {};
        assert.equal(labels['app.kubernetes.io/name'], 'okg-sq', `${o.kind}/${o.metadata.name}`);
        assert.equal(labels['app.kubernetes.io/instance'], 'okg-sq', `${o.kind}/${o.metadata.name}`);
        assert.equal(labels['app.kubernetes.io/managed-by'], 'Helm', `${o.kind}/${o.metadata.name}`);
      }
    });

    it('grants the decider exactly the verbs it uses, with no wildcards', () => {
      for (const o of objects.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole')) {
        for (const rule of o.rules as Record<string, string[]>[]) {
          for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
            assert.ok(!(rule[field] ?? []).some((v) => v.includes('*')), `${o.kind}/${o.metadata.name} ${field} has a wildcard`);
          }
        }
      }
      const leaderElection = values.decider?.leaderElection?.enabled !== false;
      const expected = [
        ...DECIDER_PERMISSIONS.filter((p) => leaderElection || p.group !== 'coordination.k8s.io'),
        ...(remoteExec ? REMOTE_EXEC_PERMISSIONS : []),
      ];
      const granted = grants(objects);
      assert.deepEqual([...new Set(granted.map((g) => g.key))].sort(), [...new Set(expected.map(permissionKey))].sort());
      // Where each is granted: cluster-wide, per served namespace, or the Lease in the release namespace.
      const where = (p: Permission) => granted.filter((g) => g.key === permissionKey(p));
      for (const p of expected) {
        const places = where(p);
        if (p.scope === 'cluster' || (p.scope === 'namespaced' && namespaces.length === 0)) {
          assert.deepEqual(places.map((g) => g.kind), ['ClusterRole'], permissionKey(p));
        } else if (p.scope === 'namespaced') {
          // The agent identity check also watches agent pods, in the release namespace.
          const watchesAgentPods = ['list core/pods', 'watch core/pods'].includes(permissionKey(p));
          const agentPods = watchesAgentPods && !namespaces.includes(RELEASE_NAMESPACE) ? [`Role/${RELEASE_NAMESPACE}`] : [];
          assert.deepEqual(places.map((g) => `${g.kind}/${g.namespace}`).sort(), [...namespaces.map((n) => `Role/${n}`), ...agentPods].sort(), permissionKey(p));
        } else {
          assert.deepEqual(places.map((g) => `${g.kind}/${g.namespace}`), [`Role/${RELEASE_NAMESPACE}`], permissionKey(p));
        }
      }
      if (leaderElection) {
        const leaseUpdate = granted.find((g) => g.key === 'update coordination.k8s.io/leases');
        assert.deepEqual(leaseUpdate?.resourceNames, [envValue(container(objects, 'Deployment'), 'OKGSQ_LEASE_NAME')], 'only its own Lease');
      }
      assert.equal(granted.some((g) => g.key === 'create core/pods/exec'), remoteExec, 'pods/exec only with remote exec on');
    });

    it('binds the roles to the decider ServiceAccount only; the agent has no RBAC and no API token', () => {
      const deciderSa = podSpec(objects, 'Deployment').serviceAccountName;
      for (const b of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
        assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: deciderSa, namespace: RELEASE_NAMESPACE }], `${b.kind}/${b.metadata.name}`);
      }
      if (!agentEnabled) return;
      const agentPod = podSpec(objects, 'DaemonSet');
      assert.notEqual(agentPod.serviceAccountName, deciderSa);
      assert.equal(agentPod.automountServiceAccountToken, false);
      const agentSa = findObject(objects, 'ServiceAccount', new RegExp(`^${agentPod.serviceAccountName}$`));
      assert.equal(agentSa.automountServiceAccountToken, false);
      assert.equal(envValue(container(objects, 'Deployment'), 'OKGSQ_AGENT_SERVICE_ACCOUNT'), agentPod.serviceAccountName);
      assert.equal(envValue(container(objects, 'Deployment'), 'OKGSQ_AGENT_NAMESPACE'), RELEASE_NAMESPACE);
    });

    it('gives the agent a projected token for the decider audience at the path it reads', () => {
      if (!agentEnabled) return;
      const pod = podSpec(objects, 'DaemonSet');
      const agent = container(objects, 'DaemonSet');
      const projected = (pod.volumes as any[]).filter((v) => v.projected);
      assert.equal(projected.length, 1);
      const source = projected[0].projected.sources[0].serviceAccountToken;
      assert.equal(source.audience, envValue(container(objects, 'Deployment'), 'OKGSQ_TOKEN_AUDIENCE'));
      assert.equal(source.expirationSeconds, 3600);
      const mount = (agent.volumeMounts as any[]).find((m) => m.name === projected[0].name);
      assert.equal(`${mount.mountPath}/${source.path}`, envValue(agent, 'OKGSQ_TOKEN_FILE'));
      assert.equal(envValue(agent, 'OKGSQ_TOKEN_FILE'), '/var/run/secrets/okg-sq/token');
      assert.deepEqual(env(agent).get('OKGSQ_NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
    });

    it('runs the decider non-root on a read-only root filesystem, probed on /healthz and /readyz', () => {
      const pod = podSpec(objects, 'Deployment');
      const decider = container(objects, 'Deployment');
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.ok(pod.securityContext.runAsUser > 0);
      assert.equal(decider.securityContext.readOnlyRootFilesystem, true);
      assert.equal(decider.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(decider.securityContext.capabilities.drop, ['ALL']);
      const httpPort = (decider.ports as any[]).find((p) => p.name === 'http');
      assert.equal(String(httpPort.containerPort), envValue(decider, 'OKGSQ_HTTP_PORT'));
      assert.deepEqual(decider.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
      assert.deepEqual(decider.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
      assert.deepEqual(env(decider).get('POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
      assert.deepEqual(env(decider).get('POD_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
      const deployment = findObject(objects, 'Deployment');
      const replicas = values.decider?.replicas ?? 2;
      assert.equal(deployment.spec.replicas, replicas);
      assert.equal(envValue(decider, 'OKGSQ_LEADER_ELECTION'), String(values.decider?.leaderElection?.enabled ?? true));
      assert.equal(objects.some((o) => o.kind === 'PodDisruptionBudget'), replicas > 1);
      assert.equal(envValue(decider, 'OKGSQ_NAMESPACES'), namespaces.join(','));
      assert.equal(envValue(decider, 'OKGSQ_REMOTE_EXEC'), String(remoteExec));
    });

    it('hardens the agent (no capabilities, read-only root) and mounts the chosen CRI socket directory', () => {
      if (!agentEnabled) return;
      const agent = container(objects, 'DaemonSet');
      const pod = podSpec(objects, 'DaemonSet');
      assert.equal(agent.securityContext.readOnlyRootFilesystem, true);
      assert.equal(agent.securityContext.allowPrivilegeEscalation, false);
      assert.notEqual(agent.securityContext.privileged, true);
      assert.deepEqual(agent.securityContext.capabilities.drop, ['ALL']);
      assert.equal(agent.securityContext.capabilities.add, undefined);
      assert.equal(pod.hostPID, undefined);
      assert.equal(pod.hostIPC, undefined);
      const runtime = values.agent?.criSocket?.runtime ?? 'containerd';
      const socket = { containerd: '/run/containerd/containerd.sock', 'cri-o': '/var/run/crio/crio.sock', custom: values.agent?.criSocket?.path }[runtime as string];
      assert.equal(envValue(agent, 'OKGSQ_CRI_ENDPOINT'), `unix://${socket}`);
      const socketDir = socket.slice(0, socket.lastIndexOf('/'));
      const hostPaths = (pod.volumes as any[]).filter((v) => v.hostPath);
      assert.deepEqual(hostPaths.map((v) => v.hostPath.path), [socketDir], 'the socket directory is the only host path');
      const mount = (agent.volumeMounts as any[]).find((m) => m.name === hostPaths[0].name);
      assert.deepEqual({ path: mount.mountPath, readOnly: mount.readOnly }, { path: socketDir, readOnly: true });
      assert.deepEqual(pod.tolerations, values.agent?.tolerations ?? [{ operator: 'Exists' }], 'runs on every node by default');
      const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms as any[];
      for (const term of terms) {
        assert.ok(term.matchExpressions.some((e: any) => e.key === 'type' && e.operator === 'NotIn' && e.values[0] === 'virtual-kubelet'), 'kept off agentless nodes');
      }
    });

    it('runs the agent on the node network by default, with cluster DNS and its port as a node port', () => {
      if (!agentEnabled) return;
      const pod = podSpec(objects, 'DaemonSet');
      const agent = container(objects, 'DaemonSet');
      const hostNetwork = values.agent?.hostNetwork ?? true;
      assert.equal(pod.hostNetwork ?? false, hostNetwork);
      // Without ClusterFirstWithHostNet a host-network pod resolves with the node's resolv.conf: the
      // decider's Service name would not resolve.
      assert.equal(pod.dnsPolicy, hostNetwork ? 'ClusterFirstWithHostNet' : undefined);
      const http = (agent.ports as { name: string; containerPort: number; hostPort?: number }[]).find((p) => p.name === 'http')!;
      assert.equal(String(http.containerPort), envValue(agent, 'OKGSQ_HTTP_PORT'));
      assert.equal(http.hostPort, hostNetwork ? http.containerPort : undefined, 'the API server requires hostPort = containerPort on the host network');
    });

    it('gives the agent system-node-critical and the decider system-cluster-critical, with a quota that admits them', () => {
      const deciderClass = podSpec(objects, 'Deployment').priorityClassName;
      assert.equal(deciderClass, values.decider?.priorityClassName ?? 'system-cluster-critical');
      const classes = [deciderClass];
      if (agentEnabled) {
        const agentClass = podSpec(objects, 'DaemonSet').priorityClassName;
        assert.equal(agentClass, values.agent?.priorityClassName ?? 'system-node-critical');
        classes.push(agentClass);
      }
      const system = [...new Set(classes.filter((c) => c === 'system-node-critical' || c === 'system-cluster-critical'))].sort();
      const quotas = objects.filter((o) => o.kind === 'ResourceQuota');
      if (system.length === 0 || values.priorityClassQuota?.enabled === false) {
        assert.deepEqual(quotas, []);
        return;
      }
      assert.equal(quotas.length, 1);
      const quota = quotas[0]!;
      assert.equal(quota.metadata.namespace, RELEASE_NAMESPACE);
      const [scope, ...more] = quota.spec.scopeSelector.matchExpressions as { scopeName: string; operator: string; values: string[] }[];
      assert.deepEqual(more, []);
      assert.deepEqual({ ...scope, values: [...scope!.values].sort() }, { scopeName: 'PriorityClass', operator: 'In', values: system });
      assert.ok(Number(quota.spec.hard.pods) >= 5000, 'room for one agent per node of the largest clusters');
    });

    it("gives the agent the chart's V8 heap flags (NODE_OPTIONS), below its memory limit", () => {
      if (!agentEnabled) return;
      const agent = container(objects, 'DaemonSet');
      const expected = values.agent?.nodeOptions ?? AGENT_NODE_OPTIONS_DEFAULT;
      assert.equal(envValue(agent, 'NODE_OPTIONS'), expected === '' ? undefined : expected);
      const oldSpaceMiB = Number(/--max-old-space-size=(\d+)/.exec(expected)?.[1] ?? NaN);
      const limit = String(agent.resources?.limits?.memory ?? '');
      if (Number.isFinite(oldSpaceMiB) && /^\d+Mi$/.test(limit)) {
        assert.ok(oldSpaceMiB < parseInt(limit, 10), `--max-old-space-size=${oldSpaceMiB} must stay below the ${limit} limit, or the kubelet kills before V8 collects`);
      }
    });

    it('points the agents at the decider gRPC Service, with TLS wired to the right Secret', () => {
      const decider = container(objects, 'Deployment');
      const service = findObject(objects, 'Service', /-decider$/);
      const grpcPort = (service.spec.ports as any[]).find((p) => p.name === 'grpc');
      assert.equal(String(grpcPort.port), envValue(decider, 'OKGSQ_GRPC_PORT'));
      const host = `${service.metadata.name}.${RELEASE_NAMESPACE}.svc`;
      const mode = values.tls?.mode ?? 'generate';
      if (agentEnabled) {
        const agent = container(objects, 'DaemonSet');
        assert.equal(envValue(agent, 'OKGSQ_DECIDER_ADDRESS'), `${host}:${grpcPort.port}`);
        if (mode === 'none') {
          assert.equal(envValue(agent, 'OKGSQ_INSECURE_GRPC'), 'true');
          assert.equal(envValue(agent, 'OKGSQ_TLS_CA_FILE'), undefined);
        } else {
          assert.equal(envValue(agent, 'OKGSQ_TLS_SERVER_NAME'), host);
          assert.equal(envValue(agent, 'OKGSQ_INSECURE_GRPC'), undefined);
          const caVolume = (podSpec(objects, 'DaemonSet').volumes as any[]).find((v) => v.secret);
          assert.deepEqual(caVolume.secret.items, [{ key: 'ca.crt', path: 'ca.crt' }], 'the agent sees the CA only, not the key');
          const caMount = (agent.volumeMounts as any[]).find((m) => m.name === caVolume.name);
          assert.equal(`${caMount.mountPath}/ca.crt`, envValue(agent, 'OKGSQ_TLS_CA_FILE'));
        }
      }
      if (mode === 'none') {
        assert.equal(envValue(decider, 'OKGSQ_INSECURE_GRPC'), 'true');
        assert.equal(envValue(decider, 'OKGSQ_TLS_CERT_FILE'), undefined);
        return;
      }
      const tlsVolume = (podSpec(objects, 'Deployment').volumes as any[]).find((v) => v.secret);
      const secretName = tlsVolume.secret.secretName as string;
      const mount = (decider.volumeMounts as any[]).find((m) => m.name === tlsVolume.name);
      assert.equal(envValue(decider, 'OKGSQ_TLS_CERT_FILE'), `${mount.mountPath}/tls.crt`);
      assert.equal(envValue(decider, 'OKGSQ_TLS_KEY_FILE'), `${mount.mountPath}/tls.key`);
      assert.equal(tlsVolume.secret.defaultMode, 0o440, 'the key is not world-readable');
      assert.equal(podSpec(objects, 'Deployment').securityContext.fsGroup, podSpec(objects, 'Deployment').securityContext.runAsGroup, 'but readable by the decider');
      if (agentEnabled) {
        assert.equal((podSpec(objects, 'DaemonSet').volumes as any[]).find((v) => v.secret).secret.secretName, secretName);
      }
      if (mode === 'generate') {
        const secret = findObject(objects, 'Secret', new RegExp(`^${secretName}$`));
        const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'], 'base64'));
        const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
        assert.ok(cert.verify(ca.publicKey), 'the serving certificate is signed by the CA the agents get');
        assert.equal(cert.checkHost(host), host, `the certificate is valid for ${host}`);
        assert.ok(ca.ca);
      } else if (mode === 'existingSecret') {
        assert.equal(secretName, values.tls.existingSecret);
        assert.ok(!objects.some((o) => o.kind === 'Secret'), 'the chart does not create the Secret');
      } else if (mode === 'certManager') {
        const cert = findObject(objects, 'Certificate', new RegExp(`^${secretName}$`));
        assert.equal(cert.spec.secretName, secretName);
        assert.ok((cert.spec.dnsNames as string[]).includes(host));
        const issuer = values.tls.certManager?.issuerRef;
        if (issuer) {
          assert.deepEqual(cert.spec.issuerRef, issuer);
          assert.ok(!objects.some((o) => o.kind === 'Issuer'));
        } else {
          const caIssuer = findObject(objects, 'Issuer', new RegExp(`^${cert.spec.issuerRef.name}$`));
          assert.ok(caIssuer.spec.ca.secretName, 'a CA issuer, so the Secret carries ca.crt');
        }
      }
    });

    it('sets only env vars the programs read', () => {
      const read = (program: 'decider' | 'agent'): string => {
        const file = join(repoRoot(), program, 'options.ts');
        assert.ok(existsSync(file), `${program}/options.ts does not exist yet: cannot check the env vars the chart sets`);
        return readFileSync(file, 'utf8');
      };
      const check = (program: 'decider' | 'agent', c: Container) => {
        const source = read(program);
        for (const e of c.env ?? []) {
          if ((values[program]?.extraEnv ?? []).some((x: { name: string }) => x.name === e.name)) continue;
          if (NODE_READS.has(e.name)) continue;
          assert.match(source, new RegExp(`['"\`.]${e.name}\\b`), `${program} sets ${e.name}, which ${program}/options.ts never reads`);
        }
      };
      check('decider', container(objects, 'Deployment'));
      if (agentEnabled) check('agent', container(objects, 'DaemonSet'));
    });

    it('ships the dashboard ConfigMap with the sidecar label, and monitoring objects when asked', () => {
      const dashboardOn = values.dashboard?.enabled !== false;
      const cms = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));
      assert.equal(cms.length, dashboardOn ? 1 : 0);
      if (dashboardOn) {
        const cm = cms[0]!;
        assert.equal(cm.metadata.labels?.[values.dashboard?.label ?? 'grafana_dashboard'], values.dashboard?.labelValue ?? '1');
        assert.equal(cm.metadata.namespace, values.dashboard?.namespace ?? RELEASE_NAMESPACE);
        assert.deepEqual(JSON.parse(cm.data['okg-sq.json']), JSON.parse(readFileSync(chartFiles.dashboard(), 'utf8')));
      }
      const sm = objects.filter((o) => o.kind === 'ServiceMonitor');
      assert.equal(sm.length, values.metrics?.serviceMonitor?.enabled ? 1 : 0);
      if (sm.length === 1) {
        const metricsService = findObject(objects, 'Service', /-metrics$/);
        for (const [k, v] of Object.entries(sm[0]!.spec.selector.matchLabels as Record<string, string>)) {
          assert.equal(metricsService.metadata.labels?.[k], v, `ServiceMonitor selects the metrics Service by ${k}`);
        }
        assert.equal(sm[0]!.spec.endpoints[0].port, 'http');
        // The decider's per-set series carry the game namespace: the target's must not rename it.
        assert.equal(sm[0]!.spec.endpoints[0].honorLabels, values.metrics.serviceMonitor.honorLabels ?? true);
        assert.ok((metricsService.spec.ports as any[]).some((p) => p.name === 'http'));
        assert.equal(metricsService.spec.publishNotReadyAddresses, true, 'the standby is scraped too');
        for (const [k, v] of Object.entries(values.metrics.serviceMonitor.labels ?? {})) assert.equal(sm[0]!.metadata.labels?.[k], v);
      }
      const pm = objects.filter((o) => o.kind === 'PodMonitor');
      assert.equal(pm.length, agentEnabled && values.metrics?.agentPodMonitor?.enabled ? 1 : 0);
      if (pm.length === 1) {
        const agentPod = findObject(objects, 'DaemonSet').spec.template;
        for (const [k, v] of Object.entries(pm[0]!.spec.selector.matchLabels as Record<string, string>)) {
          assert.equal(agentPod.metadata.labels?.[k], v, `PodMonitor selects the agent pods by ${k}`);
        }
        const port = (agentPod.spec.containers[0].ports as { name: string }[]).find((p) => p.name === pm[0]!.spec.podMetricsEndpoints[0].port);
        assert.ok(port, 'the PodMonitor scrapes a named port of the agent');
        const endpoint = pm[0]!.spec.podMetricsEndpoints[0];
        assert.equal(endpoint.honorLabels, values.metrics.agentPodMonitor.honorLabels ?? true);
        assert.deepEqual(endpoint.relabelings[0], { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }, 'the per-node agent panels group by node');
      }
      const rules = objects.filter((o) => o.kind === 'PrometheusRule');
      assert.equal(rules.length, values.metrics?.prometheusRule?.enabled ? 1 : 0);
      if (rules.length === 1) {
        const file = parseYaml(readFileSync(chartFiles.alertRules(), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
        const rendered = rules[0]!.spec.groups as { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[];
        assert.deepEqual(rendered.flatMap((g) => g.rules.map((r) => r.alert)), file.groups.flatMap((g) => g.rules.map((r) => r.alert)));
        const agentsMissing = rendered.flatMap((g) => g.rules).find((r) => r.alert === 'OkgSqAgentsMissing');
        assert.match(agentsMissing!.expr, new RegExp(`daemonset=~"${findObject(objects, 'DaemonSet').metadata.name}"`), 'narrowed to this release');
        for (const r of rendered.flatMap((g) => g.rules)) {
          for (const [k, v] of Object.entries(values.metrics.prometheusRule.additionalAlertLabels ?? {})) assert.equal(r.labels[k], v, `${r.alert} label ${k}`);
          assert.ok(r.labels.severity, `${r.alert} keeps its severity`);
        }
      }
    });
  });
}

describe('helm template scenarios', () => {
  it('covers the scenarios operators ask for', () => {
    for (const name of ['default', 'cri-o', 'existing-secret-tls', 'cert-manager', 'remote-exec', 'monitoring', 'namespaces']) byName(name);
  });

  it('generates a fresh CA per install when there is no Secret to reuse, and the same one across the templates of a render', async () => {
    const a = byName('default').objects;
    const b = await renderChart({ namespace: RELEASE_NAMESPACE });
    const ca = (objs: KubeObject[]) => findObject(objs, 'Secret').data['ca.crt'] as string;
    assert.notEqual(ca(a), ca(b));
    assert.equal(findObject(b, 'DaemonSet').spec.template.metadata.annotations['checksum/ca'], createHash('sha256').update(ca(b)).digest('hex'));
  });
});

describe('extension points an umbrella chart or a platform team sets', () => {
  const volume = { name: 'ca-bundle', configMap: { name: 'corp-ca' } };
  const mount = { name: 'ca-bundle', mountPath: '/etc/corp-ca', readOnly: true };
  const envFrom = { configMapRef: { name: 'proxy-settings' } };

  it('accepts any global.* key (they belong to the umbrella chart) but still refuses typos elsewhere', async () => {
    const objects = await renderChart({ set: { 'global.imageRegistry': 'registry.example.com', 'global.storageClass': 'fast', 'global.logLevel': 'debug' } });
    assert.equal(envValue(container(objects, 'Deployment'), 'OKGSQ_LOG_LEVEL'), 'debug');
    await assert.rejects(renderChart({ set: { 'global.logLevel': 'loud' } }), /logLevel/);
    await assert.rejects(renderChart({ set: { 'decider.topologySpreadConstraint[0].maxSkew': '1' } }), /additional properties 'topologySpreadConstraint' not allowed/);
  });

  it('mounts extra volumes and env sources into both programs', async () => {
    const dir = mkdtempSync(join(testbedEnv().workDir, 'chart-values-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify({
      decider: { extraVolumes: [volume], extraVolumeMounts: [mount], extraEnvFrom: [envFrom] },
      agent: { extraVolumes: [volume], extraVolumeMounts: [mount], extraEnvFrom: [envFrom] },
    }));
    const objects = await renderChart({ valuesFile: file });
    for (const kind of ['Deployment', 'DaemonSet'] as const) {
      const pod = podSpec(objects, kind);
      assert.deepEqual((pod.volumes as any[]).find((v) => v.name === 'ca-bundle'), volume, kind);
      assert.deepEqual((container(objects, kind).volumeMounts as any[]).find((m) => m.name === 'ca-bundle'), mount, kind);
      assert.deepEqual(container(objects, kind).envFrom, [envFrom], kind);
      assert.ok((pod.volumes as any[]).length > 1, `${kind} keeps its own volumes`);
    }
    await assert.rejects(renderChart({ set: { 'agent.extraVolumeMounts[0].name': 'x' } }), /mountPath/);
  });

  it('spreads deciders with topologySpreadConstraints, selecting their own pods when no selector is given', async () => {
    const objects = await renderChart({
      set: {
        'decider.topologySpreadConstraints[0].maxSkew': '1',
        'decider.topologySpreadConstraints[0].topologyKey': 'topology.kubernetes.io/zone',
        'decider.topologySpreadConstraints[0].whenUnsatisfiable': 'ScheduleAnyway',
      },
    });
    const deployment = findObject(objects, 'Deployment');
    const [constraint] = deployment.spec.template.spec.topologySpreadConstraints as any[];
    assert.deepEqual(constraint, {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
    });
    assert.equal(findObject(await renderChart(), 'Deployment').spec.template.spec.topologySpreadConstraints, undefined, 'none by default');
  });
});

describe('NetworkPolicies (networkPolicy.enabled)', () => {
  const policies = (objects: KubeObject[]) => objects.filter((o) => o.kind === 'NetworkPolicy');
  const byComponent = (objects: KubeObject[], component: string) => policies(objects).find((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component'] === component);
  const portNames = (c: Container) => (c.ports as { name: string }[]).map((p) => p.name);

  it('are off by default', async () => {
    assert.deepEqual(policies(byName('default').objects), []);
  });

  it('with host-network agents: a decider policy only (host-network pods are outside NetworkPolicy), gRPC open to the nodes', async () => {
    const objects = await renderChart({ set: { 'networkPolicy.enabled': 'true' } });
    assert.equal(policies(objects).length, 1);
    const decider = byComponent(objects, 'decider')!;
    assert.deepEqual(decider.spec.podSelector.matchLabels, findObject(objects, 'Deployment').spec.selector.matchLabels);
    assert.deepEqual(decider.spec.policyTypes, ['Ingress', 'Egress']);
    const [grpc, metrics] = decider.spec.ingress as any[];
    assert.deepEqual(grpc, { ports: [{ port: 'grpc', protocol: 'TCP' }] }, 'no `from`: agents connect from node addresses');
    assert.deepEqual(metrics, { ports: [{ port: 'http', protocol: 'TCP' }] });
    for (const p of [...grpc.ports, ...metrics.ports]) assert.ok(portNames(container(objects, 'Deployment')).includes(p.port), `the decider names port ${p.port}`);
    const egress = decider.spec.egress as any[];
    assert.deepEqual(egress[0].ports, [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
    assert.deepEqual(egress[1], { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }] });
    assert.deepEqual(egress[2], { to: [{ namespaceSelector: {} }] }, 'probes of pods on agentless nodes');
  });

  it('with pod-network agents: the agents may reach the decider and the game pods, and only they reach its gRPC port', async () => {
    const dir = mkdtempSync(join(testbedEnv().workDir, 'chart-values-'));
    const file = join(dir, 'values.yaml');
    const prometheus = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    writeFileSync(file, JSON.stringify({ agent: { hostNetwork: false }, networkPolicy: { enabled: true, metricsFrom: [prometheus] } }));
    const objects = await renderChart({ valuesFile: file });
    const decider = byComponent(objects, 'decider')!;
    const agent = byComponent(objects, 'agent')!;
    const agentSelector = findObject(objects, 'DaemonSet').spec.selector.matchLabels;
    assert.deepEqual(agent.spec.podSelector.matchLabels, agentSelector);
    assert.deepEqual(decider.spec.ingress[0].from, [{ podSelector: { matchLabels: agentSelector } }]);
    assert.deepEqual(decider.spec.ingress[1].from, [prometheus]);
    assert.deepEqual(agent.spec.ingress, [{ ports: [{ port: 'http', protocol: 'TCP' }], from: [prometheus] }]);
    const grpcPort = Number(envValue(container(objects, 'Deployment'), 'OKGSQ_GRPC_PORT'));
    assert.deepEqual(agent.spec.egress[1], { ports: [{ port: grpcPort, protocol: 'TCP' }], to: [{ podSelector: { matchLabels: findObject(objects, 'Deployment').spec.selector.matchLabels } }] });
    assert.deepEqual(agent.spec.egress[2], { to: [{ namespaceSelector: {} }] }, 'probes of every game pod');
    assert.ok(portNames(container(objects, 'DaemonSet')).includes('http'));
  });

  it('without agents, nothing may open the decider\'s gRPC port', async () => {
    const objects = await renderChart({ set: { 'networkPolicy.enabled': 'true', 'agent.enabled': 'false' } });
    const decider = byComponent(objects, 'decider')!;
    assert.deepEqual((decider.spec.ingress as any[]).map((r) => r.ports[0].port), ['http']);
  });
});

describe('TLS under GitOps (Argo CD renders with helm template, where lookup finds nothing)', () => {
  it('certManager and existingSecret render the same objects every time; generate mints a new CA per render', async () => {
    const render = async (set: Record<string, string>) => JSON.stringify(await renderChart({ set }));
    const modes: Record<string, string>[] = [{ 'tls.mode': 'certManager' }, { 'tls.mode': 'existingSecret', 'tls.existingSecret': 'decider-tls' }];
    for (const set of modes) {
      assert.equal(await render(set), await render(set), `${set['tls.mode']} is stable across renders`);
    }
    assert.notEqual(await render({}), await render({}), 'generate differs per render (documented; the reason for the GitOps recipe)');
  });
});