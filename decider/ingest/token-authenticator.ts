// Proves an agent's identity: its projected, pod-bound ServiceAccount token is checked with a
// TokenReview (audience included), must belong to the agent ServiceAccount, and must be bound to a pod
// on the node the agent claims. The agent itself holds no Kubernetes credentials.
import { createHash } from 'node:crypto';
import { ApiException, AuthenticationV1Api, CoreV1Api, type KubeConfig, type V1TokenReviewStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';
import { LOG } from '../../common/log-fields.js';
import type { AgentAuthenticator, AgentIdentity } from './ports.js';

const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';

/** A reconnect storm after a failover re-uses reviews instead of sending one per agent per attempt. */
export const DEFAULT_REVIEW_CACHE_TTL_MS = 60_000;
/** One entry per agent token in use; beyond it the oldest are forgotten. */
const MAX_CACHED_REVIEWS = 10_000;

/** The two API calls the authenticator makes; kubeTokenReviewClient() is the real one. */
export interface TokenReviewClient {
  review(token: string, audiences: string[]): Promise<V1TokenReviewStatus>;
  /** The bound pod's uid and node, or undefined when it does not exist. */
  readPod(namespace: string, name: string): Promise<{ uid: string; nodeName: string } | undefined>;
}

export function kubeTokenReviewClient(kubeConfig: KubeConfig): TokenReviewClient {
  const auth = kubeConfig.makeApiClient(AuthenticationV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async review(token, audiences) {
      const res = await auth.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
      });
      return res.status ?? {};
    },
    async readPod(namespace, name) {
      try {
        const pod = await core.readNamespacedPod({ namespace, name });
        return { uid: pod.metadata?.uid ?? '', nodeName: pod.spec?.nodeName ?? '' };
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
  };
}

export interface TokenAuthenticatorOptions {
  readonly client: TokenReviewClient;
  /** OKGSQ_TOKEN_AUDIENCE */
  readonly audience: string;
  /** OKGSQ_AGENT_NAMESPACE */
  readonly agentNamespace: string;
  /** OKGSQ_AGENT_SERVICE_ACCOUNT */
  readonly agentServiceAccount: string;
  readonly logger: Logger;
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

interface Reviewed {
  readonly identity: AgentIdentity;
  readonly expiresAtMs: number;
}

function single(extra: Record<string, string[]> | undefined, key: string): string {
  const values = extra?.[key];
  return values?.length === 1 ? values[0]! : '';
}

export class TokenAuthenticator implements AgentAuthenticator {
  private readonly cache = new Map<string, Reviewed>();
  private readonly inFlight = new Map<string, Promise<AgentIdentity>>();
  private readonly expectedUser: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(private readonly options: TokenAuthenticatorOptions) {
    this.expectedUser = `system:serviceaccount:${options.agentNamespace}:${options.agentServiceAccount}`;
    this.ttlMs = options.cacheTtlMs ?? DEFAULT_REVIEW_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
    this.logger = options.logger.child({ [LOG.component]: 'token-authenticator' });
  }

  async authenticate(token: string, claimedNode: string): Promise<AgentIdentity> {
    if (!token) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'empty token');
    // Tokens are secrets: only their hash is kept, and never logged.
    const hash = createHash('sha256').update(token).digest('base64url');
    const identity = await this.reviewCached(hash, token);
    if (identity.node !== claimedNode) {
      throw new OkgSqError(
        ERROR_CODES.PERMISSION_DENIED,
        `the token is bound to a pod on node "${identity.node}", not on "${claimedNode}"`,
      );
    }
    return identity;
  }

  private reviewCached(hash: string, token: string): Promise<AgentIdentity> {
    const hit = this.cache.get(hash);
    if (hit && hit.expiresAtMs > this.now()) return Promise.resolve(hit.identity);
    if (hit) this.cache.delete(hash);
    let pending = this.inFlight.get(hash);
    if (!pending) {
      pending = this.review(token).then(
        (identity) => {
          this.inFlight.delete(hash);
          if (this.cache.size >= MAX_CACHED_REVIEWS) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(hash, { identity, expiresAtMs: this.now() + this.ttlMs });
          return identity;
        },
        (err: unknown) => {
          this.inFlight.delete(hash);
          throw err;
        },
      );
      this.inFlight.set(hash, pending);
    }
    return pending;
  }

  private async review(token: string): Promise<AgentIdentity> {
    const { audience } = this.options;
    let status: V1TokenReviewStatus;
    try {
      status = await this.options.client.review(token, [audience]);
    } catch (err) {
      throw new OkgSqError(ERROR_CODES.KUBE_API, 'TokenReview failed', { cause: err });
    }
    if (status.authenticated !== true) {
      throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, `token not authenticated: ${status.error ?? 'no reason given'}`);
    }
    // An apiserver that ignored spec.audiences would accept tokens minted for anything else.
    if (!status.audiences?.includes(audience)) {
      throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, `token is not valid for audience "${audience}"`);
    }
    const user = status.user;
    if (user?.username !== this.expectedUser) {
      throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, `identity "${user?.username ?? ''}" is not the agent ServiceAccount ${this.expectedUser}`);
    }
    const podName = single(user.extra, EXTRA_POD_NAME);
    const podUid = single(user.extra, EXTRA_POD_UID);
    if (!podName || !podUid) {
      throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, 'the token is not bound to a pod (use a projected ServiceAccount token)');
    }
    let node = single(user.extra, EXTRA_NODE_NAME);
    if (!node) {
      // Older apiservers (before pod-bound node info) or a pod scheduled after the token was minted.
      node = await this.nodeOfPod(podName, podUid);
    }
    this.logger.debug({ [LOG.node]: node, [LOG.pod]: podName }, 'agent token reviewed');
    return { node, podName, podUid };
  }

  private async nodeOfPod(podName: string, podUid: string): Promise<string> {
    let pod: { uid: string; nodeName: string } | undefined;
    try {
      pod = await this.options.client.readPod(this.options.agentNamespace, podName);
    } catch (err) {
      throw new OkgSqError(ERROR_CODES.KUBE_API, `cannot read agent pod ${podName}`, { cause: err });
    }
    if (!pod || pod.uid !== podUid) {
      throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, `the token's pod ${podName} no longer exists`);
    }
    if (!pod.nodeName) throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, `agent pod ${podName} is not on a node`);
    return pod.nodeName;
  }
}
