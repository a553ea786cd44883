/**
 * Cross-modal latency calibration. Arrival times reveal a sensor's offset and drift but never
 * its constant latency. Two sensors that observe one physical signal do: the microphone hears
 * the engine's firing frequency (rpm/60 · cylinders/2) that the CAN bus reports as engine RPM.
 * We track the tone's pitch in the audio (autocorrelation, guided to −25 %…+30 % of the RPM-predicted
 * frequency so harmonics and sirens cannot capture it), then find the lag τ that best maps the
 * pitch track onto the RPM track: pitch(t + τ) ≈ f(rpm(t)). τ is the audio's latency relative to
 * the telemetry's (whose latency is known). Uncertainty is the spread of τ over four quarters of
 * the window; the result is marked confident only when that spread is small and the RPM moved
 * enough to make the fit well posed.
 */
import { defaultCodec } from "../messages/codec.js";
import type { RawMessage } from "../transport/port.js";

export interface LatencyCalibrationOptions {
  audioTopic: string;
  telemetryTopic: string;
  cylinders?: number;
  /** Data window used for the fit (s). */
  windowS?: number;
  /** How often the fit is recomputed (s of audio time). */
  everyS?: number;
  /** Lag search range (s). */
  maxLagS?: number;
  /** Largest acceptable uncertainty (s). */
  maxUncertaintyS?: number;
}

export interface CalibrationResult {
  topic: string;
  latencyS: number;
  uncertaintyS: number;
  /** Share of pitch samples explained by the fit (within 5 % of the RPM prediction). */
  inlierShare: number;
  samples: number;
  confident: boolean;
}

/** The engine fundamental stays below ~250 Hz: 3 kHz keeps its first harmonics and quarters the work. */
const DECIMATED_RATE = 6000;
const WINDOW = 1024;
/** RPM grid resolution for the fit (s). */
const GRID_S = 0.001;

export class LatencyCalibration {
  readonly #options: Required<LatencyCalibrationOptions>;
  // Decimated audio ring (last WINDOW samples) and the pitch track (time s, Hz).
  readonly #ring = new Float64Array(WINDOW);
  #ringFill = 0;
  #ringPos = 0;
  #accumulator = 0;
  #accumulated = 0;
  #pitchT: number[] = [];
  #pitchHz: number[] = [];
  #rpmT: number[] = [];
  #rpmHz: number[] = [];
  #origin: bigint | null = null;
  #nextFitS = 0;
  #result: CalibrationResult | null = null;
  #fresh = false;
  #chunks = 0;
  readonly #x = new Float64Array(WINDOW);
  readonly #squares = new Float64Array(WINDOW + 1);
  // RPM resampled on a uniform grid for the fit (O(1) lookups): start time, step, values.
  #gridStart = 0;
  #grid = new Float64Array(0);

  constructor(options: LatencyCalibrationOptions) {
    this.#options = { cylinders: 4, windowS: 30, everyS: 1, maxLagS: 0.25, maxUncertaintyS: 0.004, ...options };
    this.#nextFitS = 6;
  }

  get result(): CalibrationResult | null {
    return this.#result;
  }

  /**
   * Feeds a message with its corrected time WITHOUT any latency applied for the audio
   * (so the measured lag stays the full latency however often it is re-estimated).
   */
  observe(raw: RawMessage, correctedNs: bigint, _sampleRate: number): void {
    if (raw.topic === this.#options.telemetryTopic) {
      const message = defaultCodec().decode(raw.type, raw.data) as { engine_rpm: number };
      this.#origin ??= correctedNs;
      this.#rpmT.push(Number(correctedNs - this.#origin) / 1e9);
      this.#rpmHz.push((message.engine_rpm / 60) * (this.#options.cylinders / 2));
      return;
    }
    if (raw.topic !== this.#options.audioTopic) return;
    const chunk = defaultCodec().decode(raw.type, raw.data) as { sample_rate: number; channels: number; encoding: string; frames: number; data: Uint8Array };
    if (chunk.encoding !== "S16LE" || chunk.sample_rate <= 0 || chunk.channels < 1) return;
    this.#origin ??= correctedNs;
    const view = new DataView(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
    const stride = 2 * chunk.channels;
    const frames = Math.min(chunk.frames, Math.floor(chunk.data.byteLength / stride));
    const step = Math.max(1, Math.round(chunk.sample_rate / DECIMATED_RATE));
    for (let i = 0; i < frames; i++) {
      this.#accumulator += view.getInt16(i * stride, true);
      if (++this.#accumulated === step) {
        this.#ring[this.#ringPos] = this.#accumulator / step / 32768;
        this.#ringPos = (this.#ringPos + 1) % WINDOW;
        this.#ringFill = Math.min(WINDOW, this.#ringFill + 1);
        this.#accumulator = 0;
        this.#accumulated = 0;
      }
    }
    // Once confident, a pitch every fourth chunk is enough to follow slow changes.
    if (this.#ringFill < WINDOW || (this.#result?.confident === true && ++this.#chunks % 4 !== 0)) return;
    const rate = chunk.sample_rate / step;
    // Time of the window centre: chunk end minus half a window.
    const endS = Number(correctedNs - this.#origin) / 1e9 + frames / chunk.sample_rate;
    const centreS = endS - WINDOW / rate / 2;
    const predicted = this.#rpmAt(centreS - 0.05);
    if (predicted === null || predicted < 10) return;
    const pitch = this.#pitch(rate, predicted * 0.75, predicted * 1.3);
    if (pitch !== null) {
      this.#pitchT.push(centreS);
      this.#pitchHz.push(pitch);
    }
    this.#trim();
    if (centreS >= this.#nextFitS) {
      // Refit often until confident, then only to follow slow changes.
      this.#nextFitS = centreS + (this.#result?.confident === true ? 5 * this.#options.everyS : this.#options.everyS);
      this.#fit();
    }
  }

  /** The newest result if it changed since the last poll, else null. */
  poll(): CalibrationResult | null {
    if (!this.#fresh) return null;
    this.#fresh = false;
    return this.#result;
  }

  #rpmAt(t: number): number | null {
    const times = this.#rpmT;
    const n = times.length;
    if (n === 0 || t < times[0]! || t > times[n - 1]! + 0.5) return null;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= t) lo = mid;
      else hi = mid;
    }
    if (t >= times[hi]!) return this.#rpmHz[hi]!;
    const u = (t - times[lo]!) / (times[hi]! - times[lo]! || 1);
    return this.#rpmHz[lo]! + u * (this.#rpmHz[hi]! - this.#rpmHz[lo]!);
  }

  /** Normalised autocorrelation peak within [lowHz, highHz], refined by a parabola. */
  #pitch(rate: number, lowHz: number, highHz: number): number | null {
    const x = this.#x;
    let mean = 0;
    for (let i = 0; i < WINDOW; i++) {
      x[i] = this.#ring[(this.#ringPos + i) % WINDOW]!;
      mean += x[i]!;
    }
    mean /= WINDOW;
    for (let i = 0; i < WINDOW; i++) x[i]! -= mean;
    const minLag = Math.max(2, Math.floor(rate / highHz));
    const maxLag = Math.min(WINDOW >> 1, Math.ceil(rate / lowHz));
    if (maxLag <= minLag + 2) return null;
    const score = new Float64Array(maxLag + 2);
    let best = -1;
    let bestScore = 0.15;
    // Prefix sums of squares give each lag's energy in O(1), halving the inner loop.
    const squares = this.#squares;
    squares[0] = 0;
    for (let i = 0; i < WINDOW; i++) squares[i + 1] = squares[i]! + x[i]! * x[i]!;
    for (let lag = minLag - 1; lag <= maxLag + 1; lag++) {
      let cross = 0;
      const n = WINDOW - lag;
      for (let i = 0; i < n; i++) cross += x[i]! * x[i + lag]!;
      const energy = squares[n]! + (squares[WINDOW]! - squares[lag]!);
      score[lag] = energy > 0 ? (2 * cross) / energy : 0;
      if (lag >= minLag && lag <= maxLag && score[lag]! > bestScore) {
        bestScore = score[lag]!;
        best = lag;
      }
    }
    if (best < 0) return null;
    const a = score[best - 1]!;
    const b = score[best]!;
    const c = score[best + 1]!;
    const denominator = a - 2 * b + c;
    const shift = denominator < 0 ? (0.5 * (a - c)) / denominator : 0;
    return rate / (best + Math.max(-0.5, Math.min(0.5, shift)));
  }

  #trim(): void {
    const newest = this.#pitchT[this.#pitchT.length - 1] ?? 0;
    const cutoff = newest - this.#options.windowS;
    let i = 0;
    while (i < this.#pitchT.length && this.#pitchT[i]! < cutoff) i++;
    if (i > 0) {
      this.#pitchT.splice(0, i);
      this.#pitchHz.splice(0, i);
    }
    let j = 0;
    while (j < this.#rpmT.length && this.#rpmT[j]! < cutoff - 1) j++;
    if (j > 0) {
      this.#rpmT.splice(0, j);
      this.#rpmHz.splice(0, j);
    }
  }

  /** Robust cost of lag τ over pitch samples [from, to): squared relative error, clipped at 5 %. */
  #cost(tau: number, from: number, to: number): { cost: number; inliers: number } {
    let cost = 0;
    let inliers = 0;
    for (let i = from; i < to; i++) {
      const predicted = this.#gridAt(this.#pitchT[i]! - tau);
      if (predicted === null) {
        cost += 0.0025;
        continue;
      }
      const e = (this.#pitchHz[i]! - predicted) / predicted;
      const e2 = Math.min(e * e, 0.0025);
      if (e2 < 0.0025) inliers++;
      cost += e2;
    }
    return { cost, inliers };
  }

  #gridAt(t: number): number | null {
    const u = (t - this.#gridStart) / GRID_S;
    const i = Math.floor(u);
    if (i < 0 || i + 1 >= this.#grid.length) return null;
    const a = this.#grid[i]!;
    return a + (u - i) * (this.#grid[i + 1]! - a);
  }

  #buildGrid(): void {
    const times = this.#rpmT;
    if (times.length < 2) {
      this.#grid = new Float64Array(0);
      return;
    }
    this.#gridStart = times[0]!;
    const n = Math.floor((times[times.length - 1]! - this.#gridStart) / GRID_S) + 1;
    const grid = new Float64Array(n);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const t = this.#gridStart + i * GRID_S;
      while (j + 2 < times.length && times[j + 1]! <= t) j++;
      const t0 = times[j]!;
      const t1 = times[j + 1]!;
      const w = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
      grid[i] = this.#rpmHz[j]! + w * (this.#rpmHz[j + 1]! - this.#rpmHz[j]!);
    }
    this.#grid = grid;
  }

  #bestLag(from: number, to: number): number {
    const { maxLagS } = this.#options;
    let bestTau = 0;
    let best = Infinity;
    // A microphone is never ahead of the CAN bus by more than a few ms: search −50 ms … maxLagS.
    for (let tau = -0.05; tau <= maxLagS + 1e-9; tau += 0.002) {
      const { cost } = this.#cost(tau, from, to);
      if (cost < best) {
        best = cost;
        bestTau = tau;
      }
    }
    // Refine to 0.1 ms around the coarse minimum, then a parabola through the finest three.
    let fine = bestTau;
    best = Infinity;
    for (let tau = bestTau - 0.002; tau <= bestTau + 0.002 + 1e-9; tau += 0.0001) {
      const { cost } = this.#cost(tau, from, to);
      if (cost < best) {
        best = cost;
        fine = tau;
      }
    }
    return fine;
  }

  #fit(): void {
    const n = this.#pitchT.length;
    if (n < 100) return;
    this.#buildGrid();
    const latency = this.#bestLag(0, n);
    // Least-squares uncertainty from the cost curvature: var(τ) = 2·σ²/C''(τ), σ² the residual
    // variance. Residuals of a pitch track are correlated over a window (~85 ms = ~4 samples), so
    // the effective sample count is a quarter: the variance is scaled by 4.
    const h = 0.001;
    const c0 = this.#cost(latency, 0, n);
    const curvature = (this.#cost(latency + h, 0, n).cost - 2 * c0.cost + this.#cost(latency - h, 0, n).cost) / (h * h);
    const variance = c0.cost / n;
    const uncertaintyS = curvature > 0 ? Math.sqrt((4 * 2 * variance) / curvature) : Infinity;
    const inlierShare = c0.inliers / n;
    this.#result = {
      topic: this.#options.audioTopic,
      latencyS: latency,
      uncertaintyS,
      inlierShare,
      samples: n,
      confident: uncertaintyS <= this.#options.maxUncertaintyS && inlierShare >= 0.6 && latency >= 0 && latency < this.#options.maxLagS,
    };
    this.#fresh = true;
  }
}
