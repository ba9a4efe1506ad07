// PURE: Go's fmt.Sprintf, Sprint and Sprintln for the values a template can hold (values.ts): verbs,
// flags (+ - # 0 space), width and precision (also from arguments with *), argument indexes ([n]) and
// fmt's own error notes (%!d(string=x), %!v(MISSING), %!(EXTRA …), %!(BADWIDTH)…), on byte strings.
// Output is bounded: a printer that would exceed maxBytes throws TemplateBoundsError.
import { decodeRune, encodeRune, MAX_RUNE, RUNE_ERROR, runeCount } from './go-bytes.js';
import { TemplateBoundsError } from './errors.js';
import { formatFloat, type FloatFormat } from './go-ftoa.js';
import { canBackquote, isPrint, quote, quoteRune } from './go-quote.js';
import { CONTEXT_TYPE_NAME, typeName, type GoValue } from './values.js';

const UINT64 = 1n << 64n;
const LOWER = '0123456789abcdefx';
const UPPER = '0123456789ABCDEFX';
/** fmt ignores widths and precisions beyond this (its tooLarge). */
const MAX_WIDTH = 1e6;

/** The field of a struct being printed: badVerb names its type, not the struct's. */
type Inner = { readonly arg: Exclude<GoValue, null> } | { readonly field: string } | null;

class Printer {
  out = '';
  widPresent = false;
  precPresent = false;
  minus = false;
  plus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  prec = 0;
  /** What badVerb describes: the argument being printed, or a struct's field. */
  private inner: Inner = null;

  constructor(private readonly maxBytes: number) {}

  clearFlags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = this.space = this.zero = false;
    this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  write(s: string): void {
    this.out += s;
    if (this.out.length > this.maxBytes) throw new TemplateBoundsError(`formatted output longer than ${this.maxBytes} bytes`);
  }

  writePadding(n: number): void {
    if (n <= 0) return;
    if (this.out.length + n > this.maxBytes) throw new TemplateBoundsError(`formatted output longer than ${this.maxBytes} bytes`);
    this.out += (this.zero && !this.minus ? '0' : ' ').repeat(n);
  }

  /** Pads to the width in runes, spaces (or zeros) on the left, or on the right with '-'. */
  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) return this.write(s);
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.write(s);
    } else {
      this.write(s);
      this.writePadding(width);
    }
  }

  private withoutZero(fn: () => void): void {
    const zero = this.zero;
    this.zero = false;
    fn();
    this.zero = zero;
  }

  // ---- fmt's format.go: one value, flags applied ----

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  /** u is the value as uint64 (two's complement for negative ints). */
  fmtIntegerBase(u: bigint, base: number, signed: boolean, verb: string, digits: string): void {
    const negative = signed && u >= 1n << 63n;
    if (negative) u = UINT64 - u;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        this.withoutZero(() => this.writePadding(this.wid));
        return;
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--; // room for the sign
    }
    let s = u.toString(base);
    if (digits === UPPER) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (this.sharp) {
      if (base === 2) s = `0b${s}`;
      else if (base === 8 && s[0] !== '0') s = `0${s}`;
      else if (base === 16) s = `0${digits[16]}${s}`;
    }
    if (verb === 'O') s = `0o${s}`;
    if (negative) s = `-${s}`;
    else if (this.plus) s = `+${s}`;
    else if (this.space) s = ` ${s}`;
    this.withoutZero(() => this.pad(s));
  }

  fmtC(u: bigint): void {
    this.pad(encodeRune(u > BigInt(MAX_RUNE) ? RUNE_ERROR : Number(u)));
  }

  fmtQc(u: bigint): void {
    this.pad(quoteRune(u > BigInt(MAX_RUNE) ? RUNE_ERROR : Number(u), this.plus));
  }

  fmtUnicode(u: bigint): void {
    const prec = this.precPresent && this.prec > 4 ? this.prec : 4;
    let s = `U+${u.toString(16).toUpperCase().padStart(prec, '0')}`;
    if (this.sharp && u <= BigInt(MAX_RUNE) && isPrint(Number(u))) s += ` '${encodeRune(Number(u))}'`;
    this.withoutZero(() => this.pad(s));
  }

  /** Cuts s to the precision, counted in runes. */
  truncate(s: string): string {
    if (!this.precPresent) return s;
    let n = this.prec;
    for (let i = 0; i < s.length; ) {
      if (--n < 0) return s.slice(0, i);
      i += decodeRune(s, i).w;
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  fmtSx(s: string, digits: string): void {
    let length = s.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = this.sharp ? `0${digits[16]}` : '';
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) out += this.sharp ? ` 0${digits[16]}` : ' ';
      const c = s.charCodeAt(i);
      out += digits[c >> 4]! + digits[c & 15]!;
    }
    this.write(out);
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.sharp && canBackquote(s)) return this.pad(`\`${s}\``);
    this.pad(quote(s, this.plus));
  }

  fmtFloatVerb(v: number, verb: FloatFormat, defaultPrec: number): void {
    const prec = this.precPresent ? this.prec : defaultPrec;
    let num = formatFloat(v, verb, prec);
    num = num[0] === '-' || num[0] === '+' ? num : `+${num}`;
    if (this.space && num[0] === '+' && !this.plus) num = ` ${num.slice(1)}`;
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1);
      this.withoutZero(() => this.pad(num));
      return;
    }
    if (this.sharp && verb !== 'b') {
      // the alternate form: always a decimal point, and %g keeps trailing zeros
      let digits = 0;
      if (verb === 'g' || verb === 'G' || verb === 'x') digits = prec === -1 ? 6 : prec;
      let tail = '';
      let body = num;
      let hasPoint = false;
      let sawNonzero = false;
      for (let i = 1; i < body.length; i++) {
        const c = body[i]!;
        if (c === '.') hasPoint = true;
        else if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else {
          if (c !== '0') sawNonzero = true;
          if (sawNonzero) digits--;
        }
      }
      if (!hasPoint) {
        if (body.length === 2 && body[1] === '0') digits--;
        body += '.';
      }
      if (digits > 0) body += '0'.repeat(digits);
      num = body + tail;
    }
    if (this.plus || num[0] !== '+') {
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.write(num[0]!);
        this.writePadding(this.wid - num.length);
        this.write(num.slice(1));
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  // ---- fmt's print.go: dispatch on the value's type ----

  badVerb(verb: string): void {
    const inner = this.inner;
    this.write(`%!${verb}(`);
    if (inner !== null && 'arg' in inner) {
      this.write(`${typeName(inner.arg)}=`);
      this.printArg(inner.arg, 'v');
    } else if (inner !== null) {
      this.write('string=');
      this.fmtString(inner.field, 'v');
    } else this.write('<nil>');
    this.write(')');
    this.inner = inner;
  }

  fmtBool(v: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.fmtBoolean(v);
    else this.badVerb(verb);
  }

  fmtInteger(u: bigint, signed: boolean, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.sharpV && !signed) {
          const sharp = this.sharp;
          this.sharp = true;
          this.fmtIntegerBase(u, 16, false, 'v', LOWER);
          this.sharp = sharp;
        } else this.fmtIntegerBase(u, 10, signed, verb, LOWER);
        return;
      case 'd': return this.fmtIntegerBase(u, 10, signed, verb, LOWER);
      case 'b': return this.fmtIntegerBase(u, 2, signed, verb, LOWER);
      case 'o': case 'O': return this.fmtIntegerBase(u, 8, signed, verb, LOWER);
      case 'x': return this.fmtIntegerBase(u, 16, signed, verb, LOWER);
      case 'X': return this.fmtIntegerBase(u, 16, signed, verb, UPPER);
      case 'c': return this.fmtC(u);
      case 'q': return this.fmtQc(u);
      case 'U': return this.fmtUnicode(u);
      default: return this.badVerb(verb);
    }
  }

  fmtFloat(v: number, verb: string): void {
    switch (verb) {
      case 'v': return this.fmtFloatVerb(v, 'g', -1);
      case 'b': case 'g': case 'G': case 'x': case 'X': return this.fmtFloatVerb(v, verb, -1);
      case 'f': case 'e': case 'E': return this.fmtFloatVerb(v, verb, 6);
      case 'F': return this.fmtFloatVerb(v, 'f', 6);
      default: return this.badVerb(verb);
    }
  }

  fmtComplex(re: number, im: number, verb: string): void {
    if (!'vbgGxXfFeE'.includes(verb) || verb.length !== 1) return this.badVerb(verb);
    const plus = this.plus;
    this.write('(');
    this.fmtFloat(re, verb);
    this.plus = true;
    this.fmtFloat(im, verb);
    this.write('i)');
    this.plus = plus;
  }

  fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v': return this.sharpV ? this.fmtQ(s) : this.fmtS(s);
      case 's': return this.fmtS(s);
      case 'x': return this.fmtSx(s, LOWER);
      case 'X': return this.fmtSx(s, UPPER);
      case 'q': return this.fmtQ(s);
      default: return this.badVerb(verb);
    }
  }

  printArg(arg: GoValue, verb: string): void {
    if (arg === null) {
      this.inner = null;
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb);
      return;
    }
    this.inner = { arg };
    if (verb === 'T') return this.fmtS(typeName(arg));
    if (verb === 'p') return this.badVerb(verb); // no pointers here
    if (typeof arg === 'string') return this.fmtString(arg, verb);
    if (typeof arg === 'boolean') return this.fmtBool(arg, verb);
    switch (arg.t) {
      case 'int': return this.fmtInteger(arg.v < 0n ? arg.v + UINT64 : arg.v, true, verb);
      case 'uint8': return this.fmtInteger(BigInt(arg.v), false, verb);
      case 'float64': return this.fmtFloat(arg.v, verb);
      case 'complex128': return this.fmtComplex(arg.re, arg.im, verb);
      case 'ctx': return this.printContext(arg.result, verb);
    }
  }

  /** A struct: {field}, {Result:field} with %+v, util.TemplateContext{Result:"field"} with %#v. */
  private printContext(result: string, verb: string): void {
    if (verb === 'w') return this.badVerb(verb); // not an error value
    if (this.sharpV) this.write(CONTEXT_TYPE_NAME);
    this.write('{');
    if (this.plusV || this.sharpV) this.write('Result:');
    const outer = this.inner;
    this.inner = { field: result };
    this.fmtString(result, verb);
    this.inner = outer;
    this.write('}');
  }

  // ---- the three entry points ----

  doPrint(args: readonly GoValue[]): void {
    let prevString = false;
    args.forEach((arg, i) => {
      const isString = typeof arg === 'string';
      if (i > 0 && !isString && !prevString) this.write(' ');
      this.printArg(arg, 'v');
      prevString = isString;
    });
  }

  doPrintln(args: readonly GoValue[]): void {
    args.forEach((arg, i) => {
      if (i > 0) this.write(' ');
      this.printArg(arg, 'v');
    });
    this.write('\n');
  }

  doPrintf(format: string, a: readonly GoValue[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;

    const argNumber = (i: number): { argNum: number; i: number; found: boolean } => {
      if (i >= end || format[i] !== '[') return { argNum, i, found: false };
      reordered = true;
      const { index, wid, ok } = parseArgNumber(format.slice(i));
      if (ok && index >= 0 && index < a.length) return { argNum: index, i: i + wid, found: true };
      goodArgNum = false;
      return { argNum, i: i + wid, found: ok };
    };
    const intFromArg = (): { num: number; isInt: boolean } => {
      let num = 0;
      let isInt = false;
      if (argNum < a.length) {
        const v = a[argNum];
        if (v !== null && typeof v === 'object' && (v.t === 'int' || v.t === 'uint8')) {
          num = Number(v.v);
          isInt = true;
        }
        argNum++;
        if (Math.abs(num) > MAX_WIDTH) {
          num = 0;
          isInt = false;
        }
      }
      return { num, isInt };
    };

    for (let i = 0; i < end; ) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.write(format.slice(lasti, i));
      if (i >= end) break;
      i++; // the %
      this.clearFlags();
      let simpleDone = false;
      for (; i < end; i++) {
        const c = format[i]!;
        if (c === '#') this.sharp = true;
        else if (c === '0') this.zero = true;
        else if (c === '+') this.plus = true;
        else if (c === '-') this.minus = true;
        else if (c === ' ') this.space = true;
        else {
          if (c >= 'a' && c <= 'z' && argNum < a.length) {
            if (c === 'v' || c === 'w') this.moveSharpAndPlusToV();
            this.printArg(a[argNum]!, c);
            argNum++;
            i++;
            simpleDone = true;
          }
          break;
        }
      }
      if (simpleDone) continue;

      let r = argNumber(i);
      ({ argNum, i } = r);
      afterIndex = r.found;
      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg();
        this.wid = w.num;
        this.widPresent = w.isInt;
        if (!this.widPresent) this.write('%!(BADWIDTH)');
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        const n = parseNum(format, i, end);
        this.wid = n.num;
        this.widPresent = n.isNum;
        i = n.newi;
        if (afterIndex && this.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        r = argNumber(i);
        ({ argNum, i } = r);
        afterIndex = r.found;
        if (i < end && format[i] === '*') {
          i++;
          const p = intFromArg();
          this.prec = p.num;
          this.precPresent = p.isInt;
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.write('%!(BADPREC)');
          afterIndex = false;
        } else {
          const n = parseNum(format, i, end);
          this.prec = n.num;
          this.precPresent = n.isNum;
          i = n.newi;
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }
      if (!afterIndex) {
        r = argNumber(i);
        ({ argNum, i } = r);
        afterIndex = r.found;
      }
      if (i >= end) {
        this.write('%!(NOVERB)');
        break;
      }
      let verb = format[i]!;
      let size = 1;
      if (verb.charCodeAt(0) >= 0x80) {
        const d = decodeRune(format, i);
        verb = encodeRune(d.r);
        size = d.w;
      }
      i += size;
      if (verb === '%') this.write('%');
      else if (!goodArgNum) this.write(`%!${verb}(BADINDEX)`);
      else if (argNum >= a.length) this.write(`%!${verb}(MISSING)`);
      else {
        if (verb === 'v' || verb === 'w') this.moveSharpAndPlusToV();
        this.printArg(a[argNum]!, verb);
        argNum++;
      }
    }
    if (!reordered && argNum < a.length) {
      this.clearFlags();
      this.write('%!(EXTRA ');
      a.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.write(', ');
        if (arg === null) this.write('<nil>');
        else {
          this.write(`${typeName(arg)}=`);
          this.printArg(arg, 'v');
        }
      });
      this.write(')');
    }
  }

  private moveSharpAndPlusToV(): void {
    this.sharpV = this.sharp;
    this.sharp = false;
    this.plusV = this.plus;
    this.plus = false;
  }
}

function parseNum(s: string, start: number, end: number): { num: number; isNum: boolean; newi: number } {
  if (start >= end) return { num: 0, isNum: false, newi: end };
  let num = 0;
  let isNum = false;
  let i = start;
  for (; i < end && s[i]! >= '0' && s[i]! <= '9'; i++) {
    if (num > MAX_WIDTH) return { num: 0, isNum: false, newi: end }; // "crazy long number"
    num = num * 10 + (s.charCodeAt(i) - 48);
    isNum = true;
  }
  return { num, isNum, newi: i };
}

/** "[n]" at the start of s: the zero-based index and how many bytes it takes. */
function parseArgNumber(s: string): { index: number; wid: number; ok: boolean } {
  if (s.length < 3) return { index: 0, wid: 1, ok: false };
  for (let i = 1; i < s.length; i++) {
    if (s[i] === ']') {
      const n = parseNum(s, 1, i);
      if (!n.isNum || n.newi !== i) return { index: 0, wid: i + 1, ok: false };
      return { index: n.num - 1, wid: i + 1, ok: true };
    }
  }
  return { index: 0, wid: 1, ok: false };
}

export function sprintf(format: string, args: readonly GoValue[], maxBytes: number): string {
  const p = new Printer(maxBytes);
  p.doPrintf(format, args);
  return p.out;
}

export function sprint(args: readonly GoValue[], maxBytes: number): string {
  const p = new Printer(maxBytes);
  p.doPrint(args);
  return p.out;
}

export function sprintln(args: readonly GoValue[], maxBytes: number): string {
  const p = new Printer(maxBytes);
  p.doPrintln(args);
  return p.out;
}
