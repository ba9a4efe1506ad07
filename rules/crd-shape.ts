// PURE: a small structural validator for the subset of OpenAPI v3 that Kubernetes' structural CRD schemas
// use, applied to a GameServerSet's spec.serviceQualities with the schema generated from OpenKruiseGame's
// own CRD (okg-crd-schema.gen.ts, scripts/okg-crd-schema.mjs). It says what the API server would say
// about the shape: wrong types, missing required fields, values not matching a pattern, and the unknown
// fields it prunes. What the schema cannot say (names, ports, templates, handlers) is okg-sq's own
// (schema.ts and the parsers it calls). docs/design.md §26 "The CRD's schema".
import { mapKeyPath, quote, typeName, type Obj, type Problems } from './schema-context.js';

export interface CrdSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, CrdSchema>>;
  readonly items?: CrdSchema;
  readonly required?: readonly string[];
  readonly additionalProperties?: CrdSchema;
  readonly pattern?: string;
  readonly 'x-kubernetes-int-or-string'?: boolean;
}

const EXPECTED: Record<NonNullable<CrdSchema['type']>, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

function typeOk(schema: CrdSchema, v: unknown): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v);
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return Number.isInteger(v);
    case 'string':
    case 'number':
    case 'boolean':
      return typeof v === schema.type;
  }
}

const patterns = new Map<string, RegExp>();
function patternOf(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) patterns.set(source, (re = new RegExp(source, 'u')));
  return re;
}

/**
 * Reports every place where `value` (at `path`) does not have the shape `schema` describes; true when
 * there is no error (unknown fields are warnings: the API server drops them). Null counts as absent, as
 * the API server prunes nulls of fields that are not nullable. Linear in the value: the schema is finite
 * and every node of the value is visited once.
 */
export function checkShape(p: Problems, schema: CrdSchema, value: unknown, path: string, name: string): boolean {
  const errorsBefore = p.errors;
  visit(p, schema, value, path, name);
  return p.errors === errorsBefore;
}

/** `name` is the field as messages name it: `periodSeconds`, `command[1]`, `labels["a"]`. */
function visit(p: Problems, schema: CrdSchema, v: unknown, path: string, name: string): void {
  if (!typeOk(schema, v)) {
    const expected = schema['x-kubernetes-int-or-string'] ? 'an integer or a string' : EXPECTED[schema.type!];
    const got = typeof v === 'object' && v !== null ? typeName(v) : quote(v);
    p.add('error', 'WrongType', path, `${name} must be ${expected}, got ${got}`);
    return;
  }
  if (typeof v === 'string' && schema.pattern !== undefined && !patternOf(schema.pattern).test(v)) {
    p.add('error', 'InvalidValue', path, `${quote(v)} does not match the pattern OpenKruiseGame's CRD requires for ${name}`);
  }
  if (Array.isArray(v)) {
    if (schema.items) v.forEach((item, i) => visit(p, schema.items!, item, `${path}[${i}]`, `${name}[${i}]`));
    return;
  }
  if (schema.type !== 'object') return;
  const o = v as Obj;
  for (const field of schema.required ?? []) {
    if (o[field] === undefined || o[field] === null) p.add('error', 'MissingField', `${path}.${field}`, `${field} is required (the API server refuses the set without it)`);
  }
  for (const [k, child] of Object.entries(o)) {
    if (child === undefined || child === null) continue;
    const known = schema.properties?.[k];
    if (known) visit(p, known, child, `${path}.${k}`, k);
    else if (schema.additionalProperties) visit(p, schema.additionalProperties, child, mapKeyPath(path, k), mapKeyPath(name, k));
    else if (schema.properties) p.add('warning', 'UnknownField', `${path}.${k}`, `unknown field ${quote(k)} (the API server drops it; OKG never sees it)`);
  }
}
