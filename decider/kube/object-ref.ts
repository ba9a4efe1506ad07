// What an Event is about: enough of an object to name it in `involvedObject`.
import { GAME_KRUISE_GROUP, GAME_KRUISE_VERSION } from '../../common/okg-defaults.js';

export interface ObjectRef {
  readonly kind: 'GameServer' | 'GameServerSet' | 'Pod' | 'Node';
  readonly apiVersion: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
}

const GAME_API_VERSION = `${GAME_KRUISE_GROUP}/${GAME_KRUISE_VERSION}`;

export function gameServerRef(namespace: string, name: string, uid?: string): ObjectRef {
  return { kind: 'GameServer', apiVersion: GAME_API_VERSION, namespace, name, ...(uid ? { uid } : {}) };
}

export function gameServerSetRef(namespace: string, name: string, uid?: string): ObjectRef {
  return { kind: 'GameServerSet', apiVersion: GAME_API_VERSION, namespace, name, ...(uid ? { uid } : {}) };
}

/** Where events go; decider/kube/event-recorder.ts writes them, tests collect them. */
export interface EventSink {
  /**
   * `aggregateKey` groups repeats (same object, reason and key) into one Event with a count. `group`: the
   * GameServerSet of a GameServer the Event is about; several such Events of one reason waiting to be
   * written together become one Event on the set.
   */
  record(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string, aggregateKey?: string, group?: ObjectRef): void;
}
