// Proves an agent's identity: its projected, pod-bound ServiceAccount token is checked with a
// TokenReview (audience included), must belong to the agent ServiceAccount, and must be bound to a pod
// on the node the agent claims. The agent itself holds no Kubernetes credentials.
// An identity lasts as long as its token and its pod: `revoked()` says when it ended, and a cached review
// is used only while its pod (name + uid) is still there (docs/design.md, "Agent identities that end").
// Garbage costs no TokenReview (not a JWT, expired, another audience), and a refused token is refused
// again from a short cache, so unauthenticated peers cannot amplify into API requests.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';
import { LOG } from '../../common/log-fields.js';
import type { KubeApi } from '../kube/kube-client.js';
import type { PodPresence } from './agent-pods.js';
import { jwtClaims } from './jwt-claims.js';
import { untilAborted } from './until-aborted.js';
import type { AgentAuthenticator, AgentIdentity, Revocation } from './ports.js';

const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';

/** A reconnect storm after a failover re-uses reviews instead of sending one per agent per attempt. */
export const DEFAULT_REVIEW_CACHE_TTL_MS = 60_000;
/** A refused token is refused again without a review for this long (a client retrying it, or replaying garbage). */
export const FAILED_REVIEW_CACHE_TTL_MS = 10_000;
/** Entries per cache (one per agent token in use); beyond it the oldest are forgotten. */
const MAX_CACHED_REVIEWS = 10_000;
/** A fresh review may be a moment ahead of the agent-pod watch: how long it waits for the pod to show. */
const POD_WATCH_WAIT_MS = 5_000;
const REVIEW_TIMEOUT_MS = 10_000;

/** The fields of a TokenReview's status the authenticator reads. */
export interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly audiences?: readonly string[];
  readonly error?: string;
  readonly user?: { readonly username?: string; readonly extra?: Readonly<Record<string, readonly string[]>> };
}

/** The API call the authenticator makes; kubeTokenReviewClient() is the real one. */
export interface TokenReviewClient {
  /** Rejects when `signal` aborts (the request is cancelled). */
  review(token: string, audiences: readonly string[], signal: AbortSignal): Promise<TokenReviewStatus>;
}

/** What the authenticator needs to know about agent pods (AgentPods, from a watch). */
export interface AgentPodLookup {
  gone(name: string, uid: string): string | undefined;
  nodeOf(name: string, uid: string): string | undefined;
  presence(name: string, uid: string, signal: AbortSignal, timeoutMs: number): Promise<PodPresence>;
  onChange(listener: () => void): void;
}

export function kubeTokenReviewClient(api: KubeApi): TokenReviewClient {
  return {
    async review(token, audiences, signal) {
      const res = await api.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
        timeoutMs: REVIEW_TIMEOUT_MS,
        signal,
      });
      if (res.status !== 200 && res.status !== 201) throw new OkgSqError(ERROR_CODES.KUBE_API, `TokenReview: HTTP ${res.status}`);
      return (res.body as { status?: TokenReviewStatus } | undefined)?.status ?? {};
    },
  };
}

export interface TokenAuthenticatorOptions {
  readonly client: TokenReviewClient;
  readonly pods: AgentPodLookup;
  /** OKGSQ_TOKEN_AUDIENCE */
  readonly audience: string;
  /** OKGSQ_AGENT_NAMESPACE */
  readonly agentNamespace: string;
  /** OKGSQ_AGENT_SERVICE_ACCOUNT */
  readonly agentServiceAccount: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly cacheTtlMs?: number;
  readonly failureTtlMs?: number;
}

interface Cached<T> {
  readonly value: T;
  readonly untilMs: number;
}

/** A review several streams with the same token wait for; cancelled when the last of them gives up. */
interface SharedReview {
  readonly promise: Promise<AgentIdentity>;
  readonly controller: AbortController;
  waiters: number;
}

function single(extra: Readonly<Record<string, readonly string[]>> | undefined, key: string): string {
  const values = extra?.[key];
  return values?.length === 1 ? values[0]! : '';
}

function stopped(): OkgSqError {
  return new OkgSqError(ERROR_CODES.STOPPED, 'authentication cancelled');
}

function remember<T>(map: Map<string, Cached<T>>, key: string, value: T, untilMs: number): void {
  map.delete(key);
  if (map.size >= MAX_CACHED_REVIEWS) map.delete(map.keys().next().value!);
  map.set(key, { value, untilMs });
}

export class TokenAuthenticator implements AgentAuthenticator {
  private readonly reviewed = new Map<string, Cached<AgentIdentity>>();
  private readonly refused = new Map<string, Cached<OkgSqError>>();
  private readonly inFlight = new Map<string, SharedReview>();
  private readonly expectedUser: string;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: TokenAuthenticatorOptions) {
    this.expectedUser = `system:serviceaccount:${options.agentNamespace}:${options.agentServiceAccount}`;
    this.ttlMs = options.cacheTtlMs ?? DEFAULT_REVIEW_CACHE_TTL_MS;
    this.failureTtlMs = options.failureTtlMs ?? FAILED_REVIEW_CACHE_TTL_MS;
    this.logger = options.logger.child({ [LOG.component]: 'token-authenticator' });
  }

  async authenticate(token: string, claimedNode: string, signal: AbortSignal): Promise<AgentIdentity> {
    if (!token) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'empty token');
    const claims = jwtClaims(token);
    if (!claims) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'not a JWT (the agent needs a projected ServiceAccount token)');
    const now = this.options.clock.now();
    if (claims.expiresAtMs === undefined) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'the token has no expiry (the agent needs a projected ServiceAccount token)');
    if (claims.expiresAtMs <= now) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'the token has expired');
    if (!claims.audiences.includes(this.options.audience)) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, `the token is not for audience "${this.options.audience}"`);
    // Tokens are secrets: only their hash is kept, and never logged.
    const hash = createHash('sha256').update(token).digest('base64url');
    const refusal = this.refused.get(hash);
    if (refusal && refusal.untilMs > now) throw new OkgSqError(refusal.value.code, refusal.value.message);
    const identity = await this.identityOf(hash, token, claims.expiresAtMs, signal);
    if (identity.node !== claimedNode) {
      throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, `the token is bound to a pod on node "${identity.node}", not on "${claimedNode}"`);
    }
    return identity;
  }

  revoked(identity: AgentIdentity): Revocation | undefined {
    if (this.options.clock.now() >= identity.expiresAtMs) return { reason: 'token_expired', message: 'the agent token has expired' };
    const gone = this.options.pods.gone(identity.podName, identity.podUid);
    return gone ? { reason: 'pod_gone', message: `${gone}: its token is no longer valid` } : undefined;
  }

  onChange(listener: () => void): void {
    this.options.pods.onChange(listener);
  }

  private async identityOf(hash: string, token: string, expiresAtMs: number, signal: AbortSignal): Promise<AgentIdentity> {
    const hit = this.reviewed.get(hash);
    if (hit && hit.untilMs > this.options.clock.now()) {
      // A cached review is only as good as the pod it named: re-checked against the watch before use.
      const gone = this.options.pods.gone(hit.value.podName, hit.value.podUid);
      if (!gone) return hit.value;
      this.reviewed.delete(hash);
      const err = new OkgSqError(ERROR_CODES.UNAUTHENTICATED, `${gone}: the token is no longer valid`);
      remember(this.refused, hash, err, this.options.clock.now() + this.failureTtlMs);
      throw err;
    }
    if (hit) this.reviewed.delete(hash);
    let shared = this.inFlight.get(hash);
    if (!shared || shared.controller.signal.aborted) {
      const controller = new AbortController();
      const promise = this.review(hash, token, expiresAtMs, controller.signal).finally(() => {
        if (this.inFlight.get(hash) === created) this.inFlight.delete(hash);
      });
      promise.catch(() => undefined); // every waiter handles it; none may be left when it settles
      const created: SharedReview = { promise, controller, waiters: 0 };
      this.inFlight.set(hash, created);
      shared = created;
    }
    shared.waiters++;
    try {
      return await untilAborted(shared.promise, signal);
    } finally {
      // The last stream to give up cancels the TokenReview itself.
      if (--shared.waiters === 0) shared.controller.abort();
    }
  }

  /** One TokenReview; a definite refusal is remembered briefly, a success for its TTL (never past `exp`). */
  private async review(hash: string, token: string, expiresAtMs: number, signal: AbortSignal): Promise<AgentIdentity> {
    try {
      const identity = await this.reviewOnce(token, expiresAtMs, signal);
      remember(this.reviewed, hash, identity, Math.min(this.options.clock.now() + this.ttlMs, expiresAtMs));
      return identity;
    } catch (err) {
      if (err instanceof OkgSqError && (err.code === ERROR_CODES.UNAUTHENTICATED || err.code === ERROR_CODES.PERMISSION_DENIED)) {
        remember(this.refused, hash, err, this.options.clock.now() + this.failureTtlMs);
      }
      throw err;
    }
  }

  private async reviewOnce(token: string, expiresAtMs: number, signal: AbortSignal): Promise<AgentIdentity> {
    const { audience } = this.options;
    let status: TokenReviewStatus;
    try {
      status = await this.options.client.review(token, [audience], signal);
    } catch (err) {
      if (signal.aborted) throw stopped();
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
    // Sessions end when this pod goes, which only the watch tells: it must know the pod first. It may also
    // know better than the review, which the apiserver can answer from its own cache for a few seconds.
    const presence = await this.options.pods.presence(podName, podUid, signal, POD_WATCH_WAIT_MS);
    if (signal.aborted) throw stopped();
    if (presence === 'gone') throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, `agent pod ${podName} is gone: the token is no longer valid`);
    if (presence === 'unknown') throw new OkgSqError(ERROR_CODES.KUBE_API, `agent pod ${podName} (uid ${podUid}) is not in the agent-pod watch yet`);
    // Older apiservers (before pod-bound node info) or a pod scheduled after the token was minted: its node.
    const node = single(user.extra, EXTRA_NODE_NAME) || this.options.pods.nodeOf(podName, podUid);
    if (!node) throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, `agent pod ${podName} is not on a node`);
    this.logger.debug({ [LOG.node]: node, [LOG.pod]: podName }, 'agent token reviewed');
    return { node, podName, podUid, expiresAtMs };
  }
}
