// PURE: the functions a template running in OKG can call: OKG's own comparisons (they replace Go's
// builtin eq ne lt le gt ge: eq/ne compare two values with Go's ==, lt/le/gt/ge take two strings and
// compare them as float64 when both parse with strconv.ParseFloat, else bytewise) and Go's builtins
// (and, or and call are special forms handled by the executor).
import { TemplateExecError } from './errors.js';
import { parseFloat64 } from './go-atof.js';
import { decodeRune } from './go-bytes.js';
import { sprint, sprintf, sprintln } from './go-fmt.js';
import { isPrint } from './go-quote.js';
import { goEqual, goInt, truth, typeName, type GoValue } from './values.js';

/** How an argument is evaluated: Go `string` parameters take only strings; the others take anything. */
export type ParamType = 'string' | 'any';

export interface GoFunction {
  readonly fixed: readonly ParamType[];
  /** The type of the ... parameter, if the function is variadic. */
  readonly variadic?: ParamType;
  readonly call: (args: readonly GoValue[], maxBytes: number) => GoValue;
}

const fail = (message: string): never => {
  throw new TemplateExecError(message);
};

function compareStrings(op: 'lt' | 'le' | 'gt' | 'ge'): GoFunction {
  return {
    fixed: ['string', 'string'],
    call: (args) => {
      const a = args[0] as string;
      const b = args[1] as string;
      const x = parseFloat64(a);
      const y = parseFloat64(b);
      if (x !== undefined && y !== undefined) {
        // float comparison as Go's: NaN compares false; equal infinities are equal
        switch (op) {
          case 'lt': return x < y;
          case 'le': return x <= y;
          case 'gt': return x > y;
          case 'ge': return x >= y;
        }
      }
      // bytewise (byte strings compare like Go's UTF-8 strings)
      switch (op) {
        case 'lt': return a < b;
        case 'le': return a <= b;
        case 'gt': return a > b;
        case 'ge': return a >= b;
      }
    },
  };
}

/** An int or uint8 index within [0, cap], as text/template's indexArg. */
function indexArg(v: GoValue, cap: number): number {
  if (v === null) return fail('cannot index slice/array with nil');
  if (typeof v !== 'object' || (v.t !== 'int' && v.t !== 'uint8')) return fail(`cannot index slice/array with type ${typeName(v)}`);
  const x = Number(v.v);
  if (x < 0 || x > cap) fail(`index out of range: ${v.v}`);
  return x;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '\0': '\xef\xbf\xbd', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' };

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => HTML_ESCAPES[c]!);
}

const JS_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };

function jsEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = c.charCodeAt(0);
    if (code < 0x80) {
      const e = JS_ESCAPES[c];
      if (e !== undefined) out += e;
      else if (code < 0x20) out += `\\u00${code.toString(16).toUpperCase().padStart(2, '0')}`;
      else out += c;
      continue;
    }
    const { r, w } = decodeRune(s, i);
    out += isPrint(r) ? s.slice(i, i + w) : `\\u${r.toString(16).toUpperCase().padStart(4, '0')}`;
    i += w - 1;
  }
  return out;
}

function urlQueryEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The escapers' argument handling (text/template's evalArgs): one string as is, else Sprint; nil is "<no value>". */
function escaperInput(args: readonly GoValue[], maxBytes: number): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null ? '<no value>' : a)), maxBytes);
}

export const FUNCTIONS: ReadonlyMap<string, GoFunction> = new Map<string, GoFunction>([
  ['eq', { fixed: ['any', 'any'], call: (args) => goEqual(args[0]!, args[1]!) }],
  ['ne', { fixed: ['any', 'any'], call: (args) => !goEqual(args[0]!, args[1]!) }],
  ['lt', compareStrings('lt')],
  ['le', compareStrings('le')],
  ['gt', compareStrings('gt')],
  ['ge', compareStrings('ge')],
  ['not', { fixed: ['any'], call: ([a]) => !truth(a!) }],
  ['len', {
    fixed: ['any'],
    call: ([a]) => (typeof a === 'string' ? goInt(BigInt(a.length)) : fail(`len of ${a === null ? 'nil' : `type ${typeName(a!)}`}`)),
  }],
  ['index', {
    fixed: ['any'],
    variadic: 'any',
    call: ([item, ...indexes]) => {
      if (item === null) return fail('index of untyped nil');
      let v: GoValue = item!;
      for (const ix of indexes) {
        if (typeof v !== 'string') return fail(`can't index item of type ${typeName(v!)}`);
        const x = indexArg(ix!, v.length);
        if (x >= v.length) fail(`index out of range: ${x}`);
        v = { t: 'uint8', v: v.charCodeAt(x) };
      }
      return v;
    },
  }],
  ['slice', {
    fixed: ['any'],
    variadic: 'any',
    call: ([item, ...indexes]) => {
      if (item === null) return fail('slice of untyped nil');
      if (indexes.length > 3) fail(`too many slice indexes: ${indexes.length}`);
      if (typeof item !== 'string') return fail(`can't slice item of type ${typeName(item!)}`);
      if (indexes.length === 3) fail('cannot 3-index slice a string');
      const idx = [0, item.length];
      indexes.forEach((ix, i) => (idx[i] = indexArg(ix!, item.length)));
      if (idx[0]! > idx[1]!) fail(`invalid slice index: ${idx[0]} > ${idx[1]}`);
      return item.slice(idx[0], idx[1]);
    },
  }],
  ['print', { fixed: [], variadic: 'any', call: (args, max) => sprint(args, max) }],
  ['println', { fixed: [], variadic: 'any', call: (args, max) => sprintln(args, max) }],
  ['printf', { fixed: ['string'], variadic: 'any', call: ([format, ...args], max) => sprintf(format as string, args, max) }],
  ['html', { fixed: [], variadic: 'any', call: (args, max) => htmlEscape(escaperInput(args, max)) }],
  ['js', { fixed: [], variadic: 'any', call: (args, max) => jsEscape(escaperInput(args, max)) }],
  ['urlquery', { fixed: [], variadic: 'any', call: (args, max) => urlQueryEscape(escaperInput(args, max)) }],
  // nothing a template holds in OKG is a function
  ['call', { fixed: ['any'], variadic: 'any', call: ([fn]) => fail(fn === null ? 'call of nil' : `non-function of type ${typeName(fn!)}`) }],
]);
