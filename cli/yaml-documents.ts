// Reads a YAML (or JSON) file as its list of documents, for the CLI. Unreadable files and syntax errors
// are reported with the file and line; they are the user's input, so they are OkgSqError INVALID_INPUT.
import { open } from 'node:fs/promises';
import { isNode, LineCounter, parseAllDocuments, type Document, type Tags } from 'yaml';
import { ERROR_CODES, OkgSqError } from '../common/errors.js';

/** Bigger inputs are refused rather than parsed: `check` runs in CI on untrusted pull requests too. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/**
 * kubectl reads YAML 1.1 (yes/no/on/off are booleans, 0777 is octal), so `check` must too, or it would
 * disagree with what reaches the API server. Timestamps and base-60 numbers stay strings, as in the JSON
 * kubectl sends.
 */
function kubectlTags(tags: Tags): Tags {
  return tags.filter((t) => {
    if (typeof t === 'string') return t !== 'timestamp' && t !== 'intTime' && t !== 'floatTime';
    return t.tag !== 'tag:yaml.org,2002:timestamp' && (t as { format?: string }).format !== 'TIME';
  });
}

/** A 1-based line and column in a file, as editors and compilers print them (file:LINE:COL). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface YamlDocument {
  /** 1-based position of the document in the file. */
  readonly index: number;
  readonly value: unknown;
  /**
   * Where a field path such as spec.serviceQualities[1].exec starts in the file: the value's node (or its
   * nearest parent's when the field is missing). The document's own start when nothing on the path exists.
   */
  positionOf(path: string): SourcePosition;
}

/** spec.a[1]["k"] → ['spec', 'a', 1, 'k']; undefined when the path is not in that form. */
export function pathSegments(path: string): (string | number)[] | undefined {
  const segments: (string | number)[] = [];
  const re = /(?:^|\.)([^.[\]"]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else segments.push(JSON.parse(m[3]!) as string);
  }
  return re.lastIndex === path.length || path === '' ? segments : undefined;
}

function positionFinder(doc: Document, lines: LineCounter, documentStart: number): (path: string) => SourcePosition {
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  return (path) => {
    const segments = pathSegments(path) ?? [];
    for (let n = segments.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return at(node.range[0]);
    }
    return at(documentStart);
  };
}

/**
 * Reads at most `limit` bytes: the bound holds before anything is read into memory, so a huge file, a FIFO
 * or /dev/zero costs `limit` bytes and stops, instead of being read whole and measured afterwards.
 */
async function readAtMost(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(limit);
    let n = 0;
    while (n < limit) {
      const { bytesRead } = await handle.read(buf, n, limit - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n);
  } finally {
    await handle.close();
  }
}

/**
 * Standard input up to `limit` bytes, read as a stream: stdin may be a socket (a parent's spawn), where
 * opening /dev/stdin fails with ENXIO. Stops reading once over the limit, like readAtMost.
 */
async function readStdinAtMost(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of process.stdin) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    n += buf.length;
    if (n >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

export async function readYamlDocuments(file: string): Promise<YamlDocument[]> {
  let bytes: Buffer;
  try {
    // `-` is standard input, as in kubectl apply -f -.
    bytes = file === '-' ? await readStdinAtMost(MAX_INPUT_BYTES + 1) : await readAtMost(file, MAX_INPUT_BYTES + 1);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory (give the YAML files in it)' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: cannot read: ${reason}`, { cause: err });
  }
  if (bytes.length > MAX_INPUT_BYTES) throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: larger than ${MAX_INPUT_BYTES} bytes`);
  const text = bytes.toString('utf8');
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: true, version: '1.1', customTags: kubectlTags, lineCounter: lines });
  if (!Array.isArray(docs)) throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: not a YAML stream`);
  const out: YamlDocument[] = [];
  for (const [i, doc] of docs.entries()) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const pos = error.linePos?.[0];
      const where = pos ? `${pos.line}:${pos.col}` : `document ${i + 1}`;
      throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}:${where}: YAML syntax error: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, { cause: error });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: document ${i + 1}: ${(err as Error).message}`, { cause: err });
    }
    out.push({ index: i + 1, value, positionOf: positionFinder(doc, lines, doc.range[0]) });
  }
  return out;
}

export function kindOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const kind = (value as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : undefined;
}
