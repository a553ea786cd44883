/**
 * The real DriveConverter: a recording replayed in log-time order through the same pipeline
 * as the live node (clock models → aligner → suggesters → recorder), never a second
 * implementation. Log time stands in for receive time, exactly what the recorder would have
 * seen live.
 *
 * Sensors come from the recording's topics by message type. Calibration the recording does not
 * carry comes from the simulator's truth file when one sits beside it (which latencies the rig
 * knows — never the clock faults themselves); camera azimuths come from /tf_static in the
 * recording.
 *
 * Two passes (default): the first reads only the sensors' stamp series and fits every clock with
 * hindsight (hindsight-pass.ts), so the pipeline stamps the first message of a drive with the
 * same models as the last; `pipelineConverterOnline` is the single pass with the live node's
 * online models (what a live recording got). Messages of other encodings (ROS 1 types without a ROS 2 equivalent) and
 * undecodable types are carried into the output unchanged, with their own schema.
 */
import { loadTruth, type TruthFile } from "../sim/truth.js";
import { parseAlignmentConfig, type AlignmentConfig, type AlignmentConfigInput, type Modality } from "../align/config.js";

type SensorInput = NonNullable<AlignmentConfigInput["sensors"]>[number];
import { AlignmentStage } from "../align/stage.js";
import type { HindsightAlignment } from "../align/hindsight.js";
import { SampleFlag, type AlignedFrameData } from "../align/types.js";
import { defaultCodec } from "../messages/codec.js";
import type { OutboundMessage } from "../messages/outbound.js";
import { Pipeline } from "../pipeline/pipeline.js";
import { SuggestionStage } from "../suggest/stage.js";
import type { Suggestion } from "../suggest/types.js";
import { frameAzimuth, StaticTransforms } from "../pipeline/tf.js";
import { McapRecorder } from "../record/recorder.js";
import { defaultSchemaProvider } from "../record/schemas.js";
import { FileSink } from "../record/sink.js";
import type { DriveConverter, DriveConvertOptions, DriveOutput, ProgressFn } from "./converter.js";
import { foreignDomainWarning } from "../clock/domain.js";
import { hindsightPass } from "./hindsight-pass.js";
import { ErrorSummary, TopicTimes } from "./bounded-stats.js";
import type { RecordingSource, SourceMessage, SourceTopic } from "./readers/source.js";
import type { DriveReportInput, SyncErrorReport } from "./report.js";
import { withDecodedClouds } from "../lidar-packets/source.js";

const MODALITY_BY_TYPE: Record<string, Modality> = {
  "sensor_msgs/PointCloud2": "lidar",
  "sensor_msgs/CompressedImage": "camera",
  "sensor_msgs/Image": "camera",
  "syncbag/AudioChunk": "audio",
  "syncbag/VehicleTelemetry": "telemetry",
  "sensor_msgs/Imu": "imu",
  "sensor_msgs/NavSatFix": "gnss",
  "nav_msgs/Odometry": "odometry",
};

function sensorName(topic: string, used: Set<string>): string {
  const parts = topic.split("/").filter((p) => p !== "" && !["image_raw", "compressed", "points", "data", "fix"].includes(p));
  let name = (parts.length > 0 ? parts.slice(-2).join("_") : "sensor").replace(/[^A-Za-z0-9_]/g, "_");
  for (let i = 2; used.has(name); i++) name = `${name}_${i}`;
  used.add(name);
  return name;
}

/** The alignment configuration for a recording's topics, with calibration from truth and /tf_static. */
export function alignmentConfigForTopics(topics: readonly SourceTopic[], truth: TruthFile | null, tf: StaticTransforms): AlignmentConfigInput {
  const used = new Set<string>();
  const sensors: SensorInput[] = [];
  for (const topic of topics) {
    const modality = topic.encoding === "cdr" && topic.decodable ? MODALITY_BY_TYPE[topic.type] : undefined;
    if (modality === undefined) continue;
    const known = truth?.sensors.find((s) => s.topic === topic.topic);
    const name = known?.name ?? sensorName(topic.topic, used);
    used.add(name);
    const frameId = known?.frameId ?? "";
    const sensor: SensorInput = {
      name,
      topic: topic.topic,
      type: topic.type,
      modality,
      frameId,
      clock: known?.clock.latencyKnown === true ? { latencyS: known.clock.latencyFixedS } : {},
    };
    if (modality === "camera") {
      const azimuth = frameId === "" ? null : frameAzimuth(tf, frameId);
      const lidarFrame = truth?.sensors.find((s) => s.modality === "lidar")?.frameId;
      const lidarYaw = lidarFrame === undefined ? 0 : (frameAzimuth(tf, lidarFrame) ?? 0);
      if (azimuth !== null) sensor.cameraAzimuthRad = Math.atan2(Math.sin(azimuth - lidarYaw), Math.cos(azimuth - lidarYaw));
    }
    sensors.push(sensor);
  }
  return { sensors };
}

/** The alignment configuration a syncbag recording carries (metadata `syncbag.alignment`), or null. */
function recordedAlignment(source: RecordingSource, warnings: string[]): AlignmentConfig | null {
  const text = source.metadata.details["syncbag.alignment"];
  if (text === undefined) return null;
  try {
    return parseAlignmentConfig(JSON.parse(text));
  } catch (error) {
    warnings.push(`metadata syncbag.alignment: not a usable configuration (${error instanceof Error ? error.message : String(error)}); sensors taken from the topics`);
    return null;
  }
}

/** Topics the node itself publishes (its `~/` namespace and /diagnostics). */
function derivedTopics(config: AlignmentConfig): (topic: string) => boolean {
  const ns = config.namespace === "" || config.namespace === "/" ? "" : `/${config.namespace.replace(/^\/|\/$/g, "")}`;
  const base = `${ns}/${config.nodeName}/`;
  return (topic) => topic === "/diagnostics" || topic.startsWith(base);
}

/** Write-queue level at which conversion waits for the writer (well under the recorder's bounds). */
const BACKLOG_BYTES = 64 * 1024 * 1024;
const BACKLOG_MESSAGES = 20_000;

export const pipelineConverter: DriveConverter = (source, output, options, progress) => convertDrive(source, output, options, progress, true);

/** The single-pass converter: every message keeps the time the online clock models gave it on arrival. */
export const pipelineConverterOnline: DriveConverter = (source, output, options, progress) => convertDrive(source, output, options, progress, false);

async function convertDrive(recording: RecordingSource, output: DriveOutput, options: DriveConvertOptions, progress: ProgressFn, twoPass: boolean): Promise<DriveReportInput> {
  const truth = options.truthPath === undefined ? null : await loadTruth(options.truthPath);
  const warnings = [...recording.warnings];
  // Raw lidar packet topics gain a decoded cloud topic beside them (src/lidar-packets/source.ts).
  const source = await withDecodedClouds(recording, warnings, options.lidarPackets);
  // A recording syncbag made live carries the node's alignment configuration (known latencies,
  // reference, camera azimuths): it is re-aligned with that, and the node's own outputs (frames,
  // clock states, suggestions, diagnostics) are replaced by the ones made now.
  const recorded = recordedAlignment(source, warnings);
  const configFor = (tf: StaticTransforms): AlignmentConfigInput => recorded ?? alignmentConfigForTopics(source.topics, truth, tf);
  const derived = recorded === null ? null : derivedTopics(recorded);
  let replaced = 0;
  // Pass 1: the sensors' clocks with hindsight (the sensor set and clock settings do not depend on /tf_static).
  const first = twoPass ? await hindsightPass(source, configFor(new StaticTransforms()), progress) : null;
  const hindsight: HindsightAlignment | undefined = first?.hindsight;
  const tf = new StaticTransforms();
  const topicSchemas = new Map(source.topics.map((t) => [t.topic, t]));
  const baseProvider = defaultSchemaProvider((type) => {
    try {
      return source.definitions.schemaText(type);
    } catch {
      return undefined;
    }
  });
  // Offline there is no transport callback to protect, and the batch already runs one worker per
  // core: compressing inline avoids a second thread per drive. Output bytes depend on the input
  // and the settings only (one machine or a fleet, fast or loaded): chunks close by size, never by
  // a wall-clock timer, and no wall-clock figure goes into the file (the first pass's time is in
  // the report).
  const recorder = new McapRecorder({
    config: { outputDir: ".", baseName: "convert", compression: "zstd", fsync: false, compressInWorker: false },
    timedFlush: false,
    // Buffered, not direct (src/record/direct-sink.ts): a conversion awaits each write inline, and a
    // direct write waits for the device where a buffered one returns once the page cache has it
    // and the kernel writes back behind the CPU-bound pipeline (bench convert: no gain measured).
    openSink: () => FileSink.create(output.mcapPath),
    schemaFor: (schemaName, encoding) => {
      if (encoding === "ros1") {
        const topic = [...topicSchemas.values()].find((t) => t.schema.name === schemaName || t.type === schemaName);
        return topic === undefined ? undefined : { name: topic.schema.name, encoding: topic.schema.encoding, data: topic.schema.data };
      }
      return baseProvider(schemaName, encoding);
    },
    metadata: {
      "syncbag.conversion": {
        input: source.path,
        format: source.metadata.format,
        drive: options.drive,
        truth: options.truthPath ?? "",
        // "hindsight": clock models fitted over the whole drive before any message was stamped.
        clock_models: first === null ? "online" : "hindsight",
        ...(first === null ? {} : { first_pass_series_bytes: String(first.seriesBytes) }),
      },
    },
  });
  let failure: string | null = null;
  recorder.on("failure", (f) => {
    failure = f.message;
  });
  await recorder.start();

  // Built once /tf_static has been seen (or after the first 2 s of log time without it).
  let pipeline: Pipeline | null = null;
  let alignment: AlignmentStage | null = null;
  const held: SourceMessage[] = [];
  // Report figures in bounded memory (a drive's length must not grow the converter).
  const times = new Map<string, TopicTimes>();
  const truthCapture = new Map<string, Map<bigint, bigint>>();
  if (truth !== null) {
    for (const [topic, m] of Object.entries(truth.messages)) {
      const byStamp = new Map<bigint, bigint>();
      for (let i = 0; i < m.stampNs.length; i++) byStamp.set(BigInt(m.stampNs[i]!), BigInt(m.captureNs[i]!));
      truthCapture.set(topic, byStamp);
    }
  }
  const errorSeries = new Map<string, ErrorSummary>();
  const residualSeries = new Map<string, ErrorSummary>();
  let startNs: bigint | null = null;
  let lastNs = 0n;
  let count = 0;
  let frames = 0;

  const onFrame = (frame: AlignedFrameData): void => {
    frames++;
    const t = Number(frame.referenceNs - (startNs ?? frame.referenceNs)) / 1e9;
    for (const sample of frame.samples) {
      if ((sample.flags & SampleFlag.MISSING) !== 0) continue;
      let summary = residualSeries.get(sample.sensor);
      if (summary === undefined) residualSeries.set(sample.sensor, (summary = new ErrorSummary()));
      summary.add(t, sample.residualS);
    }
  };

  const suggestionCounts: Record<string, number> = {};
  const events: { t: number; kind: string; label?: string; durationS?: number }[] = [];
  const onSuggestions = (suggestions: readonly Suggestion[]): void => {
    for (const s of suggestions) {
      const key = s.kind === "event" ? `event:${s.category}` : `object:${s.category}`;
      suggestionCounts[key] = (suggestionCounts[key] ?? 0) + 1;
      if (s.kind === "event") events.push({ t: Number(s.startNs - (startNs ?? s.startNs)) / 1e9, kind: s.category, durationS: Math.max(0, Number(s.endNs - s.startNs) / 1e9) });
    }
  };
  const sensorNames = new Map<string, string>();
  const scored = new Map<string, { stampNs: bigint; correctedNs: bigint }>();
  const build = (): void => {
    alignment = new AlignmentStage({ config: configFor(tf), ...(hindsight === undefined ? {} : { hindsight }) });
    for (const sensor of alignment.config.sensors) sensorNames.set(sensor.topic, sensor.name);
    // Log time stands in for the node clock, as it would have live.
    const suggestions = new SuggestionStage({ now: () => lastNs, log: (line) => warnings.push(line), onSuggestions });
    pipeline = new Pipeline({ alignment, recorder, onFrame, suggestions });
  };

  const feed = (m: SourceMessage): void => {
    if (derived?.(m.topic) === true) {
      replaced++;
      return;
    }
    count++;
    startNs ??= m.logTime;
    lastNs = m.logTime;
    let topicTimes = times.get(m.topic);
    if (topicTimes === undefined) times.set(m.topic, (topicTimes = new TopicTimes()));
    topicTimes.add(m.logTime);
    if (m.encoding !== "cdr") {
      const carried: OutboundMessage = { topic: m.topic, schemaName: m.schema.name !== "" ? m.schema.name : m.type, encoding: "ros1", data: m.data, logTime: m.logTime, publishTime: m.publishTime ?? m.logTime };
      recorder.write(carried);
      return;
    }
    pipeline!.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.logTime });
    const byStamp = truthCapture.get(m.topic);
    const name = sensorNames.get(m.topic);
    if (byStamp === undefined || name === undefined) return;
    // The stage's newest (stamp, corrected) for this topic; unchanged means this message was malformed.
    const last = alignment!.lastOf(m.topic);
    if (last === null || last === scored.get(m.topic)) return;
    scored.set(m.topic, last);
    const capture = byStamp.get(last.stampNs);
    if (capture === undefined) return;
    let series = errorSeries.get(name);
    if (series === undefined) errorSeries.set(name, (series = new ErrorSummary()));
    series.add(Number(capture - (startNs ?? capture)) / 1e9, Number(last.correctedNs - capture) / 1e9);
  };

  for await (const m of source.messages()) {
    if (failure !== null) break;
    if (pipeline === null) {
      if (m.topic === "/tf_static" && m.encoding === "cdr") {
        try {
          tf.add(defaultCodec().decode(m.type, m.data));
        } catch (error) {
          warnings.push(`/tf_static: could not decode (${error instanceof Error ? error.message : String(error)}); camera azimuths default to 0`);
        }
      }
      held.push(m);
      if (m.topic === "/tf_static" || m.logTime - held[0]!.logTime > 2_000_000_000n) {
        build();
        for (const h of held.splice(0)) feed(h);
      }
      continue;
    }
    feed(m);
    // Backpressure: the recorder drops what does not fit its queue (right for a live node, which
    // cannot make its publishers wait); a conversion waits for the writer instead. Looked at after
    // every message (an O(1) read): counted in messages only, a thousand 1 MiB images piled up a
    // gigabyte between two looks.
    const backlog = recorder.backlog();
    if (backlog.bytes > BACKLOG_BYTES || backlog.messages > BACKLOG_MESSAGES) await recorder.caughtUp();
    if (count % 2000 === 0) {
      const span = source.metadata.endTime !== undefined && source.metadata.startTime !== undefined ? Number(source.metadata.endTime - source.metadata.startTime) : 0;
      progress({ fraction: span > 0 ? Number(m.logTime - source.metadata.startTime!) / span : NaN, messages: count, stage: "pipeline" });
    }
  }
  if (pipeline === null) {
    build();
    for (const h of held.splice(0)) feed(h);
  }
  (pipeline as Pipeline | null)?.finish();
  await recorder.close();
  if (failure !== null) throw new Error(`recording the output failed: ${failure}`);

  if (replaced > 0) warnings.push(`a syncbag recording: its ${replaced} frames, clock states, suggestions and diagnostics were replaced by ones made with the re-aligned times`);
  const stage = alignment as AlignmentStage | null;
  const health = stage?.health() ?? [];
  // Sensors whose header stamps are no clock (sim time, …) were timed by arrival: said once each.
  for (const h of health) if (h.clock.foreignDomain !== undefined) warnings.push(foreignDomainWarning(h.sensor, h.clock.foreignDomain));
  const sensors = source.topics.map((t) => {
    const h = health.find((x) => x.topic === t.topic);
    const topicTimes = times.get(t.topic) ?? new TopicTimes();
    const fromTimes = topicTimes.result();
    return { name: h?.sensor ?? t.topic, topic: t.topic, type: t.type, count: topicTimes.count, rateHz: fromTimes.rateHz, drops: h?.drops ?? fromTimes.drops };
  });
  const syncError: Record<string, SyncErrorReport> = {};
  for (const [name, series] of truth !== null ? errorSeries : residualSeries) syncError[name] = series.report();
  if (truth === null && residualSeries.size > 0) warnings.push("no truth file beside the recording: sync error is the residual of each sample to its frame's reference time");
  const start = startNs ?? source.metadata.startTime ?? 0n;
  return {
    drive: options.drive,
    input: source.path,
    format: source.metadata.format,
    startTime: start.toString(),
    endTime: lastNs.toString(),
    durationS: Number(lastNs - start) / 1e9,
    messageCount: count,
    frames,
    sensors,
    clockModels: health.map((h) => ({
      sensor: h.sensor,
      offsetS: h.clock.offsetS,
      driftPpm: h.clock.driftPpm,
      latencyS: h.clock.latencyS,
      steps: h.clock.stepsDetected,
      converged: h.clock.confidence >= 0.5,
    })),
    syncError,
    suggestions: suggestionCounts,
    events,
    warnings,
    ...(first === null ? {} : { firstPassS: first.seconds }),
  } satisfies DriveReportInput;
}
