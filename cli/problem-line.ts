// One problem of a GameServerSet as `okg-sq check` (and `okg-sq local`, before it runs) prints it:
// file:LINE:COL: severity: path: message [Code], the position being where the field is in the file, so
// editors and CI annotations jump to it.
import type { SourcePosition } from './yaml-documents.js';

export function formatProblemLine(file: string, at: SourcePosition, p: { readonly severity: string; readonly path: string; readonly message: string; readonly code: string }): string {
  return `${file}:${at.line}:${at.column}: ${p.severity}: ${p.path}: ${p.message} [${p.code}]\n`;
}
