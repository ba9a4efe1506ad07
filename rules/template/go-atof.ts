// PURE: Go's strconv.ParseFloat(s, 64), on byte strings. The grammar is Go's (not JavaScript's): decimal
// and hexadecimal mantissas ("0x1.8p3": a hex mantissa needs a binary exponent), '_' between digits,
// "inf"/"infinity" with an optional sign and "nan" without one, any case; exponent digits stop counting
// at 10000, as Go's do. The value is correctly rounded (round half to even), as Go's is: decimal through
// JavaScript's Number() (correctly rounded for a plain decimal literal), hexadecimal exactly with bigints.
// Out of range (±Inf after rounding) is an error, as in Go; underflow to zero is not.
import { underscoreOK } from './go-atoi.js';

/** Go stops adding exponent digits once the exponent reaches this (strconv's readFloat). */
const EXPONENT_CAP = 10000;

/**
 * Plain decimals (no '_', at most 4 exponent digits, so Go's exponent cap cannot apply): Go's grammar and
 * JavaScript's agree, and Number() rounds correctly. The common case, on the decider's hot path.
 */
const PLAIN_DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?$/;

/** ParseFloat's value, or undefined for a syntax or range error. */
export function parseFloat64(s: string): number | undefined {
  if (s.length <= 64 && PLAIN_DECIMAL.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : undefined;
  }
  const sp = special(s);
  if (sp !== undefined) return sp.n === s.length ? sp.value : undefined;
  const r = readFloat(s);
  if (r === undefined || r.end !== s.length) return undefined;
  const v = r.hex ? hexValue(r) : decimalValue(r);
  return Number.isFinite(v) ? v : undefined;
}

function prefixLenIgnoreCase(s: string, from: number, word: string): number {
  let i = 0;
  while (i < word.length && from + i < s.length && (s.charCodeAt(from + i) | 0x20) === word.charCodeAt(i)) i++;
  return i;
}

/** "inf", "infinity" (optionally signed) and "nan", case-insensitively; n is how much of s they take. */
function special(s: string): { value: number; n: number } | undefined {
  if (s === '') return undefined;
  const c = s[0]!;
  if (c === '+' || c === '-' || c === 'i' || c === 'I') {
    const sign = c === '+' || c === '-' ? 1 : 0;
    let n = prefixLenIgnoreCase(s, sign, 'infinity');
    if (n > 3 && n < 8) n = 3;
    if (n === 3 || n === 8) return { value: c === '-' ? -Infinity : Infinity, n: sign + n };
    return undefined;
  }
  if ((c === 'n' || c === 'N') && prefixLenIgnoreCase(s, 0, 'nan') === 3) return { value: NaN, n: 3 };
  return undefined;
}

interface Mantissa {
  readonly neg: boolean;
  readonly hex: boolean;
  /** Significant digits, leading zeros dropped. */
  readonly digits: string;
  /** Value = 0.digits × base^dp for decimal; for hex, dp counts bits: value = 0.digits(hex) × 2^dp. */
  readonly dp: number;
  /** Where the number ends in s. */
  readonly end: number;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isHexLetter = (c: string): boolean => (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/** Go's readFloat: the mantissa, the point and the exponent; undefined for a syntax error. */
function readFloat(s: string): Mantissa | undefined {
  let i = 0;
  let neg = false;
  if (s[i] === '+') i++;
  else if (s[i] === '-') {
    neg = true;
    i++;
  }
  let hex = false;
  if (i + 2 < s.length && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) {
    hex = true;
    i += 2;
  }
  let underscores = false;
  let sawDot = false;
  let sawDigits = false;
  let digits = '';
  let dp = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '_') {
      underscores = true;
      continue;
    }
    if (c === '.') {
      if (sawDot) break;
      sawDot = true;
      dp = digits.length;
      continue;
    }
    if (isDigit(c) || (hex && isHexLetter(c))) {
      sawDigits = true;
      if (c === '0' && digits.length === 0) {
        dp--; // a leading zero moves the point, adds no digit
        continue;
      }
      digits += c;
      continue;
    }
    break;
  }
  if (!sawDigits) return undefined;
  if (!sawDot) dp = digits.length;
  if (hex) dp *= 4;
  const expChar = hex ? 'p' : 'e';
  if (i < s.length && (s.charCodeAt(i) | 0x20) === expChar.charCodeAt(0)) {
    i++;
    if (i >= s.length) return undefined;
    let esign = 1;
    if (s[i] === '+') i++;
    else if (s[i] === '-') {
      i++;
      esign = -1;
    }
    if (i >= s.length || !isDigit(s[i]!)) return undefined;
    let e = 0;
    for (; i < s.length && (isDigit(s[i]!) || s[i] === '_'); i++) {
      if (s[i] === '_') {
        underscores = true;
        continue;
      }
      if (e < EXPONENT_CAP) e = e * 10 + (s.charCodeAt(i) - 48);
    }
    dp += e * esign;
  } else if (hex) {
    return undefined; // a hexadecimal mantissa must have a 'p' exponent
  }
  if (underscores && !underscoreOK(s.slice(0, i))) return undefined;
  return { neg, hex, digits, dp, end: i };
}

function decimalValue(m: Mantissa): number {
  if (m.digits === '') return m.neg ? -0 : 0;
  const v = Number(`0.${m.digits}e${m.dp}`);
  return m.neg ? -v : v;
}

/** 0.digits(hex) × 2^dp, rounded to nearest even at float64's precision (subnormals included). */
function hexValue(m: Mantissa): number {
  if (m.digits === '') return m.neg ? -0 : 0;
  const mant = BigInt(`0x${m.digits}`);
  const v = bigToFloat(mant, m.dp - 4 * m.digits.length);
  return m.neg ? -v : v;
}

/** mant × 2^exp2 as the nearest float64 (ties to even); Infinity past the largest finite value. */
export function bigToFloat(mant: bigint, exp2: number): number {
  const bits = mant.toString(2).length;
  const top = bits - 1 + exp2; // value in [2^top, 2^(top+1))
  if (top >= 1024) return Infinity;
  if (top < -1075) return 0; // below half the smallest subnormal
  const lsb = Math.max(top - 52, -1074); // the exponent of the result's last mantissa bit
  const shift = lsb - exp2;
  let q: bigint;
  if (shift <= 0) q = mant << BigInt(-shift);
  else {
    const s = BigInt(shift);
    q = mant >> s;
    const rem = mant & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  return Number(q) * 2 ** lsb;
}
