// Small helpers shared by the okg-sq subcommands: argument parsing with usage errors, exit codes,
// and the streams a subcommand writes to (injectable for tests).
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The executable name of the kubectl plugin form. kubectl runs `kubectl okg-sq …` as the first
 * `kubectl-okg_sq` on PATH: it turns each dash of the command into an underscore, because a dash in a
 * plugin's file name separates subcommands (`kubectl-okg-sq` would be command `okg sq`).
 */
export const KUBECTL_PLUGIN_EXECUTABLE = 'kubectl-okg_sq';

/** How the user called us, for usage texts: `kubectl okg-sq` through the plugin, else `okg-sq`. */
export function programName(argv1: string | undefined): string {
  return argv1 !== undefined && basename(argv1) === KUBECTL_PLUGIN_EXECUTABLE ? 'kubectl okg-sq' : 'okg-sq';
}

export const PROGRAM = programName(process.argv[1]);

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** A problem with how the command was called: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--replicas -1` → `--replicas=-1`: parseArgs refuses a value that starts with a dash as "ambiguous",
 * which hides the real problem (the number) behind a message about dashes. A negative number is never
 * an option here, so it is joined to its string option and the option's own validation names it.
 */
export function joinNegativeNumbers(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : arg.length === 2 && arg.startsWith('-') ? Object.keys(options).find((k) => options[k]!.short === arg[1]) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
    if (arg === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
  }
  return out;
}

/** node:util parseArgs (strict), with its errors turned into UsageError. */
export function parseCliArgs<O extends Options>(argv: readonly string[], options: O, allowPositionals: boolean) {
  try {
    return parseArgs({ args: joinNegativeNumbers(argv, options), options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
