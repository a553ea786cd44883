/**
 * Passive clock synchronisation after Olson ("A passive solution to the sensor synchronization
 * problem", IROS 2010): for each message, d = receive − device stamp = latency + jitter −
 * (device clock error). Latency and jitter are never negative, so the device clock error is
 * bounded by the LOWER envelope of the (device time, d) points. The best line under all points
 * that hugs them (minimum total vertical gap) is the lower convex-hull edge spanning the mean
 * device time; its intercept gives the offset and its slope the drift.
 *
 * Memory is bounded: points are binned by device time and only each bin's minimum is kept
 * (an envelope vertex is always a bin minimum), over a sliding window.
 */

export interface EnvelopeOptions {
  /** Sliding window of device time kept for the fit (s). */
  windowS: number;
  /** Bin width (s): one minimum kept per bin. */
  binS: number;
}

export interface EnvelopeLine {
  /** d at device time t (s, relative to the origin) is intercept + slope·t. */
  intercept: number;
  slope: number;
  /** Number of bins (points) the fit used, and the device-time span they cover (s). */
  points: number;
  spanS: number;
}

export class LowerEnvelope {
  readonly #windowS: number;
  readonly #binS: number;
  // Bins in device-time order: parallel arrays for speed, compacted as the window slides.
  #t: number[] = [];
  #d: number[] = [];
  #bin: number[] = [];
  #line: EnvelopeLine | null = null;
  #dirty = false;

  constructor(options: EnvelopeOptions) {
    this.#windowS = options.windowS;
    this.#binS = options.binS;
  }

  get size(): number {
    return this.#t.length;
  }

  clear(): void {
    this.#t = [];
    this.#d = [];
    this.#bin = [];
    this.#line = null;
    this.#dirty = false;
  }

  /** Adds an observation; t is device time (s from the origin), d = receive − device (s). */
  add(t: number, d: number): void {
    const bin = Math.floor(t / this.#binS);
    const n = this.#t.length;
    if (n > 0 && this.#bin[n - 1] === bin) {
      if (d < this.#d[n - 1]!) {
        this.#t[n - 1] = t;
        this.#d[n - 1] = d;
        this.#dirty = true;
      }
    } else if (n === 0 || bin > this.#bin[n - 1]!) {
      this.#t.push(t);
      this.#d.push(d);
      this.#bin.push(bin);
      this.#dirty = true;
    } else {
      // Out-of-order device time (reordered delivery): insert in place, keep the bin minimum.
      let i = n - 1;
      while (i > 0 && this.#bin[i - 1]! >= bin) i--;
      if (this.#bin[i] === bin) {
        if (d < this.#d[i]!) {
          this.#t[i] = t;
          this.#d[i] = d;
          this.#dirty = true;
        }
      } else if (this.#bin[i]! > bin) {
        this.#t.splice(i, 0, t);
        this.#d.splice(i, 0, d);
        this.#bin.splice(i, 0, bin);
        this.#dirty = true;
      }
    }
    // Slide the window.
    const newest = this.#t[this.#t.length - 1]!;
    let drop = 0;
    while (drop < this.#t.length - 2 && newest - this.#t[drop]! > this.#windowS) drop++;
    if (drop > 0) {
      this.#t.splice(0, drop);
      this.#d.splice(0, drop);
      this.#bin.splice(0, drop);
      this.#dirty = true;
    }
  }

  /** The current fit, or null without points. `fixedSlope` fits the intercept only (too short a span for drift). */
  line(fixedSlope?: number): EnvelopeLine | null {
    if (!this.#dirty && this.#line !== null && fixedSlope === undefined) return this.#line;
    const n = this.#t.length;
    if (n === 0) return null;
    const t = this.#t;
    const d = this.#d;
    const spanS = t[n - 1]! - t[0]!;
    if (fixedSlope !== undefined || n === 1) {
      const slope = fixedSlope ?? 0;
      let intercept = Infinity;
      for (let i = 0; i < n; i++) intercept = Math.min(intercept, d[i]! - slope * t[i]!);
      return { intercept, slope, points: n, spanS };
    }
    // Lower hull (monotone chain over points sorted by t).
    const hull: number[] = [];
    for (let i = 0; i < n; i++) {
      while (hull.length >= 2) {
        const a = hull[hull.length - 2]!;
        const b = hull[hull.length - 1]!;
        const cross = (t[b]! - t[a]!) * (d[i]! - d[a]!) - (d[b]! - d[a]!) * (t[i]! - t[a]!);
        if (cross <= 0) hull.pop();
        else break;
      }
      hull.push(i);
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += t[i]!;
    mean /= n;
    // The hull edge whose t-range contains the mean is the minimum-gap supporting line.
    let slope = 0;
    let intercept = d[hull[0]!]!;
    for (let k = 0; k + 1 < hull.length; k++) {
      const a = hull[k]!;
      const b = hull[k + 1]!;
      if (t[b]! >= mean || k + 2 === hull.length) {
        slope = (d[b]! - d[a]!) / (t[b]! - t[a]!);
        intercept = d[a]! - slope * t[a]!;
        break;
      }
    }
    this.#line = { intercept, slope, points: n, spanS };
    this.#dirty = false;
    return this.#line;
  }
}
