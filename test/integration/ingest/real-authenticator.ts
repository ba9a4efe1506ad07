// The production TokenAuthenticator on the bed: real TokenReviews, and the real watch of the agent
// ServiceAccount's pods in `namespace` that identities end with.
import type { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { systemClock } from '../../../common/clock.js';
import { agentPodReflector, AgentPods } from '../../../decider/ingest/agent-pods.js';
import { kubeTokenReviewClient, TokenAuthenticator, type TokenAuthenticatorOptions } from '../../../decider/ingest/token-authenticator.js';
import { KubeClient } from '../../../decider/kube/kube-client.js';
import { waitFor } from '../../testbed/wait-for.js';

export async function realAuthenticator(
  kc: KubeConfig,
  namespace: string,
  options: Partial<Pick<TokenAuthenticatorOptions, 'cacheTtlMs' | 'failureTtlMs'>> = {},
): Promise<{ auth: TokenAuthenticator; stop(): Promise<void> }> {
  const api = new KubeClient(kc);
  const logger = pino({ level: process.env.OKGSQ_TEST_LOG_LEVEL ?? 'silent' });
  const pods = agentPodReflector({ api, clock: systemClock, logger, namespace, serviceAccount: 'okg-sq-agent' });
  pods.start();
  await waitFor(() => pods.synced, { timeoutMs: 10_000, what: 'the agent-pod watch synced' });
  const auth = new TokenAuthenticator({
    client: kubeTokenReviewClient(api),
    pods: new AgentPods(pods, namespace, systemClock),
    audience: 'okg-sq',
    agentNamespace: namespace,
    agentServiceAccount: 'okg-sq-agent',
    clock: systemClock,
    logger,
    ...options,
  });
  return {
    auth,
    stop: async () => {
      await pods.stop();
      api.close();
    },
  };
}
