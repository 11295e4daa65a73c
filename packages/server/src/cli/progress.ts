/** Where progress goes: a terminal gets a bar redrawn in place, anything else a line now and then. */
export interface ProgressOutput {
  write(text: string): void;
  readonly isTTY?: boolean;
}

/** A line at least every this many items, when not on a terminal. */
const LINE_EVERY_ITEMS = 100;
/** ...or once this long has passed since the last one. */
const LINE_EVERY_MS = 2000;
/** A terminal's bar is redrawn at most this often. */
const REDRAW_MS = 100;
const BAR_WIDTH = 30;

/**
 * Progress over a known number of items. On a terminal: one bar, redrawn
 * in place. Elsewhere (a log, CI, a pipe): a line every 100 items or 2 s,
 * so the output stays readable and says how far it got if the run is killed.
 */
export class Progress {
  private done = 0;
  private lastLineAt = 0;
  private lastLineDone = 0;
  private drawn = false;

  constructor(
    private readonly output: ProgressOutput,
    private readonly total: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastLineAt = now();
  }

  /** One more item done; `detail` sums up the counts so far (e.g. "3 migrated, 1 failed"). */
  tick(detail: string): void {
    this.done++;
    const now = this.now();
    const last = this.done === this.total;
    if (this.output.isTTY) {
      if (!last && now - this.lastLineAt < REDRAW_MS) return;
      this.lastLineAt = now;
      const filled = Math.round((BAR_WIDTH * this.done) / Math.max(1, this.total));
      this.output.write(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${this.done}/${this.total}  ${detail}\x1b[K`);
      this.drawn = true;
      if (last) this.end();
      return;
    }
    if (!last && this.done - this.lastLineDone < LINE_EVERY_ITEMS && now - this.lastLineAt < LINE_EVERY_MS) return;
    this.lastLineAt = now;
    this.lastLineDone = this.done;
    this.output.write(`${this.done}/${this.total} (${Math.floor((100 * this.done) / Math.max(1, this.total))}%)  ${detail}\n`);
  }

  /** A message of its own, on its own line (the bar is redrawn after it). */
  note(line: string): void {
    this.end();
    this.output.write(`${line}\n`);
  }

  /** Ends the bar's line, if one is drawn. */
  end(): void {
    if (!this.drawn) return;
    this.output.write('\n');
    this.drawn = false;
  }
}
