/**
 * Is a sensor's header stamp a clock at all? The clock models (model.ts, smoother.ts) assume the
 * stamp is some oscillator's reading: offset by anything (a device counting from power-on is
 * decades from the epoch, and `estimate` handles that), running at the receive clock's rate within
 * a crystal's tolerance (±20–100 ppm), with an occasional step. Stamps in another time domain —
 * simulation time (Gazebo /clock, a real-time factor ≠ 1, pauses), a replayed bag's original
 * times — break that, and "correcting" them yields nonsense steps and a low confidence. Two tests,
 * either of which is proof:
 *
 * 1. Rate: over the record, stamps advance against receive time at a rate off by more than
 *    MAX_RATE_ERROR (1000 ppm: ten times the widest quartz specification), and by more than the
 *    floor's own scatter can explain. Measured on the delay floor (the least receive − stamp per
 *    block of receive time: jitter only ever adds delay) by the median of slopes over a fixed
 *    baseline, so a few genuine clock steps (each touching only the slopes that straddle it) do
 *    not count as a rate.
 * 2. /clock: the recording carries ROS sim time and the stamps lie within its range while far
 *    from receive time (hindsight only: the online model sees one sensor's messages).
 *
 * The offset alone decides nothing (see above); it is reported in the warning.
 */

/** No crystal oscillator is off by more than this (ppm); quartz is specified at ±20–100 ppm. */
export const MAX_RATE_ERROR = 1e-3;
/** Receive-time span (s) a rate verdict needs. */
export const MIN_DOMAIN_SPAN_S = 10;

export interface ForeignDomain {
  /** Why the stamps cannot be the sensor's clock, for the warning. */
  reason: string;
  /** Median stamp − receive time (s). */
  offsetS: number;
}

/**
 * Rate test on delay-floor points: receive time r and device time t (s, any common origins), in
 * receive order, one per receive block. Null: too short to tell, or a clock.
 */
export function foreignRate(r: ArrayLike<number>, t: ArrayLike<number>, count: number): { rate: number } | null {
  if (count < 8 || r[count - 1]! - r[0]! < MIN_DOMAIN_SPAN_S) return null;
  // Baseline: an eighth of the record (at least two blocks), so a step touches few of the slopes.
  const k = Math.max(2, Math.floor(count / 8));
  const slopes: number[] = [];
  for (let i = 0; i + k < count; i++) {
    const dr = r[i + k]! - r[i]!;
    if (dr > 0) slopes.push((t[i + k]! - t[i]!) / dr);
  }
  if (slopes.length < 4) return null;
  const rate = median(slopes);
  // The median's own uncertainty (1.25·σ/√m for a normal scatter, σ from the MAD) must not explain it.
  const sigma = 1.4826 * median(slopes.map((s) => Math.abs(s - rate)));
  const resolution = (6 * 1.25 * sigma) / Math.sqrt(slopes.length);
  const error = Math.abs(rate - 1);
  return error > MAX_RATE_ERROR && error > resolution ? { rate } : null;
}

/**
 * The delay floor of a stamp series (t: device s from its origin, d: receive − device s), in
 * blocks of receive time: at most `maxBlocks` points. Returns receive and device times of each.
 */
export function delayFloor(t: ArrayLike<number>, d: ArrayLike<number>, n: number, maxBlocks = 256): { r: Float64Array; t: Float64Array; count: number } {
  if (n === 0) return { r: new Float64Array(0), t: new Float64Array(0), count: 0 };
  let r0 = Infinity;
  let r1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = t[i]! + d[i]!;
    if (r < r0) r0 = r;
    if (r > r1) r1 = r;
  }
  const blockS = Math.max(0.25, (r1 - r0) / maxBlocks);
  const blocks = Math.floor((r1 - r0) / blockS) + 1;
  const best = new Int32Array(blocks).fill(-1);
  for (let i = 0; i < n; i++) {
    const b = Math.floor((t[i]! + d[i]! - r0) / blockS);
    if (best[b]! < 0 || d[i]! < d[best[b]!]!) best[b] = i;
  }
  const fr = new Float64Array(blocks);
  const ft = new Float64Array(blocks);
  let count = 0;
  for (let b = 0; b < blocks; b++) {
    const i = best[b]!;
    if (i < 0) continue;
    fr[count] = t[i]! + d[i]!;
    ft[count] = t[i]!;
    count++;
  }
  return { r: fr, t: ft, count };
}

/**
 * Both tests on a whole stamp series (hindsight). `stampOriginNs` is the absolute stamp of t = 0;
 * `simClock`, when the recording carries /clock, the range of its values (ns).
 */
export function foreignDomainOfSeries(
  t: ArrayLike<number>,
  d: ArrayLike<number>,
  n: number,
  stampOriginNs: bigint | null,
  simClock: { minNs: bigint; maxNs: bigint } | null,
): ForeignDomain | null {
  if (n === 0 || stampOriginNs === null) return null;
  const offsetS = -medianOf(d, n);
  if (simClock !== null && Math.abs(offsetS) > 1) {
    // Within the sim clock's range (a second of slack each side) for most of the record.
    const lo = Number(simClock.minNs - stampOriginNs) / 1e9 - 1;
    const hi = Number(simClock.maxNs - stampOriginNs) / 1e9 + 1;
    let inside = 0;
    for (let i = 0; i < n; i++) if (t[i]! >= lo && t[i]! <= hi) inside++;
    if (inside >= 0.9 * n) return { reason: "ROS sim time of /clock", offsetS };
  }
  const floor = delayFloor(t, d, n);
  const rate = foreignRate(floor.r, floor.t, floor.count);
  return rate === null ? null : { reason: rateReason(rate.rate), offsetS };
}

/**
 * The online test, bounded: one floor point per `blockS` of receive time for the first
 * `watchS` seconds; a verdict is asked for as each block closes. After `watchS` without one, the
 * stamps are taken as a clock for good (the model's step detection covers what follows).
 */
export class DomainWatch {
  readonly #blockS: number;
  readonly #blocks: number;
  readonly #r: Float64Array;
  readonly #t: Float64Array;
  readonly #d: Float64Array;
  #count = 0;
  #r0 = NaN;
  #block = -1;
  #offsets: number[] = [];
  #done = false;

  constructor(watchS = 60, blockS = 0.5) {
    this.#blockS = blockS;
    this.#blocks = Math.ceil(watchS / blockS);
    this.#r = new Float64Array(this.#blocks);
    this.#t = new Float64Array(this.#blocks);
    this.#d = new Float64Array(this.#blocks);
  }

  /** t: device time (s from the model's origin), d: receive − stamp (s). A verdict once, else null. */
  observe(t: number, d: number): ForeignDomain | null {
    if (this.#done) return null;
    const r = t + d;
    if (Number.isNaN(this.#r0)) this.#r0 = r;
    const block = Math.floor((r - this.#r0) / this.#blockS);
    if (block >= this.#blocks) {
      this.#done = true;
      return this.#verdict();
    }
    if (block > this.#block) {
      const verdict = this.#count >= 8 ? this.#verdict() : null;
      if (verdict !== null) return verdict;
      this.#block = block;
      this.#r[this.#count] = r;
      this.#t[this.#count] = t;
      this.#d[this.#count] = d;
      this.#count++;
    } else if (block === this.#block && d < this.#d[this.#count - 1]!) {
      this.#r[this.#count - 1] = r;
      this.#t[this.#count - 1] = t;
      this.#d[this.#count - 1] = d;
    }
    return null;
  }

  #verdict(): ForeignDomain | null {
    const rate = foreignRate(this.#r, this.#t, this.#count);
    if (rate === null) return null;
    this.#done = true;
    this.#offsets = Array.from(this.#d.subarray(0, this.#count), (d) => -d);
    return { reason: rateReason(rate.rate), offsetS: median(this.#offsets) };
  }
}

/** `clock: sensor X header stamps are in another time domain (…); using arrival times`. */
export function foreignDomainWarning(sensor: string, domain: ForeignDomain): string {
  return `clock: sensor ${sensor} header stamps are in another time domain (${domain.reason}; offset ${formatOffset(domain.offsetS)}); using arrival times`;
}

function rateReason(rate: number): string {
  return `they advance ${rate.toFixed(3)} s per s of receive time, beyond any clock's drift`;
}

function formatOffset(s: number): string {
  const sign = s < 0 ? "−" : "+";
  const a = Math.abs(s);
  const value = a >= 1e4 ? a.toExponential(2).replace("e+", "e") : a.toFixed(3);
  const year = 365.25 * 86400;
  const human = a >= year ? `${Math.round(a / year)} years` : a >= 86400 ? `${(a / 86400).toFixed(1)} days` : a >= 3600 ? `${(a / 3600).toFixed(1)} h` : null;
  return `${sign}${value} s${human === null ? "" : ` ≈ ${human}`}`;
}

function medianOf(values: ArrayLike<number>, n: number): number {
  return median(Array.from({ length: n }, (_, i) => values[i]!));
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}
