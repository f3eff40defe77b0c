/**
 * Transfer progress for send-file and receive-file, on stderr (stdout keeps the results):
 * a bar redrawn in place when stderr is a terminal, one `progress` line per notice when it
 * is not (a pipe, a log, a test).
 */
import type { TransferProgress } from '@herald/patterns';
import { PROGRESS_BAR_WIDTH } from './constants.js';
import { formatBytes } from './render.js';

export class ProgressView {
  readonly #tty: boolean;
  readonly #started = Date.now();
  #drawn = false;

  constructor(tty = process.stderr.isTTY === true) {
    this.#tty = tty;
  }

  /** Shows one notice. */
  update(progress: TransferProgress): void {
    const { name, bytes, size } = progress;
    const percent = size === undefined || size === 0 ? undefined : Math.floor((bytes * 100) / size);
    if (!this.#tty) {
      const total = size === undefined ? '' : `/${size}`;
      const pct = percent === undefined ? '' : ` ${percent}%`;
      process.stderr.write(`progress ${name} ${bytes}${total} B${pct}\n`);
      return;
    }
    const seconds = (Date.now() - this.#started) / 1000;
    const rate = seconds > 0 ? `  ${formatBytes(Math.round(bytes / seconds))}/s` : '';
    const filled = percent === undefined ? 0 : Math.round((percent * PROGRESS_BAR_WIDTH) / 100);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(PROGRESS_BAR_WIDTH - filled)}]`;
    const of = size === undefined ? '' : ` / ${formatBytes(size)}`;
    const pct = percent === undefined ? '' : ` ${String(percent).padStart(3)}%`;
    // \r and clear-to-end-of-line: the bar is redrawn where it stands.
    process.stderr.write(`\r\x1b[K${name} ${bar}${pct}  ${formatBytes(bytes)}${of}${rate}`);
    this.#drawn = true;
  }

  /** Ends the bar's line, so what follows starts on a line of its own. */
  done(): void {
    if (this.#drawn) process.stderr.write('\n');
    this.#drawn = false;
  }
}
