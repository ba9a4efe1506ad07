// PURE: Go's strconv integer and boolean parsing (ParseBool, Atoi, ParseInt/ParseUint with base 0), on
// byte strings. Integers are bigints in int64/uint64 range; undefined is any error (syntax or range).

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** strconv.ParseBool: the only spellings Go accepts. */
export function parseBool(s: string): boolean | undefined {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}

const DECIMAL = /^[+-]?[0-9]+$/;

/**
 * strconv.Atoi on a 64-bit platform: an optional sign, then decimal digits, any number of leading zeros,
 * no underscores or spaces, within int64.
 */
export function atoi(s: string): bigint | undefined {
  if (!DECIMAL.test(s)) return undefined;
  const neg = s[0] === '-';
  let digits = s[0] === '+' || neg ? s.slice(1) : s;
  let z = 0;
  while (z < digits.length - 1 && digits[z] === '0') z++;
  digits = digits.slice(z);
  if (digits.length > 19) return undefined; // beyond int64 whatever the digits
  const v = neg ? -BigInt(digits) : BigInt(digits);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/**
 * Go's rule for '_' in number literals (strconv's underscoreOK): only between digits, or between a base
 * prefix and a digit.
 */
export function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = '0'; // a base prefix counts as a digit
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 122) return lower - 97 + 10;
  return -1;
}

/** strconv.ParseUint(s, 0, 64): base from the prefix (0x, 0o, 0b, a leading 0 is octal), '_' allowed. */
export function parseUintBase0(s0: string): bigint | undefined {
  if (s0 === '') return undefined;
  let s = s0;
  let base = 10;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b') { base = 2; s = s.slice(2); }
    else if (p === 'o') { base = 8; s = s.slice(2); }
    else if (p === 'x') { base = 16; s = s.slice(2); }
    else { base = 8; s = s.slice(1); }
  }
  let underscores = false;
  let n = 0n;
  const b = BigInt(base);
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d < 0 || d >= base) return undefined;
    n = n * b + BigInt(d);
    if (n > UINT64_MAX) return undefined;
  }
  if (underscores && !underscoreOK(s0)) return undefined;
  return n;
}

/** strconv.ParseInt(s, 0, 64): an optional sign, then ParseUint's grammar, within int64. */
export function parseIntBase0(s: string): bigint | undefined {
  if (s === '') return undefined;
  const neg = s[0] === '-';
  const u = parseUintBase0(s[0] === '+' || neg ? s.slice(1) : s);
  if (u === undefined) return undefined;
  const v = neg ? -u : u;
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}
