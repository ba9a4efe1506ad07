// TokenAuthenticator's decisions over a fake TokenReview client (the real apiserver is in
// test/integration/ingest/).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { V1TokenReviewStatus } from '@kubernetes/client-node';
import pino from 'pino';
import { ERROR_CODES, OkgSqError } from '../../../../common/errors.js';
import { TokenAuthenticator, type TokenReviewClient } from '../../../../decider/ingest/token-authenticator.js';

const AGENT_USER = 'system:serviceaccount:okg-sq:okg-sq-agent';

function status(extra: Record<string, string[]>, overrides: Partial<V1TokenReviewStatus> = {}): V1TokenReviewStatus {
  return { authenticated: true, audiences: ['okg-sq'], user: { username: AGENT_USER, extra }, ...overrides };
}

const BOUND = {
  'authentication.kubernetes.io/pod-name': ['okg-sq-agent-x1'],
  'authentication.kubernetes.io/pod-uid': ['uid-1'],
  'authentication.kubernetes.io/node-name': ['node-a'],
};

class FakeReviews implements TokenReviewClient {
  reviews = 0;
  audiencesSent: string[][] = [];
  constructor(
    public answer: V1TokenReviewStatus,
    public pod: { uid: string; nodeName: string } | undefined = undefined,
  ) {}
  async review(_token: string, audiences: string[]): Promise<V1TokenReviewStatus> {
    this.reviews++;
    this.audiencesSent.push(audiences);
    return this.answer;
  }
  async readPod(): Promise<{ uid: string; nodeName: string } | undefined> {
    return this.pod;
  }
}

function authenticator(client: TokenReviewClient, now = () => 0, logs?: string[]) {
  const logger = logs
    ? pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }))
    : pino({ level: 'silent' });
  return new TokenAuthenticator({ client, audience: 'okg-sq', agentNamespace: 'okg-sq', agentServiceAccount: 'okg-sq-agent', logger, now, cacheTtlMs: 60_000 });
}

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
  it('accepts a pod-bound agent token for its own node and asks for our audience', async () => {
    const reviews = new FakeReviews(status(BOUND));
    const identity = await authenticator(reviews).authenticate('tok', 'node-a');
    assert.deepEqual(identity, { node: 'node-a', podName: 'okg-sq-agent-x1', podUid: 'uid-1' });
    assert.deepEqual(reviews.audiencesSent, [['okg-sq']]);
  });

  it('refuses the same token for another node', async () => {
    assert.equal(await code(authenticator(new FakeReviews(status(BOUND))).authenticate('tok', 'node-b')), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses an unauthenticated token', async () => {
    const reviews = new FakeReviews({ authenticated: false, error: 'invalid bearer token' });
    assert.equal(await code(authenticator(reviews).authenticate('forged', 'node-a')), ERROR_CODES.UNAUTHENTICATED);
  });

  it('refuses a token the apiserver did not confirm for our audience', async () => {
    const reviews = new FakeReviews(status(BOUND, { audiences: ['https://kubernetes.default.svc'] }));
    assert.equal(await code(authenticator(reviews).authenticate('tok', 'node-a')), ERROR_CODES.UNAUTHENTICATED);
  });

  it('refuses another ServiceAccount', async () => {
    const reviews = new FakeReviews(status(BOUND, { user: { username: 'system:serviceaccount:games:default', extra: BOUND } }));
    assert.equal(await code(authenticator(reviews).authenticate('tok', 'node-a')), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses a token not bound to a pod', async () => {
    assert.equal(await code(authenticator(new FakeReviews(status({}))).authenticate('tok', 'node-a')), ERROR_CODES.PERMISSION_DENIED);
  });

  it("falls back to the bound pod's spec.nodeName when the token has no node-name", async () => {
    const { 'authentication.kubernetes.io/node-name': _node, ...noNode } = BOUND;
    const reviews = new FakeReviews(status(noNode), { uid: 'uid-1', nodeName: 'node-c' });
    assert.equal((await authenticator(reviews).authenticate('tok', 'node-c')).node, 'node-c');
    assert.equal(await code(authenticator(reviews).authenticate('tok', 'node-a')), ERROR_CODES.PERMISSION_DENIED);
    reviews.pod = { uid: 'uid-recreated', nodeName: 'node-c' };
    assert.equal(await code(authenticator(reviews).authenticate('tok', 'node-c')), ERROR_CODES.UNAUTHENTICATED);
    reviews.pod = undefined;
    assert.equal(await code(authenticator(reviews).authenticate('tok', 'node-c')), ERROR_CODES.UNAUTHENTICATED);
  });

  it('reuses a successful review until it expires, and never logs the token', async () => {
    let now = 0;
    const logs: string[] = [];
    const reviews = new FakeReviews(status(BOUND));
    const auth = authenticator(reviews, () => now, logs);
    await Promise.all([auth.authenticate('secret-token-value', 'node-a'), auth.authenticate('secret-token-value', 'node-a')]);
    await auth.authenticate('secret-token-value', 'node-a');
    assert.equal(reviews.reviews, 1, 'concurrent and repeated reviews share one call');
    assert.equal(await code(auth.authenticate('secret-token-value', 'node-b')), ERROR_CODES.PERMISSION_DENIED, 'cached identity still checked against the claim');
    now = 60_001;
    reviews.answer = { authenticated: false };
    assert.equal(await code(auth.authenticate('secret-token-value', 'node-a')), ERROR_CODES.UNAUTHENTICATED);
    assert.equal(reviews.reviews, 2);
    assert.ok(logs.length > 0);
    assert.ok(!logs.join('').includes('secret-token-value'));
  });

  it('reports an unreachable apiserver as KUBE_API (not as a bad token)', async () => {
    const client: TokenReviewClient = { review: async () => { throw new Error('ECONNREFUSED'); }, readPod: async () => undefined };
    assert.equal(await code(authenticator(client).authenticate('tok', 'node-a')), ERROR_CODES.KUBE_API);
  });
});
