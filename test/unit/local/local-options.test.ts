import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OkgSqError } from '../../../common/errors.js';
import { parseLocalArgs, MAX_LOCAL_REPLICAS } from '../../../cli/local/local-options.js';

test('defaults: table output, replicas/workdir/duration from elsewhere', () => {
  const cmd = parseLocalArgs(['set.yaml']);
  assert.deepEqual(cmd, {
    kind: 'run',
    options: { file: 'set.yaml', replicas: undefined, workdir: undefined, durationSeconds: undefined, output: 'table' },
  });
  assert.ok(cmd.kind === 'run' && Object.isFrozen(cmd.options));
});

test('every flag is read', () => {
  const cmd = parseLocalArgs(['--replicas', '3', 'set.yaml', '--workdir=/tmp', '--duration', '2.5', '--output', 'json']);
  assert.deepEqual(cmd, {
    kind: 'run',
    options: { file: 'set.yaml', replicas: 3, workdir: '/tmp', durationSeconds: 2.5, output: 'json' },
  });
});

test('--help wins', () => {
  assert.deepEqual(parseLocalArgs(['--help']), { kind: 'help' });
  assert.deepEqual(parseLocalArgs(['x.yaml', '-h']), { kind: 'help' });
});

const bad: [string[], RegExp][] = [
  [[], /missing <gameserverset.yaml>/],
  [['a.yaml', 'b.yaml'], /one GameServerSet file at a time/],
  [['a.yaml', '--replicas', '0'], /--replicas .* got "0"/],
  [['a.yaml', '--replicas', '1.5'], /--replicas must be a whole number/],
  [['a.yaml', '--replicas', String(MAX_LOCAL_REPLICAS + 1)], /--replicas/],
  [['a.yaml', '--replicas', 'three'], /got "three"/],
  [['a.yaml', '--duration=-1'], /--duration .* got "-1"/],
  [['a.yaml', '--duration', ''], /--duration/],
  [['a.yaml', '--output', 'yaml'], /--output must be one of table, json, got "yaml"/],
  [['a.yaml', '--workdir', ''], /--workdir/],
  [['a.yaml', '--replica', '3'], /--replica/],
];
for (const [argv, message] of bad) {
  test(`usage error: ${argv.join(' ') || '(nothing)'}`, () => {
    assert.throws(
      () => parseLocalArgs(argv),
      (err: unknown) => err instanceof OkgSqError && err.code === 'OKGSQ_INVALID_OPTION' && message.test(err.message),
    );
  });
}
