// Per-address limits on streams that have no session yet, so one peer cannot fill the authentication
// queue or keep the TokenReviews busy: at most `maxPending` of its streams await their Hello or
// authentication at once, and its failed authentications drain from a leaky bucket (rate, burst). A real
// agent opens one stream at a time with a token that works, and never comes near either limit.
// Limits are per IP address (the port is dropped): all agents behind one NAT share them.

export interface PeerLimitOptions {
  readonly maxPending: number;
  readonly failuresPerSecond: number;
  readonly failureBurst: number;
  readonly now: () => number;
}

/** Peers remembered at most; beyond it idle ones are forgotten first. */
const MAX_TRACKED_PEERS = 10_000;

interface PeerState {
  pending: number;
  /** Failed authentications not yet drained, as of `atMs`. */
  failures: number;
  atMs: number;
}

export type PeerVerdict = 'ok' | 'too_many_pending' | 'too_many_failures';

/** "10.0.0.7:51234" → "10.0.0.7", "::ffff:10.0.0.7:51234" → "10.0.0.7", "::1:51234" → "::1". */
export function peerAddress(peer: string): string {
  const colon = peer.lastIndexOf(':');
  const host = colon > 0 && /^[0-9]+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer;
  return host.replace(/^\[|\]$/g, '').replace(/^::ffff:(?=[0-9.]+$)/, '');
}

export class PeerLimits {
  private readonly peers = new Map<string, PeerState>();

  constructor(private readonly opts: PeerLimitOptions) {}

  /** Takes one pending slot for `peer`, or says why it may not have one (nothing is taken then). */
  admit(peer: string): PeerVerdict {
    const s = this.state(peer);
    // Admitted only while one more failure would still fit in the burst.
    if (s.failures + 1 > this.opts.failureBurst) return 'too_many_failures';
    if (s.pending >= this.opts.maxPending) return 'too_many_pending';
    s.pending++;
    return 'ok';
  }

  /** The stream admitted for `peer` got its session or ended. */
  release(peer: string): void {
    const s = this.state(peer);
    s.pending = Math.max(0, s.pending - 1);
    this.forgetIfIdle(peer, s);
  }

  /** A definite authentication failure (a bad token, a wrong identity) from `peer`. */
  failed(peer: string): void {
    this.state(peer).failures++;
  }

  get tracked(): number {
    return this.peers.size;
  }

  private state(peer: string): PeerState {
    const now = this.opts.now();
    let s = this.peers.get(peer);
    if (!s) {
      if (this.peers.size >= MAX_TRACKED_PEERS) this.evictIdle();
      s = { pending: 0, failures: 0, atMs: now };
      this.peers.set(peer, s);
      return s;
    }
    s.failures = Math.max(0, s.failures - ((now - s.atMs) * this.opts.failuresPerSecond) / 1000);
    s.atMs = now;
    return s;
  }

  private forgetIfIdle(peer: string, s: PeerState): void {
    if (s.pending === 0 && s.failures === 0) this.peers.delete(peer);
  }

  private evictIdle(): void {
    for (const [peer, s] of this.peers) {
      if (this.peers.size < MAX_TRACKED_PEERS) return;
      if (s.pending === 0) this.peers.delete(peer);
    }
  }
}
