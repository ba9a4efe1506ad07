// `okg-sq local` flags, validated once into frozen options. A bad flag is a usage error (exit 2)
// whose message names the flag and the bad value.
import { parseArgs } from 'node:util';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';
import { joinNegativeNumbers, PROGRAM } from '../args.js';

export const OUTPUT_FORMATS = ['table', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Each replica runs every exec probe as a process on this machine: keep that in reason. */
export const MAX_LOCAL_REPLICAS = 100;
/** --duration cap (one week): larger values are typos rather than plans. */
export const MAX_DURATION_SECONDS = 7 * 24 * 3600;

export interface LocalOptions {
  readonly file: string;
  /** undefined: the set's spec.replicas, else 1. */
  readonly replicas: number | undefined;
  /** undefined: the YAML's folder. */
  readonly workdir: string | undefined;
  /** undefined: until SIGINT/SIGTERM. */
  readonly durationSeconds: number | undefined;
  readonly output: OutputFormat;
}

export type LocalCommand = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: LocalOptions };

export const LOCAL_USAGE = `Usage: ${PROGRAM} local <gameserverset.yaml> [--replicas N] [--workdir DIR] [--duration SECONDS] [--output table|json]

Runs a GameServerSet's serviceQualities on this machine, without a cluster: it simulates the
GameServers <set>-0 … <set>-(N-1) in memory, runs each quality's probe for each of them here and
applies the set's actions exactly as OKG does, showing the GameServers as they change.

  --replicas N        how many GameServers to simulate (default: spec.replicas, else 1; at most ${MAX_LOCAL_REPLICAS})
  --workdir DIR       working directory of exec probes (default: the YAML file's folder)
  --duration SECONDS  stop after this long (default: run until Ctrl-C / SIGTERM)
  --output table|json table (default): like \`kubectl get gs\`, one column per quality (state/result);
                      json: one line {"event":"update","gameServer":{…}} per GameServer when it
                      is created and each time it changes, then {"event":"final","gameServers":[…]}
                      on exit (GameServers as \`kubectl get gs -o json\` shows them)
  -h, --help          this help

Probes:
  exec     the command runs as a process (argv as written, no shell) in --workdir, with the
           environment of okg-sq, the container's env from the pod template (values, and the
           downward API's metadata.name/namespace/uid and status.podIP), POD_NAME=<set>-<i> and
           POD_NAMESPACE=default; exit code 0 is state true, anything else false; stdout is the
           result either way. A timeout kills the probe and every process it started.
  httpGet, tcpSocket, grpc
           go to 127.0.0.1 and the probe's port (named ports resolved from the pod template's
           container ports); every replica probes the same address.
  Timing is the YAML's, as in a cluster: initialDelaySeconds counts from the start of okg-sq local,
  then every periodSeconds, timeoutSeconds per run, successThreshold / failureThreshold consecutive
  equal states before a state is published. Missing or zero fields take OKG's defaults
  (delay 10, timeout 5, period 3, success 1, failure 3).

Environment: OKGSQ_LOG_LEVEL (default warn) sets the level of the logs on stderr.

Exit status: 0 normal end (duration over, Ctrl-C or SIGTERM), 1 invalid GameServerSet (the
problems are printed as \`okg-sq check\` prints them), 2 usage error or unreadable input.`;

function usageError(message: string): OkgSqError {
  return new OkgSqError(ERROR_CODES.INVALID_OPTION, message);
}

function positiveNumber(flag: string, raw: string | undefined, integer: boolean, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(value) && value > 0 && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'a whole number' : 'a number';
    throw usageError(`${flag} must be ${kind} greater than 0 and at most ${max}, got "${raw}"`);
  }
  return value;
}

/** Parses the arguments after `local`. Throws OkgSqError OKGSQ_INVALID_OPTION on a usage error. */
export function parseLocalArgs(argv: readonly string[]): LocalCommand {
  let parsed;
  try {
    const options = {
      replicas: { type: 'string' },
      workdir: { type: 'string' },
      duration: { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    } as const;
    // joinNegativeNumbers: `--replicas -1` reaches the range check below instead of parseArgs' "ambiguous".
    parsed = parseArgs({ args: joinNegativeNumbers(argv, options), allowPositionals: true, strict: true, options });
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (positionals.length === 0) throw usageError('missing <gameserverset.yaml>');
  if (positionals.length > 1) throw usageError(`one GameServerSet file at a time, got ${positionals.length}: ${positionals.join(' ')}`);
  const output = values.output ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) {
    throw usageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, got "${output}"`);
  }
  if (values.workdir !== undefined && values.workdir.trim() === '') throw usageError('--workdir must not be empty');
  const options: LocalOptions = {
    file: positionals[0]!,
    replicas: positiveNumber('--replicas', values.replicas, true, MAX_LOCAL_REPLICAS),
    workdir: values.workdir,
    durationSeconds: positiveNumber('--duration', values.duration, false, MAX_DURATION_SECONDS),
    output: output as OutputFormat,
  };
  return { kind: 'run', options: Object.freeze(options) };
}
