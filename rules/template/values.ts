// PURE: the Go values a template running in OKG can hold, with Go's truth, equality and type names.
// OKG executes templates on util.TemplateContext{Result string} with no maps, slices or methods, so the
// kinds are few: strings (byte strings, see go-bytes.ts), bools, int (from constants and len), uint8
// (index of a string), float64 and complex128 (constants), the context struct itself, and "no value"
// (Go's nil / invalid reflect.Value).

export interface GoInt {
  readonly t: 'int';
  /** int64 range. */
  readonly v: bigint;
}
export interface GoUint8 {
  readonly t: 'uint8';
  readonly v: number;
}
export interface GoFloat {
  readonly t: 'float64';
  readonly v: number;
}
export interface GoComplex {
  readonly t: 'complex128';
  readonly re: number;
  readonly im: number;
}
/** util.TemplateContext, the data OKG passes: `.` and `$` at the top of a template. */
export interface GoContext {
  readonly t: 'ctx';
  readonly result: string;
}

/** null is "no value": Go's nil interface, or the invalid reflect.Value text/template prints as <no value>. */
export type GoValue = string | boolean | GoInt | GoUint8 | GoFloat | GoComplex | GoContext | null;

export const CONTEXT_TYPE_NAME = 'util.TemplateContext';

export const goInt = (v: bigint): GoInt => ({ t: 'int', v });

export function typeName(v: Exclude<GoValue, null>): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return v.t === 'ctx' ? CONTEXT_TYPE_NAME : v.t;
}

/** text/template's truth: empty string, false, zero numbers and no value are false; a struct is true. */
export function truth(v: GoValue): boolean {
  if (v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'boolean') return v;
  switch (v.t) {
    case 'int': return v.v !== 0n;
    case 'uint8': return v.v !== 0;
    case 'float64': return v.v !== 0;
    case 'complex128': return v.re !== 0 || v.im !== 0;
    case 'ctx': return true;
  }
}

/** Go's == on two interface{} values (OKG's eq/ne): same dynamic type and equal value; nil == nil. */
export function goEqual(a: GoValue, b: GoValue): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'int': return a.v === (b as GoInt).v;
    case 'uint8': return a.v === (b as GoUint8).v;
    case 'float64': return a.v === (b as GoFloat).v;
    case 'complex128': return a.re === (b as GoComplex).re && a.im === (b as GoComplex).im;
    case 'ctx': return a.result === (b as GoContext).result;
  }
}
