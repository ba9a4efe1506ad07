// PURE: Go text/template's lexer (default delimiters {{ }}), on the template's UTF-8 bytes: text, actions,
// trim markers ({{- and -}}), comments, and inside actions the same tokens with the same rules (what ends
// an identifier, how numbers, strings and characters are scanned). A lexical error throws
// TemplateParseError: Go's parser reads every token, so any lexical error fails the parse there too.
import { decodeRune } from './go-bytes.js';
import { TemplateParseError } from './errors.js';

export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'assign' | 'declare' | 'pipe' | 'string' | 'rawString'
  | 'charConstant' | 'number' | 'complex' | 'field' | 'variable' | 'identifier' | 'dot' | 'bool' | 'char'
  | 'leftParen' | 'rightParen' | 'eof'
  // keywords
  | 'block' | 'break' | 'continue' | 'define' | 'else' | 'end' | 'if' | 'nil' | 'range' | 'template' | 'with';

export interface Token {
  readonly typ: TokenType;
  /** The token's bytes (for text: after trimming). */
  readonly val: string;
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map([
  ['block', 'block'], ['break', 'break'], ['continue', 'continue'], ['define', 'define'], ['else', 'else'], ['end', 'end'],
  ['if', 'if'], ['nil', 'nil'], ['range', 'range'], ['template', 'template'], ['with', 'with'],
] as const);

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** unicode.IsLetter, unicode.IsDigit or '_' (Go's isAlphaNumeric), for a rune. */
function isAlphaNumeric(r: number): boolean {
  if (r < 0x80) return r === 0x5f || (r >= 0x30 && r <= 0x39) || ((r | 0x20) >= 0x61 && (r | 0x20) <= 0x7a);
  const s = String.fromCodePoint(r);
  return LETTER.test(s) || DIGIT.test(s);
}

class Lexer {
  readonly tokens: Token[] = [];
  private pos = 0;
  private parenDepth = 0;

  constructor(private readonly src: string) {}

  private fail(message: string): never {
    throw new TemplateParseError(message);
  }

  private emit(typ: TokenType, start: number): void {
    this.tokens.push({ typ, val: this.src.slice(start, this.pos) });
  }

  /** The rune at pos and its width; r = -1 at the end. */
  private runeAt(pos: number): { r: number; w: number } {
    return pos >= this.src.length ? { r: -1, w: 0 } : decodeRune(this.src, pos);
  }

  private hasLeftTrimMarker(p: number): boolean {
    return this.src[p] === '-' && isSpace(this.src[p + 1]);
  }

  private hasRightTrimMarker(p: number): boolean {
    return isSpace(this.src[p]) && this.src[p + 1] === '-';
  }

  /** At "}}" or " -}}" (trim). */
  private atRightDelim(p: number): { delim: boolean; trim: boolean } {
    if (this.hasRightTrimMarker(p) && this.src.startsWith('}}', p + 2)) return { delim: true, trim: true };
    return { delim: this.src.startsWith('}}', p), trim: false };
  }

  private leftTrimLength(p: number): number {
    let n = 0;
    while (isSpace(this.src[p + n])) n++;
    return n;
  }

  run(): Token[] {
    while (this.text()) this.action();
    return this.tokens;
  }

  /** Text up to the next "{{" (trimmed before "{{- "); false at the end of input. */
  private text(): boolean {
    const src = this.src;
    const x = src.indexOf('{{', this.pos);
    if (x < 0) {
      if (this.pos < src.length) this.tokens.push({ typ: 'text', val: src.slice(this.pos) });
      this.tokens.push({ typ: 'eof', val: '' });
      this.pos = src.length;
      return false;
    }
    if (x > this.pos) {
      let end = x;
      if (this.hasLeftTrimMarker(x + 2)) while (end > this.pos && isSpace(src[end - 1])) end--;
      if (end > this.pos) this.tokens.push({ typ: 'text', val: src.slice(this.pos, end) });
    }
    this.pos = x;
    return true;
  }

  /** From "{{" to "}}": a comment (dropped) or the tokens of one action. */
  private action(): void {
    const src = this.src;
    this.pos += 2;
    const trim = this.hasLeftTrimMarker(this.pos);
    const after = trim ? 2 : 0;
    if (src.startsWith('/*', this.pos + after)) {
      this.pos += after + 2;
      const x = src.indexOf('*/', this.pos);
      if (x < 0) this.fail('unclosed comment');
      this.pos = x + 2;
      const { delim, trim: trimRight } = this.atRightDelim(this.pos);
      if (!delim) this.fail('comment ends before closing delimiter');
      this.pos += (trimRight ? 2 : 0) + 2;
      if (trimRight) this.pos += this.leftTrimLength(this.pos);
      return;
    }
    this.tokens.push({ typ: 'leftDelim', val: '{{' });
    this.pos += after;
    this.parenDepth = 0;
    while (this.insideAction()) { /* one token per step */ }
  }

  /** Lexes one token inside an action; false once the action has ended. */
  private insideAction(): boolean {
    const src = this.src;
    const { delim, trim } = this.atRightDelim(this.pos);
    if (delim) {
      if (this.parenDepth !== 0) this.fail('unclosed left paren');
      this.pos += (trim ? 2 : 0) + 2;
      this.tokens.push({ typ: 'rightDelim', val: '}}' });
      if (trim) this.pos += this.leftTrimLength(this.pos);
      return false;
    }
    const start = this.pos;
    const { r, w } = this.runeAt(this.pos);
    if (r < 0) this.fail('unclosed action');
    const c = src[this.pos]!;
    if (isSpace(c)) return this.space();
    this.pos += w;
    switch (c) {
      case '=': this.emit('assign', start); return true;
      case ':':
        if (src[this.pos] !== '=') this.fail('expected :=');
        this.pos++;
        this.emit('declare', start);
        return true;
      case '|': this.emit('pipe', start); return true;
      case '"': this.quoted(start, '"', 'string', 'unterminated quoted string'); return true;
      case "'": this.quoted(start, "'", 'charConstant', 'unterminated character constant'); return true;
      case '`': {
        const close = src.indexOf('`', this.pos);
        if (close < 0) this.fail('unterminated raw quoted string');
        this.pos = close + 1;
        this.emit('rawString', start);
        return true;
      }
      case '$':
        this.fieldOrVariable(start, 'variable');
        return true;
      case '(':
        this.parenDepth++;
        this.emit('leftParen', start);
        return true;
      case ')':
        if (--this.parenDepth < 0) this.fail('unexpected right paren');
        this.emit('rightParen', start);
        return true;
    }
    if (c === '.' && this.pos < src.length && !(src[this.pos]! >= '0' && src[this.pos]! <= '9')) {
      this.fieldOrVariable(start, 'field');
      return true;
    }
    if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
      this.pos = start;
      this.number(start);
      return true;
    }
    if (isAlphaNumeric(r)) {
      this.pos = start;
      this.identifier(start);
      return true;
    }
    if (r < 0x7f && r >= 0x20) {
      this.emit('char', start);
      return true;
    }
    return this.fail(`unrecognized character in action: U+${r.toString(16).toUpperCase().padStart(4, '0')}`);
  }

  /** A run of spaces; the last one belongs to a following " -}}". */
  private space(): boolean {
    const start = this.pos;
    while (isSpace(this.src[this.pos])) this.pos++;
    const n = this.pos - start;
    if (this.hasRightTrimMarker(this.pos - 1) && this.src.startsWith('}}', this.pos + 1)) {
      this.pos--;
      if (n === 1) return true; // straight to the delimiter
    }
    this.emit('space', start);
    return true;
  }

  /** Whether the identifier, field or variable may end here (Go's atTerminator). */
  private atTerminator(): boolean {
    const c = this.src[this.pos];
    if (c === undefined || isSpace(c)) return true;
    if ('.,|:)('.includes(c)) return true;
    return this.src.startsWith('}}', this.pos);
  }

  private alphaNumerics(): void {
    for (;;) {
      const { r, w } = this.runeAt(this.pos);
      if (r < 0 || !isAlphaNumeric(r)) return;
      this.pos += w;
    }
  }

  private identifier(start: number): void {
    this.alphaNumerics();
    if (!this.atTerminator()) this.fail(`bad character after ${JSON.stringify(this.src.slice(start, this.pos))}`);
    const word = this.src.slice(start, this.pos);
    const keyword = KEYWORDS.get(word);
    if (keyword !== undefined) this.emit(keyword, start);
    else if (word === 'true' || word === 'false') this.emit('bool', start);
    else this.emit('identifier', start);
  }

  /** After '.' or '$': a name, or '.' / '$' alone before a terminator. */
  private fieldOrVariable(start: number, typ: 'field' | 'variable'): void {
    if (this.atTerminator()) {
      this.emit(typ === 'variable' ? 'variable' : 'dot', start);
      return;
    }
    this.alphaNumerics();
    if (!this.atTerminator()) this.fail(`bad character after ${JSON.stringify(this.src.slice(start, this.pos))}`);
    this.emit(typ, start);
  }

  private quoted(start: number, q: string, typ: TokenType, unterminated: string): void {
    const src = this.src;
    for (;;) {
      const c = src[this.pos];
      if (c === undefined || c === '\n') this.fail(unterminated);
      this.pos++;
      if (c === '\\') {
        const e = src[this.pos];
        if (e === undefined || e === '\n') this.fail(unterminated);
        this.pos += this.runeAt(this.pos).w;
      } else if (c === q) break;
    }
    this.emit(typ, start);
  }

  private accept(valid: string): boolean {
    const c = this.src[this.pos];
    if (c !== undefined && valid.includes(c)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid)) { /* consume */ }
  }

  /** Go's scanNumber: sign, base prefix, digits with '_', fraction, exponent, 'i'. */
  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    const { r, w } = this.runeAt(this.pos);
    if (r >= 0 && isAlphaNumeric(r)) {
      this.pos += w;
      return false;
    }
    return true;
  }

  private number(start: number): void {
    const bad = (): never => this.fail(`bad number syntax: ${JSON.stringify(this.src.slice(start, this.pos))}`);
    if (!this.scanNumber()) bad();
    const sign = this.src[this.pos];
    if (sign === '+' || sign === '-') {
      if (!this.scanNumber() || this.src[this.pos - 1] !== 'i') bad();
      this.emit('complex', start);
      return;
    }
    this.emit('number', start);
  }
}

/** The tokens of a whole template (bytes), ending with 'eof'. */
export function lex(src: string): Token[] {
  return new Lexer(src).run();
}
