// TokenAuthenticator against the test bed's real kube-apiserver: real pod-bound ServiceAccount tokens
// (TokenRequest with a boundObjectRef) reviewed with a real TokenReview, agent pods from a real watch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ERROR_CODES, OkgSqError } from '../../../common/errors.js';
import type { TokenAuthenticator } from '../../../decider/ingest/token-authenticator.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { waitFor } from '../../testbed/wait-for.js';
import { realAuthenticator } from './real-authenticator.js';

const AUDIENCE = 'okg-sq';
const AGENT_SA = 'okg-sq-agent';
const never = new AbortController().signal;

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
  let stopAuth: () => Promise<void>;
  let agentToken: { token: string; uid: string };

  before(async () => {
    kc = adminKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await createNamespace('ingest-tokens', kc);
    for (const name of [AGENT_SA, 'intruder']) await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
    agentToken = await podBoundToken(core, ns, AGENT_SA, 'agent-a', 'node-a');
    // Every call is a real TokenReview (no cached success or refusal).
    ({ auth, stop: stopAuth } = await realAuthenticator(kc, ns, { cacheTtlMs: 0, failureTtlMs: 0 }));
  });

  after(async () => {
    await stopAuth?.();
    // Namespaces are never finalised in the bed; pods are removed so nothing refers to a node.
    await core.deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
  });

  it("accepts an agent pod's token for the node the pod is on", async () => {
    const identity = await auth.authenticate(agentToken.token, 'node-a', never);
    const exp = JSON.parse(Buffer.from(agentToken.token.split('.')[1]!, 'base64url').toString()).exp as number;
    assert.deepEqual(identity, { node: 'node-a', podName: 'agent-a', podUid: agentToken.uid, expiresAtMs: exp * 1000 });
    assert.ok(Math.abs(identity.expiresAtMs - (Date.now() + 600_000)) < 30_000, 'the TokenRequest expiry (600 s)');
  });

  it('refuses it for another node', async () => {
    assert.equal(await refusal(auth.authenticate(agentToken.token, 'node-b', never)), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses a forged token', async () => {
    const [header, payload] = agentToken.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims['kubernetes.io'].node = { name: 'node-b', uid: 'x' };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${agentToken.token.split('.')[2]}`;
    assert.equal(await refusal(auth.authenticate(forged, 'node-b', never)), ERROR_CODES.UNAUTHENTICATED);
    assert.equal(await refusal(auth.authenticate('not-a-token', 'node-a', never)), ERROR_CODES.UNAUTHENTICATED);
  });

  it('refuses an agent token minted for another audience', async () => {
    const other = await podBoundToken(core, ns, AGENT_SA, 'agent-aud', 'node-a', 'some-other-service');
    assert.equal(await refusal(auth.authenticate(other.token, 'node-a', never)), ERROR_CODES.UNAUTHENTICATED);
  });

  it('refuses a pod-bound token of another ServiceAccount on the same node', async () => {
    const intruder = await podBoundToken(core, ns, 'intruder', 'intruder-a', 'node-a');
    assert.equal(await refusal(auth.authenticate(intruder.token, 'node-a', never)), ERROR_CODES.PERMISSION_DENIED);
  });

  it('refuses the token, and ends the identity, as soon as the watch sees its pod deleted', async () => {
    const doomed = await podBoundToken(core, ns, AGENT_SA, 'agent-doomed', 'node-c');
    const identity = await auth.authenticate(doomed.token, 'node-c', never);
    assert.equal(identity.podName, 'agent-doomed');
    assert.equal(auth.revoked(identity), undefined);
    await core.deleteNamespacedPod({ namespace: ns, name: 'agent-doomed', gracePeriodSeconds: 0 });
    await waitFor(() => auth.revoked(identity) !== undefined, { timeoutMs: 5_000, what: 'the identity revoked' });
    assert.equal(auth.revoked(identity)?.reason, 'pod_gone');
    // The apiserver answers reviews of this token from its own cache for ~10 s more: the watch knows better.
    assert.equal(await refusal(auth.authenticate(doomed.token, 'node-c', never)), ERROR_CODES.UNAUTHENTICATED);
  });
});
