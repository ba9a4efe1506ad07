// The decider's object graph: caches → planner → (agents) → pipeline → batcher → API server, gated by
// the leader lease. Readiness is NOT leadership: every replica whose caches have synced is Ready (so the
// chart's PodDisruptionBudget can evict either replica); only the leader serves agents and writes, and a
// standby refuses agent streams so they reconnect until they reach it (okgsq_leader shows who leads). main.ts builds it with real dependencies; integration tests build the same graph.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/clock.js';
import { ServiceList, type LeaderGated } from '../common/lifecycle.js';
import { LOG } from '../common/log-fields.js';
import { OWNER_GSS_LABEL } from '../common/okg-defaults.js';
import { startAgentServer, type AgentServer } from './ingest/agent-server.js';
import type { IngestLimits } from './ingest/agent-service.js';
import { AgentlessProber } from './ingest/agentless-prober.js';
import { PodContainerStates } from './ingest/pod-container-states.js';
import { agentPodReflector, AgentPods } from './ingest/agent-pods.js';
import { KubeExecRuntime } from './ingest/kube-exec-runtime.js';
import type { AgentAuthenticator } from './ingest/ports.js';
import { kubeTokenReviewClient, TokenAuthenticator } from './ingest/token-authenticator.js';
import { ClusterCache } from './kube/cluster-cache.js';
import { EventRecorder } from './kube/event-recorder.js';
import { KubeClient, type KubeApi } from './kube/kube-client.js';
import { KubeWriter } from './kube/kube-writer.js';
import { LeaderElector } from './kube/leader-elector.js';
import { KubeLeaseStore } from './kube/lease-store.js';
import { RateLimiter } from './kube/rate-limiter.js';
import { WriteBatcher } from './kube/write-batcher.js';
import { startDeciderHttpServer, type DeciderHttpServer } from './http-server.js';
import { DeciderMetrics } from './metrics.js';
import type { DeciderOptions } from './options.js';
import { objectKey, type ObjectKey } from './kube/object-key.js';
import { Pipeline } from './pipeline/pipeline.js';
import { StaleTracker } from './pipeline/stale-tracker.js';
import { labelSelector } from './planner/label-selector.js';
import { Planner } from './planner/planner.js';


export interface DeciderDeps {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Tests bind to 127.0.0.1. */
  readonly host?: string;
  /** Default: TokenReview against the API server. */
  readonly authenticator?: AgentAuthenticator;
  /** Default: a KubeClient on kubeConfig (tests may count requests through a wrapper). */
  readonly api?: KubeApi;
  /** Overrides of the agent service's limits (benchmarks whose simulated agents all share one address). */
  readonly ingestLimits?: Partial<IngestLimits>;
}

export interface Decider {
  readonly metrics: DeciderMetrics;
  readonly cache: ClusterCache;
  readonly planner: Planner;
  readonly pipeline: Pipeline;
  readonly batcher: WriteBatcher;
  readonly grpcPort: number;
  readonly httpPort: number;
  isLeader(): boolean;
  /** /readyz: caches synced and not stopping, on the leader and on a standby alike. */
  ready(): boolean;
  /** Leader and synced: serving agents and writing. */
  active(): boolean;
  /** SIGTERM: not ready → agent streams end UNAVAILABLE → queued writes flushed → lease released. */
  stop(): Promise<void>;
}

export async function startDecider(options: DeciderOptions, deps: DeciderDeps): Promise<Decider> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const log = logger.child({ [LOG.component]: 'decider' });
  const ownApi = deps.api ? undefined : new KubeClient(deps.kubeConfig);
  const api: KubeApi = deps.api ?? ownApi!;
  const metrics = new DeciderMetrics();
  const limiter = new RateLimiter(options.kubeQps, options.kubeBurst, clock);
  const events = new EventRecorder({
    api,
    limiter,
    // Events take only tokens no queued action write needs (the batcher is built below).
    actions: { get pendingWrites() { return batcher.pendingWrites; } },
    clock,
    metrics,
    logger,
    instance: options.podName || 'okg-sq-decider',
  });

  let activate = (): void => {};
  const cache = new ClusterCache({
    api,
    clock,
    logger,
    namespaces: options.namespaces,
    onSynced: (resource, synced) => {
      metrics.synced(resource, synced);
      if (synced) activate();
    },
  });
  // The agents' identities end with their pods: watched only where the TokenReview authenticator runs.
  const agentPodCache = deps.authenticator
    ? undefined
    : agentPodReflector({
        api,
        clock,
        logger,
        namespace: options.agentNamespace,
        serviceAccount: options.agentServiceAccount,
        onSynced: (synced) => {
          metrics.synced('agentpods', synced);
          if (synced) activate();
        },
      });
  const allSynced = (): boolean => cache.synced && (agentPodCache?.synced ?? true);
  const planner = new Planner({
    gameServerSets: cache.gameServerSets,
    pods: cache.pods,
    nodes: cache.nodes,
    agentless: labelSelector(options.agentlessNodeSelector, 'OKGSQ_AGENTLESS_NODE_SELECTOR'),
    events,
    metrics,
    logger,
  });
  const stale = new StaleTracker({ plans: planner, staleAfterMs: options.agentStaleSeconds * 1000, clock, events, metrics, logger });
  const queue = { enqueue: (key: ObjectKey): void => batcher.enqueue(key) };
  const pipeline = new Pipeline({
    plans: planner,
    gameServers: cache.gameServers,
    pods: cache.pods,
    queue,
    events,
    metrics,
    clock,
    logger,
    heard: (node) => stale.heard(node),
  });
  pipeline.onConnection(stale);
  const writer = new KubeWriter(api, cache.written);
  const batcher: WriteBatcher = new WriteBatcher({
    compute: (key) => pipeline.compute(key),
    writer,
    limiter,
    clock,
    flushWindowMs: options.flushWindowMs,
    concurrency: options.writeConcurrency,
    metrics,
    logger,
  });
  metrics.setGameServerSource(function* () {
    for (const gs of cache.gameServers.list()) {
      yield {
        namespace: gs.metadata.namespace,
        gameServerSet: gs.metadata.labels?.[OWNER_GSS_LABEL] ?? '',
        opsState: gs.spec?.opsState || 'None',
      };
    }
  });

  const authenticator =
    deps.authenticator ??
    new TokenAuthenticator({
      client: kubeTokenReviewClient(api),
      pods: new AgentPods(agentPodCache!, options.agentNamespace, clock),
      audience: options.tokenAudience,
      agentNamespace: options.agentNamespace,
      agentServiceAccount: options.agentServiceAccount,
      clock,
      logger,
    });
  const agentServer: AgentServer = await startAgentServer({
    port: options.grpcPort,
    ...(deps.host ? { host: deps.host } : {}),
    tls: options.tls,
    plans: planner,
    sink: pipeline,
    authenticator,
    metrics,
    logger,
    clock,
    ...(deps.ingestLimits ? { limits: deps.ingestLimits } : {}),
    serving: false,
    leaderIdentity: () => leaseStore.holder,
  });
  const agentless = new AgentlessProber({
    plans: planner,
    sink: pipeline,
    metrics,
    logger,
    clock,
    ...(options.remoteExec ? { remoteExec: new KubeExecRuntime(deps.kubeConfig, api, { clock }) } : {}),
    containers: new PodContainerStates((namespace, name) => cache.pods.get(namespace, name)),
  });

  // Leader-gated parts, activated in this order, deactivated in reverse (docs/design.md §20 One lifecycle):
  // Events first, so the planner's re-reported problems are written; stale tracking restarted before any
  // agent (the agentless prober included) is heard; the batcher before the sources that feed it.
  const gated: readonly LeaderGated[] = [
    events,
    { activate: () => stale.activate(), deactivate: () => {} },
    { activate: () => planner.reportAgain(), deactivate: () => {} },
    batcher,
    agentServer,
    agentless,
  ];
  let leading = !options.leaderElection;
  let active = false;
  let stopping = false;
  activate = (): void => {
    if (active || stopping || !leading || !allSynced()) return;
    active = true;
    log.info({ gameServers: cache.gameServers.size, pods: cache.pods.size }, 'active: serving agents and writing');
    for (const part of gated) part.activate();
    // Level-based: repair whatever a crash between writes left behind. A converged cluster yields no writes.
    for (const gs of cache.gameServers.list()) batcher.enqueue(objectKey(gs.metadata.namespace, gs.metadata.name));
  };
  const deactivate = (): void => {
    if (!active) return;
    active = false;
    log.info({}, 'inactive: writes stopped, agent streams ended');
    for (const part of [...gated].reverse()) void part.deactivate();
    pipeline.reset();
  };

  const leaseStore = new KubeLeaseStore(api, options.podNamespace, options.leaseName, (verb, code) => metrics.write('leases', verb, String(code)));
  const elector = options.leaderElection
    ? new LeaderElector({
        store: leaseStore,
        identity: options.podName,
        leaseDurationMs: options.leaseDurationSeconds * 1000,
        clock,
        logger,
        onStartedLeading: () => {
          leading = true;
          metrics.leader(true);
          activate();
        },
        onStoppedLeading: () => {
          leading = false;
          metrics.leader(false);
          deactivate();
        },
      })
    : undefined;
  if (!elector) metrics.leader(true);

  const ready = (): boolean => !stopping && allSynced();
  const http: DeciderHttpServer = await startDeciderHttpServer({
    port: options.httpPort,
    ...(deps.host ? { host: deps.host } : {}),
    registry: metrics.registry,
    ready,
  });
  // Started in this order, stopped in reverse: sources of work stop before the writers that flush it.
  const services = new ServiceList(
    [
      ...(ownApi ? [{ name: 'kube-client', service: { stop: async () => ownApi.close() } }] : []),
      { name: 'http', service: http },
      ...(agentPodCache ? [{ name: 'agent-pods', service: agentPodCache }] : []),
      { name: 'cluster-cache', service: cache },
      ...(elector ? [{ name: 'leader-elector', service: elector }] : []),
      { name: 'events', service: events },
      { name: 'write-batcher', service: batcher },
      { name: 'agent-server', service: agentServer },
      { name: 'agentless', service: agentless },
      { name: 'stale-tracker', service: stale },
    ],
    log,
  );
  services.start();
  log.info({ grpcPort: agentServer.port, httpPort: http.port, namespaces: options.namespaces }, 'decider started');

  let stopped: Promise<void> | undefined;
  return {
    metrics,
    cache,
    planner,
    pipeline,
    batcher,
    grpcPort: agentServer.port,
    httpPort: http.port,
    isLeader: () => leading,
    ready,
    active: () => active,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        await services.stop();
        log.info({}, 'decider stopped');
      })()),
  };
}
