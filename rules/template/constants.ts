// PURE: number and character constants in a template, as Go's text/template reads them (parse.newNumber)
// and then gives them a type when they are used as values (exec's idealConstant): 007 is octal 7, 0x10 is
// 16, 1_000 is 1000, 'a' is the int 97, 1.5 and 1e3 are float64, 2i and 1+2i are complex128. Quirks kept:
// "08" is an error (neither octal nor, without '.', 'e' or 'p', a float), and a signed hex integer
// containing 'e' ("-0x1e") becomes a float64, because Go's test for "hex integer" looks at s[0] only.
import { TemplateParseError } from './errors.js';
import { parseFloat64 } from './go-atof.js';
import { parseIntBase0, parseUintBase0 } from './go-atoi.js';
import { unquoteChar } from './go-quote.js';
import { goInt, type GoValue } from './values.js';

/** A constant's value when used, or the execution error using it raises ("overflows int"). */
export type Constant = { readonly value: GoValue } | { readonly execError: string };

const hasFloatMark = (s: string): boolean => /[.eEpP]/.test(s);
const isHexInt = (s: string): boolean => s.length > 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X') && !/[pP]/.test(s);

export function charConstant(text: string): Constant {
  const u = unquoteChar(text.slice(1), "'");
  if (u === undefined) throw new TemplateParseError(`invalid character constant ${text}`);
  if (u.tail !== "'") throw new TemplateParseError(`malformed character constant: ${text}`);
  return { value: goInt(BigInt(u.value)) };
}

export function numberConstant(text: string, complex: boolean): Constant {
  if (complex) {
    const c = scanComplex(text);
    if (c === undefined) throw new TemplateParseError(`invalid complex constant ${text}`);
    return { value: { t: 'complex128', re: c.re, im: c.im } };
  }
  if (text.endsWith('i')) {
    const f = parseFloat64(text.slice(0, -1));
    if (f !== undefined) return { value: { t: 'complex128', re: 0, im: f } };
  }
  const u = parseUintBase0(text);
  const i = parseIntBase0(text);
  if (i !== undefined) {
    // an integer; Go promotes it to float too, and prefers the float when the text looks like one
    if (hasFloatMark(text) && !isHexInt(text)) return { value: { t: 'float64', v: Number(i) } };
    return { value: goInt(i) };
  }
  if (u !== undefined) return { execError: `${text} overflows int` };
  const f = parseFloat64(text);
  if (f === undefined) throw new TemplateParseError(`illegal number syntax: ${JSON.stringify(text)}`);
  if (!hasFloatMark(text)) throw new TemplateParseError(`integer overflow: ${JSON.stringify(text)}`);
  return { value: { t: 'float64', v: f } };
}

/**
 * fmt.Sscan of "re±im i" into a complex128 (how Go's parser reads a complex constant): each part is a
 * float token (digits and '_', an optional 0x prefix, point, exponent); text after the 'i' is ignored.
 */
function scanComplex(text: string): { re: number; im: number } | undefined {
  let pos = 0;
  const accept = (chars: string): boolean => {
    if (pos < text.length && chars.includes(text[pos]!)) {
      pos++;
      return true;
    }
    return false;
  };
  const floatToken = (): string => {
    const start = pos;
    accept('+-');
    let digits = '0123456789_';
    let exp = 'eEpP';
    if (accept('0') && accept('xX')) {
      digits = '0123456789aAbBcCdDeEfF_';
      exp = 'pP';
    }
    while (accept(digits)) { /* digits */ }
    if (accept('.')) while (accept(digits)) { /* fraction */ }
    if (accept(exp)) {
      accept('+-');
      while (accept('0123456789_')) { /* exponent */ }
    }
    return text.slice(start, pos);
  };
  accept('(');
  const re = floatToken();
  if (!(pos < text.length && '+-'.includes(text[pos]!))) return undefined;
  const im = floatToken();
  if (!accept('i')) return undefined;
  const r = convertFloat(re);
  const m = convertFloat(im);
  return r === undefined || m === undefined ? undefined : { re: r, im: m };
}

/** fmt's convertFloat: ParseFloat, except a decimal mantissa with a 'p' exponent (unreachable from the lexer). */
function convertFloat(s: string): number | undefined {
  if (/p/.test(s) && !/[xX]/.test(s)) return undefined;
  return parseFloat64(s);
}
