// `okg-sq local <gameserverset.yaml>`: a GameServerSet's serviceQualities on this machine, no cluster.
// The same probe engine as the agent (with a process runtime) and the same evaluation core as the
// decider (against an in-memory GameServer store); only the adapters differ.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { OkgSqError } from '../common/errors.js';
import { LOG } from '../common/log-fields.js';
import { ProbeEngine } from '../common/probe/probe-engine.js';
import type { PlanProblem } from '../rules/plan.js';
import { gssName, parseServiceQualities, podTemplateContainers, type Problem } from '../rules/schema.js';
import { containerEnv } from './local/container-env.js';
import { decisionNotes } from './local/decision-notes.js';
import { JsonRenderer } from './local/json-renderer.js';
import { loadGameServerSet, type LoadedSet } from './local/load-game-server-set.js';
import { localTargets } from './local/local-targets.js';
import { LOCAL_USAGE, MAX_LOCAL_REPLICAS, parseLocalArgs, type LocalOptions } from './local/local-options.js';
import { LocalPipeline } from './local/local-pipeline.js';
import { formatProblemLine } from './problem-line.js';
import { LOCAL_NAMESPACE, MemoryStore, newGameServer } from './local/memory-store.js';
import { ProcessRuntime } from './local/process-runtime.js';
import type { LocalView, RenderOutput, Renderer } from './local/renderer.js';
import { TableRenderer } from './local/table-renderer.js';

export const LOCAL_EXIT = { ok: 0, invalidSet: 1, usage: 2 } as const;

/** What runLocal touches outside itself; tests pass their own. */
export interface LocalIo {
  readonly stdout: RenderOutput;
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /** Emits SIGINT / SIGTERM. */
  readonly signals: Pick<NodeJS.Process, 'once' | 'removeListener'>;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** Period of the timer that keeps the process alive until Ctrl-C when there is no --duration. */
const KEEP_ALIVE_MS = 60 * 60 * 1000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Quiet by default: the table or the JSON lines are the output; logs go to stderr. */
const DEFAULT_LOG_LEVEL = 'warn';

function processIo(): LocalIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process };
}


function replicasOf(gss: unknown, options: LocalOptions, io: LocalIo): number {
  if (options.replicas !== undefined) return options.replicas;
  const specReplicas = (gss as { spec?: { replicas?: unknown } }).spec?.replicas;
  if (typeof specReplicas !== 'number' || !Number.isInteger(specReplicas) || specReplicas < 1) return 1;
  if (specReplicas > MAX_LOCAL_REPLICAS) {
    io.stderr.write(`okg-sq local: spec.replicas is ${specReplicas}; simulating ${MAX_LOCAL_REPLICAS} (use --replicas to choose)\n`);
    return MAX_LOCAL_REPLICAS;
  }
  return specReplicas;
}

/** Resolves when the duration is over or a stop signal arrives; the cleanup removes both. */
function waitForEnd(options: LocalOptions, io: LocalIo): { ended: Promise<string>; cleanup(): void } {
  let finish: (why: string) => void = () => {};
  const ended = new Promise<string>((res) => (finish = res));
  // `okg-sq local … | head`: a closed stdout ends the run instead of crashing it (EPIPE). The listener
  // stays for the process's life: the final render may fail the same way after cleanup.
  const output = io.stdout as Partial<Pick<NodeJS.WriteStream, 'on'>>;
  output.on?.('error', () => finish('stdout closed'));
  // A referenced timer either way: the probe engine's timers are unref'd (they must not keep an agent
  // alive), so without one `okg-sq local` would exit as soon as it started.
  const timer =
    options.durationSeconds === undefined
      ? setInterval(() => {}, KEEP_ALIVE_MS)
      : setTimeout(() => finish('duration'), options.durationSeconds * 1000);
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => finish(signal);
    io.signals.once(signal, handler);
    return [signal, handler] as const;
  });
  return {
    ended,
    cleanup: () => {
      clearTimeout(timer);
      for (const [signal, handler] of handlers) io.signals.removeListener(signal, handler);
    },
  };
}

/** Runs `okg-sq local`; resolves with the exit status. `argv`: the arguments after `local`. */
export async function runLocal(argv: string[], io: LocalIo = processIo()): Promise<number> {
  const fail = (status: number, message: string): number => {
    io.stderr.write(`okg-sq local: ${message}\n`);
    if (status === LOCAL_EXIT.usage) io.stderr.write('Run `okg-sq local --help` for usage.\n');
    return status;
  };

  let options: LocalOptions;
  let loaded: LoadedSet;
  let workdir: string;
  try {
    const command = parseLocalArgs(argv);
    if (command.kind === 'help') {
      io.stdout.write(`${LOCAL_USAGE}\n`);
      return LOCAL_EXIT.ok;
    }
    options = command.options;
    loaded = await loadGameServerSet(options.file);
    workdir = resolve(options.workdir ?? dirname(resolve(options.file)));
    const isDir = await stat(workdir).then((s) => s.isDirectory(), () => false);
    if (!isDir) return fail(LOCAL_EXIT.usage, `--workdir ${workdir}: not a directory`);
  } catch (err) {
    // Bad flags and unreadable input (missing file, YAML syntax error) are usage errors, as in `okg-sq check`.
    if (err instanceof OkgSqError) return fail(LOCAL_EXIT.usage, err.message);
    throw err;
  }
  if (loaded.kind === 'invalid') return fail(LOCAL_EXIT.invalidSet, loaded.message);
  const { gss, positionOf } = loaded;
  /** One line per problem, exactly as `okg-sq check` prints it. */
  const formatProblem = (p: Problem | PlanProblem): string => formatProblemLine(options.file, positionOf(p.path), p);

  const { qualities, problems } = parseServiceQualities(gss);
  for (const problem of problems) io.stderr.write(formatProblem(problem));
  if (problems.some((p) => p.severity === 'error')) {
    return fail(LOCAL_EXIT.invalidSet, `${options.file}: the GameServerSet has errors (see above); \`okg-sq check\` reports the same`);
  }
  if (qualities.length === 0) return fail(LOCAL_EXIT.invalidSet, `${options.file}: spec.serviceQualities is empty: nothing to run`);

  const logLevel = io.env.OKGSQ_LOG_LEVEL ?? DEFAULT_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    return fail(LOCAL_EXIT.usage, `OKGSQ_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const setName = gssName(gss);
  const replicas = replicasOf(gss, options, io);
  const logger: Logger = pino(
    { name: 'okg-sq-local', level: logLevel, base: { [LOG.component]: 'local' } },
    pino.destination({ fd: 2, sync: true }),
  );

  const pods = Array.from({ length: replicas }, (_, ordinal) => ({
    name: `${setName}-${ordinal}`,
    namespace: LOCAL_NAMESPACE,
    uid: randomUUID(),
  }));
  const plan = localTargets({ gameServerSet: setName, qualities, containers: podTemplateContainers(gss), pods, startedAtMs: Date.now() });
  for (const problem of plan.problems) io.stderr.write(formatProblem(problem));
  if (plan.problems.some((p) => p.severity === 'error')) {
    return fail(LOCAL_EXIT.invalidSet, `${options.file}: the set's probes cannot run against its pod template (see above)`);
  }
  const targets = plan.targets;

  if (options.output === 'table') {
    const until = options.durationSeconds === undefined ? 'Ctrl-C to stop' : `for ${options.durationSeconds} s (Ctrl-C stops sooner)`;
    io.stdout.write(`okg-sq local: GameServerSet ${setName}, ${replicas} replica(s), exec probes in ${workdir}, ${until}\n\n`);
  }
  const store = new MemoryStore();
  const view: LocalView = { get gameServers() { return store.list(); }, pod: (name) => store.pod(name) };
  const renderer: Renderer =
    options.output === 'json'
      ? new JsonRenderer(io.stdout, io.stderr)
      : new TableRenderer({ out: io.stdout, qualities: qualities.map((q) => q.name) });
  store.onChange((gameServer) => renderer.changed(gameServer, view));
  pods.forEach((pod, ordinal) => store.create(newGameServer(setName, ordinal, randomUUID()), { uid: pod.uid }));

  const pipeline = new LocalPipeline({ store, qualities });
  const told = new Set<string>();
  const templateEnv = containerEnv(gss);
  for (const [container, names] of templateEnv.skipped) {
    renderer.note(`container ${container}: env ${names.join(', ')} not set for probes (valueFrom needs a cluster)`);
  }
  const runtime = new ProcessRuntime({
    cwd: workdir,
    env: io.env,
    containerEnv: templateEnv,
    // Once per distinct reason: every replica hits the same missing binary every period.
    onCannotRun: (message) => {
      if (told.has(message)) return;
      told.add(message);
      renderer.note(message);
    },
  });
  const engine = new ProbeEngine({
    exec: runtime,
    logger,
    onOutcome: (outcome) => {
      // One bad evaluation must not end the run: log it and keep probing.
      try {
        const accepted = pipeline.accept(outcome);
        if (accepted === undefined) return;
        // In JSON the updates already say it all; warnings go to stderr there.
        const notes = decisionNotes(accepted.gameServer, accepted.decision, { actions: options.output === 'table' });
        for (const note of notes) renderer.note(note);
      } catch (err) {
        logger.error({ [LOG.err]: err, [LOG.podUid]: outcome.podUid, [LOG.quality]: outcome.quality }, 'evaluation failed');
      }
    },
  });
  const end = waitForEnd(options, io);
  engine.replaceAll(targets);
  engine.start();
  try {
    const why = await end.ended;
    logger.info({ reason: why }, 'stopping');
  } finally {
    end.cleanup();
    await engine.stop();
    runtime.close();
    renderer.final(view);
  }
  return LOCAL_EXIT.ok;
}
