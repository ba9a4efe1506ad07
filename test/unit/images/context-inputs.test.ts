// The image cache key follows exactly what a Dockerfile copies from its context: a change to a copied
// file rebuilds the image, a change anywhere else does not.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { contextHash, dockerfileContextSources } from '../../testbed/image-build/context-inputs.js';
import { repoRoot } from '../../testbed/repo-root.js';

describe('dockerfileContextSources', () => {
  it("lists the agent Dockerfile's context sources, not its stage-to-stage copies", () => {
    const text = readFileSync(join(repoRoot(), 'Dockerfile.agent'), 'utf8');
    assert.deepEqual(dockerfileContextSources(text), ['package.json', 'package-lock.json', 'tsconfig.json', 'proto/gen', 'common', 'agent', 'package.json', 'package-lock.json', 'package.json']);
  });

  it('reads flags, continuation lines, JSON form and ADD', () => {
    const text = 'FROM x\nCOPY --chown=1:1 a b/ /dst/\nCOPY --from=build /src/dist ./dist\nADD ["c d", "/e"]\ncopy \\\n  f /g\n';
    assert.deepEqual(dockerfileContextSources(text), ['a', 'b', 'c d', 'f']);
  });
});

describe('contextHash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-ctx-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'src', 'deep', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'package.json'), '{}\n');
  writeFileSync(join(dir, 'README.md'), 'not copied\n');
  const sources = ['package.json', 'src'];

  it('changes with the content or mode of a copied file, and only then', () => {
    const before = contextHash(dir, sources);
    writeFileSync(join(dir, 'README.md'), 'changed, still not copied\n');
    assert.equal(contextHash(dir, sources), before, 'a file the Dockerfile does not copy');
    writeFileSync(join(dir, 'src', 'deep', 'a.ts'), 'export const a = 2;\n');
    const edited = contextHash(dir, sources);
    assert.notEqual(edited, before, 'content of a copied file');
    chmodSync(join(dir, 'src', 'deep', 'a.ts'), 0o755);
    assert.notEqual(contextHash(dir, sources), edited, 'mode of a copied file');
    writeFileSync(join(dir, 'src', 'new.ts'), '');
    assert.notEqual(contextHash(dir, sources), edited, 'a new file in a copied directory');
  });

  it('names a copied path that does not exist', () => {
    assert.throws(() => contextHash(dir, ['missing']), /missing: copied by the Dockerfile but missing from the build context/);
  });
});
