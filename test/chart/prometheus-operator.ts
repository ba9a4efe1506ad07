// The Prometheus Operator for the chart's monitoring test: built from its Go module with a Prometheus
// that has Kubernetes discovery (scripts/build-monitoring.sh), run out of cluster against the bed's API
// server through an authenticating proxy, and the configuration it generates for a Prometheus CR turned
// into one that Prometheus runs on this host: the same scrape jobs, relabelings and rule files, with only
// the Kubernetes discovery pointed at the proxy and the config-reloader's placeholders filled in.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { applyCrds } from '../testbed/crds.js';
import { freePort } from '../testbed/free-port.js';
import { httpGet } from '../testbed/https-get.js';
import { ManagedProcess } from '../testbed/managed-process.js';
import { repoPath } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';

const OPERATOR_READY_TIMEOUT_MS = 60_000;
const GENERATED_CONFIG_TIMEOUT_MS = 60_000;
/** The CRDs the Prometheus controller watches (the Alertmanager and Thanos ones it can do without). */
const CRDS = ['servicemonitors', 'podmonitors', 'prometheusrules', 'prometheuses', 'probes', 'scrapeconfigs'] as const;
export const MONITORING = { group: 'monitoring.coreos.com', version: 'v1' } as const;

/** Builds (first time) or reuses the operator and Prometheus: their binaries and the operator's CRDs' folder. */
export function monitoringBuild(): { operator: string; crds: string; prometheus: string } {
  const out = execFileSync('bash', [repoPath('scripts', 'build-monitoring.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const built = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  const need = (name: string): string => {
    const path = built[name];
    if (!path) throw new Error(`scripts/build-monitoring.sh did not report ${name}:\n${out}`);
    return path;
  };
  return { operator: need('prometheus-operator'), crds: need('prometheus-operator-crds'), prometheus: need('prometheus') };
}

/** Installs the operator's CRDs the bed does not have yet (a bed kept up by `testbed up` may have them). */
export async function installOperatorCrds(kc: KubeConfig, crdDir: string, workDir: string): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const dir = mkdtempSync(join(workDir, 'prometheus-operator-crds-'));
  let missing = 0;
  for (const plural of CRDS) {
    const exists = await api.readCustomResourceDefinition({ name: `${plural}.${MONITORING.group}` }).then(() => true, () => false);
    if (exists) continue;
    copyFileSync(join(crdDir, `${MONITORING.group}_${plural}.yaml`), join(dir, `${plural}.yaml`));
    missing++;
  }
  if (missing > 0) await applyCrds(kc, dir);
}

/** Runs the operator against `apiServer` (the proxy's URL) until it serves /healthz. */
export async function startPrometheusOperator(bin: string, apiServer: string, workDir: string): Promise<ManagedProcess> {
  const port = await freePort();
  const proc = new ManagedProcess('prometheus-operator', bin, [`--apiserver=${apiServer}`, `--web.listen-address=127.0.0.1:${port}`, '--log-level=info'], {
    logFile: join(workDir, 'prometheus-operator.log'),
  });
  try {
    await waitFor(async () => {
      proc.assertRunning();
      return (await httpGet(`http://127.0.0.1:${port}/healthz`).catch(() => ({ status: 0 }))).status === 200;
    }, { timeoutMs: OPERATOR_READY_TIMEOUT_MS, intervalMs: 200, what: 'prometheus-operator /healthz' });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.logTail()}`, { cause: err });
  }
  return proc;
}

/** The version of a Prometheus binary (vX.Y.Z), for the Prometheus CR: the operator generates for it. */
export function prometheusVersion(prometheusBin: string): string {
  const out = execFileSync(prometheusBin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /prometheus, version (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the version of ${prometheusBin}: ${out}`);
  return `v${m[1]}`;
}

interface GeneratedConfig {
  global?: { external_labels?: Record<string, string> };
  rule_files?: string[];
  scrape_configs?: { job_name: string; honor_labels?: boolean; kubernetes_sd_configs?: Record<string, unknown>[] }[];
  [key: string]: unknown;
}

/**
 * The configuration the operator generated for Prometheus `namespace/name` once it has the scrape jobs
 * named by `wantJobs` (prefixes such as "serviceMonitor/ns/name/") and a rule file, made runnable here:
 * discovery through `apiServer`, the rule files written under `workDir`.
 */
export async function hostConfigFromOperator(
  kc: KubeConfig,
  opts: { namespace: string; name: string; apiServer: string; workDir: string; wantJobs: string[]; wantRuleText: string },
): Promise<GeneratedConfig> {
  const core = kc.makeApiClient(CoreV1Api);
  const { config, rules } = await waitFor(async () => {
    const secret = await core.readNamespacedSecret({ name: `prometheus-${opts.name}`, namespace: opts.namespace }).catch(() => undefined);
    const gz = secret?.data?.['prometheus.yaml.gz'];
    if (!gz) return undefined;
    // The config-reloader's placeholders, filled in as it would for replica 0 of shard 0.
    const text = gunzipSync(Buffer.from(gz, 'base64')).toString('utf8').replaceAll('$(SHARD)', '0').replaceAll('$(POD_NAME)', `prometheus-${opts.name}-0`);
    const config = parseYaml(text) as GeneratedConfig;
    const jobs = (config.scrape_configs ?? []).map((j) => j.job_name);
    if (!opts.wantJobs.every((want) => jobs.some((j) => j.startsWith(want)))) return undefined;
    const cm = await core.readNamespacedConfigMap({ name: `prometheus-${opts.name}-rulefiles-0`, namespace: opts.namespace }).catch(() => undefined);
    const rules = cm?.data ?? {};
    if (!Object.values(rules).some((r) => r.includes(opts.wantRuleText))) return undefined;
    return { config, rules };
  }, { timeoutMs: GENERATED_CONFIG_TIMEOUT_MS, intervalMs: 500, what: `the operator's configuration for Prometheus ${opts.namespace}/${opts.name} with ${opts.wantJobs.join(', ')}` });
  const ruleDir = join(opts.workDir, 'rules');
  mkdirSync(ruleDir, { recursive: true });
  for (const [file, text] of Object.entries(rules)) writeFileSync(join(ruleDir, file), text);
  for (const job of config.scrape_configs ?? []) {
    for (const sd of job.kubernetes_sd_configs ?? []) sd['api_server'] = opts.apiServer;
  }
  config.rule_files = [join(ruleDir, '*.yaml')];
  return config;
}

/** A Prometheus CR selecting monitors and rules by `labels`, in every namespace, scraping every second. */
export async function createPrometheusResource(kc: KubeConfig, namespace: string, name: string, version: string, labels: Record<string, string>): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    ...MONITORING,
    namespace,
    plural: 'prometheuses',
    body: {
      apiVersion: `${MONITORING.group}/${MONITORING.version}`,
      kind: 'Prometheus',
      metadata: { name },
      spec: {
        version,
        scrapeInterval: '1s',
        evaluationInterval: '1s',
        serviceMonitorSelector: { matchLabels: labels },
        serviceMonitorNamespaceSelector: {},
        podMonitorSelector: { matchLabels: labels },
        podMonitorNamespaceSelector: {},
        ruleSelector: { matchLabels: labels },
        ruleNamespaceSelector: {},
      },
    },
  });
}
