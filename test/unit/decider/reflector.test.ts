// The reflector over a scripted API: restarts after errors with backoff, resumes watches from the last
// resourceVersion, relists on 410 (dropping what vanished), keeps only trimmed objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reflector } from '../../../decider/kube/reflector.js';
import type { KubeApi, KubeResponse } from '../../../decider/kube/kube-client.js';
import { trimPod } from '../../../decider/kube/cluster-cache.js';
import type { PodView } from '../../../rules/plan.js';
import { FakeClock } from '../probe/fake-clock.js';
import { silentLogger } from './kit.js';
import { waitFor } from '../../testbed/wait-for.js';

type WatchScript = (onEvent: (e: { type: string; object: any }) => void, signal: AbortSignal) => Promise<void>;

class ScriptedApi implements KubeApi {
  lists: (() => KubeResponse | Error)[] = [];
  watches: WatchScript[] = [];
  readonly calls: string[] = [];
  async request(method: string, path: string): Promise<KubeResponse> {
    this.calls.push(`${method} ${path}`);
    const next = this.lists.shift();
    if (!next) throw new Error('no scripted list');
    const r = next();
    if (r instanceof Error) throw r;
    return r;
  }
  /** Resolves once the reflector has opened `count` watches (it lists first, so the lists are done too). */
  watching(count: number): Promise<boolean> {
    return waitFor(() => this.calls.filter((c) => c.startsWith('WATCH')).length >= count, { what: `${count} watch(es)`, timeoutMs: 10_000, intervalMs: 1 });
  }

  watch(path: string, onEvent: (e: { type: string; object: any }) => void, signal: AbortSignal): Promise<void> {
    this.calls.push(`WATCH ${path}`);
    const next = this.watches.shift();
    // Unscripted: hang until stopped, like a quiet watch.
    if (!next) return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    return next(onEvent, signal);
  }
}

function rawPod(name: string, rv: string, extra: Record<string, unknown> = {}): any {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv, labels: { a: 'b' }, managedFields: [{ big: 'x'.repeat(1000) }] },
    spec: { nodeName: 'n', containers: [{ name: 'c', image: 'img', env: [{ name: 'X', value: 'y' }] }], volumes: [{ name: 'v' }] },
    status: { phase: 'Running', podIP: '10.0.0.1', conditions: [] },
    ...extra,
  };
}

const list = (rv: string, items: any[]): (() => KubeResponse) => () => ({ status: 200, body: { metadata: { resourceVersion: rv }, items } });

test('a failed list is retried with backoff; synced after the first successful list; objects are trimmed', async () => {
  const clock = new FakeClock();
  const api = new ScriptedApi();
  api.lists.push(() => new Error('connection refused'), () => ({ status: 500, body: {} }), list('10', [rawPod('p1', '5')]));
  const synced: boolean[] = [];
  const r = new Reflector<PodView>({ resource: 'pods', paths: ['/api/v1/pods'], labelSelector: 'game.kruise.io/owner-gss', trim: trimPod, api, clock, logger: silentLogger, onSynced: (s) => synced.push(s) });
  r.start();
  await waitFor(() => clock.pendingTimers === 1, { what: 'the first list failed and its retry armed', timeoutMs: 10_000, intervalMs: 1 });
  assert.equal(r.synced, false);
  await clock.advance(600); // first backoff 250–500 ms, the second 500–1,000 ms
  assert.equal(r.synced, false);
  await clock.advance(1200);
  assert.equal(r.synced, true);
  assert.deepEqual(synced, [true]);
  const p1 = r.get('ns', 'p1')!;
  assert.equal((p1.metadata as any).managedFields, undefined, 'managedFields dropped');
  assert.equal((p1.spec as any).volumes, undefined, 'unused spec fields dropped');
  assert.deepEqual(p1.spec!.containers, [{ name: 'c' }]);
  assert.match(api.calls.at(-1)!, /^WATCH \/api\/v1\/pods\?watch=true&resourceVersion=10&.*labelSelector=game.kruise.io%2Fowner-gss/);
  await r.stop();
});

test('a watch that ends resumes from the last resourceVersion; 410 Gone relists and drops vanished objects', async () => {
  const clock = new FakeClock();
  const api = new ScriptedApi();
  api.lists.push(list('10', [rawPod('p1', '5'), rawPod('p2', '6')]), list('30', [rawPod('p1', '25')]));
  api.watches.push(
    async (on) => {
      on({ type: 'MODIFIED', object: rawPod('p1', '11') });
      on({ type: 'ADDED', object: rawPod('p3', '12') });
    },
    async (on) => {
      on({ type: 'ERROR', object: { kind: 'Status', code: 410 } });
    },
  );
  const seen: string[] = [];
  const r = new Reflector<PodView>({ resource: 'pods', paths: ['/api/v1/pods'], trim: trimPod, api, clock, logger: silentLogger });
  r.addHandlers({ onUpsert: (o) => seen.push(`up ${o.metadata.name}@${o.metadata.resourceVersion}`), onDelete: (o) => seen.push(`del ${o.metadata.name}`) });
  r.start();
  await api.watching(3); // the third, unscripted, stays open
  const watches = api.calls.filter((c) => c.startsWith('WATCH'));
  assert.match(watches[0]!, /resourceVersion=10&/);
  assert.match(watches[1]!, /resourceVersion=12&/, 'resumed after the last event');
  assert.match(watches[2]!, /resourceVersion=30&/, 'after 410: a fresh list, then watch from it');
  assert.deepEqual(seen, ['up p1@5', 'up p2@6', 'up p1@11', 'up p3@12', 'up p1@25', 'del p2', 'del p3']);
  assert.deepEqual([...r.list()].map((p) => p.metadata.name), ['p1']);
  await r.stop();
});

test('observe() takes our own write\'s answer, and an older watch event does not roll it back', async () => {
  const clock = new FakeClock();
  const api = new ScriptedApi();
  let emit: ((e: { type: string; object: any }) => void) | undefined;
  api.lists.push(list('10', [rawPod('p1', '5')]));
  api.watches.push((on, signal) => {
    emit = on;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  });
  const r = new Reflector<PodView>({ resource: 'pods', paths: ['/api/v1/pods'], trim: trimPod, api, clock, logger: silentLogger });
  r.start();
  await api.watching(1);
  r.observe(rawPod('p1', '20', { status: { phase: 'Running', conditions: [{ type: 'game.kruise.io/x', status: 'True' }] } }));
  assert.equal(r.get('ns', 'p1')!.metadata.resourceVersion, '20');
  emit!({ type: 'MODIFIED', object: rawPod('p1', '15') });
  assert.equal(r.get('ns', 'p1')!.metadata.resourceVersion, '20');
  assert.equal(r.get('ns', 'p1')!.status!.conditions!.length, 1);
  await r.stop();
});

test('a watch that stays silent past the server timeout + grace is restarted from the same resourceVersion', async () => {
  const clock = new FakeClock();
  const api = new ScriptedApi();
  api.lists.push(list('10', [rawPod('p1', '5')]));
  const r = new Reflector<PodView>({ resource: 'pods', paths: ['/api/v1/pods'], trim: trimPod, api, clock, logger: silentLogger });
  r.start();
  await api.watching(1);
  assert.equal(api.calls.filter((c) => c.startsWith('WATCH')).length, 1);
  await clock.advance(300_000);
  assert.equal(api.calls.filter((c) => c.startsWith('WATCH')).length, 1, 'not before the limit');
  await clock.advance(60_001);
  const watches = api.calls.filter((c) => c.startsWith('WATCH'));
  assert.equal(watches.length, 2);
  assert.match(watches[1]!, /resourceVersion=10&/);
  assert.equal(api.calls.filter((c) => c.startsWith('GET')).length, 1, 'no relist needed');
  await r.stop();
});
