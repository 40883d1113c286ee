/*
 * Terminal output for the CLI. Results go to stdout; progress, notes and errors go to stderr. With --json
 * the last stdout line is one JSON object and nothing else is written to stdout. A progress line is redrawn
 * in place only on an interactive terminal (and not in CI); elsewhere it prints one line per epoch.
 */

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Human-readable result text (stdout), suppressed in JSON mode. */
  result(text: string): void;
  /** A note about what is happening (stderr), suppressed by --quiet. */
  note(text: string): void;
  /** Redraws the progress line (TTY only). */
  progress(text: string): void;
  /** Ends a progress line so the next output starts on a fresh line. */
  endProgress(): void;
  /** Prints the final JSON object (JSON mode only). */
  emitJson(value: unknown): void;
}

export function createOutput(options: { json: boolean; quiet: boolean }): Output {
  const interactive = process.stderr.isTTY === true && !process.env['CI'] && !options.quiet;
  let drawn = false;
  let lastDraw = 0;
  const clear = (): void => {
    if (drawn) {
      process.stderr.write('\r\x1b[2K');
      drawn = false;
    }
  };
  return {
    json: options.json,
    quiet: options.quiet,
    result(text) {
      if (options.json) return;
      clear();
      process.stdout.write(text + '\n');
    },
    note(text) {
      if (options.quiet) return;
      clear();
      process.stderr.write(text + '\n');
    },
    progress(text) {
      if (!interactive) return;
      const now = Date.now();
      if (now - lastDraw < 100) return; // at most ~10 redraws a second
      lastDraw = now;
      process.stderr.write('\r\x1b[2K' + text.slice(0, (process.stderr.columns ?? 100) - 1));
      drawn = true;
    },
    endProgress() {
      clear();
    },
    emitJson(value) {
      if (!options.json) return;
      clear();
      process.stdout.write(JSON.stringify(value) + '\n');
    },
  };
}

/** A text progress bar such as `[#####.....] 50%`. */
export function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(fraction * 100)}%`;
}

/** A fixed-width table. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cell = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v === undefined || v === null ? '' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

export function percent(x: number, digits = 2): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
