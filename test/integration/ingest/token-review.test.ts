// TokenAuthenticator against the test bed's real kube-apiserver: real pod-bound ServiceAccount tokens
// (TokenRequest with a boundObjectRef) reviewed with a real TokenReview.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { ERROR_CODES, OkgSqError } from '../../../common/errors.js';
import { kubeTokenReviewClient, TokenAuthenticator } from '../../../decider/ingest/token-authenticator.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';

const AUDIENCE = 'okg-sq';
const AGENT_SA = 'okg-sq-agent';
/** The apiserver caches token reviews for 10 s by default: a deleted pod's token fails after that. */
const REVIEW_CACHE_DEADLINE_MS = 30_000;

async function podBoundToken(core: CoreV1Api, namespace: string, serviceAccount: string, podName: string, node: string, audience = AUDIENCE) {
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: podName },
      spec: { nodeName: node, serviceAccountName: serviceAccount, automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] },
    },
  });
  const req = await core.createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: { spec: { audiences: [audience], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: podName, uid: pod.metadata!.uid! } } },
  });
  return { token: req.status!.token, uid: pod.metadata!.uid! };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OkgSqError, String(err));
    return err.code;
  }
  return 'accepted';
}

describe('TokenAuthenticator on a real apiserver', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: string;
  let auth: TokenAuthenticator;
  let agentToken: { token: string; uid: string };

  before(async () => {
    kc = adminKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await createNamespace('ingest-tokens', kc);
    for (const name of [AGENT_SA, 'intruder']) await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
    agentToken = await podBoundToken(core, ns, AGENT_SA, 'agent-a', 'node-a');
    auth = new TokenAuthenticator({
      client: kubeTokenReviewClient(kc),
      audience: AUDIENCE,
      agentNamespace: ns,
      agentServiceAccount: AGENT_SA,
      logger: pino({ level: 'silent' }),
      cacheTtlMs: 0, // every call is a real TokenReview
    });
  });

  after(async () => {
    // Namespaces are never finalised in the bed; pods are removed so nothing refers to a node.
    await core.deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
  });

  it("accepts an agent pod's token for the node the pod is on", async () => {
    const identity = await auth.authenticate(agentToken.token, 'node-a');
    assert.deepEqual(identity, { node: 'node-a', podName: 'agent-a', podUid: agentToken.uid });
  });

  it('refuses it for another node', async () => {
    assert.equal(await refusal(auth.authenticate(agentToken.token, 'node-b')), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses a forged token', async () => {
    const [header, payload] = agentToken.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims['kubernetes.io'].node = { name: 'node-b', uid: 'x' };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${agentToken.token.split('.')[2]}`;
    assert.equal(await refusal(auth.authenticate(forged, 'node-b')), ERROR_CODES.UNAUTHENTICATED);
    assert.equal(await refusal(auth.authenticate('not-a-token', 'node-a')), ERROR_CODES.UNAUTHENTICATED);
  });

  it('refuses an agent token minted for another audience', async () => {
    const other = await podBoundToken(core, ns, AGENT_SA, 'agent-aud', 'node-a', 'some-other-service');
    assert.equal(await refusal(auth.authenticate(other.token, 'node-a')), ERROR_CODES.UNAUTHENTICATED);
  });

  it('refuses a pod-bound token of another ServiceAccount on the same node', async () => {
    const intruder = await podBoundToken(core, ns, 'intruder', 'intruder-a', 'node-a');
    assert.equal(await refusal(auth.authenticate(intruder.token, 'node-a')), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses the token once its pod is deleted', async () => {
    const doomed = await podBoundToken(core, ns, AGENT_SA, 'agent-doomed', 'node-c');
    assert.equal((await auth.authenticate(doomed.token, 'node-c')).podName, 'agent-doomed');
    await core.deleteNamespacedPod({ namespace: ns, name: 'agent-doomed', gracePeriodSeconds: 0 });
    const deadline = Date.now() + REVIEW_CACHE_DEADLINE_MS;
    let last = 'accepted';
    while (Date.now() < deadline) {
      last = await refusal(auth.authenticate(doomed.token, 'node-c'));
      if (last !== 'accepted') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(last, ERROR_CODES.UNAUTHENTICATED);
  });
});
