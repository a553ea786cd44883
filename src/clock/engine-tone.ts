/**
 * Cross-modal latency calibration from the engine tone. Arrival times reveal a sensor's offset
 * and drift but never its constant latency; two sensors that observe one physical signal do. The
 * microphone hears the engine's firing frequency f(t) = rpm/60 · cylinders/2 (plus harmonics) that
 * the CAN bus reports as engine RPM, so on the common clock the audio's tone at time t is
 * f_rpm(t − τ), τ being the audio's constant latency relative to the telemetry (whose own latency
 * is known and already removed).
 *
 * Pitch track: instead of a windowed pitch estimator (whose window averages a gear shift and
 * biases the lag by a fraction of the window), the audio is decimated (boxcar to ~2 kHz) and
 * demodulated along the RPM-predicted phase φ(t) = ∫2π f_rpm(s − τ₀) ds: z = x·e^{−ihφ} for the
 * fundamental and 2nd harmonic (h = 1, 2), low-passed (two boxcars: nulls at the other harmonics
 * and images), so z's phase advance is the small frequency difference between what the microphone
 * heard and the prediction. That gives the tone's instantaneous frequency at 100 frames/s with
 * sub-Hz precision; a siren or horn hundreds of Hz away never enters the passband.
 *
 * Lag: τ minimises Σ ρ(f_audio(t_k) − f_rpm(t_k − τ)) (ρ: squared error clipped at 2 Hz — a
 * cross-correlation robust to outliers) over the window, on a 1 ms grid, then a 0.1 ms grid and a
 * parabola through the three best points. The prediction is re-centred on τ (τ₀ ← τ) until it moves
 * less than 0.2 ms, which removes the low-pass' smoothing of the difference.
 *
 * Uncertainty: least squares, σ_τ² = σ_e² · c / Σ f_rpm'(t_k − τ)², where c is the number of frames
 * a residual stays correlated (the low-pass span) — i.e. only RPM changes (gear shifts, throttle)
 * make the lag observable; a constant-RPM cruise yields a large σ and no calibration. It is also
 * never smaller than half the disagreement between the window's two halves. Confident only when
 * σ_τ ≤ maxUncertaintyS, most frames agree, and the lag is not at the search range's edge.
 *
 * Memory is bounded: the decimated audio and the RPM track over windowS.
 */
import { defaultCodec } from "../messages/codec.js";
import type { RawMessage } from "../transport/port.js";

export interface EngineToneCalibrationOptions {
  audioTopic: string;
  telemetryTopic: string;
  /** Four-stroke cylinders: the firing frequency is rpm/60 · cylinders/2. */
  cylinders?: number;
  /** Data window used for the fit (s). */
  windowS?: number;
  /** How often the fit is recomputed until confident (s of audio time); 30× that once confident (the latency is constant: only confirmed). */
  everyS?: number;
  /** Lag search range (s): the audio's latency relative to the telemetry. */
  minLagS?: number;
  maxLagS?: number;
  /** Largest acceptable one-sigma uncertainty (s). */
  maxUncertaintyS?: number;
  /** Audio time needed before the first fit (s). */
  minDataS?: number;
  /** Rate the audio is decimated to (Hz). */
  decimatedRateHz?: number;
  /** Tone frames (100/s) a fit needs; 400 (4 s) live, fewer for a short drive fitted whole. */
  minFrames?: number;
}

export interface CalibrationResult {
  topic: string;
  latencyS: number;
  uncertaintyS: number;
  /** Share of tone frames explained by the fit (|error| ≤ 2 Hz). */
  inlierShare: number;
  /** Tone frames the fit used. */
  samples: number;
  confident: boolean;
}

interface Frame {
  t: number;
  hz: number;
}

const FRAME_RATE_HZ = 100;
const CLIP_HZ = 2;
const GRID_S = 0.001;

export class EngineToneCalibration {
  readonly #o: Required<EngineToneCalibrationOptions>;
  readonly #capacity: number;
  // Decimated audio ring: time (s from origin) and value.
  readonly #at: Float64Array;
  readonly #ax: Float32Array;
  #head = 0;
  #count = 0;
  // RPM track as firing frequency (Hz), sorted by time.
  #rt: number[] = [];
  #rf: number[] = [];
  #origin: bigint | null = null;
  #firstAudioS: number | null = null;
  #nextFitS = 0;
  #result: CalibrationResult | null = null;
  #fresh = false;
  // Uniform RPM grid built per fit (O(1) lookups at any time).
  #gridStart = 0;
  #grid = new Float64Array(0);

  constructor(options: EngineToneCalibrationOptions) {
    this.#o = {
      cylinders: 4,
      windowS: 20,
      everyS: 1,
      minLagS: -0.05,
      maxLagS: 0.3,
      maxUncertaintyS: 0.0015,
      minDataS: 5,
      decimatedRateHz: 2000,
      minFrames: 4 * FRAME_RATE_HZ,
      ...options,
    };
    this.#capacity = Math.ceil((this.#o.windowS + 2) * this.#o.decimatedRateHz * 1.1);
    this.#at = new Float64Array(this.#capacity);
    this.#ax = new Float32Array(this.#capacity);
  }

  get audioTopic(): string {
    return this.#o.audioTopic;
  }

  get telemetryTopic(): string {
    return this.#o.telemetryTopic;
  }

  get result(): CalibrationResult | null {
    return this.#result;
  }

  /** The newest result if it changed since the last poll, else null. */
  poll(): CalibrationResult | null {
    if (!this.#fresh) return null;
    this.#fresh = false;
    return this.#result;
  }

  /**
   * Feeds a message of either topic with its corrected time. Audio times must NOT have any audio
   * latency applied (the fit measures the whole latency, however often it re-estimates it).
   */
  observe(raw: RawMessage, correctedNs: bigint): void {
    if (raw.topic === this.#o.telemetryTopic) {
      const rpm = engineRpmOf(raw.type, raw.data);
      if (rpm !== null) this.addRpm(correctedNs, rpm);
    } else if (raw.topic === this.#o.audioTopic) {
      let chunk: { sample_rate: number; channels: number; encoding: string; frames: number; data: Uint8Array };
      try {
        chunk = defaultCodec().decode(raw.type, raw.data) as typeof chunk;
      } catch {
        return; // a malformed chunk is the stage's to count; the calibration just goes without it
      }
      this.addAudio(correctedNs, chunk);
    }
  }

  addRpm(timeNs: bigint, rpm: number): void {
    if (!Number.isFinite(rpm)) return;
    this.#origin ??= timeNs;
    const t = Number(timeNs - this.#origin) / 1e9;
    const hz = (rpm / 60) * (this.#o.cylinders / 2);
    const times = this.#rt;
    let i = times.length;
    while (i > 0 && times[i - 1]! > t) i--;
    if (i === times.length) {
      times.push(t);
      this.#rf.push(hz);
    } else {
      times.splice(i, 0, t);
      this.#rf.splice(i, 0, hz);
    }
    // Keep the RPM that the audio window can still need (plus the lag range).
    const cutoff = t - this.#o.windowS - this.#o.maxLagS - 2;
    let drop = 0;
    while (drop < times.length && times[drop]! < cutoff) drop++;
    if (drop > 256) {
      times.splice(0, drop);
      this.#rf.splice(0, drop);
    }
  }

  /** Adds an audio chunk whose first sample is at timeNs (S16LE or F32LE, channels averaged). */
  addAudio(timeNs: bigint, chunk: AudioChunkSamples): void {
    const decimated = decimateChunk(chunk, this.#o.decimatedRateHz);
    if (decimated === null) return;
    const endS = this.addDecimated(timeNs, decimated);
    if (endS - this.#firstAudioS! >= this.#o.minDataS && endS >= this.#nextFitS) {
      this.#nextFitS = endS + (this.#result?.confident === true ? 30 : 1) * this.#o.everyS;
      this.fit();
    }
  }

  /** Adds audio decimated by decimateChunk() whose first sample is at timeNs; returns the chunk's end (s from the origin). No fit is scheduled. */
  addDecimated(timeNs: bigint, chunk: DecimatedAudio): number {
    this.#origin ??= timeNs;
    const t0 = Number(timeNs - this.#origin) / 1e9;
    this.#firstAudioS ??= t0;
    const { values, firstS, stepS } = chunk;
    for (let j = 0; j < values.length; j++) {
      this.#at[this.#head] = t0 + firstS + j * stepS;
      this.#ax[this.#head] = values[j]!;
      this.#head = (this.#head + 1) % this.#capacity;
      if (this.#count < this.#capacity) this.#count++;
    }
    return t0 + chunk.durationS;
  }

  /** Recomputes the lag from the current window (called on schedule by addAudio; public for tests and end of input). */
  fit(): CalibrationResult | null {
    if (!this.#buildGrid()) return null;
    const { t, x } = this.#window();
    if (t.length < this.#o.decimatedRateHz) return null;
    // The full lag range only until a first result; then around it (a constant latency).
    const previous = this.#result?.confident === true ? this.#result.latencyS : null;
    let tau0 = previous ?? 0;
    let frames = this.#track(t, x, tau0);
    let tau = previous === null ? this.#bestLag(frames, this.#o.minLagS, this.#o.maxLagS, 0.002) : this.#bestLag(frames, previous - 0.01, previous + 0.01);
    for (let iteration = 0; iteration < 2 && Math.abs(tau - tau0) > 2e-4; iteration++) {
      tau0 = tau;
      frames = this.#track(t, x, tau0);
      tau = this.#bestLag(frames, tau0 - 0.005, tau0 + 0.005);
    }
    if (frames.length < this.#o.minFrames) return null;
    const stats = this.#statistics(frames, tau);
    // Consistency: the two halves of the window, each fitted alone, must agree within their own
    // uncertainties (a half without RPM changes carries no information and is not held against it).
    let uncertaintyS = stats.sigmaS;
    const half = frames.length >> 1;
    const halves = [frames.slice(0, half), frames.slice(half)].map((part) => {
      const lag = this.#bestLag(part, tau - 0.02, tau + 0.02, 0.002);
      return { lag, sigma: this.#statistics(part, lag).sigmaS };
    });
    const [a, b] = halves as [{ lag: number; sigma: number }, { lag: number; sigma: number }];
    if (a.sigma < 0.005 && b.sigma < 0.005 && Math.abs(a.lag - b.lag) > 3 * Math.hypot(a.sigma, b.sigma)) {
      uncertaintyS = Math.max(uncertaintyS, Math.abs(a.lag - b.lag) / 2);
    }
    const margin = 0.002;
    this.#result = {
      topic: this.#o.audioTopic,
      latencyS: tau,
      uncertaintyS,
      inlierShare: stats.inlierShare,
      samples: frames.length,
      confident: uncertaintyS <= this.#o.maxUncertaintyS && stats.inlierShare >= 0.6 && tau > this.#o.minLagS + margin && tau < this.#o.maxLagS - margin,
    };
    this.#fresh = true;
    return this.#result;
  }

  #buildGrid(): boolean {
    const times = this.#rt;
    const n = times.length;
    if (n < 2 || times[n - 1]! - times[0]! < 1) return false;
    this.#gridStart = times[0]!;
    const size = Math.floor((times[n - 1]! - this.#gridStart) / GRID_S) + 1;
    if (this.#grid.length !== size) this.#grid = new Float64Array(size);
    const grid = this.#grid;
    let j = 0;
    for (let i = 0; i < size; i++) {
      const at = this.#gridStart + i * GRID_S;
      while (j + 2 < n && times[j + 1]! <= at) j++;
      const t0 = times[j]!;
      const t1 = times[j + 1]!;
      const w = t1 > t0 ? Math.min(1, Math.max(0, (at - t0) / (t1 - t0))) : 0;
      grid[i] = this.#rf[j]! + w * (this.#rf[j + 1]! - this.#rf[j]!);
    }
    return true;
  }

  /** Firing frequency at time t (s), NaN outside the RPM track. */
  #rpmHz(t: number): number {
    const u = (t - this.#gridStart) / GRID_S;
    const i = Math.floor(u);
    if (i < 0 || i + 1 >= this.#grid.length) return NaN;
    const a = this.#grid[i]!;
    return a + (u - i) * (this.#grid[i + 1]! - a);
  }

  /** The audio window in time order (oldest first). */
  #window(): { t: Float64Array; x: Float32Array } {
    const n = this.#count;
    const t = new Float64Array(n);
    const x = new Float32Array(n);
    const start = (this.#head - n + this.#capacity) % this.#capacity;
    for (let i = 0; i < n; i++) {
      const k = (start + i) % this.#capacity;
      t[i] = this.#at[k]!;
      x[i] = this.#ax[k]!;
    }
    const newest = n > 0 ? t[n - 1]! : 0;
    let from = 0;
    while (from < n && t[from]! < newest - this.#o.windowS) from++;
    return { t: t.subarray(from), x: x.subarray(from) };
  }

  /** Instantaneous tone frequency frames (100/s) from demodulation along f_rpm(t − tau0). */
  #track(t: Float64Array, x: Float32Array, tau0: number): Frame[] {
    const frames: Frame[] = [];
    const n = t.length;
    const dt = 1 / this.#o.decimatedRateHz;
    // Phase increments of the prediction; a segment ends at a gap (dropped chunk), a step back in
    // time, or where the RPM track does not cover t − tau0.
    const dphi = new Float64Array(n);
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n) {
        const step = t[i]! - t[i - 1]!;
        const f = this.#rpmHz(0.5 * (t[i]! + t[i - 1]!) - tau0);
        if (step > 0.5 * dt && step < 1.5 * dt && !Number.isNaN(f)) {
          dphi[i] = 2 * Math.PI * f * step;
          continue;
        }
      }
      this.#segment(t, x, dphi, start, i, tau0, frames);
      start = i;
    }
    return frames;
  }

  #segment(t: Float64Array, x: Float32Array, dphi: Float64Array, from: number, to: number, tau0: number, out: Frame[]): void {
    const rate = this.#o.decimatedRateHz;
    const l1 = Math.round(0.04 * rate);
    const l2 = Math.round(0.03 * rate);
    const hop = Math.round(rate / FRAME_RATE_HZ);
    const n = to - from;
    if (n < l1 + l2 + 4 * hop) return;
    // Demodulate (fundamental and 2nd harmonic), then low-pass with two running boxcars whose
    // nulls (25 and 33 Hz multiples) suppress the other harmonics and the images.
    const z = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)] as const;
    const twoPi = 2 * Math.PI;
    // The reference phasor (c, s) = e^{iφ} advances by small angles (≤ ~0.5 rad): a rotation by
    // series sin/cos (error < 1e-6 per step), renormalised every 64 samples.
    let c = 1;
    let s = 0;
    for (let k = 0; k < n; k++) {
      if (k > 0) {
        const d = dphi[from + k]!;
        const d2 = d * d;
        const cd = 1 - (d2 / 2) * (1 - (d2 / 12) * (1 - d2 / 30));
        const sd = d * (1 - (d2 / 6) * (1 - (d2 / 20) * (1 - d2 / 42)));
        const cn = c * cd - s * sd;
        s = s * cd + c * sd;
        c = cn;
        if ((k & 63) === 0) {
          const norm = 1 / Math.hypot(c, s);
          c *= norm;
          s *= norm;
        }
      }
      const v = x[from + k]!;
      z[0][k] = v * c;
      z[1][k] = -v * s;
      z[2][k] = v * (c * c - s * s);
      z[3][k] = -v * 2 * s * c;
    }
    const y = z.map((signal) => boxcar(boxcar(signal, l1), l2));
    const [re1, im1, re2, im2] = y as [Float64Array, Float64Array, Float64Array, Float64Array];
    // Filter output k stands for input sample k − delay (linear phase); the actual sample spacing
    // (a 44.1 kHz source decimates to 2004.5 Hz) converts it to time.
    const delay = (l1 - 1 + l2 - 1) / 2;
    const spacing = (t[to - 1]! - t[from]!) / (n - 1);
    const half = hop >> 1;
    for (let k = l1 + l2 + half; k + half < n; k += hop) {
      const a = k - half;
      const b = k + half;
      const amp1 = Math.hypot(re1[k]!, im1[k]!);
      const amp2 = Math.hypot(re2[k]!, im2[k]!);
      if (amp1 === 0 && amp2 === 0) continue;
      const span = t[from + b]! - t[from + a]!;
      // Phase advance over the frame from the conjugate product (|Δψ| < π: no unwrapping needed).
      const d1 = Math.atan2(im1[b]! * re1[a]! - re1[b]! * im1[a]!, re1[b]! * re1[a]! + im1[b]! * im1[a]!);
      const d2 = Math.atan2(im2[b]! * re2[a]! - re2[b]! * im2[a]!, re2[b]! * re2[a]! + im2[b]! * im2[a]!);
      // Harmonic-aware: each estimate weighted by its precision, (amplitude × harmonic number)².
      const w1 = amp1 * amp1;
      const w2 = 4 * amp2 * amp2;
      const df = (w1 * (d1 / (twoPi * span)) + w2 * (d2 / (2 * twoPi * span))) / (w1 + w2);
      const tc = t[from + k]! - delay * spacing;
      const predicted = this.#rpmHz(tc - tau0);
      if (Number.isNaN(predicted) || predicted < 5) continue;
      out.push({ t: tc, hz: predicted + df });
    }
  }

  #cost(frames: Frame[], tau: number): number {
    let cost = 0;
    for (const frame of frames) {
      const predicted = this.#rpmHz(frame.t - tau);
      if (Number.isNaN(predicted)) {
        cost += CLIP_HZ * CLIP_HZ;
        continue;
      }
      const e = frame.hz - predicted;
      cost += Math.min(e * e, CLIP_HZ * CLIP_HZ);
    }
    return cost;
  }

  /** Grid search (coarse, then 0.1 ms) and a parabola through the best three points. */
  #bestLag(frames: Frame[], lo: number, hi: number, coarseStep = 0.001): number {
    const search = (from: number, to: number, step: number): { tau: number; costs: [number, number, number] } => {
      let bestTau = from;
      let best = Infinity;
      for (let tau = from; tau <= to + 1e-12; tau += step) {
        const c = this.#cost(frames, tau);
        if (c < best) {
          best = c;
          bestTau = tau;
        }
      }
      return { tau: bestTau, costs: [this.#cost(frames, bestTau - step), best, this.#cost(frames, bestTau + step)] };
    };
    const coarse = search(Math.max(lo, this.#o.minLagS), Math.min(hi, this.#o.maxLagS), coarseStep);
    const fine = search(coarse.tau - coarseStep, coarse.tau + coarseStep, 0.0001);
    const [a, b, c] = fine.costs;
    const denominator = a - 2 * b + c;
    const shift = denominator > 0 ? (0.5 * (a - c)) / denominator : 0;
    return fine.tau + Math.max(-1, Math.min(1, shift)) * 0.0001;
  }

  #statistics(frames: Frame[], tau: number): { sigmaS: number; inlierShare: number } {
    let inliers = 0;
    let squares = 0;
    let slope2 = 0;
    const h = 0.005;
    for (const frame of frames) {
      const predicted = this.#rpmHz(frame.t - tau);
      if (Number.isNaN(predicted)) continue;
      const e = frame.hz - predicted;
      if (Math.abs(e) > CLIP_HZ) continue;
      inliers++;
      squares += e * e;
      const slope = (this.#rpmHz(frame.t - tau + h) - this.#rpmHz(frame.t - tau - h)) / (2 * h);
      if (!Number.isNaN(slope)) slope2 += slope * slope;
    }
    if (inliers === 0 || slope2 === 0) return { sigmaS: Infinity, inlierShare: inliers / Math.max(1, frames.length) };
    // Residuals stay correlated over the low-pass span (~70 ms = 7 frames).
    const correlated = 7;
    const variance = squares / inliers;
    return { sigmaS: Math.sqrt((variance * correlated) / slope2), inlierShare: inliers / frames.length };
  }
}

export interface AudioChunkSamples {
  sample_rate: number;
  channels: number;
  encoding: string;
  frames: number;
  data: Uint8Array;
}

/** Audio reduced to the calibration's rate: sample j at firstS + j·stepS after the chunk's stamp. */
export interface DecimatedAudio {
  values: Float32Array;
  firstS: number;
  stepS: number;
  /** The chunk's length (s). */
  durationS: number;
}

/**
 * Boxcar decimation within the chunk (the remainder of a chunk that is not a multiple is left
 * out), channels averaged, S16 scaled to ±1; null for an encoding or shape it cannot read.
 */
export function decimateChunk(chunk: AudioChunkSamples, targetRateHz: number): DecimatedAudio | null {
  const { sample_rate: rate, channels } = chunk;
  const bytes = chunk.encoding === "S16LE" ? 2 : chunk.encoding === "F32LE" ? 4 : 0;
  if (bytes === 0 || !(rate > 0) || channels < 1) return null;
  const stride = bytes * channels;
  const frames = Math.min(chunk.frames, Math.floor(chunk.data.byteLength / stride));
  const input = samplesOf(chunk.data, bytes, frames * channels);
  const factor = Math.max(1, Math.round(rate / targetRateHz));
  const scale = bytes === 2 ? 1 / (32768 * factor * channels) : 1 / (factor * channels);
  const values = new Float32Array(Math.floor(frames / factor));
  for (let k = 0, j = 0; j + factor <= frames; j += factor, k++) {
    let sum = 0;
    const end = (j + factor) * channels;
    for (let i = j * channels; i < end; i++) sum += input[i]!;
    values[k] = sum * scale;
  }
  return { values, firstS: (factor - 1) / 2 / rate, stepS: factor / rate, durationS: frames / rate };
}

/** Causal running mean of length `length` (the first length−1 outputs average what exists). */
function boxcar(input: Float64Array, length: number): Float64Array {
  const out = new Float64Array(input.length);
  let sum = 0;
  for (let k = 0; k < input.length; k++) {
    sum += input[k]!;
    if (k >= length) sum -= input[k - length]!;
    out[k] = sum / length;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The chunk's samples as a typed array: a view when aligned on a little-endian host, else a copy. */
function samplesOf(data: Uint8Array, bytes: 2 | 4, count: number): Int16Array | Float32Array {
  if (LITTLE_ENDIAN && data.byteOffset % bytes === 0) {
    return bytes === 2 ? new Int16Array(data.buffer, data.byteOffset, count) : new Float32Array(data.buffer, data.byteOffset, count);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (bytes === 2) return Int16Array.from({ length: count }, (_, i) => view.getInt16(2 * i, true));
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}

/**
 * engine_rpm of a syncbag/VehicleTelemetry: read in place for plain little-endian CDR (header,
 * seven float64, int8 gear, then engine_rpm 8-aligned), decoded otherwise; null if unreadable.
 */
export function engineRpmOf(type: string, data: Uint8Array): number | null {
  if (data.length >= 16 && data[0] === 0 && data[1] === 1 && (type === "syncbag/VehicleTelemetry" || type === "syncbag/msg/VehicleTelemetry")) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const frameIdBytes = view.getUint32(4 + 8, true);
    let at = 8 + 4 + frameIdBytes; // CDR offsets count from after the 4-byte encapsulation header
    at = Math.ceil(at / 8) * 8 + 7 * 8 + 1;
    at = Math.ceil(at / 8) * 8;
    if (4 + at + 8 <= data.length) return view.getFloat64(4 + at, true);
    return null;
  }
  try {
    const message = defaultCodec().decode(type, data) as { engine_rpm?: unknown };
    return typeof message.engine_rpm === "number" ? message.engine_rpm : null;
  } catch {
    return null;
  }
}
