// Shared fakes for the decider's unit tests.
import { pino } from 'pino';
import type { ReflectorHandlers, CacheView } from '../../../decider/kube/reflector.js';
import type { EventSink, ObjectRef } from '../../../decider/kube/object-ref.js';

export const silentLogger = pino({ level: 'silent' });

/** An in-memory cache with the reflector's read side; set()/delete() fire the handlers. */
export class FakeCache<T extends { metadata: { name: string; namespace?: string } }> implements CacheView<T> {
  readonly objects = new Map<string, T>();
  private readonly handlers: ReflectorHandlers<T>[] = [];

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }
  list(): Iterable<T> {
    return this.objects.values();
  }
  addHandlers(h: ReflectorHandlers<T>): void {
    this.handlers.push(h);
  }
  set(obj: T): void {
    const k = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const old = this.objects.get(k);
    this.objects.set(k, obj);
    for (const h of this.handlers) h.onUpsert?.(obj, old);
  }
  delete(namespace: string, name: string): void {
    const k = `${namespace}/${name}`;
    const old = this.objects.get(k);
    if (!old) return;
    this.objects.delete(k);
    for (const h of this.handlers) h.onDelete?.(old);
  }
}

export interface RecordedEvent {
  ref: ObjectRef;
  type: string;
  reason: string;
  message: string;
}

export class FakeEvents implements EventSink {
  readonly events: RecordedEvent[] = [];
  record(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ ref, type, reason, message });
  }
}
