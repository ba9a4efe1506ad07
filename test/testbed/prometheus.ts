// A real Prometheus for tests (Debian's prometheus): own config and temp storage, 127.0.0.1 free port.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort } from './free-port.js';
import { httpGet } from './https-get.js';
import { ManagedProcess } from './managed-process.js';
import { waitFor } from './wait-for.js';

const PROMETHEUS_READY_TIMEOUT_MS = 30_000;
const DEFAULT_SCRAPE_INTERVAL_SECONDS = 1;

export interface RunningPrometheus {
  url: string;
  pid: number;
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** GET of an API path (e.g. /api/v1/alerts), its `data`. */
  api(path: string): Promise<any>;
  /** Waits until `count` targets (default: the static targets given) are up. */
  waitForTargetsUp(timeoutMs: number, count?: number): Promise<void>;
  stop(): Promise<void>;
}

function prometheusBin(): string {
  return process.env.OKGSQ_TB_PROMETHEUS_BIN || 'prometheus';
}

export async function startPrometheus(opts: {
  /** Static scrape targets (host:port) of one job; ignored when `config` is given. */
  targets: string[];
  scrapeIntervalSeconds?: number;
  ruleFiles?: string[];
  workDir?: string;
  /** A whole configuration of the caller's (e.g. one the Prometheus Operator generated). */
  config?: Record<string, unknown>;
  /** Another Prometheus binary than the bed's. */
  bin?: string;
}): Promise<RunningPrometheus> {
  const base = opts.workDir ?? process.env.OKGSQ_TB_WORK_DIR ?? tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'prometheus-'));
  const interval = `${opts.scrapeIntervalSeconds ?? DEFAULT_SCRAPE_INTERVAL_SECONDS}s`;
  const config = opts.config ?? {
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: [{ job_name: 'okgsq-test', static_configs: [{ targets: opts.targets }] }],
  };
  // JSON is valid YAML.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = new ManagedProcess('prometheus', opts.bin ?? prometheusBin(), [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { logFile: join(dir, 'prometheus.log') });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      proc.assertRunning();
      return (await httpGet(`${url}/-/ready`)).status === 200;
    }, { timeoutMs: PROMETHEUS_READY_TIMEOUT_MS, what: 'prometheus /-/ready' });
  } catch (err) {
    await stop();
    throw err;
  }

  const api = async (path: string): Promise<any> => {
    const res = await httpGet(`${url}${path}`);
    const body = JSON.parse(res.body);
    if (res.status !== 200 || body.status !== 'success') throw new Error(`prometheus ${path}: ${res.status} ${res.body.slice(0, 500)}`);
    return body.data;
  };

  return {
    url,
    pid: proc.pid,
    async query(expr) {
      const data = await api(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType === 'scalar') return [{ metric: {}, value: Number(data.result[1]) }];
      if (data.resultType !== 'vector') throw new Error(`prometheus query ${expr}: unexpected result type ${data.resultType}`);
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    },
    api,
    async waitForTargetsUp(timeoutMs, count = opts.targets.length) {
      await waitFor(async () => {
        const data = await api('/api/v1/targets?state=active');
        const targets = data.activeTargets as { health: string }[];
        return targets.length === count && targets.every((t) => t.health === 'up');
      }, { timeoutMs, intervalMs: 200, what: `prometheus targets up (${opts.config ? `${count} discovered` : opts.targets.join(', ')})` });
    },
    stop,
  };
}
