// etcd for the bed: one member on 127.0.0.1 free ports, data in the bed's work dir, no fsync (tests only).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { httpGet } from './https-get.js';
import { ManagedProcess } from './managed-process.js';
import { withPortRetry } from './port-retry.js';
import { waitFor } from './wait-for.js';

const ETCD_READY_TIMEOUT_MS = 30_000;

export interface RunningEtcd {
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export function startEtcd(options: { bin: string; dir: string }): Promise<RunningEtcd> {
  return withPortRetry((attempt) => startEtcdOnce(options, attempt));
}

async function startEtcdOnce(options: { bin: string; dir: string }, attempt: number): Promise<RunningEtcd> {
  const dataDir = join(options.dir, attempt === 1 ? 'etcd-data' : `etcd-data-${attempt}`);
  mkdirSync(dataDir, { recursive: true });
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const proc = new ManagedProcess('etcd', options.bin, [
    '--name=okgsq-testbed',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=okgsq-testbed=${peerUrl}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ], { logFile: join(options.dir, 'etcd.log') });
  try {
    await waitFor(async () => {
      proc.assertRunning();
      const res = await httpGet(`${url}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    }, { timeoutMs: ETCD_READY_TIMEOUT_MS, what: 'etcd /health' });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url, process: proc, stop: () => proc.stop() };
}
