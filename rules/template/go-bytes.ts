// PURE: Go strings as JavaScript strings of bytes. Go's text/template, fmt and strconv work on the UTF-8
// bytes of a string (len, index and slice count bytes; %x prints bytes; a slice can cut a character in
// two), so the template engine keeps every Go string as a "byte string": one JavaScript character per
// byte, each in 0..255. These helpers convert at the edges and decode runes the way Go's utf8 package does.

export const RUNE_ERROR = 0xfffd;
export const MAX_RUNE = 0x10ffff;

const ASCII = /^[\x00-\x7f]*$/;

/** The UTF-8 bytes of a JavaScript string (a lone surrogate becomes U+FFFD, as Go's []byte(string) of it would). */
export function toBytes(s: string): string {
  if (ASCII.test(s)) return s;
  let out = '';
  for (const ch of s) out += encodeRune(ch.codePointAt(0)!);
  return out;
}

/** One rune's UTF-8 bytes; an invalid rune (surrogate, out of range) encodes U+FFFD, as utf8.AppendRune. */
export function encodeRune(r: number): string {
  if (r < 0 || r > MAX_RUNE || (r >= 0xd800 && r <= 0xdfff)) r = RUNE_ERROR;
  if (r < 0x80) return String.fromCharCode(r);
  if (r < 0x800) return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
  if (r < 0x10000) return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
  return String.fromCharCode(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
}

/**
 * The rune at byte offset i and its width, as utf8.DecodeRuneInString: an invalid or incomplete sequence
 * (overlong, surrogate, above U+10FFFF, truncated) is U+FFFD of width 1.
 */
export function decodeRune(s: string, i: number): { r: number; w: number } {
  const b0 = s.charCodeAt(i);
  if (b0 < 0x80) return { r: b0, w: 1 };
  const cont = (k: number): number => {
    const b = s.charCodeAt(i + k);
    return b >= 0x80 && b <= 0xbf ? b & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    if (c1 >= 0) return { r: ((b0 & 0x1f) << 6) | c1, w: 2 };
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 >= 0 && c2 >= 0) {
      const r = ((b0 & 0x0f) << 12) | (c1 << 6) | c2;
      if (r >= 0x800 && (r < 0xd800 || r > 0xdfff)) return { r, w: 3 };
    }
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 >= 0 && c2 >= 0 && c3 >= 0) {
      const r = ((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
      if (r >= 0x10000 && r <= MAX_RUNE) return { r, w: 4 };
    }
  }
  return { r: RUNE_ERROR, w: 1 };
}

/** Runes in a byte string (utf8.RuneCountInString: each invalid byte counts as one). */
export function runeCount(s: string): number {
  if (ASCII.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; n++) i += decodeRune(s, i).w;
  return n;
}

/** Whether a byte string is valid UTF-8 (utf8.ValidString). */
export function isValidUtf8(s: string): boolean {
  if (ASCII.test(s)) return true;
  for (let i = 0; i < s.length; ) {
    const { r, w } = decodeRune(s, i);
    if (r === RUNE_ERROR && w === 1) return false;
    i += w;
  }
  return true;
}

/**
 * A byte string as the JavaScript string Kubernetes ends up with: Go's encoding/json writes each byte
 * that does not start a valid UTF-8 sequence as U+FFFD, which is what the API server stores.
 */
export function fromBytes(s: string): string {
  if (ASCII.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; ) {
    const { r, w } = decodeRune(s, i);
    out += String.fromCodePoint(r);
    i += w;
  }
  return out;
}
