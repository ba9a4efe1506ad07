import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHttpServer } from '../../../agent/http-server.js';
import { AgentMetrics } from '../../../agent/metrics.js';
import { AgentReadiness } from '../../../agent/readiness.js';

function readiness(state: { stopping?: boolean; session?: boolean; cri?: Error | undefined }, calls = { cri: 0 }) {
  return new AgentReadiness({
    stopping: () => state.stopping ?? false,
    sessionUp: () => state.session ?? false,
    criVersion: async () => {
      calls.cri++;
      if (state.cri) throw state.cri;
      return {};
    },
  });
}

describe('AgentReadiness', () => {
  it('is ready only with a decider session and a CRI that answers; says why not', async () => {
    const state: { stopping?: boolean; session?: boolean; cri?: Error | undefined } = { session: false, cri: new Error('connect ENOENT /run/containerd/containerd.sock') };
    const r = readiness(state);
    assert.deepEqual(await r.notReadyReasons(), ['the CRI runtime does not answer: connect ENOENT /run/containerd/containerd.sock', 'no session with the decider']);
    state.cri = undefined;
    assert.deepEqual(await r.notReadyReasons(), ['no session with the decider']);
    state.session = true;
    assert.deepEqual(await r.notReadyReasons(), []);
    state.cri = new Error('deadline exceeded');
    assert.deepEqual(await r.notReadyReasons(), ['the CRI runtime does not answer: deadline exceeded']);
    state.cri = undefined;
    state.stopping = true;
    assert.deepEqual(await r.notReadyReasons(), ['stopping']);
  });

  it('concurrent checks share one CRI call', async () => {
    const calls = { cri: 0 };
    const r = readiness({ session: true }, calls);
    await Promise.all([r.notReadyReasons(), r.notReadyReasons(), r.notReadyReasons()]);
    assert.equal(calls.cri, 1);
    await r.notReadyReasons();
    assert.equal(calls.cri, 2, 'a later check asks again');
  });

  it('/readyz answers 200 ok or 503 with the reasons; /healthz stays liveness', async () => {
    const state: { session?: boolean } = { session: false };
    const r = readiness(state);
    const server = await startHttpServer(0, new AgentMetrics(() => 0), () => true, () => r.notReadyReasons(), '127.0.0.1');
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const notReady = await fetch(`${base}/readyz`);
      assert.deepEqual([notReady.status, await notReady.text()], [503, 'no session with the decider\n']);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      state.session = true;
      const ready = await fetch(`${base}/readyz`);
      assert.deepEqual([ready.status, await ready.text()], [200, 'ok\n']);
    } finally {
      await server.stop();
    }
  });
});
