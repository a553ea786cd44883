/**
 * Seeded pseudo-random numbers for the simulator: xoshiro128** (32-bit state words, so every step
 * is exact integer arithmetic in JS and the stream is identical on every platform). Never Math.random:
 * the same seed must give a byte-identical recording.
 *
 * Each sensor and each world component draws from its own stream (`Prng.stream(seed, "lidar_top")`),
 * so adding a sensor or an actor does not shift the random numbers of the others.
 */

/** FNV-1a of a string: stream names → 32-bit salts. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const NORMAL_TABLE_BITS = 16;
let normalTable: Float32Array | undefined;
/** 65 536 standard-normal quantiles (inverse CDF at bin centres), shuffled once: fast Gaussian draws for per-point noise. */
function normals(): Float32Array {
  if (normalTable !== undefined) return normalTable;
  const n = 1 << NORMAL_TABLE_BITS;
  const table = new Float32Array(n);
  for (let i = 0; i < n; i++) table[i] = inverseNormal((i + 0.5) / n);
  normalTable = table;
  return table;
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - pl) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  readonly #normals = normals();

  constructor(seed: number) {
    const sm = splitmix32(seed >>> 0);
    this.#a = sm();
    this.#b = sm();
    this.#c = sm();
    this.#d = sm();
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** An independent stream for one named component of a seeded drive. */
  static stream(seed: number, name: string): Prng {
    return new Prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ hash32(name)) >>> 0);
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Standard normal, exact enough for sensor noise (table of 65 536 quantiles). */
  normal(): number {
    return this.#normals[this.nextU32() >>> (32 - NORMAL_TABLE_BITS)]!;
  }

  /** Exponential with the given mean (scale), ≥ 0. */
  exponential(scale: number): number {
    return -scale * Math.log(1 - this.float());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
