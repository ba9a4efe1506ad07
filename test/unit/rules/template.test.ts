// The template engine's contract, case by case (the generated goldens in template-okg-golden.test.ts prove
// parity with OKG's own code at scale): the cases, Go's number grammar, failures and bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTemplate, goAtoiToInt32, MAX_RENDERED_BYTES, parsePriorityTemplate, probeTemplateExecution, renderField, renderTemplate, renderTemplateBytes,
} from '../../../rules/template.js';
import { parseFloat64 } from '../../../rules/template/go-atof.js';
import { parseBool } from '../../../rules/template/go-atoi.js';
import { formatFloat } from '../../../rules/template/go-ftoa.js';

describe('priorities: strconv.Atoi then int32, as OKG', () => {
  it('accepts any number of leading zeros and a sign (a 50-character result gives 7)', () => {
    const r = '+' + '0'.repeat(48) + '7';
    assert.equal(r.length, 50);
    assert.deepEqual(parsePriorityTemplate('{{ .Result }}', r), { ok: true, value: 7 });
    assert.equal(goAtoiToInt32('-' + '0'.repeat(100) + '42'), -42);
  });

  it('wraps past 32 bits like intstr.FromInt (Go int32 conversion), within int64', () => {
    assert.equal(goAtoiToInt32('4294967297'), 1);
    assert.equal(goAtoiToInt32('2147483648'), -2147483648);
    assert.equal(goAtoiToInt32('9223372036854775807'), -1);
    assert.equal(goAtoiToInt32('9223372036854775808'), undefined); // out of int64: Atoi fails
  });

  it('refuses what Atoi refuses: spaces, underscores, prefixes, decimals, empty', () => {
    for (const s of [' 1', '1 ', '1_000', '0x10', '1.0', '1e3', '', '+', '-', '١']) assert.equal(goAtoiToInt32(s), undefined, s);
    assert.equal(parsePriorityTemplate('{{.Result}}', '').ok, false);
  });

  it('renders first, so any template that prints an integer is a priority', () => {
    assert.deepEqual(parsePriorityTemplate('{{len .Result}}', 'abcd'), { ok: true, value: 4 });
    assert.deepEqual(parsePriorityTemplate('{{ 007 }}', ''), { ok: true, value: 7 });
    assert.deepEqual(parsePriorityTemplate("{{ 'a' }}", ''), { ok: true, value: 97 });
    const failed = parsePriorityTemplate('{{lt .Result 5}}', '3');
    assert.ok(!failed.ok && /does not render: execution fails/.test(failed.message), JSON.stringify(failed));
  });
});

describe('lt le gt ge: strconv.ParseFloat on both sides, else bytewise', () => {
  const cmp = (op: string, a: string, b: string): string => renderTemplate(`{{${op} .Result ${JSON.stringify(b)}}}`, a);

  it('reads Go float syntax JavaScript does not: underscores, hex floats', () => {
    assert.equal(cmp('ge', '1_000', '1e3'), 'true');
    assert.equal(cmp('gt', '0x1p4', '5'), 'true');
    assert.equal(cmp('lt', '0x1p4', '5'), 'false');
  });

  it('compares infinities as equal and NaN as nothing; a signed NaN is not a number', () => {
    assert.equal(cmp('ge', 'Inf', '+Inf'), 'true');
    assert.equal(cmp('le', '-infinity', '-Inf'), 'true');
    for (const op of ['lt', 'le', 'gt', 'ge']) assert.equal(cmp(op, 'NaN', '1'), 'false', op);
    assert.equal(cmp('lt', '+nan', 'a'), 'true'); // "+nan" is text: "+" < "a" bytewise
  });

  it('falls back to bytewise order when either side is no number (range errors included)', () => {
    assert.equal(cmp('lt', '9x', '10'), 'false');
    assert.equal(cmp('lt', '1e400', '5'), 'true'); // 1e400 overflows: text comparison
    assert.equal(cmp('lt', '\uff61', '😀'), 'true'); // UTF-8 bytes (EF… < F0…), not UTF-16 units (FF61 > D83D)
  });
});

describe("Go's strconv", () => {
  it('ParseFloat: its grammar, rounding and range', () => {
    const table: [string, number | undefined][] = [
      ['1_000', 1000], ['0x1p4', 16], ['0X1.8P1', 3], ['0x.8p0', 0.5], ['.5', 0.5], ['5.', 5], ['+1e3', 1000], ['1e5_0', 1e50],
      ['inf', Infinity], ['-Infinity', -Infinity], ['INF', Infinity], ['nan', NaN], ['1e-400', 0], ['0x1p-1075', 0], ['0x1p-1074', 5e-324],
      ['9007199254740993', 9007199254740992], ['1e400', undefined], ['0x1p1024', undefined], ['1__0', undefined], ['_1', undefined], ['1_', undefined],
      ['0x1', undefined], ['+nan', undefined], ['infin', undefined], ['', undefined], ['1e', undefined], [' 1', undefined], ['1,5', undefined],
    ];
    for (const [s, want] of table) assert.deepEqual(parseFloat64(s), want, s);
  });

  it('ParseBool: the spellings status matching accepts', () => {
    for (const s of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseBool(s), true, s);
    for (const s of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseBool(s), false, s);
    for (const s of ['Unknown', 'yes', 'tRUE', '', ' true']) assert.equal(parseBool(s), undefined, s);
  });

  it('FormatFloat: shortest, fixed precision with ties to even, hex', () => {
    assert.equal(formatFloat(123456789, 'g', -1), '1.23456789e+08');
    assert.equal(formatFloat(0.5, 'f', 0), '0');
    assert.equal(formatFloat(2.5, 'f', 0), '2');
    assert.equal(formatFloat(1.5, 'f', 0), '2');
    assert.equal(formatFloat(1.5, 'x', -1), '0x1.8p+00');
    assert.equal(formatFloat(-0, 'e', 3), '-0.000e+00');
    assert.equal(formatFloat(5e-324, 'g', -1), '5e-324');
  });
});

describe('renderTemplate: the whole of text/template that OKG renders', () => {
  it("renders the issue's constructs as Go does", () => {
    const cases: [string, string, string][] = [
      ['{{$x := .Result}}{{$x}}', 'idle', 'idle'],
      ['{{.Result | printf "%q"}}', 'a"b', '"a\\"b"'],
      ['{{printf "%05.1f|%-4d|%x|%v" 3.14159 7 "hi" .}}', 'r', '003.1|7   |6869|{r}'],
      ['{{len .Result}}', 'é', '2'],
      ['{{with .Result}}[{{.}}]{{else}}none{{end}}', '', 'none'],
      ['{{ 007 }} {{0x10}} {{ 1.5 }} {{ \'a\' }} {{1e3}} {{1_000}} {{2i}}', '', '7 16 1.5 97 1000 1000 (0+2i)'],
      ['{{printf "%d %s" 1}}', '', '1 %!s(MISSING)'],
      ['{{and nil 1}}|{{print nil}}|{{html nil}}', '', '<no value>|<nil>|&lt;no value&gt;'],
      ['{{define "t"}}({{.}}){{end}}{{template "t" .Result}}{{template "t"}}', 'x', '(x)(<no value>)'],
      ['{{if eq .Result "idle"}}WaitToBeDeleted{{else if eq .Result "busy"}}Allocated{{else}}None{{end}}', 'busy', 'Allocated'],
      ['a {{- .Result -}} b', 'X', 'aXb'],
      ['{{.Result |}}', 'ok', 'ok'],
    ];
    for (const [t, r, want] of cases) assert.equal(renderTemplate(t, r), want, t);
  });

  it('keeps the bytes of a Go string: a slice can cut a character, written as U+FFFD like Go\'s JSON', () => {
    assert.equal(renderTemplateBytes('{{slice .Result 0 1}}', 'é'), '\xc3');
    assert.equal(renderTemplate('{{slice .Result 0 1}}', 'é'), '\ufffd');
  });

  it("gives OKG's answer on failure (the template's own text), and renderField says why", () => {
    const failures: [string, RegExp][] = [
      ['{{if eq .Result "a"}}x', /unexpected EOF/],
      ['{{range 3}}x{{end}}', /execution fails: range can't iterate over int/],
      ['{{lt .Result 5}}', /execution fails: expected string/],
      ['{{.Foo}}', /can't evaluate field Foo/],
      ['{{upper .Result}}', /function "upper" not defined/],
      ['{{08}}', /integer overflow/],
      ['{{. | call}}', /call with no function argument/],
    ];
    for (const [t, why] of failures) {
      assert.equal(renderTemplate(t, 'a'), t);
      const r = renderField(t, 'a');
      assert.ok(!r.ok && why.test(r.reason), `${t}: ${JSON.stringify(r)}`);
    }
    assert.deepEqual(renderField('plain', 'a'), { ok: true, value: 'plain' });
  });

  it('checkTemplate flags what does not parse; probeTemplateExecution what fails on given results', () => {
    assert.match(checkTemplate('{{.Result | 5}}') ?? '', /non executable command/);
    assert.equal(checkTemplate('{{$x := .Result}}{{$x | printf "%q"}}'), undefined);
    assert.equal(checkTemplate('no template'), undefined);
    assert.match(probeTemplateExecution('{{if eq .Result "x"}}{{.Foo}}{{end}}', ['a', 'x']) ?? '', /Foo.*with result "x"/);
    assert.equal(probeTemplateExecution('{{if eq .Result "x"}}{{.Foo}}{{end}}', ['a']), undefined);
  });
});

describe('renderTemplate on hostile templates: bounded, refused, never a crash', () => {
  const refused = (t: string, r = 'a'): string => {
    const out = renderField(t, r);
    assert.ok(!out.ok, `${t.slice(0, 60)} rendered`);
    return out.reason;
  };

  it('refuses nesting past its bound (Go has none) without exhausting the stack', () => {
    assert.match(refused('{{' + '('.repeat(10_000) + '1' + ')'.repeat(10_000) + '}}'), /beyond okg-sq's bounds: nested deeper/);
    assert.match(refused('{{if true}}'.repeat(1_000) + 'x' + '{{end}}'.repeat(1_000)), /beyond okg-sq's bounds/);
    assert.equal(renderTemplate('{{if true}}'.repeat(50) + 'x' + '{{end}}'.repeat(50), 'a'), 'x');
  });

  it('refuses endless or exponential template calls (Go: depth 100,000 or hours)', () => {
    assert.match(refused('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}'), /beyond okg-sq's bounds/);
    let fan = '{{define "t0"}}x{{end}}';
    for (let i = 1; i <= 30; i++) fan += `{{define "t${i}"}}{{template "t${i - 1}"}}{{template "t${i - 1}"}}{{end}}`;
    assert.match(refused(fan + '{{template "t30"}}'), /beyond okg-sq's bounds: more than/);
  });

  it('refuses output past MAX_RENDERED_BYTES, and huge printf widths, before building them', () => {
    assert.match(refused(`{{printf "%${MAX_RENDERED_BYTES + 1}d" 1}}`), /beyond okg-sq's bounds/);
    assert.match(refused('{{printf "%9999999d" 1}}'), /beyond okg-sq's bounds/);
    const wide = `{{printf "%${MAX_RENDERED_BYTES / 2}d" 1}}`;
    assert.equal(renderTemplate(wide, 'a').length, MAX_RENDERED_BYTES / 2);
    assert.match(refused(wide.repeat(3)), /output longer/);
    assert.match(refused('x'.repeat(70_000) + '{{.Result}}'), /longer than 65536 characters/);
  });

  it('trims long runs of spaces in linear time', () => {
    const t = 'a' + ' '.repeat(60_000) + 'x{{- .Result -}}' + ' '.repeat(3_000) + 'y';
    assert.equal(renderTemplate(t, 'r'), 'a' + ' '.repeat(60_000) + 'xry');
  });
});
