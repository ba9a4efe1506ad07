import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PROBLEMS_PER_OBJECT, parseServiceQualities, type Problem } from '../../../rules/schema.js';

type Json = Record<string, unknown>;

function gss(qualities: unknown[], containers: Json[] = [{ name: 'game', ports: [{ name: 'http', containerPort: 8080 }] }]): Json {
  return {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'set' },
    spec: { gameServerTemplate: { spec: { containers } }, serviceQualities: qualities },
  };
}

function exec(extra: Json = {}): Json {
  return { name: 'healthy', containerName: 'game', permanent: false, exec: { command: ['/probe.sh'] }, serviceQualityAction: [{ state: false, opsState: 'Maintaining' }], ...extra };
}

function problemsOf(q: unknown[], containers?: Json[]): Problem[] {
  return parseServiceQualities(gss(q, containers)).problems;
}

function find(problems: Problem[], code: string, path: string): Problem {
  const p = problems.find((x) => x.code === code && x.path === path);
  assert.ok(p, `expected ${code} at ${path}, got ${JSON.stringify(problems, null, 1)}`);
  return p;
}

describe('parseServiceQualities', () => {
  it("returns valid qualities with OKG's defaults on zero or missing timing fields", () => {
    const { qualities, problems } = parseServiceQualities(gss([exec({ periodSeconds: 0, failureThreshold: 1, permanent: true })]));
    assert.deepEqual(problems, []);
    assert.deepEqual(qualities, [
      {
        name: 'healthy',
        containerName: 'game',
        handler: { kind: 'exec', command: ['/probe.sh'] },
        timing: { initialDelaySeconds: 10, timeoutSeconds: 5, periodSeconds: 3, successThreshold: 1, failureThreshold: 1 },
        permanent: true,
        actions: [{ state: false, opsState: 'Maintaining' }],
      },
    ]);
  });

  it('leaves invalid qualities out and returns the valid ones', () => {
    const { qualities, problems } = parseServiceQualities(gss([exec({ name: 'bad name' }), exec({ name: 'good' })]));
    assert.deepEqual(qualities.map((q) => q.name), ['good']);
    find(problems, 'InvalidName', 'spec.serviceQualities[0].name');
  });

  const errorRows: { name: string; qualities: unknown[]; containers?: Json[]; code: string; path: string }[] = [
    { name: 'a quality that is not an object', qualities: ['x'], code: 'WrongType', path: 'spec.serviceQualities[0]' },
    { name: 'a missing name', qualities: [exec({ name: undefined })], code: 'MissingField', path: 'spec.serviceQualities[0].name' },
    { name: 'a duplicate name', qualities: [exec(), exec()], code: 'DuplicateName', path: 'spec.serviceQualities[1].name' },
    { name: 'a name with a space (invalid label key)', qualities: [exec({ name: 'game ok' })], code: 'InvalidName', path: 'spec.serviceQualities[0].name' },
    { name: 'a name with a slash', qualities: [exec({ name: 'a/b' })], code: 'InvalidName', path: 'spec.serviceQualities[0].name' },
    { name: 'a name ending in "-"', qualities: [exec({ name: 'ok-' })], code: 'InvalidName', path: 'spec.serviceQualities[0].name' },
    { name: 'a name over 63 characters', qualities: [exec({ name: 'a'.repeat(64) })], code: 'InvalidName', path: 'spec.serviceQualities[0].name' },
    { name: 'no probe handler', qualities: [exec({ exec: undefined })], code: 'NoHandler', path: 'spec.serviceQualities[0]' },
    { name: 'two probe handlers', qualities: [exec({ tcpSocket: { port: 80 } })], code: 'SeveralHandlers', path: 'spec.serviceQualities[0].tcpSocket' },
    { name: 'an empty exec command', qualities: [exec({ exec: { command: [] } })], code: 'WrongType', path: 'spec.serviceQualities[0].exec.command' },
    {
      name: 'no containerName with several containers',
      qualities: [exec({ containerName: undefined })],
      containers: [{ name: 'game' }, { name: 'sidecar' }],
      code: 'MissingContainerName',
      path: 'spec.serviceQualities[0].containerName',
    },
    { name: 'an unknown container', qualities: [exec({ containerName: 'nope' })], code: 'UnknownContainer', path: 'spec.serviceQualities[0].containerName' },
    { name: 'a named port not in the container', qualities: [exec({ exec: undefined, httpGet: { port: 'admin', path: '/' } })], code: 'UnknownPortName', path: 'spec.serviceQualities[0].httpGet.port' },
    { name: 'a tcp named port not in the container', qualities: [exec({ exec: undefined, tcpSocket: { port: 'game' } })], code: 'UnknownPortName', path: 'spec.serviceQualities[0].tcpSocket.port' },
    { name: 'a grpc port given by name (the CRD says integer)', qualities: [exec({ exec: undefined, grpc: { port: 'http' } })], code: 'WrongType', path: 'spec.serviceQualities[0].grpc.port' },
    { name: 'a port out of range', qualities: [exec({ exec: undefined, tcpSocket: { port: 70000 } })], code: 'InvalidPort', path: 'spec.serviceQualities[0].tcpSocket.port' },
    { name: 'host on httpGet', qualities: [exec({ exec: undefined, httpGet: { port: 8080, host: '169.254.169.254' } })], code: 'HostRefused', path: 'spec.serviceQualities[0].httpGet.host' },
    { name: 'host on tcpSocket', qualities: [exec({ exec: undefined, tcpSocket: { port: 8080, host: 'db' } })], code: 'HostRefused', path: 'spec.serviceQualities[0].tcpSocket.host' },
    { name: 'a missing permanent (required by the CRD)', qualities: [exec({ permanent: undefined })], code: 'MissingField', path: 'spec.serviceQualities[0].permanent' },
    { name: 'an action without state (required by the CRD)', qualities: [exec({ serviceQualityAction: [{ opsState: 'None' }] })], code: 'MissingField', path: 'spec.serviceQualities[0].serviceQualityAction[0].state' },
    { name: 'a header without a value (required by the CRD)', qualities: [exec({ exec: undefined, httpGet: { port: 8080, httpHeaders: [{ name: 'x' }] } })], code: 'MissingField', path: 'spec.serviceQualities[0].httpGet.httpHeaders[0].value' },
    {
      name: 'a label value that is not a string',
      qualities: [exec({ serviceQualityAction: [{ state: true, labels: { a: 1 } }] })],
      code: 'WrongType',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].labels["a"]',
    },
    {
      name: 'a container resource that is no quantity (the CRD\'s pattern)',
      qualities: [exec({ serviceQualityAction: [{ state: true, containers: [{ name: 'game', resources: { limits: { cpu: 'lots' } } }] }] })],
      code: 'InvalidValue',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].containers[0].resources.limits["cpu"]',
    },
    { name: 'a negative timing value', qualities: [exec({ timeoutSeconds: -1 })], code: 'NegativeValue', path: 'spec.serviceQualities[0].timeoutSeconds' },
    { name: 'a timing value that is not an integer', qualities: [exec({ periodSeconds: '3' })], code: 'WrongType', path: 'spec.serviceQualities[0].periodSeconds' },
    { name: 'permanent that is not a boolean', qualities: [exec({ permanent: 'yes' })], code: 'WrongType', path: 'spec.serviceQualities[0].permanent' },
    { name: 'a state that is not a boolean', qualities: [exec({ serviceQualityAction: [{ state: 'true', opsState: 'None' }] })], code: 'WrongType', path: 'spec.serviceQualities[0].serviceQualityAction[0].state' },
    {
      name: 'an opsState template that does not parse',
      qualities: [exec({ serviceQualityAction: [{ state: true }, { state: true, opsState: '{{if eq .Result "a"}}x' }] })],
      code: 'TemplateParse',
      path: 'spec.serviceQualities[0].serviceQualityAction[1].opsState',
    },
    {
      name: 'a priority template that does not parse (a constant as a pipeline stage)',
      qualities: [exec({ serviceQualityAction: [{ state: true, deletionPriority: '{{.Result | 5}}' }] })],
      code: 'TemplateParse',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].deletionPriority',
    },
    {
      name: 'a label value template that does not parse',
      qualities: [exec({ serviceQualityAction: [{ state: true, labels: { a: '{{.Result' } }] })],
      code: 'TemplateParse',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].labels["a"]',
    },
    {
      name: 'an invalid label key',
      qualities: [exec({ serviceQualityAction: [{ state: true, labels: { 'bad key': 'x' } }] })],
      code: 'InvalidLabelKey',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].labels["bad key"]',
    },
    {
      name: 'an invalid label value',
      qualities: [exec({ serviceQualityAction: [{ state: true, labels: { ok: 'not ok' } }] })],
      code: 'InvalidLabelValue',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].labels["ok"]',
    },
    {
      name: 'a priority that is a float',
      qualities: [exec({ serviceQualityAction: [{ state: true, updatePriority: 1.5 }] })],
      code: 'WrongType',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].updatePriority',
    },
  ];
  for (const row of errorRows) {
    it(`reports ${row.name} as an error with its path`, () => {
      const problems = problemsOf(row.qualities, row.containers);
      const p = find(problems, row.code, row.path);
      assert.equal(p.severity, 'error');
      assert.ok(p.message.length > 10);
    });
  }

  const warningRows: { name: string; qualities: unknown[]; code: string; path: string; match?: RegExp }[] = [
    {
      name: 'a result with "|" (never matches)',
      qualities: [exec({ serviceQualityAction: [{ state: true, result: 'a|b', opsState: 'None' }] })],
      code: 'NeverMatches',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].result',
    },
    {
      name: 'a result with a newline (never matches)',
      qualities: [exec({ serviceQualityAction: [{ state: true, result: 'a\n', opsState: 'None' }] })],
      code: 'NeverMatches',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].result',
    },
    {
      name: 'a result longer than 1024 bytes (never matches)',
      qualities: [exec({ serviceQualityAction: [{ state: true, result: 'é'.repeat(513), opsState: 'None' }] })],
      code: 'NeverMatches',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].result',
    },
    {
      name: 'a result a tcp probe never reports',
      qualities: [exec({ exec: undefined, tcpSocket: { port: 7777 }, serviceQualityAction: [{ state: true, result: 'up', opsState: 'None' }] })],
      code: 'NeverMatches',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].result',
    },
    {
      name: 'a result a grpc probe never reports with that state',
      qualities: [exec({ exec: undefined, grpc: { port: 9000 }, serviceQualityAction: [{ state: true, result: 'NOT_SERVING', opsState: 'Maintaining' }] })],
      code: 'NeverMatches',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].result',
    },
    {
      name: 'an action shadowed by a later broader one',
      qualities: [exec({ serviceQualityAction: [{ state: true, result: 'gate', opsState: 'GateMaintaining' }, { state: true, opsState: 'None' }] })],
      code: 'Shadowed',
      path: 'spec.serviceQualities[0].serviceQualityAction[0]',
    },
    {
      name: 'an action shadowed by later ones that together overwrite its fields',
      qualities: [exec({ serviceQualityAction: [
        { state: false, opsState: 'Maintaining', labels: { a: '1' } },
        { state: false, labels: { a: '2' } },
        { state: false, result: 'x', opsState: 'Kill' }, // narrower: does not shadow
        { state: false, opsState: 'None' },
      ] })],
      code: 'Shadowed',
      path: 'spec.serviceQualities[0].serviceQualityAction[0]',
    },
    {
      name: 'a priority neither integer nor template',
      qualities: [exec({ serviceQualityAction: [{ state: true, deletionPriority: 'high' }] })],
      code: 'PriorityNotInteger',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].deletionPriority',
    },
    {
      name: 'a template that fails when executed',
      qualities: [exec({ serviceQualityAction: [{ state: true, opsState: '{{.result}}' }] })],
      code: 'TemplateExecution',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].opsState',
    },
    {
      name: 'an action that sets nothing',
      qualities: [exec({ serviceQualityAction: [{ state: true, result: 'x' }] })],
      code: 'NoEffect',
      path: 'spec.serviceQualities[0].serviceQualityAction[0]',
    },
    {
      name: 'a misspelt action field',
      qualities: [exec({ serviceQualityAction: [{ state: true, opState: 'None' }] })],
      code: 'UnknownField',
      path: 'spec.serviceQualities[0].serviceQualityAction[0].opState',
    },
    {
      name: 'a misspelt handler field (the CRD has no such field: the API server drops it)',
      qualities: [exec({ exec: undefined, tcpSocket: { port: 8080, timeout: 3 } })],
      code: 'UnknownField',
      path: 'spec.serviceQualities[0].tcpSocket.timeout',
    },
    {
      name: 'grpc probes (stock OpenKruise rejects them)',
      qualities: [exec({ exec: undefined, grpc: { port: 9000 } })],
      code: 'KruiseRejects',
      path: 'spec.serviceQualities[0].grpc',
      match: /must specify a handler type/,
    },
    {
      name: 'httpGet probes (stock OpenKruise rejects them)',
      qualities: [exec({ exec: undefined, httpGet: { port: 'http', path: '/state' } })],
      code: 'KruiseRejects',
      path: 'spec.serviceQualities[0].httpGet',
      match: /httpGet/,
    },
    {
      name: 'an empty containerName (stock OpenKruise rejects it)',
      qualities: [exec({ containerName: undefined })],
      code: 'KruiseRejects',
      path: 'spec.serviceQualities[0].containerName',
    },
  ];
  for (const row of warningRows) {
    it(`warns about ${row.name}`, () => {
      const { qualities, problems } = parseServiceQualities(gss(row.qualities));
      const p = find(problems, row.code, row.path);
      assert.equal(p.severity, 'warning');
      if (row.match) assert.match(p.message, row.match);
      assert.equal(problems.filter((x) => x.severity === 'error').length, 0, JSON.stringify(problems));
      assert.equal(qualities.length, 1, 'warnings do not drop the quality');
    });
  }

  it('does not call an action shadowed when the later one is narrower or sets less', () => {
    const problems = problemsOf([exec({ serviceQualityAction: [
      { state: true, opsState: 'None', deletionPriority: 1 },
      { state: true, result: 'x', opsState: 'Kill', deletionPriority: 2 },
      { state: true, opsState: 'Allocated' },
      { state: false, opsState: 'Maintaining', deletionPriority: 3 },
    ] })]);
    assert.deepEqual(problems.filter((p) => p.code === 'Shadowed'), []);
  });

  it('does not count a later priority template as a sure overwrite (it may fail to render and leave the field)', () => {
    const problems = problemsOf([exec({ serviceQualityAction: [
      { state: true, deletionPriority: 5 },
      { state: true, deletionPriority: '{{.Result}}' },
    ] })]);
    assert.deepEqual(problems.filter((p) => p.code === 'Shadowed'), []);
  });

  it('accepts the results grpc probes do report', () => {
    const problems = problemsOf([exec({ exec: undefined, grpc: { port: 9000 }, serviceQualityAction: [
      { state: false, result: 'NOT_SERVING', opsState: 'Maintaining' },
      { state: true, result: 'SERVING', opsState: 'None' },
    ] })]);
    assert.deepEqual(problems.filter((p) => p.code === 'NeverMatches'), []);
  });

  it('resolves httpGet with a known named port and defaults', () => {
    const { qualities, problems } = parseServiceQualities(gss([exec({ exec: undefined, httpGet: { port: 'http' } })]));
    assert.equal(problems.filter((p) => p.severity === 'error').length, 0);
    assert.deepEqual(qualities[0]!.handler, { kind: 'httpGet', path: '/', port: 'http', scheme: 'HTTP', headers: [] });
  });

  it('never throws on any input', () => {
    const hostile: unknown[] = [null, undefined, 1, 'x', [], { spec: null }, { spec: { serviceQualities: {} } }, { spec: { serviceQualities: [null, [], { name: {} }] } }];
    for (const h of hostile) assert.doesNotThrow(() => parseServiceQualities(h));
    const cyclic: Json = { name: 'c', exec: { command: ['x'] } };
    cyclic['self'] = cyclic;
    assert.doesNotThrow(() => parseServiceQualities(gss([cyclic])));
  });

  it('stays linear and caps the problems on 10,000 actions and huge strings', () => {
    const actions = Array.from({ length: 10_000 }, (_, i) => ({ state: i % 2 === 0, result: `r${i}|`, opsState: 'x'.repeat(1000), labels: { [`k${i}`]: '{{' } }));
    const started = performance.now();
    const { problems } = parseServiceQualities(gss([exec({ serviceQualityAction: actions, name: 'n'.repeat(1_000_000) })]));
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 5_000, `took ${elapsedMs} ms`);
    assert.equal(problems.length, MAX_PROBLEMS_PER_OBJECT + 1);
    const last = problems.at(-1)!;
    assert.equal(last.code, 'TooManyProblems');
    assert.match(last.message, /^\d+ more problems/);
    assert.ok(problems.every((p) => p.message.length < 400), 'messages quote values with a bound');
  });

  it('stays fast with 10,000 containers and 10,000 qualities', () => {
    const containers = Array.from({ length: 10_000 }, (_, i) => ({ name: `c${i}`, ports: [{ name: `p${i}`, containerPort: 1000 + (i % 50_000) }] }));
    const qualities = Array.from({ length: 10_000 }, (_, i) => ({
      name: `q${i}`,
      permanent: false,
      containerName: i % 2 === 0 ? `c${i}` : undefined, // odd ones: missing containerName, listing containers
      tcpSocket: { port: `p${i}` },
      serviceQualityAction: [{ state: true, containers: [{ name: `c${i}`, image: 'x' }] }],
    }));
    const started = performance.now();
    const { qualities: ok, problems } = parseServiceQualities(gss(qualities, containers));
    assert.ok(performance.now() - started < 5_000);
    assert.equal(ok.length, 5_000);
    assert.equal(problems.length, MAX_PROBLEMS_PER_OBJECT + 1);
    assert.ok(problems.every((p) => p.message.length < 400));
  });

  it('accepts every template construct OKG renders (variables, pipelines, printf, len, with, constants…)', () => {
    const templates = [
      '{{$x := .Result}}{{$x}}', '{{.Result | printf "%q"}}', '{{printf "%s-%d" .Result 7}}', '{{len .Result}}', '{{with .Result}}{{.}}{{else}}none{{end}}',
      '{{ 007 }}', '{{0x10}}', '{{ 1.5 }}', "{{ 'a' }}", '{{1e3}}', '{{1_000}}', '{{index .Result 0}}', '{{slice .Result 1}}', '{{html .Result}}',
      '{{js .Result}}{{urlquery .Result}}', '{{println .Result}}', '{{define "x"}}[{{.}}]{{end}}{{template "x" .Result}}', '{{block "b" .}}{{.Result}}{{end}}',
      '{{range $x := and nil 1}}{{break}}{{else}}empty{{end}}', '{{if ge .Result "1_000"}}big{{end}}', '{{- /* c */ -}}{{.Result -}}',
    ];
    const problems = problemsOf([exec({ serviceQualityAction: templates.map((opsState, i) => ({ state: true, result: `r${i}`, opsState, annotations: { a: opsState }, deletionPriority: '{{len .Result}}' })) })]);
    assert.deepEqual(problems.filter((p) => p.severity === 'error' || p.code.startsWith('Template')), []);
  });

  it('reports nothing for a set without serviceQualities', () => {
    assert.deepEqual(parseServiceQualities({ kind: 'GameServerSet', spec: {} }), { qualities: [], problems: [] });
  });
});
