// The two requests the event recorder makes, in the core/v1 Event's own shape: create an Event, and
// patch a repeat's count onto it (guarded by its uid, so a repeat never lands on a successor).
import { randomBytes } from 'node:crypto';
import type { KubeApi, KubeResponse } from './kube-client.js';
import type { ObjectRef } from './object-ref.js';

const EVENT_WRITE_TIMEOUT_MS = 10_000;
const EVENT_COMPONENT = 'okg-sq-decider';

export interface NewEvent {
  readonly ref: ObjectRef;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstMs: number;
  readonly nowMs: number;
  /** reportingInstance: the decider's pod name. */
  readonly instance: string;
}

/** Event timestamps are RFC 3339 to the second (metav1.Time). */
function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Creates the Event under a fresh name (client-go's `<object>.<random hex>`); the answer carries its name and uid. */
export async function createEvent(api: KubeApi, e: NewEvent, signal: AbortSignal): Promise<KubeResponse & { name: string; uid: string | undefined }> {
  const namespace = e.ref.namespace ?? 'default';
  const name = `${e.ref.name}.${randomBytes(8).toString('hex')}`;
  const res = await api.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { kind: e.ref.kind, apiVersion: e.ref.apiVersion, namespace: e.ref.namespace, name: e.ref.name, uid: e.ref.uid },
      reason: e.reason,
      message: e.message,
      type: e.type,
      count: e.count,
      firstTimestamp: eventTime(e.firstMs),
      lastTimestamp: eventTime(e.nowMs),
      source: { component: EVENT_COMPONENT },
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: e.instance,
    },
    timeoutMs: EVENT_WRITE_TIMEOUT_MS,
    signal,
  });
  return { ...res, name, uid: (res.body as { metadata?: { uid?: string } } | undefined)?.metadata?.uid };
}

export interface EventRepeat {
  readonly namespace: string | undefined;
  readonly name: string;
  /** The Event's own uid from its creation, when known: the patch lands on that object only. */
  readonly uid: string | undefined;
  readonly count: number;
  readonly message: string;
  readonly nowMs: number;
}

/** Patches a repeat's count, message and time onto an Event we created. */
export function patchEvent(api: KubeApi, r: EventRepeat, signal: AbortSignal): Promise<KubeResponse> {
  const namespace = r.namespace ?? 'default';
  return api.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(r.name)}`, {
    body: { ...(r.uid ? { metadata: { uid: r.uid } } : {}), count: r.count, message: r.message, lastTimestamp: eventTime(r.nowMs) },
    contentType: 'application/merge-patch+json',
    timeoutMs: EVENT_WRITE_TIMEOUT_MS,
    signal,
  });
}
