/**
 * Conversion's first pass: reads the recording once for the sensors' stamp series only (header
 * stamps in place, log times, and what the audio-latency calibration needs; no payload is held)
 * and fits every clock with hindsight (src/align/hindsight.ts). The second pass, the pipeline,
 * then stamps every message, frame and suggestion with those models.
 */
import type { AlignmentConfigInput } from "../align/config.js";
import { HindsightSurvey, type HindsightAlignment } from "../align/hindsight.js";
import type { ProgressFn } from "./converter.js";
import type { RecordingSource } from "./readers/source.js";

export interface HindsightPassResult {
  hindsight: HindsightAlignment;
  /** Wall time of the pass (read + fit) and of the fit alone (s). */
  seconds: number;
  fitSeconds: number;
  /** Bytes of stamp series held at the end (what bounds the pass' memory). */
  seriesBytes: number;
  messages: number;
}

export async function hindsightPass(source: RecordingSource, config: AlignmentConfigInput, progress?: ProgressFn): Promise<HindsightPassResult> {
  const started = performance.now();
  const survey = new HindsightSurvey(config);
  const sensorTopics = new Set(survey.config.sensors.map((s) => s.topic));
  const start = source.metadata.startTime;
  const span = source.metadata.endTime !== undefined && start !== undefined ? Number(source.metadata.endTime - start) : 0;
  let messages = 0;
  for await (const m of source.messages()) {
    messages++;
    if (m.encoding === "cdr" && sensorTopics.has(m.topic)) survey.observe({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.logTime });
    if (progress !== undefined && messages % 5000 === 0) progress({ fraction: span > 0 ? Number(m.logTime - start!) / span : NaN, messages, stage: "stamps" });
  }
  const fitStarted = performance.now();
  const hindsight = survey.finish();
  const done = performance.now();
  return { hindsight, seconds: (done - started) / 1000, fitSeconds: (done - fitStarted) / 1000, seriesBytes: survey.seriesBytes, messages };
}
