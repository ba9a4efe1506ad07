// The kubeconfig the CLI's cluster commands use, found the way kubectl finds it, with errors that name
// the file or the variable that pointed at it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError } from './args.js';

/** No way to reach a cluster was configured (exit 1: the command was right, the machine is not set up). */
class NoClusterError extends Error {}

/**
 * The KubeConfig the way kubectl finds it, with errors that name the file: --kubeconfig, else $KUBECONFIG,
 * else ~/.kube/config, else the in-cluster service account; then --context, if given, as its current
 * context. The client library's own fallback (an http://localhost:8080 cluster) would only fail later
 * with a message about TLS settings.
 */
export function loadKubeConfig(
  options: { readonly file?: string | undefined; readonly context?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  const useContext = (source: string, shown: string): { kc: KubeConfig; source: string } => {
    if (options.context !== undefined) {
      if (!kc.getContextObject(options.context)) {
        const known = kc.getContexts().map((c) => c.name);
        throw new UsageError(`--context ${JSON.stringify(options.context)}: no such context in ${shown} (it has: ${known.join(', ') || 'none'})`);
      }
      kc.setCurrentContext(options.context);
    }
    if (!kc.getCurrentCluster()) throw new UsageError(`${source}: ${shown} has no current context with a cluster (current-context ${JSON.stringify(kc.getCurrentContext() ?? '')})`);
    return { kc, source: shown };
  };
  const fromFile = (f: string, source: string): { kc: KubeConfig; source: string } => {
    try {
      kc.loadFromFile(f);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `not a valid kubeconfig: ${String((err as Error).message).split('\n')[0]}`;
      throw new UsageError(`${source}: cannot read ${f}: ${reason}`);
    }
    return useContext(source, f);
  };
  if (options.file !== undefined) return fromFile(options.file, '--kubeconfig');
  const fromEnv = (env['KUBECONFIG'] ?? '').split(':').filter((f) => f !== '');
  if (fromEnv.length > 0) {
    // Several files: the client library merges them as kubectl does; only read errors are ours to name.
    if (fromEnv.length === 1) return fromFile(fromEnv[0]!, 'KUBECONFIG');
    kc.loadFromDefault();
    return useContext('KUBECONFIG', `KUBECONFIG=${env['KUBECONFIG']}`);
  }
  const home = env['HOME'] ? join(env['HOME'], '.kube', 'config') : undefined;
  if (home !== undefined && existsSync(home)) return fromFile(home, '~/.kube/config');
  if (env['KUBERNETES_SERVICE_HOST']) {
    kc.loadFromCluster();
    return useContext('in-cluster', 'the in-cluster service account');
  }
  throw new NoClusterError(`no kubeconfig: --kubeconfig not given, KUBECONFIG unset and ${home ?? '~/.kube/config'} does not exist`);
}
