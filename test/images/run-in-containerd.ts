// Runs an imported image's process to completion in the bed's containerd (ctr run --rm, host network,
// read-only root filesystem as the chart sets it) and returns its exit code and output.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface ContainerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs of a process that printed nothing at all before the result is taken as it is. */
const ATTEMPTS_WHEN_SILENT = 3;

/**
 * Every caller's process prints something. containerd's I/O copy can lose all the output of a process that
 * exits within microseconds of printing (`/pause -v`; seen once on a cold CI run: exit 0, stdout empty), a
 * known race of the runtime's FIFOs, not of the image: such a silent run is run again.
 */
export async function runInContainerd(socket: string, ref: string, args: readonly string[] = []): Promise<ContainerRun> {
  let run = await runOnce(socket, ref, args);
  for (let attempt = 1; attempt < ATTEMPTS_WHEN_SILENT && run.stdout === '' && run.stderr === ''; attempt++) run = await runOnce(socket, ref, args);
  return run;
}

function runOnce(socket: string, ref: string, args: readonly string[]): Promise<ContainerRun> {
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
