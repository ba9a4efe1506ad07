// The decider's permissions, exactly: what its code calls (decider/kube/*, decider/ingest/*), nothing
// more. Shared by the rendering test (rules as written) and the install test (what the API server
// then allows and denies).

export interface Permission {
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
  /** Namespaced permissions are granted per namespace when decider.namespaces is set. */
  scope: 'cluster' | 'namespaced' | 'release-namespace';
}

const ns = 'namespaced' as const;

export const DECIDER_PERMISSIONS: readonly Permission[] = [
  { group: 'game.kruise.io', resource: 'gameserversets', verb: 'get', scope: ns },
  { group: 'game.kruise.io', resource: 'gameserversets', verb: 'list', scope: ns },
  { group: 'game.kruise.io', resource: 'gameserversets', verb: 'watch', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', verb: 'get', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', verb: 'list', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', verb: 'watch', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', verb: 'patch', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', subresource: 'status', verb: 'patch', scope: ns },
  { group: '', resource: 'pods', verb: 'get', scope: ns },
  { group: '', resource: 'pods', verb: 'list', scope: ns },
  { group: '', resource: 'pods', verb: 'watch', scope: ns },
  { group: '', resource: 'pods', subresource: 'status', verb: 'patch', scope: ns },
  { group: '', resource: 'events', verb: 'create', scope: ns },
  { group: '', resource: 'events', verb: 'patch', scope: ns },
  { group: '', resource: 'nodes', verb: 'list', scope: 'cluster' },
  { group: '', resource: 'nodes', verb: 'watch', scope: 'cluster' },
  { group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create', scope: 'cluster' },
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'get', scope: 'release-namespace' },
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'create', scope: 'release-namespace' },
  { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', scope: 'release-namespace' },
];

/** Only with decider.remoteExec.enabled: WebSocket exec is authorized as get (≤1.34) and create (1.35+). */
export const REMOTE_EXEC_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'pods', subresource: 'exec', verb: 'get', scope: ns },
  { group: '', resource: 'pods', subresource: 'exec', verb: 'create', scope: ns },
];

/** Things a compromised decider must not be able to do. */
export const DENIED_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'secrets', verb: 'get', scope: ns },
  { group: '', resource: 'secrets', verb: 'list', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', verb: 'delete', scope: ns },
  { group: 'game.kruise.io', resource: 'gameservers', verb: 'create', scope: ns },
  { group: 'game.kruise.io', resource: 'gameserversets', verb: 'patch', scope: ns },
  { group: 'game.kruise.io', resource: 'gameserversets', verb: 'update', scope: ns },
  { group: '', resource: 'pods', verb: 'delete', scope: ns },
  { group: '', resource: 'pods', verb: 'patch', scope: ns },
  { group: '', resource: 'pods', verb: 'create', scope: ns },
  { group: '', resource: 'nodes', verb: 'patch', scope: 'cluster' },
  { group: '', resource: 'configmaps', verb: 'get', scope: ns },
  { group: 'apps', resource: 'deployments', verb: 'update', scope: ns },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', verb: 'escalate', scope: 'cluster' },
  { group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'list', scope: 'cluster' },
  { group: '', resource: 'serviceaccounts', subresource: 'token', verb: 'create', scope: ns },
];

export function permissionKey(p: Pick<Permission, 'group' | 'resource' | 'subresource' | 'verb'>): string {
  return `${p.verb} ${p.group || 'core'}/${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
}
