// TokenAuthenticator's decisions over a fake TokenReview client and a fake agent-pod watch (the real
// apiserver is in test/integration/ingest/), on a fake clock.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ERROR_CODES, OkgSqError } from '../../../../common/errors.js';
import { AgentPods, type AgentPodView } from '../../../../decider/ingest/agent-pods.js';
import { TokenAuthenticator, type TokenReviewClient, type TokenReviewStatus } from '../../../../decider/ingest/token-authenticator.js';
import { FakeClock } from '../../probe/fake-clock.js';
import { FakeCache } from '../kit.js';

const AGENT_USER = 'system:serviceaccount:okg-sq:okg-sq-agent';
const T0 = 1_700_000_000_000;

function status(extra: Record<string, string[]>, overrides: Partial<TokenReviewStatus> = {}): TokenReviewStatus {
  return { authenticated: true, audiences: ['okg-sq'], user: { username: AGENT_USER, extra }, ...overrides };
}

const BOUND = {
  'authentication.kubernetes.io/pod-name': ['okg-sq-agent-x1'],
  'authentication.kubernetes.io/pod-uid': ['uid-1'],
  'authentication.kubernetes.io/node-name': ['node-a'],
};

/** A JWT-shaped token (the signature is the fake review's business) for `aud`, expiring at `expMs`. */
function jwt(name: string, expMs = T0 + 3_600_000, aud: string | string[] = ['okg-sq']): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ aud, exp: Math.floor(expMs / 1000), sub: name })}.${Buffer.from(name).toString('base64url')}`;
}

class FakeReviews implements TokenReviewClient {
  reviews = 0;
  audiencesSent: (readonly string[])[] = [];
  signals: AbortSignal[] = [];
  gate: Promise<void> | undefined;
  constructor(public answer: TokenReviewStatus) {}
  async review(_token: string, audiences: readonly string[], signal: AbortSignal): Promise<TokenReviewStatus> {
    this.reviews++;
    this.audiencesSent.push(audiences);
    this.signals.push(signal);
    if (this.gate) await this.gate;
    if (signal.aborted) throw new Error('aborted');
    return this.answer;
  }
}

function agentPod(name: string, uid: string, nodeName = 'node-a', deletionTimestamp: string | null = null): AgentPodView {
  return { metadata: { name, namespace: 'okg-sq', uid, resourceVersion: String(Math.random()), deletionTimestamp }, spec: { nodeName } };
}

function setup(answer: TokenReviewStatus, logs?: string[]) {
  const clock = new FakeClock(T0);
  const pods = new FakeCache<AgentPodView>();
  pods.set(agentPod('okg-sq-agent-x1', 'uid-1'));
  const reviews = new FakeReviews(answer);
  const logger = logs
    ? pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }))
    : pino({ level: 'silent' });
  const auth = new TokenAuthenticator({
    client: reviews,
    pods: new AgentPods(pods, 'okg-sq', clock),
    audience: 'okg-sq',
    agentNamespace: 'okg-sq',
    agentServiceAccount: 'okg-sq-agent',
    clock,
    logger,
    cacheTtlMs: 60_000,
    failureTtlMs: 10_000,
  });
  return { clock, pods, reviews, auth };
}

const never = new AbortController().signal;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OkgSqError, String(err));
    return err.code;
  }
  return 'accepted';
}

describe('TokenAuthenticator', () => {
  it("accepts a pod-bound agent token for its own node, asks for our audience, and keeps the token's expiry", async () => {
    const { reviews, auth } = setup(status(BOUND));
    const identity = await auth.authenticate(jwt('a', T0 + 600_000), 'node-a', never);
    assert.deepEqual(identity, { node: 'node-a', podName: 'okg-sq-agent-x1', podUid: 'uid-1', expiresAtMs: T0 + 600_000 });
    assert.deepEqual(reviews.audiencesSent, [['okg-sq']]);
  });

  it('refuses the same token for another node', async () => {
    assert.equal(await code(setup(status(BOUND)).auth.authenticate(jwt('a'), 'node-b', never)), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses an unauthenticated token, a token for another audience, another ServiceAccount, a token bound to no pod', async () => {
    const cases: [TokenReviewStatus, string][] = [
      [{ authenticated: false, error: 'invalid bearer token' }, ERROR_CODES.UNAUTHENTICATED],
      [status(BOUND, { audiences: ['https://kubernetes.default.svc'] }), ERROR_CODES.UNAUTHENTICATED],
      [status(BOUND, { user: { username: 'system:serviceaccount:games:default', extra: BOUND } }), ERROR_CODES.PERMISSION_DENIED],
      [status({}), ERROR_CODES.PERMISSION_DENIED],
    ];
    for (const [answer, want] of cases) assert.equal(await code(setup(answer).auth.authenticate(jwt('a'), 'node-a', never)), want, JSON.stringify(answer));
  });

  it('refuses garbage, expired tokens and tokens for another audience without a TokenReview', async () => {
    const { reviews, auth } = setup(status(BOUND));
    for (const token of ['not-a-token', 'a.b', `${jwt('x')}x!`, jwt('old', T0 - 1), jwt('other', T0 + 600_000, 'https://kubernetes.default.svc'), 'x'.repeat(20_000)]) {
      assert.equal(await code(auth.authenticate(token, 'node-a', never)), ERROR_CODES.UNAUTHENTICATED, token.slice(0, 40));
    }
    assert.equal(reviews.reviews, 0);
  });

  it('remembers a refused token briefly: a client replaying it costs one TokenReview per period', async () => {
    const { clock, reviews, auth } = setup({ authenticated: false, error: 'invalid bearer token' });
    const forged = jwt('forged');
    for (let i = 0; i < 20; i++) assert.equal(await code(auth.authenticate(forged, 'node-a', never)), ERROR_CODES.UNAUTHENTICATED);
    assert.equal(reviews.reviews, 1);
    await clock.advance(10_001);
    await code(auth.authenticate(forged, 'node-a', never));
    assert.equal(reviews.reviews, 2);
  });

  it("falls back to the bound pod's spec.nodeName (from the watch) when the token has no node-name", async () => {
    const { 'authentication.kubernetes.io/node-name': _node, ...noNode } = BOUND;
    const { pods, auth } = setup(status(noNode));
    pods.set(agentPod('okg-sq-agent-x1', 'uid-1', 'node-c'));
    assert.equal((await auth.authenticate(jwt('a'), 'node-c', never)).node, 'node-c');
    assert.equal(await code(auth.authenticate(jwt('a'), 'node-a', never)), ERROR_CODES.PERMISSION_DENIED);
  });

  it('reuses a successful review, but only while its pod (name + uid) is still there', async () => {
    const { pods, reviews, auth } = setup(status(BOUND));
    const token = jwt('a');
    await Promise.all([auth.authenticate(token, 'node-a', never), auth.authenticate(token, 'node-a', never)]);
    await auth.authenticate(token, 'node-a', never);
    assert.equal(reviews.reviews, 1, 'concurrent and repeated reviews share one call');
    pods.set(agentPod('okg-sq-agent-x1', 'uid-recreated'));
    assert.equal(await code(auth.authenticate(token, 'node-a', never)), ERROR_CODES.UNAUTHENTICATED, 'pod replaced: the cached review no longer holds');
    assert.equal(reviews.reviews, 1, 'refused from the cache, not by another review');
    // The pod that replaced it, and its own token, which then goes with its pod.
    reviews.answer = status({ ...BOUND, 'authentication.kubernetes.io/pod-uid': ['uid-recreated'] });
    await auth.authenticate(jwt('b'), 'node-a', never);
    pods.delete('okg-sq', 'okg-sq-agent-x1');
    assert.equal(await code(auth.authenticate(jwt('b'), 'node-a', never)), ERROR_CODES.UNAUTHENTICATED, 'pod deleted');
    assert.equal(reviews.reviews, 2);
  });

  it('re-reviews once the cache expires, and never caches past the token expiry', async () => {
    const { clock, reviews, auth } = setup(status(BOUND));
    const short = jwt('short', T0 + 30_000);
    await auth.authenticate(short, 'node-a', never);
    await clock.advance(30_000);
    assert.equal(await code(auth.authenticate(short, 'node-a', never)), ERROR_CODES.UNAUTHENTICATED, 'expired');
    const long = jwt('long');
    await auth.authenticate(long, 'node-a', never);
    await clock.advance(60_001);
    reviews.answer = { authenticated: false };
    assert.equal(await code(auth.authenticate(long, 'node-a', never)), ERROR_CODES.UNAUTHENTICATED);
    assert.equal(reviews.reviews, 3, 'short, long, then long again (the expired one cost no review)');
  });

  it('says when an identity ends: at its expiry, or when its pod goes, is replaced or is past its deletion time', async () => {
    const { clock, pods, auth } = setup(status(BOUND));
    pods.set(agentPod('okg-sq-agent-x1', 'uid-1'));
    const changes: number[] = [];
    auth.onChange(() => changes.push(clock.now()));
    const identity = await auth.authenticate(jwt('a', T0 + 600_000), 'node-a', never);
    assert.equal(auth.revoked(identity), undefined);
    pods.set(agentPod('okg-sq-agent-x1', 'uid-1', 'node-a', new Date(T0 + 30_000).toISOString()));
    assert.equal(auth.revoked(identity), undefined, 'terminating, within its grace period');
    await clock.advance(30_000);
    assert.equal(auth.revoked(identity)?.reason, 'pod_gone');
    pods.set(agentPod('okg-sq-agent-x1', 'uid-2'));
    assert.equal(auth.revoked(identity)?.reason, 'pod_gone');
    assert.equal(changes.length, 2, 'every pod change is announced');
    const other = { ...identity, podName: 'okg-sq-agent-x2', podUid: 'uid-x2' };
    pods.set(agentPod('okg-sq-agent-x2', 'uid-x2'));
    assert.equal(auth.revoked(other), undefined);
    await clock.advance(570_000);
    assert.equal(auth.revoked(other)?.reason, 'token_expired');
  });

  it('cancels the TokenReview when the last stream waiting for it goes', async () => {
    const { reviews, auth } = setup(status(BOUND));
    let open!: () => void;
    reviews.gate = new Promise<void>((r) => (open = r));
    const first = new AbortController();
    const second = new AbortController();
    const a = auth.authenticate(jwt('a'), 'node-a', first.signal);
    const b = auth.authenticate(jwt('a'), 'node-a', second.signal);
    await new Promise((r) => setImmediate(r));
    first.abort();
    assert.equal(await code(a), ERROR_CODES.STOPPED);
    assert.equal(reviews.signals[0]!.aborted, false, 'another stream still waits for it');
    second.abort();
    assert.equal(await code(b), ERROR_CODES.STOPPED);
    assert.equal(reviews.signals[0]!.aborted, true);
    open();
  });

  it('waits for the watch to show a freshly reviewed pod; refuses one it saw go; gives up (UNAVAILABLE, not a bad token) on one it never sees', async () => {
    const bound = (name: string, uid: string) => status({ ...BOUND, 'authentication.kubernetes.io/pod-name': [name], 'authentication.kubernetes.io/pod-uid': [uid] });
    const { clock, pods, reviews, auth } = setup(bound('agent-new', 'uid-new'));
    const pending = auth.authenticate(jwt('a'), 'node-a', never);
    await new Promise((r) => setImmediate(r));
    pods.set(agentPod('agent-new', 'uid-new'));
    assert.equal((await pending).podUid, 'uid-new');
    // The apiserver may answer from its cache for a pod the watch already saw deleted.
    pods.delete('okg-sq', 'agent-new');
    assert.equal(await code(auth.authenticate(jwt('b'), 'node-a', never)), ERROR_CODES.UNAUTHENTICATED);
    reviews.answer = bound('agent-never', 'uid-never');
    const late = code(auth.authenticate(jwt('c'), 'node-a', never));
    await new Promise((r) => setImmediate(r));
    await clock.advance(5_000);
    assert.equal(await late, ERROR_CODES.KUBE_API);
  });

  it('reports an unreachable apiserver as KUBE_API (not as a bad token), and never logs the token', async () => {
    const logs: string[] = [];
    const { reviews, auth } = setup(status(BOUND), logs);
    const token = jwt('secret-token-value');
    await auth.authenticate(token, 'node-a', never);
    reviews.review = async () => {
      throw new Error('ECONNREFUSED');
    };
    assert.equal(await code(auth.authenticate(jwt('other'), 'node-a', never)), ERROR_CODES.KUBE_API);
    assert.ok(logs.length > 0);
    assert.ok(!logs.join('').includes(token.split('.')[2]!));
    assert.ok(!logs.join('').includes(token));
  });
});
