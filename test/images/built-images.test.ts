// The images the cluster bed loads: imported into a real containerd under the names the chart and the
// runtime's sandbox_image use, each image's own process starts as the chart runs it (read-only root
// filesystem, the image's user).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureBuiltImages, importImages, okgsqImageRefs } from '../testbed/built-images.js';
import { testbedEnv } from '../testbed/env.js';
import { runInContainerd } from './run-in-containerd.js';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

describe('ensureBuiltImages + importImages', () => {
  const env = testbedEnv();

  it('loads agent, decider and pause into containerd under their names, and each one runs', async () => {
    const images = await ensureBuiltImages(log);
    const refs = okgsqImageRefs();
    assert.equal(images.agent.ref, refs.agent);
    assert.equal(images.decider.ref, refs.decider);
    assert.match(images.pause.ref, /^registry\.k8s\.io\/pause:\d+\.\d+(\.\d+)?$/);
    await importImages(env.containerdSocket, Object.values(images));

    // The entrypoint loads the whole program and stops at option validation (exit 2, the program's own
    // message): every module it imports is in the image and Node runs on the locally built base.
    const agent = await runInContainerd(env.containerdSocket, images.agent.ref);
    assert.equal(agent.code, 2, agent.stderr);
    assert.match(agent.stderr, /^okg-sq agent: /m);
    const decider = await runInContainerd(env.containerdSocket, images.decider.ref);
    assert.equal(decider.code, 2, decider.stderr);
    assert.match(decider.stderr, /^okg-sq decider: /m);

    const deciderUser = await runInContainerd(env.containerdSocket, images.decider.ref, ['id', '-un']);
    assert.equal(deciderUser.stdout.trim(), 'node', 'the decider runs as the base image\'s node user (1000)');
    const pause = await runInContainerd(env.containerdSocket, images.pause.ref, ['/pause', '-v']);
    assert.equal(pause.code, 0, pause.stderr);
    assert.equal(pause.stdout.trim(), `pause.c v${images.pause.ref.split(':')[1]}`);
  });
});
