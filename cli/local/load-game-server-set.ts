// Reads the one GameServerSet `okg-sq local` runs from a YAML (or JSON) file, with the same reader
// (size cap, syntax errors with file:line:col) as `okg-sq check`.
import { kindOf, readYamlDocuments, type SourcePosition } from '../yaml-documents.js';

const GAME_SERVER_SET_KIND = 'GameServerSet';

export type LoadedSet =
  | {
      readonly kind: 'ok';
      readonly gss: unknown;
      /** Where a field path of the set is in the file, for problems printed as `okg-sq check` prints them. */
      readonly positionOf: (path: string) => SourcePosition;
    }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * The file's GameServerSet. Unreadable input (missing file, YAML syntax error, too large) throws
 * OkgSqError OKGSQ_INVALID_INPUT, as for `okg-sq check`; a file without exactly one GameServerSet
 * is `invalid`.
 */
export async function loadGameServerSet(file: string): Promise<LoadedSet> {
  const docs = await readYamlDocuments(file);
  const sets = docs.filter((d) => kindOf(d.value) === GAME_SERVER_SET_KIND);
  const [first] = sets;
  if (first === undefined) return { kind: 'invalid', message: `${file}: no document of kind ${GAME_SERVER_SET_KIND}` };
  if (sets.length > 1) {
    return {
      kind: 'invalid',
      message: `${file}: holds ${sets.length} GameServerSets (documents ${sets.map((s) => s.index).join(', ')}); okg-sq local runs one at a time`,
    };
  }
  return { kind: 'ok', gss: first.value, positionOf: first.positionOf };
}
