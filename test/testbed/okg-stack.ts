// OpenKruiseGame's own stack on the cluster bed (`--okg`; docs/design.md, "OKG's stack on the cluster
// bed"): kruise-manager + kruise-daemon (OpenKruise, KRUISE_VERSION) and kruise-game-manager
// (KRUISE_GAME_VERSION), built from their Go modules by scripts/build-testbed.sh okg, run as pods from
// files images, installed from the manifests in the modules' own config/ (rendered by kubectl's built-in
// kustomize). Each manager makes its own webhook certificates; what differs from config/default is listed
// in okgManifests() and nothing else.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { tcpRunner } from '../../common/runners/tcp-runner.js';
import { ensureFilesImage, importImages, type BuiltImage, type FilesImageSpec } from './built-images.js';
import { repoPath } from './repo-root.js';
import { versions } from './versions.js';
import { waitFor } from './wait-for.js';

const execFileAsync = promisify(execFile);
const STACK_READY_TIMEOUT_MS = 300_000;
export const KRUISE_NAMESPACE = 'kruise-system';
export const KRUISE_GAME_NAMESPACE = 'kruise-game-system';

export interface OkgBuild {
  kruiseGameManager: string;
  kruiseManager: string;
  kruiseDaemon: string;
  /** The module copies the binaries were built in; their config/ holds the manifests. */
  kruiseGameSrc: string;
  kruiseSrc: string;
}

/** Builds (first time) or reuses OKG's binaries and module copies (scripts/build-testbed.sh okg). */
export function ensureOkgBuild(log: (line: string) => void): OkgBuild {
  log('testbed: building or reusing kruise-game-manager, kruise-manager and kruise-daemon (scripts/build-testbed.sh okg)');
  const out = execFileSync('bash', [repoPath('scripts', 'build-testbed.sh'), 'okg'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const built = new Map(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  const need = (name: string): string => {
    const value = built.get(name);
    if (!value) throw new Error(`scripts/build-testbed.sh okg did not report ${name}`);
    return value;
  };
  return {
    kruiseGameManager: need('kruise-game-manager'), kruiseManager: need('kruise-manager'), kruiseDaemon: need('kruise-daemon'),
    kruiseGameSrc: need('kruise-game-src'), kruiseSrc: need('kruise-src'),
  };
}

/** Writable /tmp and /log (klog), accounts for runAsNonRoot; same spec → same cache entry. */
const CONTROLLER_DIRS = [{ path: '/tmp', mode: 0o1777 }, { path: '/log', mode: 0o1777 }];

export function okgImageSpecs(build: OkgBuild): { kruise: FilesImageSpec; kruiseGame: FilesImageSpec } {
  const v = versions();
  return {
    kruise: {
      ref: `localhost:5000/okgsq/kruise:${v.KRUISE_VERSION}`,
      files: [{ from: build.kruiseManager, to: '/manager' }, { from: build.kruiseDaemon, to: '/kruise-daemon' }],
      dirs: CONTROLLER_DIRS, entrypoint: ['/manager'], passwd: true,
    },
    kruiseGame: {
      ref: `localhost:5000/okgsq/kruise-game:${v.KRUISE_GAME_VERSION}`,
      files: [{ from: build.kruiseGameManager, to: '/manager' }],
      dirs: CONTROLLER_DIRS, entrypoint: ['/manager'], passwd: true,
    },
  };
}

/**
 * examples/minecraft as an image (Node base: sh, sleep, /proc): ctl.sh starts the replica's gate and data
 * processes as the container starts, probe.sh is the quality's exec command. `version` only tells images
 * apart (an image update of the set).
 */
export function minecraftImageSpec(version: string): FilesImageSpec {
  const dir = repoPath('examples', 'minecraft');
  return {
    ref: `localhost:5000/okgsq/minecraft-example:${version}`,
    files: ['probe.sh', 'fake-process.sh', 'ctl.sh'].map((f) => ({ from: join(dir, f), to: `/minecraft/${f}` })),
    base: 'node',
    workdir: '/minecraft',
    env: { MINECRAFT_EXAMPLE_VERSION: version },
    entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM; ./ctl.sh start "$POD_NAME" >/dev/null; sleep infinity & wait'],
  };
}

type Doc = Record<string, any>;

interface ManifestOptions {
  images: { kruise: string; kruiseGame: string };
  /** The node's CRI socket (host path): kruise-daemon mounts its folder as /hostvarrun. */
  criSocket: string;
  /** false: `PodProbeMarkerGate=false` on kruise-daemon only, as docs/operations.md tells operators. */
  daemonProbing: boolean;
}

function container(doc: Doc, name: string): Doc {
  const found = (doc.spec.template.spec.containers as Doc[]).find((c) => c.name === name);
  if (!found) throw new Error(`${doc.kind} ${doc.metadata.name} has no container ${name}`);
  return found;
}

/** Verbosity 2 instead of config/default's 5, no feature gates beyond the release's defaults, no cache mutation detector (a debug aid). */
function releaseLikeArgs(args: string[]): string[] {
  return args.filter((a) => !a.startsWith('--feature-gates=') && !/^--?v=/.test(a)).concat('--v=2');
}

/**
 * config/default of both modules with the bed's differences: our images, never pulled; release-like
 * flags; kruise-daemon on the bed's CRI socket; kruise-game makes its own certificates and webhook
 * configurations (its --enable-cert-generation, the default of its chart) instead of cert-manager's.
 */
export function okgManifests(kruise: Doc[], kruiseGame: Doc[], options: ManifestOptions): { kruise: Doc[]; kruiseGame: Doc[] } {
  for (const doc of kruise) {
    if (doc.kind === 'Deployment' && doc.metadata.name === 'kruise-controller-manager') {
      const c = container(doc, 'manager');
      Object.assign(c, { image: options.images.kruise, imagePullPolicy: 'Never', args: releaseLikeArgs(c.args) });
      c.env = (c.env as Doc[]).filter((e) => e.name !== 'KUBE_CACHE_MUTATION_DETECTOR');
    }
    if (doc.kind === 'DaemonSet' && doc.metadata.name === 'kruise-daemon') {
      const c = container(doc, 'daemon');
      const args = [...releaseLikeArgs(c.args), `--socket-file=${basename(options.criSocket)}`, '--enable-pprof=false'];
      if (!options.daemonProbing) args.push('--feature-gates=PodProbeMarkerGate=false');
      Object.assign(c, { image: options.images.kruise, imagePullPolicy: 'Never', args });
      c.env = (c.env as Doc[]).filter((e) => e.name !== 'KUBE_CACHE_MUTATION_DETECTOR');
      const volume = (doc.spec.template.spec.volumes as Doc[]).find((v) => v.name === 'runtime-socket');
      if (!volume) throw new Error('kruise-daemon has no runtime-socket volume');
      volume.hostPath = { path: dirname(options.criSocket), type: 'Directory' };
    }
  }
  const dropped = new Set(['Certificate', 'Issuer', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
  const game = kruiseGame.filter((doc) => !dropped.has(doc.kind));
  for (const doc of game) {
    if (doc.kind === 'Deployment' && doc.metadata.name === 'kruise-game-controller-manager') {
      const c = container(doc, 'manager');
      Object.assign(c, { image: options.images.kruiseGame, imagePullPolicy: 'Never', args: (c.args as string[]).filter((a) => a !== '--enable-cert-generation=false') });
      for (const m of c.volumeMounts as Doc[]) if (m.name === 'cert') delete m.readOnly;
      const volumes = doc.spec.template.spec.volumes as Doc[];
      const cert = volumes.find((v) => v.name === 'cert');
      if (!cert) throw new Error('kruise-game-controller-manager has no cert volume');
      delete cert.secret;
      cert.emptyDir = {};
    }
  }
  return { kruise, kruiseGame: game };
}

async function kustomize(kubectl: string, dir: string): Promise<Doc[]> {
  const { stdout } = await execFileAsync(kubectl, ['kustomize', dir], { maxBuffer: 64 << 20 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Doc).filter((d) => d && d.kind);
}

export interface OkgStack {
  images: BuiltImage[];
}

/**
 * Imports the images and applies kruise (then waits for its webhooks: its pod webhook fails closed) and
 * kruise-game, and waits until both managers serve their webhooks and kruise-daemon runs on the node.
 */
export async function installOkgStack(options: {
  kc: KubeConfig;
  kubeconfig: string;
  kubectl: string;
  criSocket: string;
  workDir: string;
  daemonProbing: boolean;
  log: (line: string) => void;
}): Promise<OkgStack> {
  const build = ensureOkgBuild(options.log);
  const specs = okgImageSpecs(build);
  const kruiseImage = await ensureFilesImage(specs.kruise, options.log);
  const gameImage = await ensureFilesImage(specs.kruiseGame, options.log);
  const minecraft = [await ensureFilesImage(minecraftImageSpec('1.0'), options.log), await ensureFilesImage(minecraftImageSpec('1.1'), options.log)];
  const images = [kruiseImage, gameImage, ...minecraft];
  await importImages(options.criSocket, images);
  const rendered = okgManifests(
    await kustomize(options.kubectl, join(build.kruiseSrc, 'config', 'default')),
    await kustomize(options.kubectl, join(build.kruiseGameSrc, 'config', 'default')),
    { images: { kruise: kruiseImage.ref, kruiseGame: gameImage.ref }, criSocket: options.criSocket, daemonProbing: options.daemonProbing },
  );
  const dir = join(options.workDir, 'okg');
  mkdirSync(dir, { recursive: true });
  const apply = async (name: string, docs: Doc[]): Promise<void> => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
    options.log(`testbed: kubectl apply --server-side -f ${file}`);
    await execFileAsync(options.kubectl, ['--kubeconfig', options.kubeconfig, 'apply', '--server-side', '--force-conflicts', '--field-manager=okgsq-testbed', '-f', file], { maxBuffer: 16 << 20 })
      .catch((err: Error & { stderr?: string }) => {
        throw new Error(`kubectl apply of ${file} failed: ${err.stderr || err.message}`, { cause: err });
      });
  };
  await apply('kruise', rendered.kruise);
  await waitForDeployment(options.kc, KRUISE_NAMESPACE, 'kruise-controller-manager');
  await waitForWebhookCa(options.kc, ['kruise-mutating-webhook-configuration'], ['kruise-validating-webhook-configuration']);
  await waitForDaemonSet(options.kc, KRUISE_NAMESPACE, 'kruise-daemon');
  await apply('kruise-game', rendered.kruiseGame);
  await waitForDeployment(options.kc, KRUISE_GAME_NAMESPACE, 'kruise-game-controller-manager');
  await waitForWebhookCa(options.kc, ['kruise-game-mutating-webhook'], ['kruise-game-validating-webhook']);
  options.log(`testbed: OKG's stack ready (kruise ${versions().KRUISE_VERSION}, kruise-game ${versions().KRUISE_GAME_VERSION}, kruise-daemon probing ${options.daemonProbing ? 'on' : 'off'})`);
  return { images };
}

async function waitForDeployment(kc: KubeConfig, namespace: string, name: string): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(async () => {
    const d = await apps.readNamespacedDeployment({ namespace, name });
    return (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1);
  }, { timeoutMs: STACK_READY_TIMEOUT_MS, intervalMs: 1000, what: `Deployment ${namespace}/${name} ready` });
}

async function waitForDaemonSet(kc: KubeConfig, namespace: string, name: string): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(async () => {
    const d = await apps.readNamespacedDaemonSet({ namespace, name });
    return d.status && d.status.desiredNumberScheduled > 0 && d.status.numberReady === d.status.desiredNumberScheduled;
  }, { timeoutMs: STACK_READY_TIMEOUT_MS, intervalMs: 1000, what: `DaemonSet ${namespace}/${name} ready` });
}

type Hook = { clientConfig: { caBundle?: string; service?: { namespace: string; name: string; port?: number } } };

/**
 * Each manager writes its CA into its webhook configurations once its serving certificate exists; then
 * the webhooks' Services must take connections where the apiserver dials them (their ClusterIPs, through
 * kube-proxy's rules on this host). A CA alone is not enough: before the Service has a ready endpoint the
 * apiserver's call is refused, and a `kubectl apply` right after "ready" failed so.
 */
async function waitForWebhookCa(kc: KubeConfig, mutating: string[], validating: string[]): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const hasCa = (hooks: Hook[] | undefined): boolean => (hooks ?? []).length > 0 && hooks!.every((h) => (h.clientConfig.caBundle ?? '').length > 0);
  const configs: { what: string; read: () => Promise<Hook[] | undefined> }[] = [
    ...mutating.map((name) => ({ what: `MutatingWebhookConfiguration ${name}`, read: async () => (await api.readMutatingWebhookConfiguration({ name })).webhooks })),
    ...validating.map((name) => ({ what: `ValidatingWebhookConfiguration ${name}`, read: async () => (await api.readValidatingWebhookConfiguration({ name })).webhooks })),
  ];
  const hooks: Hook[] = [];
  for (const { what, read } of configs) {
    hooks.push(...await waitFor(async () => {
      const found = await read();
      return hasCa(found) && found!;
    }, { timeoutMs: STACK_READY_TIMEOUT_MS, intervalMs: 1000, what: `${what} with a CA` }));
  }
  const core = kc.makeApiClient(CoreV1Api);
  const services = new Map(hooks.flatMap((h) => (h.clientConfig.service ? [[`${h.clientConfig.service.namespace}/${h.clientConfig.service.name}:${h.clientConfig.service.port ?? 443}`, h.clientConfig.service] as const] : [])));
  for (const [key, ref] of services) {
    const service = await core.readNamespacedService({ namespace: ref.namespace, name: ref.name });
    const ip = service.spec?.clusterIP;
    if (!ip) throw new Error(`webhook Service ${key} has no ClusterIP`);
    // okg-sq's own tcp probe: a connection accepted, then closed at once.
    await waitFor(async () => (await tcpRunner(ip, ref.port ?? 443, { timeoutMs: 2000, signal: new AbortController().signal })).state, { timeoutMs: STACK_READY_TIMEOUT_MS, intervalMs: 1000, what: `webhook Service ${key} (${ip}) taking connections` });
  }
}
