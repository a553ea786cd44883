/**
 * Batch progress: one line per running drive and a total with ETA (by input bytes). On a TTY the
 * lines are redrawn in place; otherwise plain lines are printed on state changes and at most every
 * `intervalMs`, so logs stay readable.
 */
import type { DriveProgress } from "./drive-job.js";

export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean;
}

export interface ProgressDisplayOptions {
  out: ProgressOutput;
  /** Input bytes per drive name (the total's weight). */
  bytes: ReadonlyMap<string, number>;
  intervalMs?: number;
  now?: () => number;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

export class ProgressDisplay {
  readonly #options: ProgressDisplayOptions;
  readonly #state = new Map<string, DriveProgress>();
  readonly #started: number;
  #drawnLines = 0;
  #lastPlain = 0;

  constructor(options: ProgressDisplayOptions) {
    this.#options = options;
    this.#started = this.#now();
  }

  #now(): number {
    return this.#options.now?.() ?? performance.now();
  }

  /** Overall fraction (input bytes weighted) and ETA in seconds. */
  total(): { fraction: number; etaS: number; done: number } {
    let all = 0;
    let done = 0;
    let finished = 0;
    for (const [drive, bytes] of this.#options.bytes) {
      all += bytes;
      const p = this.#state.get(drive);
      const over = p?.state === "done" || p?.state === "failed";
      if (over) finished++;
      done += bytes * (over ? 1 : (p?.fraction ?? 0));
    }
    const fraction = all > 0 ? done / all : 0;
    const elapsed = (this.#now() - this.#started) / 1000;
    return { fraction, etaS: fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Infinity, done: finished };
  }

  update(p: DriveProgress): void {
    const before = this.#state.get(p.drive)?.state;
    this.#state.set(p.drive, p);
    if (this.#options.out.isTTY === true) this.#redraw();
    else {
      const now = this.#now();
      if (before !== p.state || now - this.#lastPlain >= (this.#options.intervalMs ?? 5000)) {
        this.#lastPlain = now;
        const t = this.total();
        const where = p.state === "failed" ? `at ${(p.fraction * 100).toFixed(0)}%` : `${(p.fraction * 100).toFixed(0)}%`;
        this.#options.out.write(`[${(t.fraction * 100).toFixed(0).padStart(3)}% ETA ${fmtDuration(t.etaS)}] ${p.drive}: ${p.state} ${where} ${p.messages} msgs\n`);
      }
    }
  }

  #redraw(): void {
    const lines: string[] = [];
    for (const p of this.#state.values()) {
      if (p.state === "done" || p.state === "failed") continue;
      const width = 24;
      const filled = Math.round(p.fraction * width);
      lines.push(`  ${p.drive.padEnd(28).slice(0, 28)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(p.fraction * 100).toFixed(0).padStart(3)}% ${p.state} ${p.messages} msgs`);
    }
    const t = this.total();
    lines.push(`total: ${t.done}/${this.#options.bytes.size} drives, ${(t.fraction * 100).toFixed(1)}%, ETA ${fmtDuration(t.etaS)}`);
    const up = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F` : "";
    this.#options.out.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n\x1b[J`);
    this.#drawnLines = lines.length;
  }
}
