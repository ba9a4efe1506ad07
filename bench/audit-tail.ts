// The API server's audit log (the bed's --audit-all), read incrementally, one entry per request
// (auditID), and the counts bench/vs-okg.ts makes of it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The bed's admin: the bench's own requests. */
export const ADMIN = 'okgsq-testbed-admin';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface Req {
  id: string;
  t: number;
  user: string;
  verb: string;
  resource: string;
  namespace: string;
  name: string;
  code: number;
}

export class AuditTail {
  private offset = 0;
  private rest = '';
  private readonly seen = new Set<string>();
  readonly reqs: Req[] = [];
  constructor(private readonly file: string) {}

  /** Reads what the apiserver appended since the last call. */
  poll(): Req[] {
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset);
        readSync(fd, buf, 0, buf.length, this.offset);
        this.offset = size;
        const lines = (this.rest + buf.toString('utf8')).split('\n');
        this.rest = lines.pop()!;
        for (const line of lines) this.add(line);
      }
    } finally {
      closeSync(fd);
    }
    return this.reqs;
  }

  private add(line: string): void {
    if (!line) return;
    const e = JSON.parse(line) as { auditID: string; stage: string; verb: string; user: { username: string }; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number }; requestReceivedTimestamp: string };
    // Long-running requests (watches) log ResponseStarted then ResponseComplete: one request.
    if (this.seen.has(e.auditID)) return;
    this.seen.add(e.auditID);
    const ref = e.objectRef ?? {};
    this.reqs.push({
      id: e.auditID, t: Date.parse(e.requestReceivedTimestamp), user: e.user.username, verb: e.verb,
      resource: `${ref.resource ?? '(none)'}${ref.subresource ? `/${ref.subresource}` : ''}`,
      namespace: ref.namespace ?? '', name: ref.name ?? '', code: e.responseStatus?.code ?? 0,
    });
  }

  between(from: number, to: number): Req[] {
    return this.poll().filter((r) => r.t >= from && r.t < to);
  }
}

/** Successful writes by everything but the bed's admin (the bench itself, the kubelet, scheduler, controller-manager). */
export function systemWrites(reqs: Req[]): Req[] {
  return reqs.filter((r) => WRITE_VERBS.has(r.verb) && r.user !== ADMIN && r.code < 300 && r.resource !== 'leases');
}

export const isEvent = (r: Req): boolean => r.resource === 'events';
export const component = (user: string): string => {
  const m = /^system:serviceaccount:([^:]+):(.+)$/.exec(user);
  return m ? `${m[1]}/${m[2]}` : user;
};

export function countBy(reqs: Req[], key: (r: Req) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reqs) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
