#!/usr/bin/env node
// The okg-sq command: a tiny dispatcher. Subcommands live in their own modules; `local` and `explain`
// are loaded only when used (they pull in the probe engine and the Kubernetes client).
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXIT, PROGRAM, processIo, type CliIo } from './args.js';
import { runCheck } from './check.js';
import { runEval } from './eval.js';

export const USAGE = `Usage: ${PROGRAM} <command> [options]

Commands:
  check <file.yaml>…       validate the serviceQualities of GameServerSets
  eval  --gameserverset F --gameserver F --outcome Q=true|false[:RESULT]…
                           what okg-sq would write for these probe outcomes (JSON)
  local <gameserverset.yaml>
                           run the set's probes and actions on this machine, no cluster
  explain [<namespace>/]<gameserver> [-n NS] [--context C] [--kubeconfig F] [-o json]
                           why a GameServer is in its state (asks a running cluster)
  help [<command>]         this help, or the command's

Options:
  -h, --help               this help (also: ${PROGRAM} <command> --help)
  -v, --version            the version

Exit status: 0 ok, 1 problems found or failure, 2 usage error.
`;

type Subcommand = (argv: string[]) => Promise<number>;

/** Loads a lazily imported subcommand module (its path is a variable so a missing one fails at run time only). */
async function lazy(path: string, exportName: string): Promise<Subcommand> {
  const mod = (await import(path)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${path} does not export ${exportName}`);
  return fn as Subcommand;
}

const SUBCOMMANDS: Record<string, () => Promise<Subcommand>> = {
  check: async () => (argv) => runCheck(argv),
  eval: async () => (argv) => runEval(argv),
  local: () => lazy('./local.js', 'runLocal'),
  explain: () => lazy('./explain.js', 'runExplain'),
};

/** The version in the package.json found by walking up from this file. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'okg-sq' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'help' && rest.length > 0) {
    // `okg-sq help check` is `okg-sq check --help`, as in git/kubectl; anything else is a usage error.
    const [topic, ...extra] = rest;
    const load = SUBCOMMANDS[topic!];
    if (load !== undefined && extra.length === 0) return (await load())(['--help']);
    const why = load === undefined ? `unknown command ${JSON.stringify(topic)}` : `help takes one command, got ${JSON.stringify(rest.join(' '))}`;
    io.stderr.write(`okg-sq help: ${why}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if ((command === '-v' || command === '--version') && rest.length === 0) {
    io.stdout.write(`okg-sq ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const load = SUBCOMMANDS[command];
  if (load === undefined) {
    io.stderr.write(`okg-sq: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  return (await load())(rest);
}

// Run when executed (also through the npm bin symlink), not when imported by tests.
const invokedAs = process.argv[1];
if (invokedAs !== undefined && import.meta.url === pathToFileURL(realpath(invokedAs)).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`okg-sq: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}

function realpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
