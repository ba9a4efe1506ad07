// Runs an imported image's process to completion in the bed's containerd (ctr run --rm, host network,
// read-only root filesystem as the chart sets it) and returns its exit code and output.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface ContainerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runInContainerd(socket: string, ref: string, args: readonly string[] = []): Promise<ContainerRun> {
  const id = `okgsq-image-test-${randomBytes(4).toString('hex')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('ctr', ['-a', socket, '-n', 'k8s.io', 'run', '--rm', '--net-host', '--read-only', ref, id, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
