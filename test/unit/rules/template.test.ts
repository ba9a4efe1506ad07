import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkTemplate, goAtoiToInt32, parsePriorityTemplate, renderTemplate } from '../../../decider/rules/template.js';
import { repoPath } from '../../testbed/repo-root.js';

interface GoldenCase {
  readonly template: string;
  readonly result: string;
  readonly output: string;
}

describe('renderTemplate', () => {
  it("renders exactly like Go's text/template with OKG's functions (golden file from test/fixtures/gss/template-golden/main.go)", () => {
    const golden = JSON.parse(readFileSync(repoPath('test/fixtures/gss/template-golden/golden.json'), 'utf8')) as GoldenCase[];
    assert.ok(golden.length > 1000);
    const mismatches = golden.filter((c) => renderTemplate(c.template, c.result) !== c.output);
    assert.deepEqual(mismatches.map((c) => ({ ...c, got: renderTemplate(c.template, c.result) })), []);
  });

  it('maps probe results to opsStates the way users write it', () => {
    const t = '{{if eq .Result "idle"}}WaitToBeDeleted{{else if eq .Result "busy"}}Allocated{{else}}None{{end}}';
    assert.equal(renderTemplate(t, 'idle'), 'WaitToBeDeleted');
    assert.equal(renderTemplate(t, 'busy'), 'Allocated');
    assert.equal(renderTemplate(t, 'other'), 'None');
  });

  it('compares numerically when both sides parse as numbers, else as strings', () => {
    assert.equal(renderTemplate('{{if lt .Result "10"}}low{{else}}high{{end}}', '9'), 'low');
    assert.equal(renderTemplate('{{if lt .Result "10"}}low{{else}}high{{end}}', '9x'), 'high');
  });

  it('returns the original text on parse or execution errors, as OKG does', () => {
    assert.equal(renderTemplate('{{if eq .Result "a"}}x', 'a'), '{{if eq .Result "a"}}x');
    assert.equal(renderTemplate('{{.result}}', 'a'), '{{.result}}');
    assert.equal(renderTemplate('{{lt .Result 5}}', '3'), '{{lt .Result 5}}'); // lt takes strings in OKG
  });

  it('keeps constructs outside the subset unrendered and says why', () => {
    assert.equal(renderTemplate('{{.Result | printf "%q"}}', 'a'), '{{.Result | printf "%q"}}');
    assert.match(checkTemplate('{{.Result | printf "%q"}}') ?? '', /outside the supported subset/);
    assert.match(checkTemplate('{{len .Result}}') ?? '', /"len" is outside/);
    assert.match(checkTemplate('{{upper .Result}}') ?? '', /function "upper" not defined/);
    assert.equal(checkTemplate('{{if eq .Result "a"}}A{{else}}B{{end}}'), undefined);
    assert.equal(checkTemplate('no template'), undefined);
  });

  it('bounds the work on hostile templates', () => {
    const deep = '{{if true}}'.repeat(100) + 'x' + '{{end}}'.repeat(100);
    assert.match(checkTemplate(deep) ?? '', /nested too deeply/);
    const long = '{{.Result}}'.repeat(10_000);
    assert.equal(renderTemplate(long, 'a'), long);
  });
});

describe('parsePriorityTemplate', () => {
  it('renders then requires an integer (strconv.Atoi), wrapping to int32 like intstr.FromInt', () => {
    assert.deepEqual(parsePriorityTemplate('{{.Result}}', '42'), { ok: true, value: 42 });
    assert.deepEqual(parsePriorityTemplate('{{.Result}}', '-7'), { ok: true, value: -7 });
    assert.deepEqual(parsePriorityTemplate('{{.Result}}', '4294967297'), { ok: true, value: 1 });
    assert.equal(parsePriorityTemplate('{{.Result}}', 'abc').ok, false);
    assert.equal(parsePriorityTemplate('{{.Result}}', '').ok, false);
    assert.equal(parsePriorityTemplate('{{.Result}}', ' 1').ok, false);
    assert.equal(parsePriorityTemplate('{{.Result}}', '1.0').ok, false);
    assert.equal(parsePriorityTemplate('{{.Result}}', '99999999999999999999').ok, false); // out of int64
  });

  it('accepts signs but no spaces or underscores, as Atoi', () => {
    assert.equal(goAtoiToInt32('+5'), 5);
    assert.equal(goAtoiToInt32('1_000'), undefined);
    assert.equal(goAtoiToInt32('0x10'), undefined);
  });
});

describe('renderTemplate on hostile input', () => {
  it('trims long runs of spaces in linear time', () => {
    const t = 'a' + ' '.repeat(60_000) + 'x{{- .Result -}}' + ' '.repeat(3_000) + 'y';
    const started = performance.now();
    assert.equal(renderTemplate(t, 'r'), 'a' + ' '.repeat(60_000) + 'xry');
    assert.ok(performance.now() - started < 1_000);
  });
});
