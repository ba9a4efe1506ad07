// PURE: Go text/template's parser, run as OKG runs it (template "field", OKG's functions plus Go's
// builtins): actions and pipelines, variables (declared, assigned, scoped by control structures),
// if/else if/else, with/else with, range/else with break and continue, define/template/block, and the
// checks Go makes while parsing (functions must exist, variables must be declared, non-executable
// pipeline stages, multiple definitions). Nesting is bounded (MAX_NESTING); beyond it the template is
// refused, where Go has no limit.
import { TemplateBoundsError, TemplateParseError } from './errors.js';
import { charConstant, numberConstant, type Constant } from './constants.js';
import { decodeRune } from './go-bytes.js';
import { unquote } from './go-quote.js';
import { lex, type Token, type TokenType } from './lexer.js';

/** Deepest nesting of control structures, parentheses and definitions okg-sq parses. */
export const MAX_NESTING = 100;

export type ArgNode =
  | { readonly k: 'field'; readonly ident: readonly string[] }
  /** ident[0] is the variable ("$x"), the rest its fields. */
  | { readonly k: 'variable'; readonly ident: readonly string[] }
  | { readonly k: 'chain'; readonly node: ArgNode; readonly fields: readonly string[] }
  | { readonly k: 'identifier'; readonly name: string }
  | { readonly k: 'dot' }
  | { readonly k: 'nil' }
  | { readonly k: 'bool'; readonly value: boolean }
  | { readonly k: 'number'; readonly constant: Constant }
  | { readonly k: 'string'; readonly value: string }
  | { readonly k: 'pipe'; readonly pipe: PipeNode };

export interface CommandNode {
  readonly args: readonly ArgNode[];
}

export interface PipeNode {
  readonly decl: readonly string[];
  readonly isAssign: boolean;
  readonly cmds: readonly CommandNode[];
}

export type Node =
  | { readonly k: 'text'; readonly text: string }
  | { readonly k: 'action'; readonly pipe: PipeNode }
  | { readonly k: 'if' | 'with' | 'range'; readonly pipe: PipeNode; readonly list: readonly Node[]; readonly elseList: readonly Node[] | null }
  | { readonly k: 'template'; readonly name: string; readonly pipe: PipeNode | null }
  | { readonly k: 'break' | 'continue' };

/** The templates one Parse defines, by name; the one OKG executes is MAIN_TEMPLATE. */
export type TemplateSet = ReadonlyMap<string, readonly Node[]>;
export const MAIN_TEMPLATE = 'field';

/** What OKG registers (its eq ne lt le gt ge replace Go's) plus Go's builtins: all a template may call. */
export const FUNCTIONS: ReadonlySet<string> = new Set([
  'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'and', 'call', 'html', 'index', 'slice', 'js', 'len', 'not', 'or', 'print', 'printf', 'println', 'urlquery',
]);

type Marker = { readonly k: 'end' } | { readonly k: 'else' };
const END: Marker = { k: 'end' };
const ELSE: Marker = { k: 'else' };

const OPERAND_START: ReadonlySet<TokenType> = new Set([
  'bool', 'charConstant', 'complex', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen',
]);

/** unicode.IsSpace (bytes.TrimSpace decides whether a definition is empty). */
function isUnicodeSpace(r: number): boolean {
  return (r >= 9 && r <= 13) || r === 0x20 || r === 0x85 || r === 0xa0 || r === 0x1680 || (r >= 0x2000 && r <= 0x200a) ||
    r === 0x2028 || r === 0x2029 || r === 0x202f || r === 0x205f || r === 0x3000;
}

/** Go's IsEmptyTree: only whitespace text (and comments, already dropped). */
function isEmptyTree(list: readonly Node[]): boolean {
  return list.every((n) => {
    if (n.k !== 'text') return false;
    for (let i = 0; i < n.text.length; ) {
      const { r, w } = decodeRune(n.text, i);
      if (!isUnicodeSpace(r)) return false;
      i += w;
    }
    return true;
  });
}

class Parser {
  private at = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private nesting = 0;
  readonly set = new Map<string, readonly Node[]>();

  constructor(private readonly tokens: readonly Token[]) {}

  private fail(message: string): never {
    throw new TemplateParseError(message);
  }

  private next(): Token {
    return this.tokens[this.at++]!;
  }

  private peek(): Token {
    return this.tokens[this.at]!;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.typ === 'space') t = this.next();
    return t;
  }

  /** Skips spaces and returns the next token without taking it. */
  private peekNonSpace(): Token {
    while (this.peek().typ === 'space') this.at++;
    return this.peek();
  }

  private expect(typ: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.typ !== typ) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Token, context: string): never {
    return this.fail(`unexpected ${t.typ === 'eof' ? 'EOF' : JSON.stringify(t.val)} in ${context}`);
  }

  private enter(): void {
    if (++this.nesting > MAX_NESTING) throw new TemplateBoundsError(`nested deeper than ${MAX_NESTING} levels`);
  }

  private leave(): void {
    this.nesting--;
  }

  private add(name: string, root: readonly Node[]): void {
    const existing = this.set.get(name);
    if (existing === undefined || isEmptyTree(existing)) this.set.set(name, root);
    else if (!isEmptyTree(root)) this.fail(`multiple definition of template ${JSON.stringify(name)}`);
  }

  parse(): TemplateSet {
    const root: Node[] = [];
    while (this.peek().typ !== 'eof') {
      if (this.peek().typ === 'leftDelim') {
        const mark = this.at;
        this.next();
        if (this.nextNonSpace().typ === 'define') {
          this.definition();
          continue;
        }
        this.at = mark;
      }
      const n = this.textOrAction();
      if (n === END || n === ELSE) this.fail(`unexpected {{${n.k}}}`);
      root.push(n as Node);
    }
    this.add(MAIN_TEMPLATE, root);
    return this.set;
  }

  /** A body parsed as its own template: fresh variables, outside any range. */
  private ownTree<T>(fn: () => T): T {
    const vars = this.vars;
    const rangeDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    this.enter();
    try {
      return fn();
    } finally {
      this.vars = vars;
      this.rangeDepth = rangeDepth;
      this.leave();
    }
  }

  private definition(): void {
    const t = this.nextNonSpace();
    if (t.typ !== 'string' && t.typ !== 'rawString') this.unexpected(t, 'define clause');
    const name = this.templateName(t);
    this.expect('rightDelim', 'define clause');
    this.ownTree(() => {
      const { list, end } = this.itemList();
      if (end !== END) this.fail('unexpected {{else}} in define clause');
      this.add(name, list);
    });
  }

  private itemList(): { list: Node[]; end: Marker } {
    const list: Node[] = [];
    while (this.peekNonSpace().typ !== 'eof') {
      const n = this.textOrAction();
      if (n === END || n === ELSE) return { list, end: n };
      list.push(n as Node);
    }
    return this.fail('unexpected EOF');
  }

  private textOrAction(): Node | Marker {
    const t = this.nextNonSpace();
    if (t.typ === 'text') return { k: 'text', text: t.val };
    if (t.typ === 'leftDelim') return this.action();
    return this.unexpected(t, 'input');
  }

  private action(): Node | Marker {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case 'block': return this.block();
      case 'break':
      case 'continue': {
        const close = this.nextNonSpace();
        if (close.typ !== 'rightDelim') this.unexpected(close, `{{${t.typ}}}`);
        if (this.rangeDepth === 0) this.fail(`{{${t.typ}}} outside {{range}}`);
        return { k: t.typ };
      }
      case 'else': {
        const p = this.peekNonSpace();
        if (p.typ !== 'if' && p.typ !== 'with') this.expect('rightDelim', 'else');
        return ELSE;
      }
      case 'end':
        this.expect('rightDelim', 'end');
        return END;
      case 'if':
      case 'with':
      case 'range':
        return this.control(t.typ);
      case 'template': return this.templateCall();
      default:
        break; // a pipeline: below
    }
    this.at--;
    return { k: 'action', pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(context: 'if' | 'with' | 'range'): Node {
    this.enter();
    const vars = this.vars.length;
    const pipe = this.pipeline(context, 'rightDelim');
    if (context === 'range') this.rangeDepth++;
    const { list, end } = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (end === ELSE) {
      if (context === 'if' && this.peek().typ === 'if') {
        this.next();
        elseList = [this.control('if')];
      } else if (context === 'with' && this.peek().typ === 'with') {
        this.next();
        elseList = [this.control('with')];
      } else {
        const e = this.itemList();
        if (e.end !== END) this.fail('expected end; found {{else}}');
        elseList = e.list;
      }
    }
    this.vars.length = vars;
    this.leave();
    return { k: context, pipe, list, elseList };
  }

  private block(): Node {
    const t = this.nextNonSpace();
    const name = this.templateName(t);
    const pipe = this.pipeline('block clause', 'rightDelim');
    this.ownTree(() => {
      const { list, end } = this.itemList();
      if (end !== END) this.fail('unexpected {{else}} in block clause');
      this.add(name, list);
    });
    return { k: 'template', name, pipe };
  }

  private templateCall(): Node {
    const t = this.nextNonSpace();
    const name = this.templateName(t);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== 'rightDelim') {
      this.at--;
      pipe = this.pipeline('template clause', 'rightDelim');
    }
    return { k: 'template', name, pipe };
  }

  private templateName(t: Token): string {
    if (t.typ !== 'string' && t.typ !== 'rawString') this.unexpected(t, 'template clause');
    const name = unquote(t.val);
    if (name === undefined) this.fail(`invalid template name ${t.val}`);
    return name;
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const decl: string[] = [];
    let isAssign = false;
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== 'variable') break;
      const mark = this.at;
      this.next();
      const n = this.peekNonSpace();
      if (n.typ === 'assign' || n.typ === 'declare') {
        isAssign = n.typ === 'assign';
        this.next();
        decl.push(v.val);
        this.vars.push(v.val);
        break;
      }
      if (n.typ === 'char' && n.val === ',') {
        this.next();
        decl.push(v.val);
        this.vars.push(v.val);
        if (context === 'range' && decl.length < 2) {
          const p = this.peekNonSpace().typ;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.fail('range can only initialize variables');
        }
        this.fail(`too many declarations in ${context}`);
      }
      this.at = mark;
      break;
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) break;
      if (!OPERAND_START.has(t.typ)) this.unexpected(t, context);
      this.at--;
      cmds.push(this.command());
    }
    if (cmds.length === 0) this.fail(`missing value for ${context}`);
    cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.k;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') this.fail(`non executable command in pipeline stage ${i + 2}`);
    });
    return { decl, isAssign, cmds };
  }

  private command(): CommandNode {
    const args: ArgNode[] = [];
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) args.push(operand);
      const t = this.next();
      if (t.typ === 'space') continue;
      if (t.typ === 'rightDelim' || t.typ === 'rightParen') this.at--;
      else if (t.typ !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (args.length === 0) this.fail('empty command');
    return { args };
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (node === undefined || this.peek().typ !== 'field') return node;
    const fields: string[] = [];
    while (this.peek().typ === 'field') fields.push(this.next().val.slice(1));
    switch (node.k) {
      case 'field': return { k: 'field', ident: [...node.ident, ...fields] };
      case 'variable': return { k: 'variable', ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        return this.fail('unexpected . after term');
      default: return { k: 'chain', node, fields };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case 'identifier':
        if (!FUNCTIONS.has(t.val)) this.fail(`function ${JSON.stringify(t.val)} not defined`);
        return { k: 'identifier', name: t.val };
      case 'dot': return { k: 'dot' };
      case 'nil': return { k: 'nil' };
      case 'variable':
        if (!this.vars.includes(t.val)) this.fail(`undefined variable ${JSON.stringify(t.val)}`);
        return { k: 'variable', ident: [t.val] };
      case 'field': return { k: 'field', ident: [t.val.slice(1)] };
      case 'bool': return { k: 'bool', value: t.val === 'true' };
      case 'charConstant': return { k: 'number', constant: charConstant(t.val) };
      case 'number':
      case 'complex':
        return { k: 'number', constant: numberConstant(t.val, t.typ === 'complex') };
      case 'leftParen': {
        this.enter();
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.leave();
        return { k: 'pipe', pipe };
      }
      case 'string':
      case 'rawString': {
        const value = unquote(t.val);
        if (value === undefined) this.fail(`invalid string ${t.val}`);
        return { k: 'string', value };
      }
      default:
        break; // not a term
    }
    this.at--;
    return undefined;
  }
}

/** Parses a template's bytes into its set of named templates; throws TemplateParseError or TemplateBoundsError. */
export function parse(src: string): TemplateSet {
  return new Parser(lex(src)).parse();
}
