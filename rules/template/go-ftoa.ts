// PURE: Go's strconv.FormatFloat(f, fmt, prec, 64) for the formats fmt uses: 'e' 'E' 'f' 'g' 'G' (shortest
// digits for prec < 0, else rounded half to even on the exact decimal value, as Go's fixed-precision
// paths do), 'b' (mantissa p exponent) and 'x' 'X' (hexadecimal mantissa, binary exponent).

/** Decimal digits d (no leading or trailing zeros) with the point dp digits from the left: 0.d × 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

function bitsOf(f: number): { neg: boolean; mant: bigint; exp: number; special?: string } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const neg = hi >>> 31 === 1;
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (expBits === 0x7ff) return { neg, mant, exp: 0, special: mant !== 0n ? 'NaN' : neg ? '-Inf' : '+Inf' };
  let exp = expBits;
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { neg, mant, exp: exp - 1023 };
}

/** The exact decimal value of mant × 2^(exp-52). */
function exactDigits(mant: bigint, exp: number): Digits {
  if (mant === 0n) return { d: '', dp: 0 };
  const e2 = exp - 52;
  let s: string;
  let dp: number;
  if (e2 >= 0) {
    s = (mant << BigInt(e2)).toString();
    dp = s.length;
  } else {
    s = (mant * 5n ** BigInt(-e2)).toString(); // mant / 2^k = mant × 5^k / 10^k
    dp = s.length + e2;
  }
  return trim({ d: s, dp });
}

function trim(x: Digits): Digits {
  let n = x.d.length;
  while (n > 0 && x.d[n - 1] === '0') n--;
  return n === 0 ? { d: '', dp: 0 } : { d: x.d.slice(0, n), dp: x.dp };
}

/** Rounds to nd digits, half to even; nd < 0 or nd ≥ the digits leaves them alone (as Go's decimal.Round). */
function round(x: Digits, nd: number): Digits {
  if (nd < 0 || nd >= x.d.length) return x;
  const next = x.d[nd]!;
  const exactHalf = next === '5' && nd + 1 === x.d.length;
  const up = exactHalf ? nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1 : next >= '5';
  if (!up) return trim({ d: x.d.slice(0, nd), dp: x.dp });
  let i = nd - 1;
  while (i >= 0 && x.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 }; // 999 → 1000
  return { d: x.d.slice(0, i) + String.fromCharCode(x.d.charCodeAt(i) + 1), dp: x.dp };
}

/** The shortest digits that read back as f, nearest to f: JavaScript's Number→String gives exactly those. */
function shortestDigits(f: number): Digits {
  if (f === 0) return { d: '', dp: 0 };
  const s = String(Math.abs(f));
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exp10 = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const all = intPart + (dot < 0 ? '' : mantissa.slice(dot + 1));
  let lead = 0;
  while (lead < all.length && all[lead] === '0') lead++;
  return trim({ d: all.slice(lead), dp: intPart.length + exp10 - lead });
}

function fmtE(neg: boolean, x: Digits, prec: number, fmt: string): string {
  let out = neg ? '-' : '';
  out += x.d.length > 0 ? x.d[0] : '0';
  if (prec > 0) {
    out += '.';
    const frac = x.d.slice(1, Math.min(x.d.length, prec + 1));
    out += frac + '0'.repeat(prec - frac.length);
  }
  out += fmt;
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  out += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return out + (exp < 10 ? `0${exp}` : String(exp));
}

function fmtF(neg: boolean, x: Digits, prec: number): string {
  let out = neg ? '-' : '';
  if (x.dp > 0) {
    const m = Math.min(x.d.length, x.dp);
    out += x.d.slice(0, m) + '0'.repeat(x.dp - m);
  } else out += '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      const j = x.dp + i;
      out += j >= 0 && j < x.d.length ? x.d[j] : '0';
    }
  }
  return out;
}

function fmtB(neg: boolean, mant: bigint, exp: number): string {
  const e = exp - 52;
  return `${neg ? '-' : ''}${mant}p${e >= 0 ? '+' : ''}${e}`;
}

const MASK64 = (1n << 64n) - 1n;

function fmtX(neg: boolean, mantIn: bigint, expIn: number, prec: number, fmt: string): string {
  let mant = mantIn;
  let exp = mant === 0n ? 0 : expIn;
  mant <<= 8n; // 60 - 52: the leading bit at bit 60
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = fmt === 'X' ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = `${neg ? '-' : ''}0${fmt}${(mant >> 60n) & 1n}`;
  mant = (mant << 4n) & MASK64;
  if (prec < 0 && mant !== 0n) {
    out += '.';
    while (mant !== 0n) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  } else if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      out += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & MASK64;
    }
  }
  out += fmt === 'X' ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return out + (exp < 10 ? `0${exp}` : String(exp));
}

export type FloatFormat = 'b' | 'e' | 'E' | 'f' | 'g' | 'G' | 'x' | 'X';

/** strconv.FormatFloat(f, fmt, prec, 64). */
export function formatFloat(f: number, fmt: FloatFormat, prec: number): string {
  const { neg, mant, exp, special } = bitsOf(f);
  if (special !== undefined) return special;
  if (fmt === 'b') return fmtB(neg, mant, exp);
  if (fmt === 'x' || fmt === 'X') return fmtX(neg, mant, exp, prec, fmt);
  const shortest = prec < 0;
  let digs: Digits;
  if (shortest) {
    digs = shortestDigits(f);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else {
    const exact = exactDigits(mant, exp);
    if (fmt === 'e' || fmt === 'E') digs = round(exact, prec + 1);
    else if (fmt === 'f') digs = round(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      digs = round(exact, prec);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, digs, prec, fmt);
  if (fmt === 'f') return fmtF(neg, digs, prec);
  // %g: %e for large and small exponents, else %f
  let eprec = prec;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  if (shortest) eprec = 6;
  const e = digs.dp - 1;
  if (e < -4 || e >= eprec) {
    if (prec > digs.d.length) prec = digs.d.length;
    return fmtE(neg, digs, prec - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (prec > digs.dp) prec = digs.d.length;
  return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
}
