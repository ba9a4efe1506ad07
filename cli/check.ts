// `okg-sq check <file.yaml>…`: validates every GameServerSet's serviceQualities, as the decider will read
// them, and prints each problem with file, document and field path.
import { ERROR_CODES, OkgSqError } from '../common/errors.js';
import { gssName, parseServiceQualities, podTemplateContainers, type Problem } from '../rules/schema.js';
import { EXIT, parseCliArgs, processIo, PROGRAM, UsageError, type CliIo } from './args.js';
import { formatProblemLine } from './problem-line.js';
import { kindOf, readYamlDocuments } from './yaml-documents.js';

export const CHECK_USAGE = `Usage: ${PROGRAM} check [--output text|json] <file.yaml>…

Checks the serviceQualities of every GameServerSet in the files (multi-document YAML or JSON;
the items of a kind: List too, as \`kubectl get gss -o yaml\` prints them). A file \`-\` is standard input.
Prints one line per problem: file:LINE:COL: severity: path: message [code], at the field's
position in the file (the nearest enclosing field when it is missing).
Options:
  -o, --output text|json   json: {"gameServerSets", "errors", "warnings", "problems": [{file, document,
                           line, column, gameServerSet, severity, code, path, message}]}
Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage error or unreadable input.
`;

export interface CheckedProblem extends Problem {
  readonly file: string;
  readonly document: number;
  /** Where the field (or its nearest enclosing field) is in the file, 1-based. */
  readonly line: number;
  readonly column: number;
  readonly gameServerSet: string;
}

/** The objects of a document: itself, or the items of a `kind: List` (as `kubectl get -o yaml` prints). */
function objectsOf(value: unknown): { value: unknown; prefix: string }[] {
  const items = kindOf(value) === 'List' ? (value as { items?: unknown }).items : undefined;
  if (!Array.isArray(items)) return [{ value, prefix: '' }];
  return items.map((item, i) => ({ value: item, prefix: `items[${i}].` }));
}

export async function runCheck(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let files: string[];
  let output: string;
  try {
    const { values, positionals } = parseCliArgs(argv, { output: { type: 'string', short: 'o', default: 'text' }, help: { type: 'boolean', short: 'h' } }, true);
    if (values.help) {
      io.stdout.write(CHECK_USAGE);
      return EXIT.ok;
    }
    output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, got ${JSON.stringify(output)}`);
    if (positionals.length === 0) throw new UsageError('no file given');
    files = positionals;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`okg-sq check: ${err.message}\n\n${CHECK_USAGE}`);
    return EXIT.usage;
  }

  const problems: CheckedProblem[] = [];
  let sets = 0;
  for (const file of files) {
    let docs;
    try {
      docs = await readYamlDocuments(file);
    } catch (err) {
      if (!(err instanceof OkgSqError) || err.code !== ERROR_CODES.INVALID_INPUT) throw err;
      io.stderr.write(`okg-sq check: ${err.message}\n`);
      return EXIT.usage;
    }
    for (const doc of docs) {
      if (doc.value === null || doc.value === undefined) continue; // an empty document (e.g. a trailing ---)
      for (const { value, prefix } of objectsOf(doc.value)) {
        const kind = kindOf(value);
        if (kind !== 'GameServerSet') {
          const at = doc.positionOf(prefix.replace(/\.$/, ''));
          io.stderr.write(`${file}:${at.line}:${at.column}: note: ${prefix}kind ${kind ?? '(none)'} is not a GameServerSet; skipped\n`);
          continue;
        }
        sets++;
        const name = gssName(value);
        const found = [...parseServiceQualities(value).problems];
        // Without the template, containerName and named ports cannot be checked (the rules then pass them):
        // say so rather than print a clean bill for a fragment or a set whose template is misplaced.
        const sqs = (value as { spec?: { serviceQualities?: unknown } }).spec?.serviceQualities;
        if (Array.isArray(sqs) && sqs.length > 0 && podTemplateContainers(value).length === 0) {
          found.push({
            severity: 'warning',
            code: 'MissingField',
            path: 'spec.gameServerTemplate.spec.containers',
            message: 'the set has no pod template containers: containerName and named ports were not checked (the API server requires them)',
          });
        }
        for (const p of found) {
          const path = prefix + p.path;
          const { line, column } = doc.positionOf(path);
          problems.push({ file, document: doc.index, line, column, gameServerSet: name, ...p, path });
        }
      }
    }
  }

  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify({ gameServerSets: sets, errors, warnings, problems }, null, 2)}\n`);
  } else {
    for (const p of problems) io.stdout.write(formatProblemLine(p.file, p, p));
    io.stderr.write(`okg-sq check: ${sets} GameServerSet${sets === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
  }
  if (sets === 0) {
    io.stderr.write('okg-sq check: no GameServerSet found in the given files\n');
    return EXIT.failure;
  }
  return errors > 0 ? EXIT.failure : EXIT.ok;
}
