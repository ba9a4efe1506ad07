// Probe output is untrusted: any bytes, any size. This is the one place that turns it into the
// `result` string OKG compares, so the agent, the decider and the local mode agree byte for byte.

/** OKG strips these from a pod condition's message before comparing it with an action's result. */
const OKG_STRIPPED = /[|\n]/g;

/** The largest result kept, in UTF-8 bytes. */
export const MAX_RESULT_BYTES = 1024;

/** How much raw output a runner reads before it stops listening (the rest is discarded). */
export const MAX_OUTPUT_BYTES = 64 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/** Removes every `|` and `\n`, exactly as OKG does (nothing else is trimmed). */
export function stripOkgSeparators(text: string): string {
  return text.replace(OKG_STRIPPED, '');
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function capUtf8(text: string, maxBytes = MAX_RESULT_BYTES): string {
  if (text.length <= maxBytes / 4) return text; // fast path: cannot exceed the cap
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

/** Raw probe output (bytes or text) → the result string: invalid UTF-8 replaced, normalised, capped. */
export function normaliseResult(output: Uint8Array | string): string {
  const text = typeof output === 'string' ? output : decoder.decode(output);
  return capUtf8(stripOkgSeparators(text));
}
