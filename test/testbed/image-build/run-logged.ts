// Runs a build command with its output appended to a log file, so a long build neither floods the caller's
// terminal nor loses its output: a failure throws an error naming the command, the exit status, the log
// file and the log's last lines.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

const LOG_TAIL_BYTES = 3_000;

export interface RunOptions {
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Resolves when the command exits 0; stdout and stderr go to the log file. */
export async function runLogged(command: string, args: readonly string[], options: RunOptions): Promise<void> {
  const fd = openSync(options.logFile, 'a');
  try {
    const code = await new Promise<number | string>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', fd, fd], cwd: options.cwd, env: options.env ?? process.env });
      child.once('error', reject);
      child.once('exit', (status, signal) => resolve(status ?? signal ?? 'unknown'));
    });
    if (code !== 0) {
      throw new Error(`${command} ${args.slice(0, 2).join(' ')} failed (exit ${code}); log: ${options.logFile}\n${logTail(options.logFile)}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** Resolves with the command's stdout; stderr goes to the log file. */
export async function runCaptured(command: string, args: readonly string[], options: RunOptions): Promise<string> {
  const fd = openSync(options.logFile, 'a');
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', fd], cwd: options.cwd, env: options.env ?? process.env });
      const chunks: Buffer[] = [];
      child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.once('error', reject);
      child.once('close', (status, signal) => {
        if (status === 0) resolve(Buffer.concat(chunks).toString('utf8'));
        else reject(new Error(`${command} ${args.slice(0, 2).join(' ')} failed (exit ${status ?? signal}); log: ${options.logFile}\n${logTail(options.logFile)}`));
      });
    });
  } finally {
    closeSync(fd);
  }
}

function logTail(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
