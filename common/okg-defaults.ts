// Values fixed by OpenKruiseGame and Kubernetes; each is a fact about OKG, not a tuning knob.

/** OKG's GameServerSet webhook puts these on zero or missing probe fields. */
export const OKG_PROBE_DEFAULTS = Object.freeze({
  initialDelaySeconds: 10,
  timeoutSeconds: 5,
  periodSeconds: 3,
  successThreshold: 1,
  failureThreshold: 3,
});

/** The pod condition type OKG reads a quality's outcome from is this prefix + the quality name. */
export const CONDITION_TYPE_PREFIX = 'game.kruise.io/';

/** GameServers carry their set's name under this label; so do the set's pods. */
export const OWNER_GSS_LABEL = 'game.kruise.io/owner-gss';

/** OKG's API group and version for GameServer and GameServerSet. */
export const GAME_KRUISE_GROUP = 'game.kruise.io';
export const GAME_KRUISE_VERSION = 'v1alpha1';

/** The pod condition `reason` okg-sq writes, so another writer of the same condition can be told apart. */
export const OKGSQ_CONDITION_REASON = 'OkgSqProbe';

/** OKG's opsState values. opsState is free text in OKG's schema; these are the ones OKG itself knows. */
export const KNOWN_OPS_STATES = Object.freeze([
  'None',
  'WaitToBeDeleted',
  'Maintaining',
  'Allocated',
  'Kill',
]);
