// PURE: Go text/template's executor on OKG's data (util.TemplateContext{Result}): pipelines whose previous
// value becomes the last argument, variables on a stack popped at the end of if/with/range, field
// access, function calls with Go's argument rules, and/or short-circuiting (Go ≥ 1.18), template calls.
// range can iterate over nothing OKG's data holds (Go 1.23 ranges over slices, maps and channels): it
// runs its else branch on no value and fails on anything else, as Go does.
// Work is bounded: steps, depth and bytes; exceeding one throws TemplateBoundsError.
import { TemplateBoundsError, TemplateExecError } from './errors.js';
import { FUNCTIONS, type ParamType } from './functions.js';
import { sprint } from './go-fmt.js';
import { MAIN_TEMPLATE, type ArgNode, type CommandNode, type Node, type PipeNode, type TemplateSet } from './parser.js';
import { truth, typeName, type GoValue } from './values.js';

export interface ExecLimits {
  /** Nodes walked plus commands evaluated. */
  readonly maxSteps: number;
  /** Nested lists, pipelines and template calls. */
  readonly maxDepth: number;
  /** The output, and any one string a function returns. */
  readonly maxBytes: number;
  /** All strings written and returned by functions together: bounds the work of repeated calls. */
  readonly maxProducedBytes: number;
}

/** The previous command's value is absent (the first command of a pipeline). */
const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

const fail = (message: string): never => {
  throw new TemplateExecError(message);
};

class Executor {
  private out = '';
  private vars: { name: string; value: GoValue }[] = [];
  private steps = 0;
  private depth = 0;
  private produced = 0;

  constructor(
    private readonly set: TemplateSet,
    private readonly limits: ExecLimits,
  ) {}

  run(data: GoValue): string {
    const root = this.set.get(MAIN_TEMPLATE)!;
    this.vars = [{ name: '$', value: data }];
    this.walkList(data, root);
    return this.out;
  }

  private step(): void {
    if (++this.steps > this.limits.maxSteps) throw new TemplateBoundsError(`more than ${this.limits.maxSteps} execution steps`);
  }

  // No try/finally around depth, vars or output: an error abandons the whole execution.
  private enter(): void {
    if (++this.depth > this.limits.maxDepth) throw new TemplateBoundsError(`nested deeper than ${this.limits.maxDepth} levels when executed`);
  }

  private produce(n: number): void {
    this.produced += n;
    if (this.produced > this.limits.maxProducedBytes) throw new TemplateBoundsError(`more than ${this.limits.maxProducedBytes} bytes produced`);
  }

  private write(s: string): void {
    this.produce(s.length);
    this.out += s;
    if (this.out.length > this.limits.maxBytes) throw new TemplateBoundsError(`output longer than ${this.limits.maxBytes} bytes`);
  }

  private walkList(dot: GoValue, list: readonly Node[]): void {
    this.enter();
    for (const node of list) this.walk(dot, node);
    this.depth--;
  }

  private walk(dot: GoValue, node: Node): void {
    this.step();
    switch (node.k) {
      case 'text':
        return this.write(node.text);
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.write(printed(v, this.limits.maxBytes));
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        if (truth(v)) this.walkList(node.k === 'with' ? v : dot, node.list);
        else if (node.elseList !== null) this.walkList(dot, node.elseList);
        if (this.vars.length !== mark) this.vars.length = mark;
        return;
      }
      case 'range': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        if (v !== null) fail(`range can't iterate over ${typeName(v)}`);
        if (node.elseList !== null) this.walkList(dot, node.elseList);
        if (this.vars.length !== mark) this.vars.length = mark;
        return;
      }
      case 'template': {
        const tmpl = this.set.get(node.name) ?? fail(`no such template ${JSON.stringify(node.name)}`);
        const newDot = node.pipe === null ? null : this.evalPipeline(dot, node.pipe);
        const vars = this.vars;
        this.vars = [{ name: '$', value: newDot }];
        this.walkList(newDot, tmpl);
        this.vars = vars;
        return;
      }
      case 'break':
      case 'continue':
        // only parsed inside a range body, which never runs on OKG's data
        throw new Error(`{{${node.k}}} executed outside a range iteration`);
    }
  }

  private evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    this.enter();
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value as GoValue;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, v);
      else this.vars.push({ name, value: v });
    }
    this.depth--;
    return v;
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return fail(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    fail(`undefined variable: ${name}`);
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) fail("can't give argument to non-function");
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    this.step();
    const first = cmd.args[0]!;
    switch (first.k) {
      case 'field': return this.evalFieldChain(dot, first.ident, cmd.args, final);
      case 'chain': return this.evalFieldChain(this.evalChainReceiver(dot, first), first.fields, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first.name, cmd.args, 1, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
      case 'variable': {
        const value = this.varValue(first.ident[0]!);
        if (first.ident.length === 1) {
          this.notAFunction(cmd.args, final);
          return value;
        }
        return this.evalFieldChain(value, first.ident.slice(1), cmd.args, final);
      }
      default:
        break; // a constant, dot or nil: below
    }
    this.notAFunction(cmd.args, final);
    switch (first.k) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return fail('nil is not a command');
      case 'number': return 'value' in first.constant ? first.constant.value : fail(first.constant.execError);
      case 'string': return first.value;
    }
  }

  private evalChainReceiver(dot: GoValue, chain: Extract<ArgNode, { k: 'chain' }>): GoValue {
    return this.evalArg(dot, null, chain.node);
  }

  /** .A.B on a receiver; on no value every field is no value (Go's missingkey=default). */
  private evalFieldChain(receiver: GoValue, ident: readonly string[], args: readonly ArgNode[] | null, final: Final): GoValue {
    for (let i = 0; i < ident.length; i++) {
      const last = i === ident.length - 1;
      const hasArgs = last && ((args !== null && args.length > 1) || final !== MISSING);
      receiver = this.evalField(ident[i]!, receiver, hasArgs);
    }
    return receiver;
  }

  private evalField(name: string, receiver: GoValue, hasArgs: boolean): GoValue {
    if (receiver === null) return null;
    if (typeof receiver === 'object' && receiver.t === 'ctx' && name === 'Result') {
      if (hasArgs) fail('Result has arguments but cannot be invoked as function');
      return receiver.result;
    }
    return fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  /** Calls a function with args[from…] and the pipeline's previous value. */
  private evalFunction(dot: GoValue, name: string, args: readonly ArgNode[], from: number, final: Final): GoValue {
    if (name === 'and' || name === 'or') return this.evalAndOr(dot, name, args.slice(from), final);
    const fn = FUNCTIONS.get(name) ?? fail(`"${name}" is not a defined function`);
    const given = args.length - from;
    const numIn = given + (final === MISSING ? 0 : 1);
    const numFixed = fn.fixed.length;
    if (fn.variadic !== undefined ? numIn < numFixed : numIn !== numFixed) {
      fail(`wrong number of args for ${name}: want ${fn.variadic !== undefined ? 'at least ' : ''}${numFixed} got ${numIn}`);
    }
    if (name === 'call' && given === 0) {
      // Go indexes the missing first argument here and panics; OKG's reconcile fails
      throw new TemplateExecError('call with no function argument (Go panics)');
    }
    const argv: GoValue[] = [];
    for (let i = 0; i < given; i++) argv.push(this.evalArg(dot, i < numFixed ? fn.fixed[i]! : fn.variadic!, args[from + i]!));
    if (final !== MISSING) {
      const t = fn.variadic !== undefined && numIn - 1 >= numFixed ? fn.variadic : fn.fixed[numIn - 1]!;
      argv.push(this.validateType(final, t));
    }
    const v = fn.call(argv, this.limits.maxBytes);
    if (typeof v === 'string') {
      if (v.length > this.limits.maxBytes) throw new TemplateBoundsError(`${name} returned more than ${this.limits.maxBytes} bytes`);
      this.produce(v.length);
    }
    return v;
  }

  /** and/or: arguments evaluated left to right until one decides; the deciding value is the result. */
  private evalAndOr(dot: GoValue, name: 'and' | 'or', args: readonly ArgNode[], final: Final): GoValue {
    if (args.length + (final === MISSING ? 0 : 1) < 1) fail(`wrong number of args for ${name}: want at least 1 got 0`);
    let v: GoValue = null;
    for (const arg of args) {
      v = this.evalArg(dot, 'any', arg);
      if (truth(v) === (name === 'or')) return v;
    }
    if (final !== MISSING) v = final;
    return v;
  }

  private validateType(v: GoValue, t: ParamType | null): GoValue {
    if (t === 'string' && typeof v !== 'string') fail(v === null ? 'invalid value; expected string' : `wrong type for value; expected string; got ${typeName(v)}`);
    return v;
  }

  /** An argument of a function of the given parameter type (null: a chain's receiver, any type). */
  private evalArg(dot: GoValue, t: ParamType | null, n: ArgNode): GoValue {
    switch (n.k) {
      case 'dot': return this.validateType(dot, t);
      case 'nil': return t === 'string' ? fail('cannot assign nil to string') : null;
      case 'field': return this.validateType(this.evalFieldChain(dot, n.ident, null, MISSING), t);
      case 'variable': {
        const value = this.varValue(n.ident[0]!);
        return this.validateType(n.ident.length === 1 ? value : this.evalFieldChain(value, n.ident.slice(1), null, MISSING), t);
      }
      case 'pipe': return this.validateType(this.evalPipeline(dot, n.pipe), t);
      case 'identifier': return this.validateType(this.evalFunction(dot, n.name, [], 0, MISSING), t);
      case 'chain': return this.validateType(this.evalFieldChain(this.evalChainReceiver(dot, n), n.fields, null, MISSING), t);
      default:
        break; // a constant: below
    }
    if (t === 'string') return n.k === 'string' ? n.value : fail('expected string');
    switch (n.k) {
      case 'bool': return n.value;
      case 'number': return 'value' in n.constant ? n.constant.value : fail(n.constant.execError);
      case 'string': return n.value;
    }
  }
}

/** What an action prints: Go's fmt.Fprint of the value, <no value> for none (strings as they are). */
function printed(v: GoValue, maxBytes: number): string {
  if (typeof v === 'string') return v;
  if (v === null) return '<no value>';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v.t === 'int') return v.v.toString();
  return sprint([v], maxBytes);
}

/** Executes a parsed template on OKG's data for one probe result (bytes); throws TemplateExecError or TemplateBoundsError. */
export function execute(set: TemplateSet, result: string, limits: ExecLimits): string {
  return new Executor(set, limits).run({ t: 'ctx', result });
}
