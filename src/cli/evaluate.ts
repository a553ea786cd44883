/**
 * Evaluation of a syncbag recording against the simulator's truth, shared by `syncbag eval`
 * and `npm start`'s report. The recording is read record by record (any valid MCAP), so a
 * file cut short by a crash is still evaluated up to where it ends.
 */
import { defaultCodec } from "../messages/codec.js";
import { isMessageError } from "../messages/errors.js";
import { readStamp } from "../messages/stamp.js";
import { normalizeTypeName } from "../messages/catalogue.js";
import { evaluateAlignment, type AlignmentEvaluation, type AlignmentObservation } from "../align/eval.js";
import { readMcapRecords } from "../convert/readers/mcap.js";
import type { TruthFile } from "../sim/truth.js";

export interface FrameSummary {
  frames: number;
  samples: number;
  flaggedSamples: number;
  maxAbsResidualMs: number;
}

export interface RecordingEvaluation {
  alignment: AlignmentEvaluation;
  frames: FrameSummary;
  /** Latest calibrated latency per sensor from the SensorClockState channel. */
  calibrations: { sensor: string; latencyS: number; uncertaintyS: number; source: string }[];
}

export async function evaluateRecording(path: string, truth: TruthFile, options: { warmupS?: number } = {}): Promise<RecordingEvaluation> {
  const sensorTopics = new Set(truth.sensors.map((s) => s.topic));
  const channels = new Map<number, { topic: string; type: string }>();
  const schemas = new Map<number, string>();
  const observations: AlignmentObservation[] = [];
  const frames: FrameSummary = { frames: 0, samples: 0, flaggedSamples: 0, maxAbsResidualMs: 0 };
  const calibrations = new Map<string, { sensor: string; latencyS: number; uncertaintyS: number; source: string }>();
  const firstCalibrated = new Map<string, bigint>();
  const codec = defaultCodec();
  for await (const record of readMcapRecords(path)) {
    if (record.type === "Schema") schemas.set(record.id, normalizeTypeName(record.name));
    else if (record.type === "Channel") channels.set(record.id, { topic: record.topic, type: schemas.get(record.schemaId) ?? "" });
    else if (record.type === "Message") {
      const channel = channels.get(record.channelId);
      if (channel === undefined) continue;
      try {
        if (sensorTopics.has(channel.topic)) {
          observations.push({ topic: channel.topic, stampNs: readStamp(channel.type, record.data), correctedNs: record.publishTime });
        } else if (channel.type === "syncbag/AlignedFrame") {
          const frame = codec.decode(channel.type, record.data) as { samples: { flags: number }[]; out_of_tolerance_count: number; max_abs_residual: number };
          frames.frames++;
          frames.samples += frame.samples.length;
          frames.flaggedSamples += frame.samples.filter((s) => s.flags !== 0 && s.flags !== 2).length;
          frames.maxAbsResidualMs = Math.max(frames.maxAbsResidualMs, frame.max_abs_residual * 1000);
        } else if (channel.type === "syncbag/SensorClockState") {
          const state = codec.decode(channel.type, record.data) as { sensor: string; topic: string; latency: number; latency_uncertainty: number; latency_source: string };
          calibrations.set(state.sensor, { sensor: state.sensor, latencyS: state.latency, uncertaintyS: state.latency_uncertainty, source: state.latency_source });
          if (state.latency_source === "calibrated" && !firstCalibrated.has(state.topic)) firstCalibrated.set(state.topic, record.logTime);
        }
      } catch (error) {
        if (!isMessageError(error)) throw error;
      }
    }
  }
  // A sensor whose latency had to be calibrated is judged from the moment the calibration applied.
  const startNs = BigInt(truth.startNs);
  const fromS: Record<string, number> = {};
  const warmupS = options.warmupS ?? 10;
  for (const [topic, at] of firstCalibrated) fromS[topic] = Math.max(warmupS, Number(at - startNs) / 1e9);
  return {
    alignment: evaluateAlignment(truth, observations, { warmupS, fromS }),
    frames,
    calibrations: [...calibrations.values()].filter((c) => c.source === "calibrated"),
  };
}
