// Seeded generator of template × result cases for the OKG oracle (test/okg-oracle/README.md): random
// templates over the whole of Go's text/template grammar as OKG runs it (actions, pipelines, variables,
// if/with/range/define/template/block, every kind of constant, OKG's functions and Go's builtins, printf
// formats with every verb and flag, trim markers, comments, and small mutations that break them), each
// with probe results chosen to hit Go's number grammar (leading zeros, 50-digit numbers, underscores,
// hex floats, inf/nan spellings, signs, huge and tiny exponents, int32/int64 edges), unicode and junk.
// Hand-picked cases (the issue's, and the 1,140 earlier goldens) come first.
//   node dist/test/okg-oracle/generate-cases.js [--seed 17] [--templates 3000] [--results 5] [--chains 400] > cases.jsonl
// Also outputs syncServiceQualities chains: a set's qualities, a GameServer and a few steps of pod
// conditions (statuses Go's ParseBool reads or not, results with '|' and newlines OKG strips).
import { parseArgs } from 'node:util';

/** mulberry32: small, seeded, the same sequence everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let x = this.next() * total;
    for (const [w, v] of items) {
      if ((x -= w) < 0) return v;
    }
    return items[items.length - 1]![1];
  }
  digits(n: number, alphabet = '0123456789'): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

// ---------- numbers and results ----------

const SPECIALS = ['inf', 'Inf', 'INF', 'infinity', 'Infinity', 'INFINITY', 'iNfInItY', 'nan', 'NaN', 'NAN', 'infin', 'infinityx', 'nanx', 'in', 'na'];
const JUNK = ['', ' ', ' 1', '1 ', '1a', 'a1', '+', '-', '.', '..', 'e5', '1e', '1e+', '1e-', '0x', '0x1', '0x.p1', '0xp1', '1__0', '_1', '1_', '1_.5', '1._5', '0x_1p0', '0_7', '1e_5', '1e5_0', '--1', '+-1', '1.2.3', '١٢٣', '１２３', '0b101', '0o17', '0B1', '1,000', '1 000', '\t1', '0x1p', '0x1p+', '0X1P-2'];

function signed(rng: Rng, s: string): string {
  return rng.weighted([[6, ''], [2, '-'], [2, '+']] as const) + s;
}

/** Text Go's ParseFloat / Atoi might accept, or almost. */
export function numberText(rng: Rng): string {
  const kind = rng.weighted([
    [4, 'int'], [3, 'float'], [2, 'hex'], [2, 'special'], [2, 'edge'], [1, 'long'], [2, 'js'], [2, 'junk'], [1, 'underscore'],
  ] as const);
  switch (kind) {
    case 'int': {
      const zeros = rng.chance(0.3) ? '0'.repeat(rng.int(rng.chance(0.2) ? 60 : 5)) : '';
      return signed(rng, zeros + rng.digits(1 + rng.int(rng.chance(0.2) ? 25 : 6)));
    }
    case 'float': {
      const intPart = rng.chance(0.8) ? rng.digits(rng.int(6)) : '';
      const frac = rng.chance(0.7) ? '.' + rng.digits(rng.int(8)) : '';
      const exp = rng.chance(0.5) ? rng.pick(['e', 'E']) + rng.pick(['', '+', '-']) + String(rng.pick([0, 1, 5, 21, 22, 307, 308, 309, 323, 324, 325, 400, 9999, 10000, 99999, rng.int(50)])) : '';
      return signed(rng, (intPart || (frac ? '' : '0')) + frac + exp);
    }
    case 'hex': {
      const mant = rng.digits(rng.int(rng.chance(0.2) ? 20 : 5), '0123456789abcdefABCDEF') || '1';
      const frac = rng.chance(0.4) ? '.' + rng.digits(rng.int(4), '0123456789abcdef') : '';
      const exp = rng.chance(0.9) ? rng.pick(['p', 'P']) + rng.pick(['', '+', '-']) + String(rng.pick([0, 1, 4, 52, 1022, 1023, 1024, 1074, 1075, 1080, rng.int(40)])) : '';
      return signed(rng, rng.pick(['0x', '0X']) + mant + frac + exp);
    }
    case 'special': return rng.weighted([[3, ''], [2, '+'], [2, '-']] as const) + rng.pick(SPECIALS);
    case 'edge': {
      const base = rng.pick([2n ** 31n, 2n ** 32n, 2n ** 63n, 2n ** 64n, 2n ** 53n, 10n ** 18n, 10n ** 19n]);
      const v = base + BigInt(rng.int(5) - 2);
      return signed(rng, (rng.chance(0.2) ? '000' : '') + v.toString());
    }
    case 'long': {
      // long mantissas, some around float64 halfway points
      const pick = rng.int(4);
      if (pick === 0) return '9007199254740993' + '0'.repeat(rng.int(30)) + (rng.chance(0.5) ? '1' : '');
      if (pick === 1) return '0.' + '0'.repeat(rng.int(320)) + rng.digits(1 + rng.int(40));
      if (pick === 2) return '1' + rng.digits(rng.chance(0.2) ? 780 + rng.int(60) : 20 + rng.int(60)) + (rng.chance(0.5) ? 'e-' + rng.int(900) : '');
      return '2.2250738585072011' + rng.digits(rng.int(40)) + 'e-308';
    }
    case 'js': {
      const x = (rng.next() - 0.5) * 10 ** (rng.int(40) - 20);
      return rng.pick([String(x), x.toExponential(rng.int(18)), x.toFixed(rng.int(10)), x.toPrecision(1 + rng.int(20))]);
    }
    case 'junk': return rng.pick(JUNK);
    case 'underscore': {
      const groups = Array.from({ length: 1 + rng.int(4) }, () => rng.digits(1 + rng.int(3)));
      return signed(rng, groups.join(rng.pick(['_', '_', '__'])) + (rng.chance(0.3) ? '.5' : '') + (rng.chance(0.2) ? 'e1_0' : ''));
    }
  }
}

const WORDS = ['idle', 'busy', 'gate', 'ok', 'WaitToBeDeleted', 'Allocated', 'None', 'Maintaining', 'SERVING', 'NOT_SERVING', 'true', 'false', 'True', 'a', 'b', 'B', 'x', 'zz'];
const ODD = [
  'é', 'e\u0301', '日本語', '😀', '\u00a0', '\u2028', '\ufeff', '\u00ad', '\u0085', 'ß', 'İ', '\u200b', '\u{10ffff}', '\ufffd',
  '\t', 'a\tb', '\x01', '\x7f', '\r', ' a ', '<a href="x">&amp;</a>', "it's", 'a"b', 'a\\b', 'a=b&c d', '%d', '%!', '{{.Result}}', '}}', '`', '$x',
];

export function resultText(rng: Rng): string {
  const kind = rng.weighted([[9, 'number'], [3, 'word'], [3, 'odd'], [1, 'mixed'], [1, 'long'], [1, 'separator']] as const);
  switch (kind) {
    case 'number': return numberText(rng);
    case 'word': return rng.pick(WORDS);
    case 'odd': return rng.pick(ODD);
    case 'mixed': return rng.pick(WORDS) + rng.pick(ODD) + numberText(rng);
    case 'long': return rng.pick(['x', 'é', '1', 'ab ']).repeat(1 + rng.int(rng.chance(0.1) ? 340 : 40)).slice(0, 1020);
    case 'separator': return rng.pick(['a|b', 'a\nb', '|', '\n', '1|2']); // OKG strips these before rendering; RenderTemplate itself does not
  }
}

// ---------- templates ----------

const VARS = ['$x', '$y', '$n', '$é'];
const CONSTANTS = [
  '007', '0x10', '0X1F', '1.5', '1e3', '1E-3', '1_000', '0b101', '0o17', '017', '08', '09.5', '1i', '2.5i', '0i', '1+2i', '1.5-2e1i', '0x1p4+1i',
  '1_0+2i', '0x1+2i', '0x1p4', '0x1P-2', '-0x1e', '+0x1e', '0x1e', '0x1E', '9223372036854775807', '9223372036854775808', '-9223372036854775808',
  '18446744073709551615', '18446744073709551616', '1e400', '1e-400', '.5', '5.', '-5', '+5', '-0', '0', '1', '42', '255', '256', '-1', '65',
  "'a'", "'\\n'", "'é'", "'\\x80'", "'\\u00e9'", "'\\U0001F600'", "'\\''", "'\"'", "'\\377'", "'ab'", "''", "'\\400'", '1__0', '0_7', '0x_1', '1e', '0x', '-',
  '3.14159265358979323846', '1e21', '1e20', '123456789.0', '0.000001', '0.0000001', '100000.0', '1000000.0', '2.5', '0.5', '1e308', '1.7976931348623157e308',
  '4.9e-324', '5e-324', '0x1p-1074', '0x1.fffffffffffffp1023', '0x1.8p1', '1.0', '-1.5', '1e+06', '9007199254740993', '0.1', '0.3', '1_000.5', '0x1_0p0',
];
const STRINGS = [
  '"a"', '"b"', '"idle"', '"busy"', '"10"', '"5"', '"9"', '"1e3"', '"1_000"', '"0x1p4"', '"Inf"', '"+Inf"', '"-inf"', '"NaN"', '"+nan"', '""', '" "',
  '"é"', '"日本"', '"\\u00e9"', '"\\xff"', '"\\x41"', '"\\101"', '"\\t"', '"\\n"', '"a\\"b"', '"\\\\"', '"<&>"', '"%"', '"%d"',
  '`raw`', '`a\\nb`', '`"q"`', '``', '"\\U0001F600"', '"\\a\\b\\f\\v"', '"2147483648"', '"-2147483649"', '"4294967297"',
  '"0000000000000000000000000000000000000000000000000007"', '"1e400"', '"1e-400"',
];
/** String literals Go's parser refuses. */
const BAD_STRINGS = ['"\\z"', '"\\400"', '"\\\'"', '"\\x4"', '"\\u12"', '"\\ud800"'];
const VERBS = ['v', 'v', 'd', 's', 'q', 'x', 'X', 'o', 'O', 'b', 'c', 'U', 'e', 'E', 'f', 'F', 'g', 'G', 't', 'T', 'p', 'w', '!', 'é', '%'];

function printfFormat(rng: Rng): string {
  let f = '';
  const parts = 1 + rng.int(3);
  for (let i = 0; i < parts; i++) {
    if (rng.chance(0.4)) f += rng.pick(['', 'x=', ' ', 'é', '[', ']', 'a%%b', '|', '\\n']);
    let spec = '%';
    for (const flag of ['+', '-', '#', ' ', '0']) if (rng.chance(0.12)) spec += flag;
    if (rng.chance(0.08)) spec += `[${rng.int(4)}]`;
    if (rng.chance(0.3)) spec += rng.chance(0.15) ? '*' : String(rng.int(rng.chance(0.1) ? 30 : 12));
    if (rng.chance(0.3)) spec += '.' + (rng.chance(0.15) ? '*' : rng.chance(0.1) ? '' : String(rng.int(rng.chance(0.1) ? 25 : 8)));
    if (rng.chance(0.05)) spec += `[${rng.int(4)}]`;
    spec += rng.chance(0.03) ? '' : rng.pick(VERBS);
    f += spec;
  }
  return JSON.stringify(f).replace(/\\\\n/g, '\\n');
}

class TemplateGen {
  private defines: string[] = [];
  constructor(private readonly rng: Rng) {}

  private sp(): string {
    return this.rng.weighted([[10, ' '], [1, '  '], [1, '\t'], [1, '\n']] as const);
  }

  private text(): string {
    const r = this.rng;
    return r.weighted([
      [6, r.pick(WORDS)], [2, ' '], [2, '\n  '], [1, r.pick(ODD)], [1, '-'], [1, '{'], [1, '}'], [1, r.pick(WORDS) + ' \t\n'], [1, ' \n ' + r.pick(WORDS)],
    ] as const);
  }

  operand(depth: number, vars: readonly string[]): string {
    const r = this.rng;
    const choice = r.weighted([
      [12, 'result'], [3, 'dot'], [2, 'dollar'], [3, 'var'], [6, 'string'], [6, 'constant'], [2, 'bool'], [1, 'nil'], [depth > 0 ? 4 : 0, 'paren'],
      [1, 'badfield'], [1, 'chain'], [1, 'ident'],
    ] as const);
    switch (choice) {
      case 'result': return r.pick(['.Result', '.Result', '$.Result', '.Result']);
      case 'dot': return '.';
      case 'dollar': return '$';
      case 'var': return vars.length > 0 ? r.pick(vars) + (r.chance(0.1) ? '.Result' : '') : '.Result';
      case 'string': return r.chance(0.05) ? r.pick(BAD_STRINGS) : r.pick(STRINGS);
      case 'constant': return r.pick(CONSTANTS);
      case 'bool': return r.pick(['true', 'false']);
      case 'nil': return 'nil';
      case 'paren': return `(${this.pipeline(depth - 1, vars, false)})`;
      case 'badfield': return r.pick(['.Foo', '.Result.Foo', '.result', '$.Foo', '.Result.Result']);
      case 'chain': return r.pick(['(.).Result', '($).Result', '(.Result).Foo', '(print).Foo']);
      case 'ident': return r.pick(['print', 'println', 'len', 'html']);
    }
  }

  private stringish(depth: number, vars: readonly string[]): string {
    const r = this.rng;
    return r.weighted([[8, '.Result'], [6, JSON.stringify(numberText(r))], [2, r.pick(STRINGS)], [1, this.operand(depth, vars)], [depth > 0 ? 1 : 0, `(printf ${printfFormat(r)} .Result)`]] as const);
  }

  private call(depth: number, vars: readonly string[]): string {
    const r = this.rng;
    const fn = r.weighted([
      [6, 'eq'], [2, 'ne'], [6, 'cmp'], [3, 'and'], [3, 'or'], [2, 'not'], [3, 'len'], [3, 'index'], [3, 'slice'], [3, 'print'], [2, 'println'],
      [8, 'printf'], [2, 'html'], [2, 'js'], [2, 'urlquery'], [1, 'call'],
    ] as const);
    const args = (n: number): string => Array.from({ length: n }, () => this.operand(depth, vars)).join(this.sp());
    const extra = (): string => (r.chance(0.05) ? this.sp() + this.operand(depth, vars) : '');
    switch (fn) {
      case 'eq': case 'ne': return `${fn} ${args(r.chance(0.95) ? 2 : r.int(4))}`;
      case 'cmp': return `${r.pick(['lt', 'le', 'gt', 'ge'])} ${this.stringish(depth, vars)} ${this.stringish(depth, vars)}${extra()}`;
      case 'and': case 'or': case 'print': case 'println': case 'html': case 'js': case 'urlquery': {
        const n = fn === 'and' || fn === 'or' ? (r.chance(0.95) ? 1 + r.int(3) : 0) : r.int(3);
        return n > 0 ? `${fn} ${args(n)}` : fn;
      }
      case 'not': case 'len': return `${fn} ${args(1)}${extra()}`;
      case 'index': case 'slice': {
        const idx = Array.from({ length: r.int(fn === 'slice' ? 4 : 3) }, () => r.pick(['0', '1', '2', '3', '-1', '100', "'a'", '(len .Result)', '1.0', '.Result', 'nil', '(index "ab" 0)']));
        return [fn, r.chance(0.85) ? '.Result' : this.operand(depth, vars), ...idx].join(' ');
      }
      case 'printf': return `printf ${r.chance(0.9) ? printfFormat(r) : this.operand(depth, vars)}${r.int(4) > 0 ? ' ' + args(1 + r.int(3)) : ''}`;
      case 'call': return `call${r.chance(0.7) ? ' ' + args(1 + r.int(2)) : ''}`;
    }
  }

  pipeline(depth: number, vars: readonly string[], top: boolean): string {
    const r = this.rng;
    let p = r.chance(0.75) ? this.call(depth, vars) : this.operand(depth, vars);
    const stages = r.weighted([[10, 0], [3, 1], [1, 2]] as const);
    for (let i = 0; i < stages; i++) {
      const stage = r.weighted([
        [4, `printf ${printfFormat(r)}`], [2, 'print'], [2, 'len'], [2, 'html'], [1, 'urlquery'], [2, `eq ${this.operand(depth, vars)}`], [1, 'not'],
        [1, `lt ${this.stringish(depth, vars)}`], [1, `and ${this.operand(depth, vars)}`], [1, `or ${this.operand(depth, vars)}`], [1, `index .Result`],
        [1, `slice .Result 1`], [1, '.Result'], [1, r.pick(['"x"', '1', '.', 'nil', 'true'])], [1, 'call'], [1, `${r.pick(vars.length > 0 ? vars : ['$'])}`],
      ] as const);
      p += `${r.chance(0.9) ? ' ' : ''}|${r.chance(0.9) ? ' ' : ''}${stage}`;
    }
    if (top && r.chance(0.03)) p += ' |';
    return p;
  }

  private delims(): [string, string] {
    const r = this.rng;
    return [r.chance(0.15) ? '{{- ' : r.chance(0.1) ? '{{ ' : '{{', r.chance(0.15) ? ' -}}' : r.chance(0.1) ? ' }}' : '}}'];
  }

  list(depth: number, vars: string[], inRange: boolean, n = 1 + this.rng.int(2)): string {
    let out = '';
    for (let i = 0; i < n; i++) out += this.item(depth, vars, inRange);
    return out;
  }

  private item(depth: number, vars: string[], inRange: boolean): string {
    const r = this.rng;
    const [open, close] = this.delims();
    const kind = r.weighted([
      [5, 'text'], [10, 'print'], [3, 'declare'], [1, 'assign'], [depth > 0 ? 5 : 0, 'if'], [depth > 0 ? 2 : 0, 'with'], [depth > 0 ? 1 : 0, 'range'],
      [this.defines.length > 0 ? 1 : 0, 'template'], [depth > 0 ? 0.5 : 0, 'block'], [1, 'comment'], [inRange ? 0.5 : 0, 'loopctl'],
    ] as const);
    switch (kind) {
      case 'text': return this.text();
      case 'print': return `${open}${this.pipeline(depth, vars, true)}${close}`;
      case 'declare': {
        const v = r.pick(VARS);
        const p = this.pipeline(depth, vars, true);
        vars.push(v);
        return `${open}${v}${r.chance(0.9) ? ' := ' : ':='}${p}${close}`;
      }
      case 'assign': return `${open}${vars.length > 0 && r.chance(0.8) ? r.pick(vars) : r.pick(VARS)} = ${this.pipeline(depth, vars, true)}${close}`;
      case 'if': case 'with': {
        const inner = [...vars];
        const decl = r.chance(0.15) ? `${r.pick(VARS)} := ` : '';
        if (decl) inner.push(decl.slice(0, -4));
        let s = `${open}${kind} ${decl}${this.pipeline(depth - 1, vars, false)}${close}${this.list(depth - 1, inner, inRange)}`;
        const elses = r.weighted([[3, 0], [3, 1], [1, 2]] as const);
        for (let i = 0; i < elses; i++) {
          const last = i === elses - 1 && r.chance(0.6);
          s += last ? `{{else}}${this.list(depth - 1, [...vars], inRange)}` : `{{else ${kind} ${this.pipeline(depth - 1, vars, false)}}}${this.list(depth - 1, [...vars], inRange)}`;
          if (last) break;
        }
        return `${s}{{end}}`;
      }
      case 'range': {
        const subject = r.pick(['and nil 1', 'or nil', '.', '.Result', '$x := and nil', '$i, $e := or nil', 'and nil', '1', '$', '.Foo']);
        const inner = [...vars, '$x', '$i', '$e'];
        return `${open}range ${subject}${close}${this.list(depth - 1, inner, true)}${r.chance(0.6) ? `{{else}}${this.list(depth - 1, [...vars], inRange)}` : ''}{{end}}`;
      }
      case 'template': {
        const arg = r.weighted([[2, ''], [3, ' .'], [3, ' .Result'], [1, ' ' + this.operand(depth, vars)]] as const);
        return `${open}template ${JSON.stringify(r.chance(0.95) ? r.pick(this.defines) : 'nosuch')}${arg}${close}`;
      }
      case 'block': {
        const name = `b${r.int(3)}`;
        this.defines.push(name);
        return `${open}block ${JSON.stringify(name)} ${r.pick(['.', '.Result', '$'])}${close}${this.list(depth - 1, [], false)}{{end}}`;
      }
      case 'comment': return r.weighted([[6, '{{/* c */}}'], [3, '{{- /* c */ -}}'], [2, '{{/* a\nb */}}'], [1, '{{/**/}}'], [1, '{{/* c */ }}'], [1, '{{ /* c */}}']] as const);
      case 'loopctl': return r.pick(['{{break}}', '{{continue}}']);
    }
  }

  template(): string {
    const r = this.rng;
    this.defines = [];
    let out = '';
    const defs = r.weighted([[8, 0], [2, 1], [1, 2]] as const);
    for (let i = 0; i < defs; i++) {
      const name = r.weighted([[4, 'a'], [4, 'b'], [1, 'field'], [2, 'x y']] as const);
      this.defines.push(name);
      out += `{{define ${r.chance(0.9) ? JSON.stringify(name) : '`' + name + '`'}}}${this.list(2, [], false)}{{end}}${r.chance(0.3) ? '\n' : ''}`;
    }
    out += this.list(3, [], false, 1 + r.int(2));
    return r.chance(0.06) ? this.mutate(out) : out;
  }

  /** A small edit that usually breaks the template somewhere. */
  private mutate(t: string): string {
    const r = this.rng;
    const at = r.int(t.length + 1);
    switch (r.int(3)) {
      case 0: return t.slice(0, at) + t.slice(at + 1);
      case 1: return t.slice(0, at) + r.pick(['{', '}', '(', ')', '"', '|', '$', '.', ' ', '-', ',', '=', ':', "'", '`']) + t.slice(at);
      default: return t.slice(0, at) + t.slice(at).replace(/\{\{|\}\}/, '');
    }
  }
}

// ---------- hand-picked ----------

/** The issue's cases (template × results, each with every result). */
const ISSUE_TEMPLATES = [
  '{{ .Result }}', '{{.Result}}', '{{$x := .Result}}{{$x}}', '{{.Result | printf "%q"}}', '{{ 007 }}', '{{0x10}}', '{{ 1.5 }}', "{{ 'a' }}", '{{len .Result}}',
  '{{with .Result}}{{.}}{{end}}', '{{if ge .Result "1e3"}}big{{else}}small{{end}}', '{{if gt .Result "5"}}gt5{{else}}le5{{end}}', '{{ge .Result .Result}}',
  '{{lt .Result "a"}}', '{{printf "%d" (len .Result)}}', '{{printf "%v %T" 1e3 1e3}}', '{{1e3}}', '{{1_000}}', '{{printf "%q" .Result}}', '{{.Result}}0',
  '-{{.Result}}', '00{{.Result}}', '{{printf "%08d" 42}}', '{{range 3}}x{{end}}', '{{/* c */}}{{- .Result -}}', '{{.Result |}}', '{{. | call}}',
];
const ISSUE_RESULTS = [
  '+' + '0'.repeat(48) + '7', '0'.repeat(50) + '7', '7', '1_000', '1e3', '1000', '0x1p4', '16', 'Inf', '+Inf', '-Inf', 'inf', 'infinity', '+nan', 'NaN', 'nan', '-nan',
  '4294967297', '2147483648', '-2147483649', '9223372036854775807', '9223372036854775808', '1', 't', 'TRUE', 'abc', '', 'é', '日本', '1e400', '-0',
];
/** The 1,140 earlier goldens (from Go's text/template with a copy of OKG's functions): every template × every result. */
const EARLIER_TEMPLATES = [
  '100', 'a \n {{- .Result}} \n b', 'a  {{- .Result -}}  b', 'a {{.Result -}} \n\t b', 'before {{- /* c */ -}} after', 'plain', 'x-{{.Result}}-y', '{{',
  '{{ ( eq .Result "a" ) }}', '{{ .Result }}', '{{ if eq .Result "gate" -}} \n GateMaintaining \n {{- end }}', '{{"a" "b"}}', '{{"esc\\t\\"q\\""}}', '{{"lit"}}',
  '{{(.Result)}}', '{{- .Result -}}', '{{-3}}', '{{.Foo}}', '{{.Result', '{{.Result.Foo}}', '{{.Result}}', '{{.Result}}0', '{{/* comment */}}after', '{{42}}',
  '{{`raw`}}', '{{and .Result "yes"}}', '{{else}}', '{{end}}', '{{eq "1" 1}}', '{{eq .Result "a" "b"}}', '{{eq .Result 5}}', '{{eq .Result}}', '{{eq 1 1}}',
  '{{false}}', '{{gt .Result "B"}}', '{{if .Result}}set{{else}}empty{{end}}', '{{if and (eq .Result "a") (ne .Result "b")}}ab{{end}}',
  '{{if eq .Result "1"}}one{{else if eq .Result "2"}}two{{else if eq .Result "3"}}three{{end}}', '{{if eq .Result "a"}}a{{else}}b{{else}}c{{end}}',
  '{{if eq .Result "a"}}x', '{{if eq .Result "a"}}{{if eq .Result "a"}}nested{{end}}{{end}}',
  '{{if eq .Result "idle"}}WaitToBeDeleted{{else if eq .Result "busy"}}Allocated{{else}}None{{end}}', '{{if eq .Result "idle"}}WaitToBeDeleted{{end}}',
  '{{if eq .Result "zz"}}{{.Foo}}{{else}}fallback{{end}}', '{{if ge .Result "10"}}ge{{end}}', '{{if gt .Result "10"}}gt{{end}}', '{{if le .Result "10"}}le{{end}}',
  '{{if lt .Result "10"}}low{{else}}high{{end}}', '{{if ne .Result "ok"}}Maintaining{{else}}None{{end}}', '{{if not (eq .Result "x")}}notx{{end}}',
  '{{if or (eq .Result "x") (eq .Result "y")}}xy{{else}}other{{end}}', '{{if}}x{{end}}', '{{lt .Result "b"}}', '{{lt .Result 5}}', '{{ne 1 2}}', '{{nosuch .Result}}',
  '{{not .Result}}', '{{or .Result "default"}}', '{{true}}', '{{}}',
];
const EARLIER_RESULTS = ['', ' 1', '10', '11', '1e1', '2', '5', '9', 'B', 'NaN', 'a', 'b', 'busy', 'gate', 'idle', 'inf', 'ok', 'x', 'é'];

// ---------- floats: printf formatting, and ParseFloat at float64's halfway points ----------

const view = new DataView(new ArrayBuffer(8));

function randomDouble(rng: Rng): number {
  for (;;) {
    view.setUint32(0, rng.int(2 ** 32));
    view.setUint32(4, rng.int(2 ** 32));
    const v = view.getFloat64(0);
    if (Number.isFinite(v)) return v;
  }
}

/** m × 2^exp exactly, in decimal. */
function exactDecimal(m: bigint, exp: number): string {
  if (exp >= 0) return (m << BigInt(exp)).toString();
  const k = -exp;
  const d = (m * 5n ** BigInt(k)).toString().padStart(k + 1, '0');
  return `${d.slice(0, d.length - k)}.${d.slice(d.length - k)}`;
}

function floatCases(rng: Rng, n: number): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    // printf of a float constant with every verb, precision and flag
    const v = rng.chance(0.5) ? randomDouble(rng) : (rng.next() - 0.5) * 10 ** (rng.int(40) - 20);
    const text = rng.chance(0.5) ? String(v) : v.toExponential(rng.int(20));
    const lit = /[.e]/.test(text) ? text : `${text}.0`;
    const prec = rng.chance(0.3) ? '' : `.${rng.int(rng.chance(0.1) ? 40 : 18)}`;
    const flags = rng.chance(0.2) ? rng.pick(['#', '+', ' ', '-8', '012', '#8']) : '';
    cases.push({ t: `{{printf "%${flags}${prec}${rng.pick(['e', 'E', 'f', 'g', 'G', 'x', 'X', 'b', 'v'])}" ${lit}}}`, r: '' });
    // a decimal at (or a hair off) the midpoint between a double and the next: which one does it read as?
    const d = Math.abs(rng.chance(0.5) ? randomDouble(rng) : rng.next() * 10 ** (rng.int(40) - 20)) || 1;
    view.setFloat64(0, d);
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    const e = (hi >>> 20) & 0x7ff;
    const m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo) | (e === 0 ? 0n : 1n << 52n);
    const mid = exactDecimal(2n * m + 1n, (e === 0 ? -1074 : e - 1075) - 1);
    const r = rng.pick([mid, `${mid}0000001`, mid.replace(/.$/, (c) => String(Math.max(0, Number(c) - 1))), mid + '0'.repeat(rng.int(50))]).slice(0, 1000);
    view.setUint32(0, lo === 0xffffffff ? hi + 1 : hi);
    view.setUint32(4, (lo + 1) >>> 0);
    const up = view.getFloat64(0);
    cases.push({ t: `{{le .Result "${d}"}}{{ge .Result "${d}"}}{{le .Result "${up}"}}{{ge .Result "${up}"}}`, r });
    // a long hexadecimal mantissa, around the subnormal and overflow edges: read as the nearest double?
    const digs = rng.digits(1 + rng.int(30), '0123456789abcdef').replace(/^0+/, '') || '1';
    const pexp = rng.pick([-1074, -1075, -1076, -1077, -1060, -1022, -1023, 1020, 1023, 900, 0, rng.int(200) - 100]) - (rng.chance(0.6) ? digs.length * 4 - 4 : 0);
    const want = Number(exactDecimal(BigInt(`0x${digs}`), pexp));
    if (Number.isFinite(want)) cases.push({ t: `{{le .Result "${want}"}}{{ge .Result "${want}"}}`, r: `0x${digs}p${pexp}` });
  }
  return cases;
}

export interface Case {
  readonly t: string;
  readonly r: string;
}

export function generateCases(seed: number, templates: number, resultsPerTemplate: number): Case[] {
  const cases: Case[] = [];
  for (const t of ISSUE_TEMPLATES) for (const r of ISSUE_RESULTS) cases.push({ t, r });
  for (const t of EARLIER_TEMPLATES) for (const r of EARLIER_RESULTS) cases.push({ t, r });
  const rng = new Rng(seed);
  const gen = new TemplateGen(rng);
  const seen = new Set<string>();
  while (seen.size < templates) {
    const t = gen.template();
    if (seen.has(t)) continue;
    seen.add(t);
    const results = new Set<string>();
    while (results.size < resultsPerTemplate) results.add(resultText(rng));
    for (const r of results) cases.push({ t, r });
  }
  cases.push(...floatCases(rng, 1500));
  // Numbers alone: Atoi (priorities) and ParseFloat (comparisons) on many more spellings.
  for (let i = 0; i < templates; i++) {
    const a = numberText(rng);
    const b = numberText(rng);
    cases.push({ t: `{{lt .Result ${JSON.stringify(b)}}}{{le .Result ${JSON.stringify(b)}}}{{eq .Result ${JSON.stringify(b)}}}`, r: a });
    cases.push({ t: rng.pick(['{{.Result}}', '{{ .Result }}', '0{{.Result}}', '{{.Result}}0', '+{{.Result}}']), r: a });
  }
  return cases;
}

// ---------- syncServiceQualities chains ----------

/**
 * Templates that render for every result (okg-sq and OKG differ only where rendering fails), to a valid label
 * value for every CHAIN_RESULTS entry: OKG copies opsState into a pod label, and okg-sq leaves out an opsState
 * that is not one (a documented difference, README "Where okg-sq differs"). The result's own text reaches
 * opsState through the `eq` guards; passing any result through is covered by the render goldens.
 */
const RENDERING_OPS = [
  'Maintaining', 'WaitToBeDeleted', 'None', '{{if or (eq .Result "idle") (eq .Result "busy")}}{{.Result}}{{else}}None{{end}}',
  '{{if eq .Result "idle"}}WaitToBeDeleted{{else if eq .Result "busy"}}Allocated{{else}}None{{end}}',
  '{{if lt .Result "10"}}Low{{else}}High{{end}}', '{{if or (eq .Result "7") (eq .Result "42")}}{{printf "Gate%s" .Result}}{{else}}Gate{{end}}',
  '{{with .Result}}{{if eq . "idle"}}{{.}}{{else}}Busy{{end}}{{else}}Empty{{end}}', '{{- if eq .Result "busy"}}{{.Result | html}}{{else}}Free{{end -}}',
];
/** Annotation values: any text is valid, so these pass the result through as it is. */
const ANNOTATION_VALUES = [...RENDERING_OPS, '{{.Result}}', 'Gate{{printf "%s" .Result}}', '{{with .Result}}{{.}}{{else}}Empty{{end}}', '{{- .Result | html -}}', 'r={{printf "%q" .Result}}'];
/** Label values that are valid whatever the result (okg-sq leaves invalid ones out, OKG sends them). */
const LABEL_VALUES = ['on', 'off', '{{if eq .Result "idle"}}idle{{else}}other{{end}}', 'n{{len .Result}}', '{{if ge .Result "5"}}high{{else}}low{{end}}'];
/** Priorities; no negative ones: OKG copies priorities into pod labels too, where `-3` is not a valid value. */
const PRIORITIES: readonly (number | string)[] = [0, 5, 100, '7', '0010', 'abc', '{{.Result}}', '{{len .Result}}', '{{ 007 }}', '{{.Result}}0', '{{lt .Result 5}}', '{{printf "%d" 42}}', '{{if eq .Result "idle"}}1{{else}}x{{end}}'];
const CHAIN_RESULTS = ['', 'idle', 'busy', '7', '42', '4294967297', '+' + '0'.repeat(45) + '9', 'a|b', 'idle\n', '1e3', 'x y', 'é'];
const STATUSES = ['True', 'True', 'False', 'False', 'Unknown', '1', 't', 'TRUE', '0', 'f', 'yes', ''];

export interface Chain {
  readonly chain: { qualities: unknown[]; gameServer: unknown; steps: unknown[][] };
}

function chainAction(rng: Rng): Record<string, unknown> {
  const a: Record<string, unknown> = { state: rng.chance(0.5) };
  if (rng.chance(0.3)) a['result'] = rng.pick(['idle', 'busy', '7', 'a|b', 'ab', '']);
  if (rng.chance(0.7)) a['opsState'] = rng.pick(RENDERING_OPS);
  if (rng.chance(0.3)) a['deletionPriority'] = rng.pick(PRIORITIES);
  if (rng.chance(0.3)) a['updatePriority'] = rng.pick(PRIORITIES);
  if (rng.chance(0.2)) a['networkDisabled'] = rng.chance(0.5);
  if (rng.chance(0.3)) a['labels'] = { [rng.pick(['game/state', 'game/level'])]: rng.pick(LABEL_VALUES) };
  if (rng.chance(0.3)) a['annotations'] = { [rng.pick(['game/result', 'game/note'])]: rng.pick(ANNOTATION_VALUES) };
  return a;
}

export function generateChain(rng: Rng): Chain {
  const names = rng.chance(0.7) ? ['q0'] : ['q0', 'q1'];
  const qualities = names.map((name) => ({
    name,
    permanent: rng.chance(0.4),
    exec: { command: ['probe'] },
    serviceQualityAction: Array.from({ length: 1 + rng.int(4) }, () => chainAction(rng)),
  }));
  const old = '2020-01-02T03:04:05Z';
  const gameServer: Record<string, unknown> = {
    metadata: { name: 'gs-0', namespace: 'ns', ...(rng.chance(0.3) ? { labels: { 'game/state': 'before' } } : {}) },
    spec: { ...(rng.chance(0.5) ? { opsState: 'None' } : {}), ...(rng.chance(0.2) ? { deletionPriority: 1 } : {}) },
    status: rng.chance(0.3) ? { serviceQualitiesConditions: [{ name: 'q0', status: rng.pick(STATUSES), result: rng.pick(CHAIN_RESULTS), lastProbeTime: old, ...(rng.chance(0.5) ? { lastActionTransitionTime: old } : {}) }] } : {},
  };
  const steps = Array.from({ length: 3 + rng.int(6) }, () =>
    names.flatMap((name) => (rng.chance(0.1) ? [] : [{
      type: `game.kruise.io/${name}`,
      status: rng.pick(STATUSES),
      message: rng.pick(CHAIN_RESULTS),
      ...(rng.chance(0.8) ? { lastProbeTime: old } : {}),
      lastTransitionTime: old,
    }])),
  );
  return { chain: { qualities, gameServer, steps } };
}

function main(): void {
  const { values } = parseArgs({
    options: { seed: { type: 'string', default: '17' }, templates: { type: 'string', default: '3000' }, results: { type: 'string', default: '5' }, chains: { type: 'string', default: '400' } },
  });
  const seed = Number(values.seed);
  const cases = generateCases(seed, Number(values.templates), Number(values.results));
  const rng = new Rng(seed + 1);
  const chains = Array.from({ length: Number(values.chains) }, () => generateChain(rng));
  process.stdout.write([...cases, ...chains].map((c) => JSON.stringify(c)).join('\n') + '\n');
}

main();
