/**
 * Frame assembly on the common clock. Each reference (lidar) sweep opens a frame at its
 * corrected start time T0; the frame is emitted once every other sensor has delivered data past
 * the time it is wanted at — or, when a sensor is late or silent, once the node clock is
 * maxWaitS past T0, with that sample flagged MISSING. Nothing is dropped silently: every
 * sample carries its residual and flags.
 *
 * - camera: the image whose corrected time is nearest the moment the sweep crosses the
 *   camera's optical axis (T0 + sweep time at the camera's azimuth);
 * - audio: the exact sample range of a window centred on T0, across chunk boundaries;
 * - telemetry, IMU, odometry, GNSS: the two messages bracketing T0 (the consumer interpolates:
 *   linear for scalars, slerp for orientations — see interpolate.ts), never carried further
 *   than interpolationMaxGapS from a message.
 */
import type { RawMessage } from "../transport/port.js";
import { defaultToleranceMs, type AlignmentConfig, type SensorConfig } from "./config.js";
import { SampleFlag, type AlignedFrameData, type AlignedSampleData } from "./types.js";

export interface TimedMessage {
  raw: RawMessage;
  stampNs: bigint;
  correctedNs: bigint;
  /** Audio: sample rate and sample count of the chunk (0 otherwise). */
  sampleRate: number;
  samples: number;
}

interface SensorBuffer {
  config: SensorConfig;
  toleranceS: number;
  /** Sorted by correctedNs (reordered arrivals are inserted in place). */
  items: TimedMessage[];
  newestNs: bigint;
  converged: boolean;
}

interface PendingFrame {
  referenceNs: bigint;
  reference: TimedMessage;
  sequence: number;
}

const NS = 1e9;

export function sweepOffsetS(config: AlignmentConfig, azimuthRad: number): number {
  const start = (config.lidarStartAzimuthDeg * Math.PI) / 180;
  const turned = config.lidarRotation === "cw" ? start - azimuthRad : azimuthRad - start;
  const fraction = (((turned / (2 * Math.PI)) % 1) + 1) % 1;
  return fraction * config.lidarPeriodS;
}

export class Aligner {
  readonly #config: AlignmentConfig;
  /** null: no reference sensor configured (e.g. a recording without lidar): clocks only, no frames. */
  readonly #reference: string | null;
  readonly #buffers = new Map<string, SensorBuffer>();
  readonly #pending: PendingFrame[] = [];
  #sequence = 0;
  #nowNs = 0n;
  readonly #flagged = new Map<string, { samples: number; outOfTolerance: number }>();

  constructor(config: AlignmentConfig) {
    this.#config = config;
    this.#reference = config.reference ?? config.sensors.find((s) => s.modality === "lidar")?.name ?? null;
    for (const sensor of config.sensors) {
      this.#buffers.set(sensor.name, {
        config: sensor,
        toleranceS: (sensor.toleranceMs ?? defaultToleranceMs(sensor.modality)) / 1000,
        items: [],
        newestNs: -1n,
        converged: false,
      });
      this.#flagged.set(sensor.name, { samples: 0, outOfTolerance: 0 });
    }
  }

  get referenceSensor(): string | null {
    return this.#reference;
  }

  /** Per sensor: samples placed in frames and how many were out of tolerance. */
  flagCounts(): ReadonlyMap<string, { samples: number; outOfTolerance: number }> {
    return this.#flagged;
  }

  /** Per sensor: messages held for frames still to come, their payload bytes and corrected-time span (s). */
  held(): Map<string, { messages: number; bytes: number; spanS: number }> {
    const out = new Map<string, { messages: number; bytes: number; spanS: number }>();
    for (const [name, b] of this.#buffers) {
      const span = b.items.length >= 2 ? Number(b.items[b.items.length - 1]!.correctedNs - b.items[0]!.correctedNs) / NS : 0;
      out.set(name, { messages: b.items.length, bytes: b.items.reduce((n, m) => n + m.raw.data.byteLength, 0), spanS: span });
    }
    return out;
  }

  /** Adds a corrected message of a configured sensor; returns the frames now complete. */
  push(sensor: string, message: TimedMessage, converged: boolean, nowNs: bigint): AlignedFrameData[] {
    const buffer = this.#buffers.get(sensor);
    if (buffer === undefined) return [];
    buffer.converged = converged;
    const items = buffer.items;
    let i = items.length;
    while (i > 0 && items[i - 1]!.correctedNs > message.correctedNs) i--;
    items.splice(i, 0, message);
    if (message.correctedNs > buffer.newestNs) buffer.newestNs = message.correctedNs;
    if (sensor === this.#reference) this.#pending.push({ referenceNs: message.correctedNs, reference: message, sequence: this.#sequence++ });
    this.#trim(buffer);
    return this.advance(nowNs);
  }

  /**
   * History is what a frame can still choose, never more than bufferS. A frame wants data at or
   * after its reference time (cameras later along the sweep; audio from half a window before), and
   * frames come in reference order, so items before the oldest pending frame (or the newest
   * reference) are dead — but for maxWaitS of slack: a reference whose corrected time falls further
   * behind the newest one is emitted at once as late anyway. One item before the horizon stays
   * (the nearest match or the lower bracket). Keeping all of bufferS held 3 s of every camera's
   * images: 1.7 GB on a rig of three raw 1080p cameras at 30 Hz.
   */
  #trim(buffer: SensorBuffer): void {
    const items = buffer.items;
    if (items.length < 3) return;
    let horizon = buffer.newestNs - BigInt(Math.round(this.#config.bufferS * NS));
    const reference = this.#reference === null ? undefined : this.#buffers.get(this.#reference);
    if (reference === undefined) {
      horizon = buffer.newestNs; // no frames are made: only the newest items matter
    } else if (reference.newestNs >= 0n) {
      const oldest = this.#pending.length > 0 && this.#pending[0]!.referenceNs < reference.newestNs ? this.#pending[0]!.referenceNs : reference.newestNs;
      const refs = reference.items;
      const periodNs = refs.length >= 2 ? Number(refs[refs.length - 1]!.correctedNs - refs[0]!.correctedNs) / (refs.length - 1) : Infinity;
      const slack = BigInt(Math.round(Math.min(this.#config.maxWaitS * NS, 2 * periodNs) + (this.#config.audioWindowS / 2) * NS));
      if (oldest - slack > horizon) horizon = oldest - slack;
    }
    let drop = 0;
    while (drop < items.length - 2 && items[drop + 1]!.correctedNs <= horizon) drop++;
    if (drop > 0) items.splice(0, drop);
  }

  /** Emits the frames that are complete, or whose wait has run out at node time nowNs. */
  advance(nowNs: bigint): AlignedFrameData[] {
    if (nowNs > this.#nowNs) this.#nowNs = nowNs;
    const out: AlignedFrameData[] = [];
    const waitNs = BigInt(Math.round(this.#config.maxWaitS * NS));
    while (this.#pending.length > 0) {
      const frame = this.#pending[0]!;
      if (!this.#ready(frame) && this.#nowNs < frame.referenceNs + waitNs) break;
      this.#pending.shift();
      out.push(this.#assemble(frame));
    }
    return out;
  }

  /** Emits every pending frame with what has arrived (end of a recording). */
  flush(): AlignedFrameData[] {
    const out: AlignedFrameData[] = [];
    while (this.#pending.length > 0) out.push(this.#assemble(this.#pending.shift()!));
    return out;
  }

  #wantedNs(buffer: SensorBuffer, referenceNs: bigint): { centre: bigint; until: bigint } {
    const c = buffer.config;
    if (c.modality === "camera") {
      const at = referenceNs + BigInt(Math.round(sweepOffsetS(this.#config, c.cameraAzimuthRad ?? 0) * NS));
      return { centre: at, until: at + BigInt(Math.round(buffer.toleranceS * NS)) };
    }
    if (c.modality === "audio") {
      const end = referenceNs + BigInt(Math.round((this.#config.audioWindowS / 2) * NS));
      return { centre: referenceNs, until: end };
    }
    return { centre: referenceNs, until: referenceNs };
  }

  #ready(frame: PendingFrame): boolean {
    for (const [name, buffer] of this.#buffers) {
      if (name === this.#reference) continue;
      const { until } = this.#wantedNs(buffer, frame.referenceNs);
      if (buffer.config.modality === "audio") {
        const last = buffer.items[buffer.items.length - 1];
        if (last === undefined || audioEndNs(last) < until) return false;
      } else if (buffer.newestNs < until) return false;
    }
    return true;
  }

  #assemble(frame: PendingFrame): AlignedFrameData {
    const referenceBuffer = this.#buffers.get(this.#reference!)!;
    const samples: AlignedSampleData[] = [this.#sample(referenceBuffer, [frame.reference], 0, this.#flagsFor(referenceBuffer, 0))];
    for (const [name, buffer] of this.#buffers) {
      if (name === this.#reference) continue;
      const { centre } = this.#wantedNs(buffer, frame.referenceNs);
      const modality = buffer.config.modality;
      if (modality === "camera" || modality === "lidar") samples.push(this.#nearest(buffer, centre));
      else if (modality === "audio") samples.push(this.#audio(buffer, centre));
      else samples.push(this.#bracket(buffer, centre));
    }
    return { referenceNs: frame.referenceNs, referenceSensor: this.#reference!, sequence: frame.sequence, samples };
  }

  #flagsFor(buffer: SensorBuffer, residualS: number, extra = 0): number {
    let flags = extra;
    if (Math.abs(residualS) > buffer.toleranceS) flags |= SampleFlag.OUT_OF_TOLERANCE;
    if (!buffer.converged) flags |= SampleFlag.CLOCK_UNCONVERGED;
    const counts = this.#flagged.get(buffer.config.name)!;
    counts.samples++;
    if ((flags & SampleFlag.OUT_OF_TOLERANCE) !== 0) counts.outOfTolerance++;
    return flags;
  }

  #sample(buffer: SensorBuffer, messages: TimedMessage[], residualS: number, flags: number): AlignedSampleData {
    const first = messages[0];
    return {
      sensor: buffer.config.name,
      topic: buffer.config.topic,
      type: buffer.config.type,
      stampNs: first?.stampNs ?? 0n,
      correctedNs: first?.correctedNs ?? 0n,
      receiveNs: first?.raw.receiveTime ?? 0n,
      residualS,
      flags,
      messages: messages.map((m) => m.raw),
      correctedTimes: messages.map((m) => m.correctedNs),
    };
  }

  #missing(buffer: SensorBuffer, extra = 0): AlignedSampleData {
    const counts = this.#flagged.get(buffer.config.name)!;
    counts.samples++;
    counts.outOfTolerance++;
    return this.#sample(buffer, [], 0, SampleFlag.MISSING | extra);
  }

  #nearest(buffer: SensorBuffer, centre: bigint): AlignedSampleData {
    let best: TimedMessage | undefined;
    let bestAbs = Infinity;
    for (const item of buffer.items) {
      const abs = Math.abs(Number(item.correctedNs - centre));
      if (abs < bestAbs) {
        bestAbs = abs;
        best = item;
      }
    }
    if (best === undefined) return this.#missing(buffer);
    const residual = Number(best.correctedNs - centre) / NS;
    return this.#sample(buffer, [best], residual, this.#flagsFor(buffer, residual));
  }

  #bracket(buffer: SensorBuffer, centre: bigint): AlignedSampleData {
    const items = buffer.items;
    // First item at or after the centre (binary search: an IMU buffer holds hundreds).
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid]!.correctedNs < centre) lo = mid + 1;
      else hi = mid;
    }
    const after = lo;
    const before = items[after - 1];
    const next = items[after];
    const maxGapNs = BigInt(Math.round(this.#config.interpolationMaxGapS * NS));
    // Interpolation needs the reference time between two messages no further apart than twice the
    // bound — or, for a slow sensor (10 Hz GNSS), 2.5 of its periods (one lost message is bridged).
    const n = items.length;
    const periodNs = n >= 2 ? (items[n - 1]!.correctedNs - items[0]!.correctedNs) / BigInt(n - 1) : 0n;
    const spanNs = 2n * maxGapNs > (5n * periodNs) / 2n ? 2n * maxGapNs : (5n * periodNs) / 2n;
    if (before !== undefined && next !== undefined && next.correctedNs - before.correctedNs <= spanNs) {
      return this.#sample(buffer, [before, next], 0, this.#flagsFor(buffer, 0, SampleFlag.INTERPOLATED));
    }
    // One side only: carry the nearer value if it is within the bound, else refuse.
    const candidates = [before, next].filter((m): m is TimedMessage => m !== undefined && absNs(m.correctedNs - centre) <= maxGapNs);
    candidates.sort((a, b) => absNs(a.correctedNs - centre) - absNs(b.correctedNs - centre));
    const chosen = candidates[0];
    if (chosen === undefined) return this.#missing(buffer, SampleFlag.EXTRAPOLATION_REFUSED);
    const residual = Number(chosen.correctedNs - centre) / NS;
    return this.#sample(buffer, [chosen], residual, this.#flagsFor(buffer, residual, SampleFlag.STALE));
  }

  #audio(buffer: SensorBuffer, centre: bigint): AlignedSampleData {
    const half = BigInt(Math.round((this.#config.audioWindowS / 2) * NS));
    const start = centre - half;
    const end = centre + half;
    const chunks = buffer.items.filter((m) => m.sampleRate > 0 && audioEndNs(m) > start && m.correctedNs < end);
    if (chunks.length === 0) return this.#missing(buffer);
    const first = chunks[0]!;
    const rate = first.sampleRate;
    const offset = Math.round((Number(start - first.correctedNs) / NS) * rate);
    const sampleStart = Math.max(0, offset);
    const wanted = Math.round(this.#config.audioWindowS * rate);
    const available = chunks.reduce((n, m) => n + m.samples, 0) - sampleStart;
    const sampleCount = Math.max(0, Math.min(wanted, available));
    // Residual: how far the first sample taken is from the window start (0 when fully covered).
    const residual = offset < 0 ? -offset / rate : 0;
    const flags = this.#flagsFor(buffer, residual, sampleCount < wanted ? SampleFlag.STALE : 0);
    return { ...this.#sample(buffer, chunks, residual, flags), sampleStart, sampleCount };
  }
}

function audioEndNs(message: TimedMessage): bigint {
  if (message.sampleRate <= 0) return message.correctedNs;
  return message.correctedNs + BigInt(Math.round((message.samples / message.sampleRate) * NS));
}

function absNs(value: bigint): number {
  return Math.abs(Number(value));
}
