/**
 * Alignment with hindsight for a recording read twice (conversion): pass 1 (`HindsightSurvey`)
 * reads only each sensor's stamp series — header.stamp in place and the receive (log) time, 16
 * bytes per message — plus what the audio-latency calibration needs, and fits every clock with
 * the whole record in hand (src/clock/smoother.ts); pass 2 asks the result (`HindsightAlignment`)
 * for each message's corrected time, so the first message of a drive is stamped with the same
 * knowledge as the last.
 *
 * Latency: the microphone's constant latency is calibrated against CAN engine RPM on the drive's
 * most informative windows (engine-tone.ts per window, on hindsight times; combined by inverse
 * variance). Only the windows with the most RPM change keep their decimated audio (2 kHz), so the
 * calibration's memory is bounded (`toneWindows` × `toneWindowS`) whatever the drive's length.
 */
import { normalizeTypeName } from "../messages/catalogue.js";
import { defaultCodec } from "../messages/codec.js";
import { isMessageError } from "../messages/errors.js";
import { readStamp } from "../messages/stamp.js";
import { decimateChunk, engineRpmOf, EngineToneCalibration, type AudioChunkSamples, type CalibrationResult, type DecimatedAudio } from "../clock/engine-tone.js";
import { foreignDomainOfSeries, foreignDomainWarning, type ForeignDomain } from "../clock/domain.js";
import type { ClockState, LatencySource } from "../clock/model.js";
import { smoothClock, type SmoothedClock } from "../clock/smoother.js";
import type { RawMessage } from "../transport/port.js";
import { parseAlignmentConfig, type AlignmentConfig, type SensorConfig } from "./config.js";

/** Growable (device time, receive − device) series of one sensor, in receive order. */
export class StampSeries {
  origin: bigint | null = null;
  t = new Float64Array(256);
  d = new Float64Array(256);
  n = 0;

  push(stampNs: bigint, receiveNs: bigint): void {
    this.origin ??= stampNs;
    if (this.n === this.t.length) {
      const t = new Float64Array(this.n * 2);
      const d = new Float64Array(this.n * 2);
      t.set(this.t);
      d.set(this.d);
      this.t = t;
      this.d = d;
    }
    this.t[this.n] = Number(stampNs - this.origin) / 1e9;
    this.d[this.n] = Number(receiveNs - stampNs) / 1e9;
    this.n++;
  }

  /** Bytes held (the buffers' capacity). */
  get bytes(): number {
    return this.t.byteLength + this.d.byteLength;
  }
}

export interface HindsightOptions {
  /** Length of a calibration window (s of receive time) and how many of the most informative are kept. */
  toneWindowS?: number;
  toneWindows?: number;
  /** Smallest clock step looked for (s). */
  minStepS?: number;
}

interface ToneWindow {
  index: number;
  /** Sum over the window of (Δ RPM)² / Δt: how much the RPM changes (what makes the lag observable). */
  information: number;
  /** Audio chunks: their index in the audio series and their decimated samples. */
  chunks: { index: number; audio: DecimatedAudio }[];
}

interface SurveyedSensor {
  config: SensorConfig;
  series: StampSeries;
  malformed: number;
}

const AUDIO_TYPE = "syncbag/AudioChunk";

export class HindsightSurvey {
  readonly config: AlignmentConfig;
  readonly #sensors = new Map<string, SurveyedSensor>();
  readonly #options: Required<HindsightOptions>;
  readonly #audioTopic: string | null;
  readonly #telemetryTopic: string | null;
  // Calibration data: engine RPM per telemetry message (NaN: none), windows of decimated audio.
  #rpm = new Float32Array(256);
  readonly #kept: ToneWindow[] = [];
  #current: ToneWindow | null = null;
  #telemetryCursor = 0;
  #firstReceiveNs: bigint | null = null;
  /** Range of ROS sim time (/clock) in the recording, if any: stamps in it are not a sensor's clock. */
  #simClock: { minNs: bigint; maxNs: bigint } | null = null;

  constructor(config: unknown, options: HindsightOptions = {}) {
    this.config = parseAlignmentConfig(config);
    this.#options = { toneWindowS: 20, toneWindows: 6, minStepS: 0.004, ...options };
    for (const sensor of this.config.sensors) this.#sensors.set(sensor.topic, { config: sensor, series: new StampSeries(), malformed: 0 });
    // The same pair the live stage calibrates: the first estimated audio of unknown latency, the first telemetry.
    const audio = this.config.sensors.find((s) => s.modality === "audio" && s.clock.latencyS === undefined && s.clock.mode === "estimate");
    const telemetry = this.config.sensors.find((s) => s.modality === "telemetry");
    const calibrate = this.config.calibrateAudioLatency && audio !== undefined && telemetry !== undefined;
    this.#audioTopic = calibrate ? audio.topic : null;
    this.#telemetryTopic = calibrate ? telemetry.topic : null;
  }

  /** Pass 1: one message (any topic; non-sensor topics are ignored). Never throws for a malformed message. */
  observe(raw: RawMessage): void {
    const sensor = this.#sensors.get(raw.topic);
    if (sensor === undefined) {
      if (normalizeTypeName(raw.type) === "rosgraph_msgs/Clock") this.#observeSimClock(raw.data);
      return;
    }
    let stampNs: bigint;
    try {
      stampNs = readStamp(raw.type, raw.data);
    } catch (error) {
      if (!isMessageError(error)) throw error;
      sensor.malformed++;
      return;
    }
    const index = sensor.series.n;
    sensor.series.push(stampNs, raw.receiveTime);
    this.#firstReceiveNs ??= raw.receiveTime;
    if (raw.topic === this.#telemetryTopic) {
      if (index === this.#rpm.length) {
        const grown = new Float32Array(index * 2);
        grown.set(this.#rpm);
        this.#rpm = grown;
      }
      const rpm = engineRpmOf(raw.type, raw.data);
      this.#rpm[index] = rpm ?? NaN;
    } else if (raw.topic === this.#audioTopic && normalizeTypeName(raw.type) === AUDIO_TYPE) {
      let chunk: AudioChunkSamples;
      try {
        chunk = defaultCodec().decode(AUDIO_TYPE, raw.data) as AudioChunkSamples;
      } catch {
        return; // the stamp was readable: the clock fit keeps it, the calibration goes without it
      }
      const audio = decimateChunk(chunk, 2000);
      if (audio === null) return;
      const window = Math.floor(Number(raw.receiveTime - this.#firstReceiveNs) / 1e9 / this.#options.toneWindowS);
      if (this.#current !== null && this.#current.index !== window) this.#closeWindow();
      this.#current ??= { index: window, information: 0, chunks: [] };
      this.#current.chunks.push({ index, audio });
    }
  }

  /** Bytes of stamp series held (the survey's memory apart from the bounded calibration windows). */
  get seriesBytes(): number {
    let total = this.#rpm.byteLength;
    for (const s of this.#sensors.values()) total += s.series.bytes;
    return total;
  }

  /** Bytes of decimated audio held for the calibration (bounded by toneWindows × toneWindowS). */
  get calibrationBytes(): number {
    let total = 0;
    for (const window of [...this.#kept, ...(this.#current === null ? [] : [this.#current])]) for (const c of window.chunks) total += c.audio.values.byteLength;
    return total;
  }

  /** Fits every sensor's clock with the whole record, then calibrates the audio latency on hindsight times. */
  finish(): HindsightAlignment {
    if (this.#current !== null) this.#closeWindow();
    const fits = new Map<string, SmoothedClock>();
    const foreign = new Map<string, ForeignDomain>();
    for (const [topic, s] of this.#sensors) {
      if (s.config.clock.mode !== "estimate") continue;
      // Stamps that are no clock (sim time, …) are not fitted: arrival times instead (domain.ts).
      const domain = foreignDomainOfSeries(s.series.t, s.series.d, s.series.n, s.series.origin, this.#simClock);
      if (domain !== null) foreign.set(topic, domain);
      else fits.set(topic, smoothClock(s.series.t, s.series.d, s.series.n, { minStepS: this.#options.minStepS }));
    }
    const alignment = new HindsightAlignment(this.#sensors, fits, foreign);
    const calibration = this.#calibrate(alignment);
    if (calibration !== null) alignment.applyCalibration(calibration);
    return alignment;
  }

  /** rosgraph_msgs/Clock in CDR: encapsulation header, then int32 sec, uint32 nanosec. */
  #observeSimClock(data: Uint8Array): void {
    if (data.byteLength < 12) return;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const little = (data[1]! & 1) === 1;
    const ns = BigInt(view.getInt32(4, little)) * 1_000_000_000n + BigInt(view.getUint32(8, little));
    if (this.#simClock === null) this.#simClock = { minNs: ns, maxNs: ns };
    else {
      if (ns < this.#simClock.minNs) this.#simClock.minNs = ns;
      if (ns > this.#simClock.maxNs) this.#simClock.maxNs = ns;
    }
  }

  /** Keeps the window's audio if it is among the most informative so far. */
  #closeWindow(): void {
    const window = this.#current!;
    this.#current = null;
    const telemetry = this.#telemetryTopic === null ? undefined : this.#sensors.get(this.#telemetryTopic)?.series;
    if (telemetry === undefined || telemetry.origin === null || this.#firstReceiveNs === null) return;
    // Telemetry received in the window, by receive time (the series is in receive order).
    const origin = Number(telemetry.origin - this.#firstReceiveNs) / 1e9;
    const start = window.index * this.#options.toneWindowS;
    const end = start + this.#options.toneWindowS;
    let information = 0;
    let previous = -1;
    for (let i = this.#telemetryCursor; i < telemetry.n; i++) {
      const r = origin + telemetry.t[i]! + telemetry.d[i]!;
      if (r < start) {
        this.#telemetryCursor = i + 1;
        continue;
      }
      if (r >= end) break;
      if (Number.isNaN(this.#rpm[i]!)) continue;
      if (previous >= 0) {
        const dt = telemetry.t[i]! - telemetry.t[previous]!;
        if (dt > 0) information += (this.#rpm[i]! - this.#rpm[previous]!) ** 2 / dt;
      }
      previous = i;
    }
    window.information = information;
    if (this.#kept.length < this.#options.toneWindows) this.#kept.push(window);
    else {
      let weakest = 0;
      for (let k = 1; k < this.#kept.length; k++) if (this.#kept[k]!.information < this.#kept[weakest]!.information) weakest = k;
      if (this.#kept[weakest]!.information < information) this.#kept[weakest] = window;
    }
  }

  /** Per kept window, the engine-tone lag on hindsight times; confident windows combined by inverse variance. */
  #calibrate(alignment: HindsightAlignment): CalibrationResult | null {
    if (this.#audioTopic === null || this.#telemetryTopic === null) return null;
    const telemetry = this.#sensors.get(this.#telemetryTopic)!.series;
    const results: CalibrationResult[] = [];
    for (const window of this.#kept) {
      if (window.chunks.length === 0) continue;
      const calibration = new EngineToneCalibration({
        audioTopic: this.#audioTopic,
        telemetryTopic: this.#telemetryTopic,
        cylinders: this.config.engineCylinders,
        windowS: this.#options.toneWindowS + 1,
        minDataS: Infinity,
        // A drive shorter than the live minimum (4 s of tone) is fitted whole.
        minFrames: 150,
      });
      const times = window.chunks.map((c) => alignment.correctedAt(this.#audioTopic!, c.index)!);
      let from = times[0]!;
      let to = from;
      for (const t of times) {
        if (t < from) from = t;
        if (t > to) to = t;
      }
      // RPM over the window, reaching back over the lag range.
      const lo = from - 500_000_000n;
      const hi = to + 500_000_000n;
      for (let i = 0; i < telemetry.n; i++) {
        if (Number.isNaN(this.#rpm[i]!)) continue;
        const at = alignment.correctedAt(this.#telemetryTopic, i)!;
        if (at >= lo && at <= hi) calibration.addRpm(at, this.#rpm[i]!);
      }
      window.chunks.forEach((c, k) => calibration.addDecimated(times[k]!, c.audio));
      const result = calibration.fit();
      if (result?.confident === true) results.push(result);
    }
    if (results.length === 0) return null;
    let weights = 0;
    let sum = 0;
    for (const r of results) {
      const w = 1 / (r.uncertaintyS * r.uncertaintyS);
      weights += w;
      sum += w * r.latencyS;
    }
    const latencyS = sum / weights;
    // Windows that disagree beyond their uncertainties widen the combined one.
    let spread = 0;
    for (const r of results) spread = Math.max(spread, Math.abs(r.latencyS - latencyS) - 2 * r.uncertaintyS);
    return {
      topic: this.#audioTopic,
      latencyS,
      uncertaintyS: Math.max(1 / Math.sqrt(weights), spread),
      inlierShare: Math.min(...results.map((r) => r.inlierShare)),
      samples: results.reduce((n, r) => n + r.samples, 0),
      confident: true,
    };
  }
}

/**
 * Pass 2: the corrected time of each message. Messages are looked up by their place in the
 * sensor's series (pass 2 reads the same file in the same order), checked against the (stamp,
 * receive) pass 1 stored; a message pass 1 did not see is placed on the segment whose line it lies
 * on or above with the smallest residual.
 */
export class HindsightAlignment {
  readonly #sensors: Map<string, SurveyedSensor>;
  readonly #fits: Map<string, SmoothedClock>;
  readonly #foreign: Map<string, ForeignDomain>;
  readonly #cursor = new Map<string, number>();
  readonly #latency = new Map<string, { latencyS: number; source: LatencySource; uncertaintyS: number }>();
  #calibration: CalibrationResult | null = null;

  constructor(sensors: Map<string, SurveyedSensor>, fits: Map<string, SmoothedClock>, foreign: Map<string, ForeignDomain> = new Map()) {
    this.#sensors = sensors;
    this.#fits = fits;
    this.#foreign = foreign;
    for (const [topic, s] of sensors) {
      const known = s.config.clock.latencyS;
      this.#latency.set(topic, known === undefined ? { latencyS: 0, source: "none", uncertaintyS: 0 } : { latencyS: known, source: "configured", uncertaintyS: 0 });
    }
  }

  /** One line per sensor whose stamps were found in another time domain (they use arrival times). */
  get warnings(): string[] {
    return [...this.#foreign].map(([topic, domain]) => foreignDomainWarning(this.#sensors.get(topic)!.config.name, domain));
  }

  get calibration(): CalibrationResult | null {
    return this.#calibration;
  }

  applyCalibration(result: CalibrationResult): void {
    const current = this.#latency.get(result.topic);
    if (current === undefined || current.source === "configured") return;
    this.#latency.set(result.topic, { latencyS: result.latencyS, source: "calibrated", uncertaintyS: result.uncertaintyS });
    this.#calibration = result;
  }

  /** Whether a sensor's constant latency is known (configured or calibrated). */
  latencyKnown(topic: string): boolean {
    const source = this.#latency.get(topic)?.source;
    return source === "configured" || source === "calibrated";
  }

  /** Corrected time of the index-th message of a topic's series (null: no such message). */
  correctedAt(topic: string, index: number): bigint | null {
    const s = this.#sensors.get(topic);
    if (s === undefined || index >= s.series.n || s.series.origin === null) return null;
    const stampNs = s.series.origin + BigInt(Math.round(s.series.t[index]! * 1e9));
    return this.#map(s, topic, stampNs, s.series.t[index]!, s.series.d[index]!, index);
  }

  /** Pass 2: the corrected time of the next message of `topic` (null: not a sensor topic). */
  correct(topic: string, stampNs: bigint, receiveNs: bigint): bigint | null {
    const s = this.#sensors.get(topic);
    if (s === undefined) return null;
    // Arrival (configured, or stamps in another domain): exact from the receive time itself.
    if (s.config.clock.mode === "arrival" || this.#foreign.has(topic)) return receiveNs - toNs(this.#latency.get(topic)!.latencyS);
    const series = s.series;
    if (series.origin === null) return this.#map(s, topic, stampNs, 0, Number(receiveNs - stampNs) / 1e9, -1);
    const t = Number(stampNs - series.origin) / 1e9;
    const d = Number(receiveNs - stampNs) / 1e9;
    let index = this.#cursor.get(topic) ?? 0;
    // The same file read in the same order: the next stored message, or a few further on.
    let found = -1;
    for (let k = index; k < Math.min(series.n, index + 64); k++) {
      if (series.t[k] === t && series.d[k] === d) {
        found = k;
        break;
      }
    }
    if (found >= 0) index = found + 1;
    this.#cursor.set(topic, index);
    return this.#map(s, topic, stampNs, t, d, found);
  }

  #map(s: SurveyedSensor, topic: string, stampNs: bigint, t: number, d: number, index: number): bigint {
    const clock = s.config.clock;
    const latency = this.#latency.get(topic)!.latencyS;
    switch (this.#foreign.has(topic) ? "arrival" : clock.mode) {
      case "trust_header":
        return stampNs;
      case "fixed_offset":
        return stampNs - toNs(clock.fixedOffsetS + latency);
      case "arrival":
        return stampNs + toNs(d - latency);
      default:
        break;
    }
    const fit = this.#fits.get(topic);
    if (fit === undefined || fit.segments.length === 0) return stampNs + toNs(d - latency);
    let segment = index >= 0 ? fit.segmentOf[index]! : -1;
    if (segment < 0) {
      // Not seen in pass 1: the segment it lies on or above with the least residual, among those
      // whose receive span (±1 s) holds it.
      const r = t + d;
      let best = -1;
      let bestResidual = Infinity;
      fit.segments.forEach((seg, k) => {
        if (r < seg.firstReceiveS - 1 || r > seg.lastReceiveS + 1) return;
        const e = d - (seg.intercept + fit.slope * t);
        const score = e >= -2e-4 ? e : 1e6 - e;
        if (score < bestResidual) {
          bestResidual = score;
          best = k;
        }
      });
      segment = best >= 0 ? best : nearestSegment(fit, r);
    }
    return stampNs + toNs(fit.segments[segment]!.intercept + fit.slope * t - latency);
  }

  /** The hindsight model of a sensor in the live stage's terms (SensorClockState, diagnostics, reports). */
  state(topic: string): ClockState | undefined {
    const s = this.#sensors.get(topic);
    if (s === undefined) return undefined;
    const latency = this.#latency.get(topic)!;
    const fit = this.#fits.get(topic);
    const n = s.series.n;
    let offsetS = s.config.clock.mode === "fixed_offset" ? s.config.clock.fixedOffsetS : 0;
    const foreign = this.#foreign.get(topic);
    if (foreign !== undefined) offsetS = foreign.offsetS;
    if (fit !== undefined && fit.segments.length > 0 && n > 0) {
      const last = fit.segments[fit.segmentOf[n - 1]!]!;
      offsetS = -(last.intercept + fit.slope * s.series.t[n - 1]!) + latency.latencyS;
    }
    return {
      mode: foreign === undefined ? s.config.clock.mode : "arrival",
      offsetS,
      driftPpm: fit === undefined ? 0 : -fit.slope * 1e6,
      latencyS: latency.latencyS,
      latencySource: latency.source,
      latencyUncertaintyS: latency.uncertaintyS,
      confidence: n > 0 ? 1 : 0,
      samplesUsed: n - (fit?.outliers ?? 0),
      stepsDetected: fit === undefined ? 0 : Math.max(0, fit.segments.length - 1),
      observations: n,
      outliersDropped: fit?.outliers ?? 0,
      ...(foreign === undefined ? {} : { foreignDomain: foreign }),
    };
  }
}

function nearestSegment(fit: SmoothedClock, r: number): number {
  let best = 0;
  let distance = Infinity;
  fit.segments.forEach((seg, k) => {
    const gap = r < seg.firstReceiveS ? seg.firstReceiveS - r : r > seg.lastReceiveS ? r - seg.lastReceiveS : 0;
    if (gap < distance) {
      distance = gap;
      best = k;
    }
  });
  return best;
}

function toNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}
