// PURE: what the schema parsers share: the problem list (capped), the pod template's containers, and
// small helpers to read untrusted JSON and quote it back in messages with a bound.
import { checkTemplate, isTemplate, probeTemplateExecution } from './template.js';

export interface Problem {
  readonly severity: 'error' | 'warning';
  readonly code: ProblemCode;
  /** e.g. spec.serviceQualities[1].serviceQualityAction[0].opsState */
  readonly path: string;
  readonly message: string;
}

export const PROBLEM_CODES = [
  'NotAnObject',
  'WrongType',
  'MissingField',
  'InvalidName',
  'DuplicateName',
  'NoHandler',
  'SeveralHandlers',
  'MissingContainerName',
  'UnknownContainer',
  'UnknownPortName',
  'InvalidPort',
  'HostRefused',
  'NegativeValue',
  'InvalidValue',
  'NeverMatches',
  'Shadowed',
  'NoEffect',
  'TemplateParse',
  'TemplateExecution',
  'PriorityNotInteger',
  'InvalidLabelKey',
  'InvalidLabelValue',
  'UnknownField',
  'KruiseRejects',
  'TooManyProblems',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** Past this many problems for one object, the rest are summed up in one final entry. */
export const MAX_PROBLEMS_PER_OBJECT = 100;
/** How much of a user's value is quoted back in a message. */
export const MAX_QUOTED_CHARS = 60;

/** The pod template's containers as the schema needs them (name, named ports). */
export interface TemplateContainer {
  readonly name: string;
  readonly ports: readonly { readonly name?: string; readonly containerPort: number }[];
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const present = (o: Obj, k: string): boolean => o[k] !== undefined && o[k] !== null;

export function quote(v: unknown): string {
  let text: string;
  try {
    text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(cut);
}

/** A map entry's path, `labels["app"]`, its key cut to MAX_QUOTED_CHARS. */
export function mapKeyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key.length > MAX_QUOTED_CHARS ? key.slice(0, MAX_QUOTED_CHARS) : key)}]`;
}

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

export class Problems {
  readonly list: Problem[] = [];
  private omitted = 0;
  private omittedErrors = 0;
  errors = 0;

  add(severity: Problem['severity'], code: ProblemCode, path: string, message: string): void {
    if (severity === 'error') this.errors++;
    if (this.list.length >= MAX_PROBLEMS_PER_OBJECT) {
      this.omitted++;
      if (severity === 'error') this.omittedErrors++;
      return;
    }
    this.list.push({ severity, code, path, message });
  }

  finish(): Problem[] {
    if (this.omitted > 0) {
      this.list.push({
        severity: this.omittedErrors > 0 ? 'error' : 'warning',
        code: 'TooManyProblems',
        path: 'spec.serviceQualities',
        message: `${this.omitted} more problems (${this.omittedErrors} errors) not shown`,
      });
    }
    return this.list;
  }
}

/** Results tried when looking for template execution errors that do not depend on the branch taken. */
const SAMPLE_RESULTS = ['', '0', 'x'];

export interface Ctx {
  readonly p: Problems;
  readonly containers: readonly TemplateContainer[];
  /** Containers by name, and their port names: lookups stay O(1) however many containers or qualities. */
  readonly byName: ReadonlyMap<string, { readonly container: TemplateContainer; readonly portNames: ReadonlySet<string> }>;
  /** The container names as shown in messages (a bounded list). */
  readonly namesShown: string;
}

/** How many names a message lists before it says "…". */
const MAX_NAMES_SHOWN = 5;

export function newCtx(p: Problems, containers: TemplateContainer[]): Ctx {
  const byName = new Map<string, { container: TemplateContainer; portNames: Set<string> }>();
  for (const c of containers) {
    if (!byName.has(c.name)) byName.set(c.name, { container: c, portNames: new Set(c.ports.flatMap((x) => (x.name ? [x.name] : []))) });
  }
  const names = containers.slice(0, MAX_NAMES_SHOWN).map((c) => c.name.slice(0, MAX_QUOTED_CHARS));
  const namesShown = names.join(', ') + (containers.length > MAX_NAMES_SHOWN ? ', …' : '');
  return { p, containers, byName, namesShown };
}

export function checkTemplateField(ctx: Ctx, path: string, text: string, result: string | undefined): boolean {
  if (!isTemplate(text)) return true;
  const err = checkTemplate(text);
  if (err !== undefined) {
    ctx.p.add('error', 'TemplateParse', path, `template does not parse: ${err} (OKG would write the template's own text as the value; okg-sq refuses the quality)`);
    return false;
  }
  // an action with a result renders only with that result
  const exec = probeTemplateExecution(text, result ? [result] : SAMPLE_RESULTS);
  if (exec !== undefined) ctx.p.add('warning', 'TemplateExecution', path, `template fails when executed: ${exec} (where it fails OKG writes the template's own text; okg-sq leaves the field alone and warns)`);
  return true;
}
