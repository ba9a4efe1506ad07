// Reads the one GameServerSet `okg-sq local` runs from a YAML (or JSON) file.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';

const GAME_SERVER_SET_KIND = 'GameServerSet';

/**
 * The file's GameServerSet object. Throws OkgSqError OKGSQ_INVALID_OPTION when the file cannot be
 * read (a usage error), OKGSQ_INVALID_INPUT when it is not YAML or holds no single GameServerSet.
 */
export async function loadGameServerSet(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new OkgSqError(ERROR_CODES.INVALID_OPTION, `${file}: cannot read: ${reason}`, { cause: err });
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: not a YAML document`);
  const sets: unknown[] = [];
  for (const [index, doc] of docs.entries()) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const where = error.linePos?.[0] !== undefined ? `line ${error.linePos[0].line}: ` : '';
      throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: document ${index + 1}: invalid YAML: ${where}${error.message.split('\n')[0]}`, { cause: error });
    }
    const value: unknown = doc.toJS();
    if (value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === GAME_SERVER_SET_KIND) sets.push(value);
  }
  if (sets.length === 0) throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: no document of kind ${GAME_SERVER_SET_KIND}`);
  if (sets.length > 1) {
    throw new OkgSqError(ERROR_CODES.INVALID_INPUT, `${file}: holds ${sets.length} GameServerSets; okg-sq local runs one at a time (split the file)`);
  }
  return sets[0];
}
