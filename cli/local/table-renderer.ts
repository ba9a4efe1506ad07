// `--output table`: on a terminal the table is redrawn in place; otherwise (a pipe, a file, CI logs)
// each change prints a timestamped table and no escape codes at all.
import { formatTable } from './format-table.js';
import type { LocalView, RenderOutput, Renderer } from './renderer.js';

/** ANSI: move the cursor to the start of the line `n` lines up, then clear to the end of the screen. */
const redrawFrom = (lines: number): string => `\u001b[${lines}F\u001b[0J`;

/** On a terminal, the latest notes stay under the table; older ones scroll away. */
export const MAX_NOTES_SHOWN = 5;

export interface TableRendererOptions {
  readonly out: RenderOutput;
  readonly qualities: readonly string[];
  /** Time of the tables (timestamp, or the "updated" footer on a terminal) and notes; default: the wall clock. */
  readonly now?: () => Date;
  /** Defers a redraw so a burst of changes prints one table; default setImmediate. */
  readonly defer?: (fn: () => void) => { cancel(): void };
}

const deferImmediate = (fn: () => void): { cancel(): void } => {
  const handle = setImmediate(fn);
  return { cancel: () => clearImmediate(handle) };
};

export class TableRenderer implements Renderer {
  private readonly out: RenderOutput;
  private readonly qualities: readonly string[];
  private readonly now: () => Date;
  private readonly defer: (fn: () => void) => { cancel(): void };
  private pending: { view: LocalView; handle: { cancel(): void } } | undefined;
  private drawnLines = 0;
  private done = false;
  private lastView: LocalView | undefined;
  private readonly notes: string[] = [];

  constructor(options: TableRendererOptions) {
    this.out = options.out;
    this.qualities = options.qualities;
    this.now = options.now ?? (() => new Date());
    this.defer = options.defer ?? deferImmediate;
  }

  note(message: string): void {
    if (this.done) return;
    const clean = message.replace(/[\u0000-\u001f\u007f]/g, ' ');
    if (this.out.isTTY !== true) {
      this.out.write(`note: ${clean}\n`);
      return;
    }
    this.notes.push(`${this.now().toTimeString().slice(0, 8)} ${clean}`);
    if (this.notes.length > MAX_NOTES_SHOWN) this.notes.shift();
    if (this.lastView !== undefined) this.changed(undefined, this.lastView);
  }

  changed(_gameServer: unknown, view: LocalView): void {
    if (this.done) return;
    this.lastView = view;
    if (this.pending !== undefined) {
      this.pending.view = view;
      return;
    }
    const pending = { view, handle: { cancel: () => {} } };
    this.pending = pending;
    pending.handle = this.defer(() => {
      this.pending = undefined;
      this.draw(pending.view);
    });
  }

  final(view: LocalView): void {
    if (this.done) return;
    this.pending?.handle.cancel();
    this.pending = undefined;
    this.draw(view);
    this.done = true;
  }

  private draw(view: LocalView): void {
    const lines = formatTable(view.gameServers, (name) => view.pod(name), this.qualities);
    if (this.out.isTTY === true) {
      const width = this.out.columns ?? 0;
      const height = this.out.rows ?? 0;
      const footer = [...this.notes, `updated ${this.now().toTimeString().slice(0, 8)}`];
      let table = lines;
      // Taller than the screen: the cursor cannot move up past its top, so keep the table within it.
      if (height > 0 && table.length + footer.length >= height) {
        const keep = Math.max(2, height - footer.length - 2);
        table = [...table.slice(0, keep), `… ${table.length - keep} more (--output json shows all)`];
      }
      const all = [...table, ...footer];
      // Lines cut to the terminal's width, so the next redraw moves up exactly as many lines.
      const fitted = width > 0 ? all.map((l) => ([...l].length > width ? [...l].slice(0, width).join('') : l)) : all;
      const prefix = this.drawnLines > 0 ? redrawFrom(this.drawnLines) : '';
      this.out.write(`${prefix}${fitted.join('\n')}\n`);
      this.drawnLines = fitted.length;
      return;
    }
    const stamp = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.out.write(`--- ${stamp}\n${lines.join('\n')}\n\n`);
  }
}
