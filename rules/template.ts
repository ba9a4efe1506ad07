// PURE: OKG's templates (kruise-game pkg/util/template.go) as OKG renders them: Go's text/template with
// OKG's functions (eq ne lt le gt ge) and Go's builtins, executed on util.TemplateContext{Result}, in
// opsState, priorities, label and annotation values; then priorities through strconv.Atoi and an int32
// conversion. The engine is in ./template/ (lexer, parser, executor, Go's fmt and strconv). Checked
// against kruise-game's own code on generated cases (test/okg-oracle, docs/design.md "Templates and
// numbers: parity with OKG").
//
// One deliberate difference: where OKG's rendering fails (a parse or execution error) it writes the
// template's own text as the value; okg-sq refuses instead (renderField says why), and refuses templates
// beyond its bounds on hostile input (length, nesting, steps, output size).
import { TemplateBoundsError, TemplateExecError, TemplateParseError } from './template/errors.js';
import { execute, type ExecLimits } from './template/executor.js';
import { atoi } from './template/go-atoi.js';
import { fromBytes, toBytes } from './template/go-bytes.js';
import { parse, type TemplateSet } from './template/parser.js';

/** Templates longer than this are refused unparsed: bounds the work on hostile input. */
export const MAX_TEMPLATE_LENGTH = 64 * 1024;
/**
 * A rendered value (and any string a function makes) longer than this is refused: Kubernetes refuses
 * annotations past 256 KiB in total, labels past 63 characters, so nothing longer could be written.
 */
export const MAX_RENDERED_BYTES = 256 * 1024;

const LIMITS: ExecLimits = { maxSteps: 50_000, maxDepth: 500, maxBytes: MAX_RENDERED_BYTES, maxProducedBytes: 4 * MAX_RENDERED_BYTES };

type Parsed = { readonly ok: true; readonly set: TemplateSet } | { readonly ok: false; readonly error: string };

/** Parsed templates by text: they are few and repeat on every evaluation. Bounded in count and size. */
const cache = new Map<string, Parsed>();
const MAX_CACHED_TEMPLATES = 1024;
const MAX_CACHED_CHARS = 4 * 1024 * 1024;
let cachedChars = 0;

function parseCached(tmpl: string): Parsed {
  const hit = cache.get(tmpl);
  if (hit !== undefined) return hit;
  let parsed: Parsed;
  if (tmpl.length > MAX_TEMPLATE_LENGTH) parsed = { ok: false, error: `template longer than ${MAX_TEMPLATE_LENGTH} characters` };
  else {
    try {
      parsed = { ok: true, set: parse(toBytes(tmpl)) };
    } catch (err) {
      parsed = { ok: false, error: failureReason(err) };
    }
  }
  while (cache.size >= MAX_CACHED_TEMPLATES || (cache.size > 0 && cachedChars + tmpl.length > MAX_CACHED_CHARS)) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
    cachedChars -= oldest.length;
  }
  cache.set(tmpl, parsed);
  cachedChars += tmpl.length;
  return parsed;
}

function failureReason(err: unknown): string {
  if (err instanceof TemplateParseError) return err.message;
  if (err instanceof TemplateExecError) return `execution fails: ${err.message}`;
  if (err instanceof TemplateBoundsError) return `beyond okg-sq's bounds: ${err.message}`;
  if (err instanceof RangeError) return "beyond okg-sq's bounds: too deeply nested";
  throw err; // a bug: let it show
}

/** The rendered bytes, or why rendering fails (parse error, execution error, bounds). */
type Outcome = { readonly ok: true; readonly bytes: string } | { readonly ok: false; readonly reason: string };

function run(tmpl: string, result: string): Outcome {
  const parsed = parseCached(tmpl);
  if (!parsed.ok) return { ok: false, reason: parsed.error };
  try {
    return { ok: true, bytes: execute(parsed.set, toBytes(result), LIMITS) };
  } catch (err) {
    return { ok: false, reason: failureReason(err) };
  }
}

/** Whether OKG treats the text as a template at all (it looks for "{{" only). */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

export type Rendered = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/**
 * okg-sq's rendering of an opsState, label or annotation value: text without "{{" as is; a template
 * rendered as OKG renders it, or why it fails (where OKG would write the template's own text).
 */
export function renderField(tmpl: string, result: string): Rendered {
  if (!isTemplate(tmpl)) return { ok: true, value: tmpl };
  const o = run(tmpl, result);
  return o.ok ? { ok: true, value: fromBytes(o.bytes) } : o;
}

/** Exactly OKG's RenderTemplate: the rendered value, or the template's own text when rendering fails. */
export function renderTemplate(tmpl: string, result: string): string {
  if (!isTemplate(tmpl)) return tmpl;
  const o = run(tmpl, result);
  return o.ok ? fromBytes(o.bytes) : tmpl;
}

/**
 * RenderTemplate's bytes (a Go string need not be UTF-8: slicing can cut a character), for comparing
 * with Go byte for byte; undefined where OKG would return the template's own text.
 */
export function renderTemplateBytes(tmpl: string, result: string): string | undefined {
  if (!isTemplate(tmpl)) return toBytes(tmpl);
  const o = run(tmpl, result);
  return o.ok ? o.bytes : undefined;
}

/** Why the template does not parse (or is beyond okg-sq's bounds), or undefined when it does or is plain text. */
export function checkTemplate(tmpl: string): string | undefined {
  if (!isTemplate(tmpl)) return undefined;
  const parsed = parseCached(tmpl);
  return parsed.ok ? undefined : parsed.error;
}

/**
 * The first failure executing the template on these results; undefined when it renders for all of them.
 * (Go reports execution errors only when the branch runs; `okg-sq check` warns about them up front.)
 */
export function probeTemplateExecution(tmpl: string, sampleResults: readonly string[]): string | undefined {
  if (!isTemplate(tmpl) || !parseCached(tmpl).ok) return undefined;
  for (const result of sampleResults) {
    const o = run(tmpl, result);
    if (!o.ok) return `${o.reason} (with result ${JSON.stringify(result)})`;
  }
  return undefined;
}

/**
 * Go's strconv.Atoi (int is 64 bits: any number of leading zeros, a sign, no '_' or spaces, within int64),
 * then intstr.FromInt's int32 conversion, which wraps (4294967297 → 1) as Go's int32() does.
 */
export function goAtoiToInt32(text: string): number | undefined {
  const v = atoi(text);
  return v === undefined ? undefined : Number(BigInt.asIntN(32, v));
}

export type PriorityParse = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly message: string };

/**
 * OKG's ParseIntOrStringFromTemplate: render, then the rendered text must be an integer. A failed render
 * fails here too (OKG gets the template's text, which is no integer), with the reason.
 */
export function parsePriorityTemplate(tmpl: string, result: string): PriorityParse {
  const r = renderField(tmpl, result);
  if (!r.ok) return { ok: false, message: `template does not render: ${r.reason} (template: ${tmpl}, probe result: ${result})` };
  if (r.value === '') return { ok: false, message: `rendered value is empty (template: ${tmpl}, result: ${result})` };
  const value = goAtoiToInt32(r.value);
  if (value === undefined) {
    return { ok: false, message: `priority value must be numeric, got: ${r.value} (template: ${tmpl}, probe result: ${result})` };
  }
  return { ok: true, value };
}
