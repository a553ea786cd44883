/**
 * AlignmentStage: what the pipeline calls for every message. Reads header.stamp in place,
 * runs the sensor's clock model, feeds the aligner and the cross-modal latency calibration,
 * and produces the node's alignment outputs: AlignedFrame on ~/frames, SensorClockState on
 * ~/clock_state (every clockStatePeriodS and whenever a model changes: step, calibration) and
 * DiagnosticArray on /diagnostics. Synchronous and allocation-light: it runs on the
 * transport's callback path.
 */
import { normalizeTypeName } from "../messages/catalogue.js";
import { defaultCodec } from "../messages/codec.js";
import { isMessageError } from "../messages/errors.js";
import type { OutboundMessage } from "../messages/outbound.js";
import { readStamp } from "../messages/stamp.js";
import { fromNs } from "../messages/time.js";
import { foreignDomainWarning } from "../clock/domain.js";
import { ClockModel, type ClockState } from "../clock/model.js";
import { EngineToneCalibration, type CalibrationResult } from "../clock/engine-tone.js";
import type { RawMessage } from "../transport/port.js";
import { Aligner, type TimedMessage } from "./aligner.js";
import type { HindsightAlignment } from "./hindsight.js";
import { parseAlignmentConfig, type AlignmentConfig, type SensorConfig } from "./config.js";
import type { AlignedFrameData } from "./types.js";

export interface AlignmentStageOptions {
  config: unknown;
  /**
   * Clock models fitted with hindsight over the whole recording (conversion's first pass): every
   * message gets its corrected time from them instead of from the online models, and the latency
   * they calibrated; the online calibration does not run.
   */
  hindsight?: HindsightAlignment;
}

export interface SensorHealth {
  sensor: string;
  topic: string;
  messages: number;
  malformed: number;
  /** Messages missing from the stamp sequence (gaps longer than 1.5 periods). */
  drops: number;
  rateHz: number;
  clock: ClockState;
  samples: number;
  outOfTolerance: number;
}

interface SensorRuntime {
  config: SensorConfig;
  model: ClockModel;
  messages: number;
  malformed: number;
  drops: number;
  firstReceive: bigint;
  lastReceive: bigint;
  lastStamp: bigint | null;
  periodS: number;
  gaps: number[];
  lastSteps: number;
  lastLatencySource: string;
  last: { stampNs: bigint; correctedNs: bigint } | null;
}

type Result = { corrected: bigint | null; outputs: OutboundMessage[]; frames: AlignedFrameData[] };

const AUDIO_TYPE = "syncbag/AudioChunk";

type AudioChunk = { sample_rate: number; channels: number; encoding: string; frames: number; data: Uint8Array };

export class AlignmentStage {
  readonly config: AlignmentConfig;
  readonly #aligner: Aligner;
  readonly #byTopic = new Map<string, SensorRuntime>();
  readonly #calibration: EngineToneCalibration | null;
  readonly #hindsight: HindsightAlignment | null;
  readonly #topics: { frames: string; clockState: string; diagnostics: string };
  #nextPeriodicNs: bigint | null = null;
  #nowNs = 0n;
  /** Newest receive time of any input: an aligned frame is logged then (when its data was all in), not at a later tick. */
  #inputNs = 0n;
  #lastFrameLogNs = 0n;
  #frames = 0;

  constructor(options: AlignmentStageOptions) {
    this.config = parseAlignmentConfig(options.config);
    this.#hindsight = options.hindsight ?? null;
    this.#aligner = new Aligner(this.config);
    for (const sensor of this.config.sensors) {
      this.#byTopic.set(sensor.topic, {
        config: sensor,
        model: new ClockModel(sensor.clock),
        messages: 0,
        malformed: 0,
        drops: 0,
        firstReceive: 0n,
        lastReceive: 0n,
        lastStamp: null,
        periodS: 0,
        gaps: [],
        lastSteps: 0,
        lastLatencySource: "",
        last: null,
      });
    }
    // Calibrate the first audio sensor whose latency is unknown against the engine RPM.
    const audio = this.config.sensors.find((s) => s.modality === "audio" && s.clock.latencyS === undefined && s.clock.mode === "estimate");
    const telemetry = this.config.sensors.find((s) => s.modality === "telemetry");
    this.#calibration =
      this.#hindsight === null && this.config.calibrateAudioLatency && audio !== undefined && telemetry !== undefined
        ? new EngineToneCalibration({ audioTopic: audio.topic, telemetryTopic: telemetry.topic, cylinders: this.config.engineCylinders })
        : null;
    const base = resolveNodeName(this.config.namespace, this.config.nodeName);
    this.#topics = { frames: `${base}/frames`, clockState: `${base}/clock_state`, diagnostics: "/diagnostics" };
  }

  get outputTopics(): { frames: string; clockState: string; diagnostics: string } {
    return this.#topics;
  }

  get calibration(): CalibrationResult | null {
    return this.#hindsight?.calibration ?? this.#calibration?.result ?? null;
  }

  ingest(raw: RawMessage): Result {
    if (raw.receiveTime > this.#nowNs) this.#nowNs = raw.receiveTime;
    if (raw.receiveTime > this.#inputNs) this.#inputNs = raw.receiveTime;
    const sensor = this.#byTopic.get(raw.topic);
    if (sensor === undefined) return { corrected: null, outputs: this.#periodic(false), frames: [] };
    let stampNs: bigint;
    let sampleRate = 0;
    let samples = 0;
    let chunk: AudioChunk | null = null;
    try {
      stampNs = readStamp(raw.type, raw.data);
      // Recordings name types pkg/msg/Type (rosbag2), live topics pkg/Type.
      if (sensor.config.modality === "audio" && normalizeTypeName(raw.type) === AUDIO_TYPE) {
        chunk = defaultCodec().decode(AUDIO_TYPE, raw.data) as AudioChunk;
        sampleRate = chunk.sample_rate;
        samples = chunk.frames;
      }
    } catch (error) {
      if (!isMessageError(error)) throw error;
      sensor.malformed++;
      return { corrected: null, outputs: this.#periodic(false), frames: [] };
    }
    this.#count(sensor, stampNs, raw.receiveTime);
    const corrected = this.#hindsight?.correct(raw.topic, stampNs, raw.receiveTime) ?? sensor.model.observe(stampNs, raw.receiveTime);
    sensor.last = { stampNs, correctedNs: corrected };
    if (this.#calibration !== null) {
      // The calibration measures the whole latency, so it sees audio times without the latency applied so far.
      if (chunk !== null && raw.topic === this.#calibration.audioTopic) {
        this.#calibration.addAudio(corrected + BigInt(Math.round(sensor.model.latencyS * 1e9)), chunk);
      } else if (raw.topic === this.#calibration.telemetryTopic) this.#calibration.observe(raw, corrected);
    }
    const timed: TimedMessage = { raw, stampNs, correctedNs: corrected, sampleRate, samples };
    // A sensor whose constant latency is still unknown is off by that latency: not converged either.
    const mode = sensor.model.config.mode;
    const latencyKnown = this.#hindsight?.latencyKnown(raw.topic) ?? sensor.model.latencyKnown;
    const latencyPending = !latencyKnown && (mode === "estimate" || mode === "arrival");
    // A hindsight model has seen the whole recording: converged from the first message.
    const converged = (this.#hindsight !== null || sensor.model.confidence >= this.config.minConfidence) && !latencyPending;
    const frames = this.#aligner.push(sensor.config.name, timed, converged, this.#nowNs);
    const outputs = this.#encodeFrames(frames);
    const changed = this.#applyCalibration() || sensor.model.stepsDetected !== sensor.lastSteps;
    outputs.push(...this.#periodic(changed));
    return { corrected, outputs, frames };
  }

  tick(nowNs: bigint): { outputs: OutboundMessage[]; frames: AlignedFrameData[] } {
    if (nowNs > this.#nowNs) this.#nowNs = nowNs;
    const frames = this.#aligner.advance(this.#nowNs);
    return { outputs: [...this.#encodeFrames(frames), ...this.#periodic(false)], frames };
  }

  finish(): { outputs: OutboundMessage[]; frames: AlignedFrameData[] } {
    this.#applyCalibration();
    const frames = this.#aligner.flush();
    return { outputs: [...this.#encodeFrames(frames), ...this.#periodic(true)], frames };
  }

  /** Current clock model of a sensor (by name). */
  clockState(sensor: string): ClockState | undefined {
    for (const runtime of this.#byTopic.values()) if (runtime.config.name === sensor) return this.#hindsight?.state(runtime.config.topic) ?? runtime.model.state();
    return undefined;
  }

  /** Maps a stamp of a configured topic with its sensor's current model (null: not a sensor). */
  correct(topic: string, stampNs: bigint): bigint | null {
    return this.#byTopic.get(topic)?.model.correct(stampNs) ?? null;
  }

  /** The newest message of a sensor topic: its stamp and corrected time (null before any). */
  lastOf(topic: string): { stampNs: bigint; correctedNs: bigint } | null {
    return this.#byTopic.get(topic)?.last ?? null;
  }

  /** What the aligner holds per sensor for frames still to come (messages, payload bytes, span). */
  held(): Map<string, { messages: number; bytes: number; spanS: number }> {
    return this.#aligner.held();
  }

  health(): SensorHealth[] {
    const flags = this.#aligner.flagCounts();
    return [...this.#byTopic.values()].map((s) => {
      const span = Number(s.lastReceive - s.firstReceive) / 1e9;
      const counts = flags.get(s.config.name) ?? { samples: 0, outOfTolerance: 0 };
      return {
        sensor: s.config.name,
        topic: s.config.topic,
        messages: s.messages,
        malformed: s.malformed,
        drops: s.drops,
        rateHz: span > 0 ? (s.messages - 1) / span : 0,
        clock: this.#hindsight?.state(s.config.topic) ?? s.model.state(),
        samples: counts.samples,
        outOfTolerance: counts.outOfTolerance,
      };
    });
  }

  get framesEmitted(): number {
    return this.#frames;
  }

  #count(sensor: SensorRuntime, stampNs: bigint, receiveNs: bigint): void {
    if (sensor.messages === 0) sensor.firstReceive = receiveNs;
    sensor.messages++;
    sensor.lastReceive = receiveNs;
    if (sensor.lastStamp !== null && stampNs > sensor.lastStamp) {
      const gap = Number(stampNs - sensor.lastStamp) / 1e9;
      if (sensor.gaps.length < 15) {
        sensor.gaps.push(gap);
        if (sensor.gaps.length === 15) sensor.periodS = [...sensor.gaps].sort((a, b) => a - b)[7]!;
      } else if (gap > 1.5 * sensor.periodS && gap < 100 * sensor.periodS) {
        // Gaps beyond 100 periods are outages or clock steps, not drops to count.
        sensor.drops += Math.round(gap / sensor.periodS) - 1;
      }
    }
    if (sensor.lastStamp === null || stampNs > sensor.lastStamp) sensor.lastStamp = stampNs;
  }

  #applyCalibration(): boolean {
    const result = this.#calibration?.poll();
    if (result === undefined || result === null || !result.confident) return false;
    const sensor = this.#byTopic.get(result.topic);
    if (sensor === undefined) return false;
    sensor.model.setCalibratedLatency(result.latencyS, result.uncertaintyS);
    return true;
  }

  #encodeFrames(frames: AlignedFrameData[]): OutboundMessage[] {
    const codec = defaultCodec();
    const referenceFrame = this.config.sensors.find((s) => s.name === this.#aligner.referenceSensor)?.frameId ?? "";
    return frames.map((frame) => {
      this.#frames++;
      let maxAbs = 0;
      let outOfTolerance = 0;
      const samples = frame.samples.map((s) => {
        maxAbs = Math.max(maxAbs, Math.abs(s.residualS));
        if ((s.flags & 1) !== 0) outOfTolerance++;
        return {
          sensor: s.sensor,
          topic: s.topic,
          original_stamp: fromNs(s.stampNs),
          corrected_stamp: fromNs(s.correctedNs),
          receive_time: fromNs(s.receiveNs),
          residual: s.residualS,
          sample_start: BigInt(s.sampleStart ?? 0),
          sample_count: s.sampleCount ?? 0,
          flags: s.flags,
        };
      });
      const data = codec.encode("syncbag/AlignedFrame", {
        header: { stamp: fromNs(frame.referenceNs), frame_id: referenceFrame },
        index: BigInt(frame.sequence),
        reference_sensor: frame.referenceSensor,
        samples,
        max_abs_residual: maxAbs,
        out_of_tolerance_count: outOfTolerance,
      });
      // A tick's clock may run ahead of inputs still queued (a simulator publishing faster than the
      // node reads): the frame is logged at the newest input it could be built from, in order.
      let logTime = frame.samples.reduce((t, s) => (s.messages.length > 0 && s.receiveNs > t ? s.receiveNs : t), this.#inputNs);
      if (logTime < this.#lastFrameLogNs) logTime = this.#lastFrameLogNs;
      this.#lastFrameLogNs = logTime;
      return { topic: this.#topics.frames, schemaName: "syncbag/AlignedFrame", encoding: "cdr", data, logTime, publishTime: frame.referenceNs };
    });
  }

  #periodic(force: boolean): OutboundMessage[] {
    if (this.#nowNs === 0n) return [];
    const periodNs = BigInt(Math.round(this.config.clockStatePeriodS * 1e9));
    this.#nextPeriodicNs ??= this.#nowNs + periodNs;
    if (!force && this.#nowNs < this.#nextPeriodicNs) return [];
    this.#nextPeriodicNs = this.#nowNs + periodNs;
    const codec = defaultCodec();
    const stamp = fromNs(this.#nowNs);
    const outputs: OutboundMessage[] = [];
    const statuses = [];
    for (const health of this.health()) {
      const runtime = this.#byTopic.get(health.topic)!;
      runtime.lastSteps = health.clock.stepsDetected;
      runtime.lastLatencySource = health.clock.latencySource;
      const data = codec.encode("syncbag/SensorClockState", {
        header: { stamp, frame_id: runtime.config.frameId },
        sensor: health.sensor,
        topic: health.topic,
        mode: health.clock.mode,
        offset: health.clock.offsetS,
        drift: health.clock.driftPpm * 1e-6,
        latency: health.clock.latencyS,
        latency_source: health.clock.latencySource,
        latency_uncertainty: health.clock.latencyUncertaintyS,
        confidence: health.clock.confidence,
        samples_used: health.clock.samplesUsed,
        steps_detected: health.clock.stepsDetected,
      });
      outputs.push({ topic: this.#topics.clockState, schemaName: "syncbag/SensorClockState", encoding: "cdr", data, logTime: this.#nowNs, publishTime: this.#nowNs });
      const share = health.samples > 0 ? health.outOfTolerance / health.samples : 0;
      const silent = health.messages === 0;
      const latencyPending = health.clock.latencySource === "none" && (health.clock.mode === "estimate" || health.clock.mode === "arrival");
      const foreign = health.clock.foreignDomain;
      const level = silent ? 3 : health.clock.confidence < this.config.minConfidence || share > 0.1 || latencyPending || foreign !== undefined ? 1 : 0;
      statuses.push({
        level,
        name: `syncbag: ${health.sensor}`,
        message: silent
          ? "no messages"
          : level === 0
            ? "OK"
            : foreign !== undefined
              ? foreignDomainWarning(health.sensor, foreign)
            : share > 0.1
              ? `${(share * 100).toFixed(1)}% of samples out of tolerance`
              : health.clock.confidence < this.config.minConfidence
                ? "clock model not converged"
                : "constant latency unknown (not calibrated yet): corrected times include it",
        hardware_id: runtime.config.frameId,
        values: [
          ["topic", health.topic],
          ["rate_hz", health.rateHz.toFixed(3)],
          ["messages", String(health.messages)],
          ["drops", String(health.drops)],
          ["malformed", String(health.malformed)],
          ["offset_s", health.clock.offsetS.toFixed(6)],
          ["drift_ppm", health.clock.driftPpm.toFixed(2)],
          ["latency_s", health.clock.latencyS.toFixed(6)],
          ["latency_source", health.clock.latencySource],
          ["confidence", health.clock.confidence.toFixed(3)],
          ["steps_detected", String(health.clock.stepsDetected)],
          ["outliers_dropped", String(health.clock.outliersDropped)],
          ["latency_uncertainty_s", health.clock.latencyUncertaintyS.toFixed(6)],
          ["out_of_tolerance_share", share.toFixed(4)],
        ].map(([key, value]) => ({ key, value })),
      });
    }
    const diagnostics = codec.encode("diagnostic_msgs/DiagnosticArray", { header: { stamp, frame_id: "" }, status: statuses });
    outputs.push({ topic: this.#topics.diagnostics, schemaName: "diagnostic_msgs/DiagnosticArray", encoding: "cdr", data: diagnostics, logTime: this.#nowNs, publishTime: this.#nowNs });
    return outputs;
  }
}

function resolveNodeName(namespace: string, nodeName: string): string {
  const ns = namespace === "" || namespace === "/" ? "" : namespace.startsWith("/") ? namespace.replace(/\/$/, "") : `/${namespace.replace(/\/$/, "")}`;
  return `${ns}/${nodeName}`;
}
