/**
 * Siren (wail, yelp) and horn events from PCM audio with classical spectral features, streaming:
 *
 * - STFT: Hann window of `fftSize` samples every `hopMs`; per frame the strongest spectral peak in
 *   the warning-signal band (300–1800 Hz) and its prominence over the band's median power (a tone
 *   stands out of broadband road noise by orders of magnitude, noise does not);
 * - engine rejection: the engine is a harmonic stack on a low fundamental (firing frequency,
 *   ≤ ~150 Hz) that follows RPM; a peak weaker than the power at f/2, f/3 or f/4 is one of its
 *   harmonics and is not a warning signal;
 * - hysteresis: a tonal segment opens after `onFrames` tonal frames of the last few and closes
 *   after `offMs` without; onset and offset are the first and last tonal frame times;
 * - coherence: a warning signal's peak moves smoothly, noise crossing the threshold jumps about;
 *   a segment whose frame-to-frame steps are mostly large is dropped;
 * - classification of a segment by its peak-frequency track: a siren sweeps (range ≥ 200 Hz;
 *   wail turns slowly, yelp several times a second), a horn holds steady tones with its
 *   fundamental in 300–650 Hz.
 */
import { z } from "zod";
import type { EventSuggestion } from "./types.js";

export const AudioEventConfigSchema = z.strictObject({
  fftSize: z.number().int().refine((n) => n >= 256 && (n & (n - 1)) === 0, "a power of two ≥ 256").default(1024).describe("STFT window (samples, a power of two)."),
  hopMs: z.number().positive().default(10).describe("STFT hop (ms)."),
  bandLowHz: z.number().positive().default(300).describe("Lower edge of the warning-signal band searched for a tonal peak (Hz)."),
  bandHighHz: z.number().positive().default(1800).describe("Upper edge of the warning-signal band searched for a tonal peak (Hz)."),
  onProminence: z.number().positive().default(8).describe("Peak power over the band's median power for a frame to count as tonal (ratio)."),
  offProminence: z.number().positive().default(6).describe("Prominence below which an open segment's frame no longer counts as tonal (ratio)."),
  onFrames: z.number().int().min(1).default(3).describe("Tonal frames among the last few that open a segment."),
  trackProminence: z.number().positive().default(3).describe("Onset backtracking: earlier frames whose peak continues the track (within trackMaxStepHz) at this prominence belong to the event."),
  trackMaxStepHz: z.number().positive().default(60).describe("Largest peak-frequency step between frames for onset backtracking (Hz)."),
  offMs: z.number().positive().default(150).describe("A segment closes after this long without a tonal frame (ms)."),
  minEventMs: z.number().positive().default(250).describe("Shortest event reported (ms)."),
  sirenMinSweepHz: z.number().positive().default(200).describe("Peak-frequency range (Hz) above which a segment is a siren, not a horn."),
  yelpReversalsPerS: z.number().positive().default(2).describe("Sweep direction reversals per second above which a siren is a yelp, not a wail."),
  coherentStepHz: z.number().positive().default(150).describe("Frame-to-frame peak step (Hz) counted as a smooth track (a fast yelp moves about 70 Hz per 10 ms)."),
  minCoherence: z.number().min(0).max(1).default(0.6).describe("Share of a segment's frame-to-frame steps within coherentStepHz it needs (noise crossing the threshold jumps about)."),
}).refine((c) => c.bandLowHz < c.bandHighHz, { path: ["bandHighHz"], message: "expected above bandLowHz" });
export type AudioEventConfig = z.infer<typeof AudioEventConfigSchema>;

interface Segment {
  startS: number;
  lastTonalS: number;
  freqs: number[];
  times: number[];
  maxProminence: number;
}

export class AudioEventDetector {
  readonly #cfg: AudioEventConfig;
  #rate = 0;
  #hop = 0;
  #buf = new Float64Array(0);
  #filled = 0;
  /** Common-clock ns of #buf[0]. */
  #bufStartNs = 0n;
  #expectedNs: bigint | null = null;
  #originNs: bigint | null = null;
  readonly #win: Float64Array;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  readonly #power: Float64Array;
  #recent: boolean[] = [];
  #history: { t: number; freq: number; prominence: number }[] = [];
  #segment: Segment | null = null;
  #pendingStart: number | null = null;
  #nextId = 1;

  constructor(config: Partial<AudioEventConfig> = {}) {
    this.#cfg = AudioEventConfigSchema.parse(config);
    const n = this.#cfg.fftSize;
    this.#win = new Float64Array(n);
    for (let i = 0; i < n; i++) this.#win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    this.#re = new Float64Array(n);
    this.#im = new Float64Array(n);
    this.#power = new Float64Array(n / 2);
  }

  /**
   * Feeds one chunk: mono samples (−1..1) starting at `startNs` (common clock). A gap or overlap
   * with the previous chunk restarts the analysis window (a dropped chunk costs one window).
   */
  push(samples: Float32Array | Float64Array, sampleRate: number, startNs: bigint): EventSuggestion[] {
    const out: EventSuggestion[] = [];
    if (sampleRate !== this.#rate) {
      this.#rate = sampleRate;
      this.#hop = Math.max(1, Math.round((sampleRate * this.#cfg.hopMs) / 1000));
      this.#buf = new Float64Array(this.#cfg.fftSize * 4);
      this.#filled = 0;
      this.#expectedNs = null;
    }
    this.#originNs ??= startNs;
    const tolNs = BigInt(Math.round(2e9 / sampleRate)) + 2_000_000n;
    if (this.#expectedNs === null || startNs - this.#expectedNs > tolNs || this.#expectedNs - startNs > tolNs) {
      this.#filled = 0;
      this.#bufStartNs = startNs;
    }
    this.#expectedNs = startNs + BigInt(Math.round((samples.length * 1e9) / sampleRate));
    for (let i = 0; i < samples.length; i++) {
      if (this.#filled === this.#buf.length) this.#shift(this.#hop);
      this.#buf[this.#filled++] = samples[i]!;
      if (this.#filled >= this.#cfg.fftSize && (this.#filled - this.#cfg.fftSize) % this.#hop === 0) {
        this.#analyse(this.#filled - this.#cfg.fftSize, out);
      }
    }
    return out;
  }

  finish(): EventSuggestion[] {
    const out: EventSuggestion[] = [];
    if (this.#segment !== null) this.#close(out);
    return out;
  }

  #shift(by: number): void {
    this.#buf.copyWithin(0, by, this.#filled);
    this.#filled -= by;
    this.#bufStartNs += BigInt(Math.round((by * 1e9) / this.#rate));
  }

  /** Seconds since the first chunk for the centre of the window starting at buffer index `at`. */
  #frameTime(at: number): number {
    return Number(this.#bufStartNs - this.#originNs!) / 1e9 + (at + this.#cfg.fftSize / 2) / this.#rate;
  }

  #analyse(at: number, out: EventSuggestion[]): void {
    const n = this.#cfg.fftSize;
    const re = this.#re, im = this.#im, power = this.#power;
    for (let i = 0; i < n; i++) {
      re[i] = this.#buf[at + i]! * this.#win[i]!;
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < n / 2; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
    const hz = this.#rate / n;
    const lo = Math.max(1, Math.floor(this.#cfg.bandLowHz / hz));
    const hi = Math.min(n / 2 - 2, Math.ceil(this.#cfg.bandHighHz / hz));
    const band = Array.from(power.subarray(lo, hi + 1)).sort((a, b) => a - b);
    const median = Math.max(band[band.length >> 1]!, 1e-20);
    // Strongest peak not explained as an engine harmonic.
    let bestK = -1, bestP = 0;
    for (let k = lo; k <= hi; k++) {
      const p = power[k]!;
      if (p <= bestP || p < power[k - 1]! || p < power[k + 1]!) continue;
      if (this.#isEngineHarmonic(k, p)) continue;
      bestK = k;
      bestP = p;
    }
    const prominence = bestK < 0 ? 0 : (power[bestK - 1]! + bestP + power[bestK + 1]!) / (3 * median);
    // Parabolic interpolation of the peak frequency.
    let freq = 0;
    if (bestK > 0) {
      const a = Math.log(power[bestK - 1]! + 1e-30), b = Math.log(bestP + 1e-30), c = Math.log(power[bestK + 1]! + 1e-30);
      const d = a - 2 * b + c;
      freq = (bestK + (d !== 0 ? (0.5 * (a - c)) / d : 0)) * hz;
    }
    const t = this.#frameTime(at);
    const cfg = this.#cfg;
    const seg = this.#segment;
    if (seg === null) {
      const tonal = prominence >= cfg.onProminence;
      if (tonal) this.#pendingStart ??= t;
      this.#recent.push(tonal);
      if (this.#recent.length > cfg.onFrames + 2) this.#recent.shift();
      if (!tonal && this.#recent.every((x) => !x)) this.#pendingStart = null;
      this.#history.push({ t, freq, prominence });
      if (this.#history.length > 100) this.#history.shift();
      if (this.#recent.filter((x) => x).length >= cfg.onFrames && this.#pendingStart !== null) {
        // A tone fading in (an approaching siren) is continuous before it is loud: walk back while
        // the peak stays on a smooth frequency track a little above the noise.
        let startS = this.#pendingStart;
        let k = this.#history.findIndex((h) => h.t === startS);
        while (k > 0) {
          const prev = this.#history[k - 1]!, next = this.#history[k]!;
          if (prev.prominence < cfg.trackProminence || Math.abs(prev.freq - next.freq) > cfg.trackMaxStepHz) break;
          startS = prev.t;
          k--;
        }
        this.#history = [];
        this.#segment = { startS, lastTonalS: t, freqs: [freq], times: [t], maxProminence: prominence };
        this.#pendingStart = null;
        this.#recent = [];
      }
      return;
    }
    if (prominence >= cfg.offProminence) {
      seg.lastTonalS = t;
      seg.freqs.push(freq);
      seg.times.push(t);
      seg.maxProminence = Math.max(seg.maxProminence, prominence);
    } else if (t - seg.lastTonalS > cfg.offMs / 1000) this.#close(out);
  }

  #isEngineHarmonic(k: number, p: number): boolean {
    const f = this.#peakBin(k);
    for (const h of [2, 3, 4]) {
      const sub = Math.round(f / h);
      if (sub * (this.#rate / this.#cfg.fftSize) < 40) break;
      // The fundamental must be a spectral peak at exactly f/h (interpolated, within a third of a
      // bin): an engine stack is dense, so a loose match would reject real tones.
      let best = -1;
      for (const j of [sub - 1, sub, sub + 1]) if (this.#power[j]! >= this.#power[j - 1]! && this.#power[j]! >= this.#power[j + 1]!) best = j;
      if (best < 0) continue;
      const q = this.#power[best]!;
      // An engine's harmonics are weaker than its firing fundamental; a horn or siren is louder.
      if (q > p && Math.abs(this.#peakBin(best) * h - f) < h / 3) return true;
    }
    return false;
  }

  /** Peak position in bins, refined by parabolic interpolation of the log power. */
  #peakBin(k: number): number {
    const pw = this.#power;
    const a = Math.log(pw[k - 1]! + 1e-30), b = Math.log(pw[k]! + 1e-30), c = Math.log(pw[k + 1]! + 1e-30);
    const d = a - 2 * b + c;
    return k + (d !== 0 ? (0.5 * (a - c)) / d : 0);
  }

  #close(out: EventSuggestion[]): void {
    const seg = this.#segment!;
    this.#segment = null;
    const cfg = this.#cfg;
    // Half a window of tone is enough to make a frame tonal: move the edges by a quarter window.
    const edge = cfg.fftSize / this.#rate / 4;
    const startS = seg.startS - edge, endS = seg.lastTonalS + edge;
    if (endS - startS < cfg.minEventMs / 1000) return;
    let smooth = 0;
    for (let i = 1; i < seg.freqs.length; i++) if (Math.abs(seg.freqs[i]! - seg.freqs[i - 1]!) <= cfg.coherentStepHz) smooth++;
    if (seg.freqs.length > 1 && smooth / (seg.freqs.length - 1) < cfg.minCoherence) return;
    const sorted = [...seg.freqs].sort((a, b) => a - b);
    const p10 = sorted[Math.floor(sorted.length * 0.1)]!, p90 = sorted[Math.floor(sorted.length * 0.9)]!;
    const toNs = (s: number): bigint => this.#originNs! + BigInt(Math.round(s * 1e9));
    const confidence = Math.min(0.99, 0.5 + 0.1 * Math.log10(seg.maxProminence));
    if (p90 - p10 >= cfg.sirenMinSweepHz) {
      // Direction reversals of the (lightly smoothed) frequency track.
      let reversals = 0, dir = 0;
      for (let i = 3; i < seg.freqs.length; i += 3) {
        const d = seg.freqs[i]! - seg.freqs[i - 3]!;
        const s = Math.abs(d) < 20 ? 0 : Math.sign(d);
        if (s !== 0 && dir !== 0 && s !== dir) reversals++;
        if (s !== 0) dir = s;
      }
      const rate = reversals / Math.max(endS - startS, 1e-3);
      out.push({ kind: "event", trackId: this.#nextId++, category: "siren", subtype: rate >= cfg.yelpReversalsPerS ? "yelp" : "wail", confidence, source: "audio", startNs: toNs(startS), endNs: toNs(endS), peakValue: p90 });
      return;
    }
    const median = sorted[sorted.length >> 1]!;
    // A horn's fundamental (or its pair of tones) sits in 300–650 Hz; a steady tone elsewhere is left unlabelled.
    const lowShare = seg.freqs.filter((f) => f >= 300 && f <= 650).length / seg.freqs.length;
    if (lowShare >= 0.5 || (median >= 300 && median <= 650)) {
      out.push({ kind: "event", trackId: this.#nextId++, category: "horn", confidence, source: "audio", startNs: toNs(startS), endNs: toNs(endS), peakValue: median });
    }
  }
}

/** In-place iterative radix-2 FFT (length a power of two). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

/** S16LE or F32LE interleaved PCM → mono float samples (channel average). */
export function pcmToMono(data: Uint8Array, encoding: string, channels: number, frames: number): Float32Array | null {
  const out = new Float32Array(frames);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ch = Math.max(1, channels);
  if (encoding === "S16LE") {
    if (data.byteLength < frames * ch * 2) return null;
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < ch; c++) s += view.getInt16((i * ch + c) * 2, true);
      out[i] = s / ch / 32768;
    }
    return out;
  }
  if (encoding === "F32LE") {
    if (data.byteLength < frames * ch * 4) return null;
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < ch; c++) s += view.getFloat32((i * ch + c) * 4, true);
      out[i] = s / ch;
    }
    return out;
  }
  return null;
}
