// PURE: the subset of Go text/template that OKG renders in opsState, priorities, label and annotation
// values (kruise-game pkg/util/template.go: data `{.Result}`, funcs eq ne lt le gt ge, plus Go's builtins
// and/or/not). Same output as Go for everything in the subset; anything outside it is a parse error here,
// so it renders as the original string (what OKG does on its own parse errors) and `okg-sq check` flags it.
//
// Subset: text; {{.Result}}; string ("…", `…`), decimal integer and true/false literals; calls of
// eq ne lt le gt ge and or not, with ( … ) sub-expressions; {{if}} {{else if}} {{else}} {{end}};
// comments {{/* … */}}; trim markers {{- and -}}.

/** Templates longer than this are not parsed (rendered unchanged): bounds the work on hostile input. */
export const MAX_TEMPLATE_LENGTH = 64 * 1024;
/** Nesting bound for if-blocks and parentheses, so recursion stays shallow. */
const MAX_NESTING = 32;

type Value = string | number | boolean;

type Expr =
  | { readonly t: 'field'; readonly name: string }
  | { readonly t: 'const'; readonly v: Value }
  | { readonly t: 'call'; readonly fn: FuncName; readonly args: readonly Expr[] }
  /** Valid for Go's parser but fails when executed (only if that branch runs). */
  | { readonly t: 'fail'; readonly message: string };

type Node =
  | { readonly t: 'text'; readonly s: string }
  | { readonly t: 'print'; readonly e: Expr }
  | { readonly t: 'if'; readonly branches: readonly { cond: Expr; body: Node[] }[]; readonly otherwise: Node[] };

const FUNCS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not'] as const;
type FuncName = (typeof FUNCS)[number];
const isFunc = (s: string): s is FuncName => (FUNCS as readonly string[]).includes(s);
/** Functions Go's text/template knows but this subset does not implement. */
const UNSUPPORTED_BUILTINS = new Set(['len', 'index', 'print', 'printf', 'println', 'html', 'js', 'urlquery', 'slice', 'call']);
const UNSUPPORTED_KEYWORDS = new Set(['range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil']);

class TemplateSyntaxError extends Error {}
class TemplateExecError extends Error {}

const SPACE = ' \t\r\n';
const isSpace = (c: string | undefined): boolean => c !== undefined && c !== '' && SPACE.includes(c);
// Loops, not regexes: /\s+$/ backtracks quadratically on long runs of spaces in hostile input.
function trimRightSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1])) end--;
  return s.slice(0, end);
}
function trimLeftSpace(s: string): string {
  let start = 0;
  while (start < s.length && isSpace(s[start])) start++;
  return s.slice(start);
}

// ---------- lexing: split into text and actions ----------

type Token =
  | { readonly k: 'lparen' | 'rparen' }
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'int'; readonly v: number }
  | { readonly k: 'ident'; readonly v: string }
  | { readonly k: 'field'; readonly v: string };

interface Action {
  readonly tokens: Token[];
  readonly comment: boolean;
}

type Piece = { readonly text: string } | { readonly action: Action };

function lexAction(src: string, start: number): { tokens: Token[]; end: number; trimRight: boolean } {
  const tokens: Token[] = [];
  let i = start;
  for (;;) {
    if (i >= src.length) throw new TemplateSyntaxError('unclosed action');
    const c = src[i]!;
    if (isSpace(c)) {
      if (src[i + 1] === '-' && src.startsWith('}}', i + 2)) return { tokens, end: i + 4, trimRight: true };
      i++;
      continue;
    }
    if (src.startsWith('}}', i)) return { tokens, end: i + 2, trimRight: false };
    if (c === '(') { tokens.push({ k: 'lparen' }); i++; continue; }
    if (c === ')') { tokens.push({ k: 'rparen' }); i++; continue; }
    if (c === '"') {
      const { value, end } = lexQuoted(src, i);
      tokens.push({ k: 'str', v: value });
      i = end;
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) throw new TemplateSyntaxError('unterminated raw quoted string');
      tokens.push({ k: 'str', v: src.slice(i + 1, close).replace(/\r/g, '') });
      i = close + 1;
      continue;
    }
    const num = /^[+-]?[0-9][0-9A-Za-z_.]*/.exec(src.slice(i, i + 64));
    if (num && (c !== '+' && c !== '-' ? true : /[0-9]/.test(src[i + 1] ?? ''))) {
      if (!/^[+-]?(0|[1-9][0-9]*)$/.test(num[0])) throw new TemplateSyntaxError(`number ${num[0]} is outside the supported subset (decimal integers)`);
      const v = Number(num[0]);
      if (!Number.isSafeInteger(v)) throw new TemplateSyntaxError(`number ${num[0]} is too large`);
      tokens.push({ k: 'int', v });
      i += num[0].length;
      continue;
    }
    if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(src.slice(i, i + 256));
      if (!m) throw new TemplateSyntaxError('"." alone is outside the supported subset (use .Result)');
      tokens.push({ k: 'field', v: m[0].slice(1) });
      i += m[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 256));
    if (id) {
      tokens.push({ k: 'ident', v: id[0] });
      i += id[0].length;
      continue;
    }
    if (c === '|') throw new TemplateSyntaxError('pipelines with "|" are outside the supported subset');
    if (c === '$') throw new TemplateSyntaxError('variables are outside the supported subset');
    throw new TemplateSyntaxError(`unexpected ${JSON.stringify(c)} in action`);
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };

function lexQuoted(src: string, start: number): { value: string; end: number } {
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\n') break;
    if (c !== '\\') { out += c; i++; continue; }
    const e = src[i + 1];
    if (e !== undefined && e in SIMPLE_ESCAPES) { out += SIMPLE_ESCAPES[e]; i += 2; continue; }
    const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const digits = src.slice(i + 2, i + 2 + hex);
    if (hex === 0 || !/^[0-9A-Fa-f]+$/.test(digits) || digits.length !== hex) throw new TemplateSyntaxError('unsupported escape in quoted string');
    const code = parseInt(digits, 16);
    if (hex === 2 && code > 0x7f) throw new TemplateSyntaxError('\\x escapes above 0x7f are outside the supported subset');
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new TemplateSyntaxError('invalid escape in quoted string');
    out += String.fromCodePoint(code);
    i += 2 + hex;
  }
  throw new TemplateSyntaxError('unterminated quoted string');
}

function lex(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = trimLeftSpace(text);
    trimNext = false;
    if (open < 0) {
      if (text !== '') pieces.push({ text });
      break;
    }
    let p = open + 2;
    if (src[p] === '-' && isSpace(src[p + 1])) {
      text = trimRightSpace(text);
      p += 2;
    }
    if (text !== '') pieces.push({ text });
    if (src.startsWith('/*', p)) {
      const close = src.indexOf('*/', p + 2);
      if (close < 0) throw new TemplateSyntaxError('unclosed comment');
      let q = close + 2;
      if (isSpace(src[q]) && src[q + 1] === '-' && src.startsWith('}}', q + 2)) { trimNext = true; q += 4; }
      else if (src.startsWith('}}', q)) q += 2;
      else throw new TemplateSyntaxError('comment ends before closing delimiter');
      pieces.push({ action: { tokens: [], comment: true } });
      i = q;
      continue;
    }
    const { tokens, end, trimRight } = lexAction(src, p);
    trimNext = trimRight;
    pieces.push({ action: { tokens, comment: false } });
    i = end;
  }
  return pieces;
}

// ---------- parsing ----------

class Parser {
  #pieces: Piece[];
  #at = 0;
  #depth = 0;

  constructor(pieces: Piece[]) {
    this.#pieces = pieces;
  }

  parse(): Node[] {
    const { nodes, stop } = this.#list();
    if (stop !== undefined) throw new TemplateSyntaxError(`unexpected {{${stop}}}`);
    return nodes;
  }

  /** Nodes up to an {{else…}} or {{end}} (returned as `stop`, with its tokens) or the end of input. */
  #list(): { nodes: Node[]; stop?: 'else' | 'end'; rest?: Token[] } {
    const nodes: Node[] = [];
    while (this.#at < this.#pieces.length) {
      const piece = this.#pieces[this.#at++]!;
      if ('text' in piece) { nodes.push({ t: 'text', s: piece.text }); continue; }
      if (piece.action.comment) continue;
      const tokens = piece.action.tokens;
      const first = tokens[0];
      if (first === undefined) throw new TemplateSyntaxError('missing value for command');
      if (first.k === 'ident' && (first.v === 'end' || first.v === 'else')) {
        return { nodes, stop: first.v, rest: tokens.slice(1) };
      }
      if (first.k === 'ident' && first.v === 'if') { nodes.push(this.#if(tokens.slice(1))); continue; }
      nodes.push({ t: 'print', e: this.#pipeline(tokens) });
    }
    return { nodes };
  }

  #if(condTokens: Token[]): Node {
    if (++this.#depth > MAX_NESTING) throw new TemplateSyntaxError('if-blocks nested too deeply');
    const branches: { cond: Expr; body: Node[] }[] = [];
    let cond = condTokens;
    for (;;) {
      if (cond.length === 0) throw new TemplateSyntaxError('missing value for if');
      const expr = this.#pipeline(cond);
      const { nodes, stop, rest } = this.#list();
      branches.push({ cond: expr, body: nodes });
      if (stop === undefined) throw new TemplateSyntaxError('unexpected EOF: {{if}} without {{end}}');
      if (stop === 'end') {
        if (rest!.length > 0) throw new TemplateSyntaxError('unexpected tokens in {{end}}');
        this.#depth--;
        return { t: 'if', branches, otherwise: [] };
      }
      const head = rest![0];
      if (head === undefined) break;
      if (head.k === 'ident' && head.v === 'if') { cond = rest!.slice(1); continue; }
      if (head.k === 'ident' && head.v === 'with') throw new TemplateSyntaxError('{{else with}} is outside the supported subset');
      throw new TemplateSyntaxError('unexpected tokens in {{else}}');
    }
    const { nodes, stop, rest } = this.#list();
    if (stop !== 'end') throw new TemplateSyntaxError(stop === 'else' ? 'expected end; found {{else}}' : 'unexpected EOF: {{if}} without {{end}}');
    if (rest!.length > 0) throw new TemplateSyntaxError('unexpected tokens in {{end}}');
    this.#depth--;
    return { t: 'if', branches, otherwise: nodes };
  }

  /** A whole command: a function call with arguments, or one operand. */
  #pipeline(tokens: Token[]): Expr {
    const pos = { i: 0 };
    const expr = this.#command(tokens, pos, false);
    if (pos.i < tokens.length) throw new TemplateSyntaxError('unexpected ")" in command');
    return expr;
  }

  #command(tokens: Token[], pos: { i: number }, inParens: boolean): Expr {
    const operands: Expr[] = [];
    let fn: FuncName | undefined;
    while (pos.i < tokens.length) {
      const tok = tokens[pos.i]!;
      if (tok.k === 'rparen') break;
      if (operands.length === 0 && fn === undefined && tok.k === 'ident' && isFunc(tok.v)) {
        fn = tok.v;
        pos.i++;
        continue;
      }
      operands.push(this.#operand(tokens, pos));
    }
    if (inParens) {
      if (tokens[pos.i]?.k !== 'rparen') throw new TemplateSyntaxError('unclosed left paren');
      pos.i++;
    }
    if (fn !== undefined) return { t: 'call', fn, args: operands };
    if (operands.length === 0) throw new TemplateSyntaxError('missing value for command');
    if (operands.length > 1) return { t: 'fail', message: "can't give argument to non-function" };
    return operands[0]!;
  }

  #operand(tokens: Token[], pos: { i: number }): Expr {
    const tok = tokens[pos.i++]!;
    switch (tok.k) {
      case 'str':
      case 'int':
        return { t: 'const', v: tok.v };
      case 'field':
        return tok.v === 'Result'
          ? { t: 'field', name: 'Result' }
          : { t: 'fail', message: `can't evaluate field ${tok.v.split('.')[tok.v.startsWith('Result.') ? 1 : 0]}` };
      case 'lparen': {
        if (++this.#depth > MAX_NESTING) throw new TemplateSyntaxError('parentheses nested too deeply');
        const e = this.#command(tokens, pos, true);
        this.#depth--;
        return e;
      }
      case 'rparen':
        throw new TemplateSyntaxError('unexpected ")"');
      case 'ident':
        if (tok.v === 'true' || tok.v === 'false') return { t: 'const', v: tok.v === 'true' };
        if (isFunc(tok.v)) return { t: 'call', fn: tok.v, args: [] };
        if (UNSUPPORTED_BUILTINS.has(tok.v)) throw new TemplateSyntaxError(`function "${tok.v}" is outside the supported subset`);
        if (UNSUPPORTED_KEYWORDS.has(tok.v) || tok.v === 'if' || tok.v === 'else' || tok.v === 'end') {
          throw new TemplateSyntaxError(`"${tok.v}" is outside the supported subset here`);
        }
        throw new TemplateSyntaxError(`function "${tok.v}" not defined`);
    }
  }
}

// ---------- execution ----------

function truth(v: Value): boolean {
  return typeof v === 'string' ? v.length > 0 : typeof v === 'number' ? v !== 0 : v;
}

function print(v: Value): string {
  return typeof v === 'string' ? v : String(v);
}

/** Go's strconv.ParseFloat success for the inputs that matter: decimal, exponent, inf/nan; range errors fail. */
function goParseFloat(s: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (!/^[+-]?([0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9]+)?$/.test(s)) return undefined;
  if (s.includes('_')) return undefined; // Go only allows '_' in literals with a base prefix
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** Go compares strings bytewise in UTF-8, which is code point order (not JS's UTF-16 order). */
function compareGoStrings(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function compare(fn: 'lt' | 'le' | 'gt' | 'ge', a: Value, b: Value): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw new TemplateExecError(`wrong type for value in ${fn}; expected string`);
  }
  const x = goParseFloat(a);
  const y = goParseFloat(b);
  const d = x !== undefined && y !== undefined ? x - y : compareGoStrings(a, b);
  if (Number.isNaN(d)) return false;
  switch (fn) {
    case 'lt': return d < 0;
    case 'le': return d <= 0;
    case 'gt': return d > 0;
    case 'ge': return d >= 0;
  }
}

function evalExpr(e: Expr, result: string): Value {
  switch (e.t) {
    case 'field': return result;
    case 'const': return e.v;
    case 'fail': throw new TemplateExecError(e.message);
    case 'call': {
      const { fn, args } = e;
      if (fn === 'and' || fn === 'or') {
        if (args.length === 0) throw new TemplateExecError(`wrong number of args for ${fn}: want at least 1 got 0`);
        let v: Value = false;
        for (const arg of args) {
          v = evalExpr(arg, result);
          if (truth(v) === (fn === 'or')) return v; // short-circuit, returning the deciding value, as Go does
        }
        return v;
      }
      const want = fn === 'not' ? 1 : 2;
      if (args.length !== want) throw new TemplateExecError(`wrong number of args for ${fn}: want ${want} got ${args.length}`);
      const vals = args.map((a) => evalExpr(a, result));
      if (fn === 'not') return !truth(vals[0]!);
      if (fn === 'eq') return vals[0] === vals[1];
      if (fn === 'ne') return vals[0] !== vals[1];
      return compare(fn, vals[0]!, vals[1]!);
    }
  }
}

function execNodes(nodes: readonly Node[], result: string, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.s);
    else if (n.t === 'print') out.push(print(evalExpr(n.e, result)));
    else {
      const branch = n.branches.find((b) => truth(evalExpr(b.cond, result)));
      execNodes(branch ? branch.body : n.otherwise, result, out);
    }
  }
}

// ---------- public API ----------

type Parsed = { ok: true; nodes: Node[] } | { ok: false; error: string };

const cache = new Map<string, Parsed>();
/** Templates are few and repeat on every evaluation; a small cache keeps rendering cheap. */
const MAX_CACHED_TEMPLATES = 1024;
/** Longer templates are parsed each time rather than held: the cache stays small whatever the input. */
const MAX_CACHED_TEMPLATE_LENGTH = 4096;

function parseTemplate(tmpl: string): Parsed {
  const hit = cache.get(tmpl);
  if (hit) return hit;
  let parsed: Parsed;
  if (tmpl.length > MAX_TEMPLATE_LENGTH) parsed = { ok: false, error: `template longer than ${MAX_TEMPLATE_LENGTH} characters` };
  else {
    try {
      parsed = { ok: true, nodes: new Parser(lex(tmpl)).parse() };
    } catch (err) {
      parsed = { ok: false, error: err instanceof TemplateSyntaxError ? err.message : String(err) };
    }
  }
  if (tmpl.length <= MAX_CACHED_TEMPLATE_LENGTH) {
    if (cache.size >= MAX_CACHED_TEMPLATES) cache.clear();
    cache.set(tmpl, parsed);
  }
  return parsed;
}

/** Whether OKG would treat the string as a template at all (it checks for "{{" only). */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/** Renders like OKG's RenderTemplate: no "{{" → unchanged; a parse or execution error → unchanged. */
export function renderTemplate(tmpl: string, result: string): string {
  if (!isTemplate(tmpl)) return tmpl;
  const parsed = parseTemplate(tmpl);
  if (!parsed.ok) return tmpl;
  const out: string[] = [];
  try {
    execNodes(parsed.nodes, result, out);
  } catch (err) {
    if (err instanceof TemplateExecError) return tmpl;
    throw err;
  }
  return out.join('');
}

/** Why the template does not parse (in okg-sq's subset), or undefined when it does or is plain text. */
export function checkTemplate(tmpl: string): string | undefined {
  if (!isTemplate(tmpl)) return undefined;
  const parsed = parseTemplate(tmpl);
  return parsed.ok ? undefined : parsed.error;
}

/**
 * Execution errors that happen whatever the result is, found by trying a few results; undefined when none.
 * (Go reports these only when the branch runs; `okg-sq check` warns about them up front.)
 */
export function probeTemplateExecution(tmpl: string, sampleResults: readonly string[]): string | undefined {
  const parsed = parseTemplate(tmpl);
  if (!parsed.ok) return undefined;
  for (const result of sampleResults) {
    try {
      execNodes(parsed.nodes, result, []);
    } catch (err) {
      if (err instanceof TemplateExecError) return `${err.message} (with result ${JSON.stringify(result)})`;
      throw err;
    }
  }
  return undefined;
}

const INT32 = 32;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.Atoi (64-bit int), then intstr.FromInt's conversion to int32 (wrapping, as Go does). */
export function goAtoiToInt32(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text) || text.length > 40) return undefined;
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return Number(BigInt.asIntN(INT32, big));
}

export type PriorityParse = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly message: string };

/** OKG's ParseIntOrStringFromTemplate: render, then the rendered text must be an integer. */
export function parsePriorityTemplate(tmpl: string, result: string): PriorityParse {
  const rendered = renderTemplate(tmpl, result);
  if (rendered === '') return { ok: false, message: `rendered value is empty (template: ${tmpl}, result: ${result})` };
  const value = goAtoiToInt32(rendered);
  if (value === undefined) {
    return { ok: false, message: `priority value must be numeric, got: ${rendered} (template: ${tmpl}, probe result: ${result})` };
  }
  return { ok: true, value };
}
