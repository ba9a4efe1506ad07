// PURE: why a template does not render. Go's text/template has two kinds (the parse fails; execution
// fails, which may depend on the probe result); okg-sq adds a third, its own bounds on hostile templates.
// All three make OKG write the template's own text as the value; okg-sq refuses instead (README "Where
// okg-sq differs"). They are expected outcomes, thrown to unwind the parser or executor: no stack trace
// is captured (it would cost more than a whole render).

abstract class TemplateError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** The template does not parse (Go's Parse would fail too). */
export class TemplateParseError extends TemplateError {}

/** Execution fails (Go's Execute would fail too: wrong types, missing fields, bad arguments…). */
export class TemplateExecError extends TemplateError {}

/** okg-sq's bounds (nesting, steps, output size) were exceeded; Go has no such bounds. */
export class TemplateBoundsError extends TemplateError {}
