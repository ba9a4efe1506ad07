// What `okg-sq local` shows, behind one small interface: a table like `kubectl get gs`, or JSON lines.
import type { LocalGameServer, LocalPod } from './memory-store.js';

/** A read-only look at the store when something is rendered. */
export interface LocalView {
  readonly gameServers: readonly LocalGameServer[];
  pod(name: string): LocalPod | undefined;
}

export interface Renderer {
  /** A GameServer was created or changed. */
  changed(gameServer: LocalGameServer, view: LocalView): void;
  /** Something the user should know that is not a GameServer (e.g. a probe command that cannot start). */
  note(message: string): void;
  /** The run is over (duration reached, SIGINT or SIGTERM): show the end state, nothing after. */
  final(view: LocalView): void;
}

/** Where renderers write: process.stdout, or a fake in tests. */
export interface RenderOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}
