// `--output json`: one line per GameServer change and one final line, for scripts and tests.
// Each GameServer in Kubernetes shape, exactly as the store holds it.
import type { LocalView, RenderOutput, Renderer } from './renderer.js';
import type { LocalGameServer } from './memory-store.js';

export class JsonRenderer implements Renderer {
  private readonly out: RenderOutput;
  private readonly notes: { write(text: string): unknown };
  private done = false;

  /** `notes`: where notes go (stderr), so stdout stays one JSON object a line. */
  constructor(out: RenderOutput, notes: { write(text: string): unknown }) {
    this.out = out;
    this.notes = notes;
  }

  note(message: string): void {
    this.notes.write(`okg-sq local: ${message}\n`);
  }

  changed(gameServer: LocalGameServer): void {
    if (this.done) return;
    this.out.write(`${JSON.stringify({ event: 'update', gameServer })}\n`);
  }

  final(view: LocalView): void {
    if (this.done) return;
    this.done = true;
    this.out.write(`${JSON.stringify({ event: 'final', gameServers: view.gameServers })}\n`);
  }
}
