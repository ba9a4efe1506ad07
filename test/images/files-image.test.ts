// ensureFilesImage, the helper for small images of static binaries (controllers, pause): the image holds
// the files with the modes and config asked for, runs in containerd, and is reproducible: the same
// files give the same manifest digest in another cache, a changed file gives another image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureFilesImage, importImages, type FilesImageSpec } from '../testbed/built-images.js';
import { testbedEnv } from '../testbed/env.js';
import { ImageCache } from '../testbed/image-build/image-cache.js';
import { readSingleImageArchive } from '../testbed/image-build/oci-archive.js';
import { findStaticBusybox } from '../testbed/images.js';
import { versions } from '../testbed/versions.js';
import { runInContainerd } from './run-in-containerd.js';

const log = (): void => {};

function layerFile(archive: string, layerDigest: string, path: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-layer-'));
  try {
    execFileSync('tar', ['-xf', archive, '-C', dir, `blobs/sha256/${layerDigest.slice('sha256:'.length)}`]);
    return execFileSync('tar', ['-xzOf', join(dir, 'blobs', 'sha256', layerDigest.slice('sha256:'.length)), path], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ensureFilesImage', () => {
  const env = testbedEnv();
  const scratch = mkdtempSync(join(tmpdir(), 'okgsq-files-image-'));
  const caches = [new ImageCache(join(scratch, 'cache-a')), new ImageCache(join(scratch, 'cache-b'))] as const;
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const script = join(scratch, 'hello.sh');
  writeFileSync(script, '#!/bin/busybox sh\necho "hello from $(/bin/busybox id -un)"\n');
  const spec: FilesImageSpec = {
    ref: 'docker.io/okgsq/files-image-test:1',
    files: [
      { from: findStaticBusybox(), to: '/bin/busybox', mode: 0o755 },
      { from: script, to: '/usr/local/bin/hello', mode: 0o555 },
    ],
    dirs: [{ path: '/tmp', mode: 0o1777 }],
    entrypoint: ['/usr/local/bin/hello'],
    user: '65532:65532',
    env: { GREETING: 'a b' },
    passwd: true,
  };

  it('holds the files, accounts and config asked for, and runs as its user in containerd', async () => {
    const image = await ensureFilesImage(spec, log, caches[0]);
    const archived = await readSingleImageArchive(image.ociArchive);
    assert.equal(archived.ref, spec.ref);
    assert.deepEqual(archived.config.config?.Entrypoint, ['/usr/local/bin/hello']);
    assert.equal(archived.config.config?.User, '65532:65532');
    assert.ok(archived.config.config?.Env?.includes('GREETING=a b'), JSON.stringify(archived.config.config?.Env));
    assert.equal(archived.layers.length, 1, 'FROM scratch: one layer');
    assert.match(layerFile(image.ociArchive, archived.layers[0]!.digest, 'etc/passwd'), /^app:x:65532:65532:/m);

    await importImages(env.containerdSocket, [image]);
    const run = await runInContainerd(env.containerdSocket, spec.ref);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'hello from app');
  });

  it('builds on the Node base with base: node (the shared cache\'s base), running node as the base\'s node user', async () => {
    const program = join(scratch, 'main.mjs');
    writeFileSync(program, 'console.log(`node ${process.version} uid ${process.getuid()}`);\n');
    const image = await ensureFilesImage({ ref: 'docker.io/okgsq/files-image-node-test:1', files: [{ from: program, to: '/app/main.mjs', mode: 0o444 }], entrypoint: ['node', '/app/main.mjs'], user: '1000:1000', base: 'node' }, log);
    await importImages(env.containerdSocket, [image]);
    const run = await runInContainerd(env.containerdSocket, image.ref);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), `node v${versions().NODE_VERSION} uid 1000`);
  });

  it('is reused from the cache, reproducible in another cache, and rebuilt when a file changes', async () => {
    const first = await ensureFilesImage(spec, log, caches[0]);
    assert.deepEqual(await ensureFilesImage(spec, log, caches[0]), first, 'same inputs, same entry');
    const elsewhere = await ensureFilesImage(spec, log, caches[1]);
    assert.equal(elsewhere.manifestDigest, first.manifestDigest, 'another cache and store build the same digest');
    assert.notEqual(elsewhere.ociArchive, first.ociArchive);

    writeFileSync(script, '#!/bin/busybox sh\necho changed\n');
    const changed = await ensureFilesImage(spec, log, caches[0]);
    assert.notEqual(changed.key, first.key);
    assert.notEqual(changed.manifestDigest, first.manifestDigest);
  });
});
