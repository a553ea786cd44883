/**
 * Per-topic report figures kept in bounded memory while a drive streams through the converter:
 * a drive's length must not grow the converter (an hour of a rig is millions of messages).
 */
import type { SyncErrorReport } from "./report.js";

/** Message rate and dropped messages (gaps over 1.5 nominal periods) of one topic, by log time. */
export class TopicTimes {
  count = 0;
  #first = 0n;
  #last = 0n;
  /** The first gaps, until the nominal period (their median) is known. */
  #early: number[] = [];
  #periodS = 0;
  #drops = 0;

  add(timeNs: bigint): void {
    if (this.count > 0) this.#gap(Number(timeNs - this.#last) / 1e9);
    else this.#first = timeNs;
    this.count++;
    this.#last = timeNs;
  }

  #gap(gapS: number): void {
    if (this.#periodS > 0) {
      if (gapS > 1.5 * this.#periodS) this.#drops += Math.round(gapS / this.#periodS) - 1;
      return;
    }
    this.#early.push(gapS);
    if (this.#early.length < 64) return;
    this.#periodS = [...this.#early].sort((a, b) => a - b)[this.#early.length >> 1]!;
    const early = this.#early;
    this.#early = [];
    if (this.#periodS > 0) for (const g of early) this.#gap(g);
  }

  result(): { rateHz: number; drops: number } {
    if (this.count < 2) return { rateHz: 0, drops: 0 };
    if (this.#periodS === 0 && this.#early.length > 0) {
      // Fewer than 64 gaps: the median of what there is.
      this.#periodS = [...this.#early].sort((a, b) => a - b)[this.#early.length >> 1]!;
      const early = this.#early;
      this.#early = [];
      if (this.#periodS > 0) for (const g of early) this.#gap(g);
    }
    const span = Number(this.#last - this.#first) / 1e9;
    return { rateHz: span > 0 ? (this.count - 1) / span : 0, drops: this.#drops };
  }
}

const BINS_PER_DECADE = 200;
const FLOOR_S = 1e-9;

/**
 * |sync error| over a drive: p50 / p99 from a log-spaced histogram (bins 1.2 % wide, 1 ns to
 * 1000 s), the exact maximum, and a plotting series decimated by doubling its stride (≤ 600 points).
 */
export class ErrorSummary {
  readonly #bins = new Uint32Array(12 * BINS_PER_DECADE + 1);
  #count = 0;
  #max = 0;
  #series: [number, number][] = [];
  #stride = 1;
  #seen = 0;

  add(t: number, errorS: number): void {
    const e = Math.abs(errorS);
    const bin = e <= FLOOR_S ? 0 : Math.min(this.#bins.length - 1, 1 + Math.floor(Math.log10(e / FLOOR_S) * BINS_PER_DECADE));
    this.#bins[bin]!++;
    this.#count++;
    if (e > this.#max) this.#max = e;
    if (this.#seen++ % this.#stride === 0) {
      this.#series.push([t, e]);
      if (this.#series.length > 600) {
        this.#series = this.#series.filter((_, i) => i % 2 === 0);
        this.#stride *= 2;
      }
    }
  }

  #quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.min(this.#count - 1, Math.floor(q * this.#count));
    let seen = 0;
    for (let bin = 0; bin < this.#bins.length; bin++) {
      seen += this.#bins[bin]!;
      if (seen > rank) return bin === 0 ? 0 : Math.min(this.#max, FLOOR_S * 10 ** (bin / BINS_PER_DECADE));
    }
    return this.#max;
  }

  report(maxPoints = 300): SyncErrorReport {
    const n = this.#series.length;
    const points = Math.min(maxPoints, n);
    const series: [number, number][] = [];
    for (let k = 0; k < points; k++) series.push(this.#series[Math.floor((k * n) / points)]!);
    return { p50: this.#quantile(0.5), p99: this.#quantile(0.99), max: this.#max, series };
  }
}
