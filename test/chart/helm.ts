// Runs the test bed's helm binary and parses what it renders.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { testbedEnv } from '../testbed/env.js';
import { chartFiles } from './chart-files.js';

const execFileAsync = promisify(execFile);
/** `helm template` and `lint` talk to no cluster: render for the bed's Kubernetes minor. */
export const TEMPLATE_KUBE_VERSION = '1.34.0';
const HELM_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** A rendered Kubernetes object, loosely typed: tests read it like the API server would. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
}

/** Runs helm with the given arguments; rejects with helm's stderr in the message. */
export async function helm(args: readonly string[], options: { kubeconfig?: string } = {}): Promise<HelmResult> {
  const env = testbedEnv();
  // A private helm home: no repositories, caches or plugins of the machine leak into the tests.
  const home = `${env.workDir}/helm-home`;
  try {
    const { stdout, stderr } = await execFileAsync(env.helmBin, [...args], {
      timeout: HELM_TIMEOUT_MS,
      maxBuffer: MAX_OUTPUT_BYTES,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        HELM_CACHE_HOME: `${home}/cache`,
        HELM_CONFIG_HOME: `${home}/config`,
        HELM_DATA_HOME: `${home}/data`,
        ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
      },
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`helm ${args.join(' ')} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

/** Parses helm's multi-document output into objects (empty documents dropped). */
export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as KubeObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

export interface RenderOptions {
  valuesFile?: string;
  set?: Record<string, string>;
  releaseName?: string;
  namespace?: string;
}

/** `helm template` of the chart; returns the rendered objects. */
export async function renderChart(options: RenderOptions = {}): Promise<KubeObject[]> {
  const args = ['template', options.releaseName ?? 'okg-sq', chartFiles.chartDir(), '--namespace', options.namespace ?? 'okg-sq-system', '--kube-version', TEMPLATE_KUBE_VERSION];
  if (options.valuesFile) args.push('--values', options.valuesFile);
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  const { stdout } = await helm(args);
  return parseManifests(stdout);
}

export function findObject(objects: readonly KubeObject[], kind: string, namePattern: RegExp = /.*/): KubeObject {
  const found = objects.filter((o) => o.kind === kind && namePattern.test(o.metadata.name));
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind} named like ${namePattern}, found ${found.map((o) => o.metadata.name).join(', ') || 'none'}`);
  }
  return found[0]!;
}
