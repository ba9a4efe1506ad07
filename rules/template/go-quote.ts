// PURE: Go's strconv quoting, on byte strings: Unquote/UnquoteChar (string and character literals in
// templates), Quote/QuoteToASCII/QuoteRune (fmt's %q), CanBackquote (%#q) and IsPrint.
import { decodeRune, encodeRune, MAX_RUNE, RUNE_ERROR } from './go-bytes.js';

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * strconv.IsPrint (and unicode.IsPrint): letters, marks, numbers, punctuation, symbols and the ASCII
 * space. Above Latin-1 it uses the Unicode tables of this Node.js, which may be a version or two newer
 * than Go's (Go 1.23: Unicode 15.0) for characters assigned since.
 */
export function isPrint(r: number): boolean {
  if (r <= 0xff) return (r >= 0x20 && r <= 0x7e) || (r >= 0xa1 && r !== 0xad);
  if (r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff)) return false;
  return PRINTABLE.test(String.fromCodePoint(r));
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

function hexDigit(c: string | undefined): number {
  if (c === undefined) return -1;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  const l = code | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * strconv.UnquoteChar: the first character or escape of s. value is a rune, or a byte when not
 * multibyte (\x and octal escapes make single bytes, possibly not UTF-8).
 */
export function unquoteChar(s: string, quote: string): { value: number; multibyte: boolean; tail: string } | undefined {
  if (s === '') return undefined;
  const c = s[0]!;
  if (c === quote && (quote === "'" || quote === '"')) return undefined;
  if (c.charCodeAt(0) >= 0x80) {
    const { r, w } = decodeRune(s, 0);
    return { value: r, multibyte: true, tail: s.slice(w) };
  }
  if (c !== '\\') return { value: c.charCodeAt(0), multibyte: false, tail: s.slice(1) };
  if (s.length <= 1) return undefined;
  const e = s[1]!;
  let rest = s.slice(2);
  const simple = SIMPLE_ESCAPES[e];
  if (simple !== undefined) return { value: simple, multibyte: false, tail: rest };
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    if (rest.length < n) return undefined;
    let v = 0;
    for (let j = 0; j < n; j++) {
      const d = hexDigit(rest[j]);
      if (d < 0) return undefined;
      v = v * 16 + d;
    }
    rest = rest.slice(n);
    if (e === 'x') return { value: v, multibyte: false, tail: rest };
    if (v > MAX_RUNE || (v >= 0xd800 && v <= 0xdfff)) return undefined;
    return { value: v, multibyte: true, tail: rest };
  }
  if (e >= '0' && e <= '7') {
    if (rest.length < 2) return undefined;
    let v = e.charCodeAt(0) - 48;
    for (let j = 0; j < 2; j++) {
      const d = rest.charCodeAt(j) - 48;
      if (d < 0 || d > 7) return undefined;
      v = v * 8 + d;
    }
    if (v > 255) return undefined;
    return { value: v, multibyte: false, tail: rest.slice(2) };
  }
  if (e === "'" || e === '"') return e === quote ? { value: e.charCodeAt(0), multibyte: false, tail: rest } : undefined;
  return undefined;
}

/** strconv.Unquote of a "…", `…` or '…' literal (the bytes of the value), or undefined if invalid. */
export function unquote(lit: string): string | undefined {
  if (lit.length < 2) return undefined;
  const q = lit[0]!;
  if (q === '`') {
    if (lit[lit.length - 1] !== '`' || lit.indexOf('`', 1) !== lit.length - 1) return undefined;
    return lit.slice(1, -1).replaceAll('\r', '');
  }
  if (q !== '"' && q !== "'") return undefined;
  let rest = lit.slice(1);
  let out = '';
  while (rest !== '' && rest[0] !== q) {
    if (rest[0] === '\n') return undefined;
    const u = unquoteChar(rest, q);
    if (u === undefined) return undefined;
    rest = u.tail;
    out += u.value < 0x80 || !u.multibyte ? String.fromCharCode(u.value) : encodeRune(u.value);
    if (q === "'") break;
  }
  return rest === q ? out : undefined;
}

const LOWER_HEX = '0123456789abcdef';

function escapeRune(r: number, quote: string, asciiOnly: boolean): string {
  if (r === quote.charCodeAt(0) || r === 0x5c) return `\\${String.fromCharCode(r)}`;
  if (asciiOnly ? r < 0x80 && isPrint(r) : isPrint(r)) return encodeRune(r);
  switch (r) {
    case 7: return '\\a';
    case 8: return '\\b';
    case 12: return '\\f';
    case 10: return '\\n';
    case 13: return '\\r';
    case 9: return '\\t';
    case 11: return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return `\\x${LOWER_HEX[r >> 4]}${LOWER_HEX[r & 15]}`;
  if (r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff)) r = RUNE_ERROR;
  if (r < 0x10000) return `\\u${r.toString(16).padStart(4, '0')}`;
  return `\\U${r.toString(16).padStart(8, '0')}`;
}

/** strconv.Quote (asciiOnly: QuoteToASCII) of a byte string; invalid bytes are written \xNN. */
export function quote(s: string, asciiOnly: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; ) {
    const { r, w } = decodeRune(s, i);
    if (w === 1 && r === RUNE_ERROR) {
      const b = s.charCodeAt(i);
      out += `\\x${LOWER_HEX[b >> 4]}${LOWER_HEX[b & 15]}`;
    } else out += escapeRune(r, '"', asciiOnly);
    i += w;
  }
  return `${out}"`;
}

/** strconv.QuoteRune (asciiOnly: QuoteRuneToASCII); an invalid rune is quoted as U+FFFD. */
export function quoteRune(r: number, asciiOnly: boolean): string {
  if (r < 0 || r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff)) r = RUNE_ERROR;
  return `'${escapeRune(r, "'", asciiOnly)}'`;
}

/** strconv.CanBackquote: no control characters but tab, no backquote, valid UTF-8, no BOM. */
export function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; ) {
    const { r, w } = decodeRune(s, i);
    i += w;
    if (w > 1) {
      if (r === 0xfeff) return false;
      continue;
    }
    if (r === RUNE_ERROR) return false;
    if ((r < 0x20 && r !== 9) || r === 0x60 || r === 0x7f) return false;
  }
  return true;
}
