// A node label selector from an option string: `k=v,k2=v2` (equality) and `k` (exists), ANDed.
// An empty string selects nothing: agentless probing is opt-in per node label.
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';

export type LabelSelector = (labels: Readonly<Record<string, string>> | undefined) => boolean;

const KEY = /^([a-zA-Z0-9.\-/_]+)$/;

export function labelSelector(text: string, optionName: string): LabelSelector {
  const trimmed = text.trim();
  if (trimmed === '') return () => false;
  const terms = trimmed.split(',').map((term) => {
    const [key = '', value, ...rest] = term.split('=').map((s) => s.trim());
    if (!KEY.test(key) || rest.length > 0) {
      throw new OkgSqError(ERROR_CODES.INVALID_OPTION, `${optionName}: bad selector term ${JSON.stringify(term)} in ${JSON.stringify(text)} (want k=v or k, comma-separated)`);
    }
    return { key, value };
  });
  return (labels) => terms.every((t) => labels !== undefined && (t.value === undefined ? t.key in labels : labels[t.key] === t.value));
}
