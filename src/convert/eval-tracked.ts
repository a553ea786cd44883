/**
 * The real-sweep evaluation through the pipeline users run, as issue #16 measured it: each labelled
 * sweep becomes a one-second recording — /tf_static with the mount (base_link → lidar), the sweep
 * published ten times at 10 Hz as sensor_msgs/PointCloud2 — converted by `syncbag convert`'s own
 * converter (both passes, alignment, the suggestion stage with its tracker), and the last frame's
 * syncbag/LabelSuggestionArray is scored by the rules of src/suggest/eval-lidar.ts. Where
 * eval-lidar's proposer table says what one sweep's proposals hold, this says what an annotator
 * receives: tracks confirmed over repeated views, classes by vote, boxes completed by the tracker.
 */
import { McapWriter } from "@mcap/core";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeTypeName, schemaText } from "../messages/catalogue.js";
import { defaultCodec } from "../messages/codec.js";
import { figuresRow, scoreSweep, summarise, type Figures, type Prediction, type RealSweep, type SweepOutcome } from "../suggest/eval-lidar.js";
import { LABEL_SUGGESTION_ARRAY, objectFromLabel, type DecodedLabel } from "../suggest/output.js";
import type { DriveConverter } from "./converter.js";
import { FileWritable } from "./file-writable.js";
import { pipelineConverter } from "./pipeline-converter.js";
import { readMcapRecords } from "./readers/mcap.js";
import { openRecording } from "./readers/open.js";

export interface TrackedEvaluation {
  sweeps: number;
  /** Per dataset and "all". */
  datasets: Record<string, Figures>;
  outcomes: SweepOutcome[];
  /** Median wall time of one sweep's recording, conversion and read-back (ms). */
  medianMs: number;
}

export interface TrackedOptions {
  /** Times the sweep is published (10 Hz). */
  repeats?: number;
  converter?: DriveConverter;
}

const LIDAR_TOPIC = "/sensing/lidar/points";
const LIDAR_FRAME = "lidar";
const START_NS = 1_700_000_000_000_000_000n;
const PERIOD_NS = 100_000_000n;

const stamp = (t: bigint): { sec: number; nanosec: number } => ({ sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) });

/** Writes `sweep` as an MCAP recording (ros2 profile, cdr), as a rig's driver and robot_state_publisher would. */
async function writeSweepRecording(sweep: RealSweep, path: string, repeats: number): Promise<void> {
  const codec = defaultCodec();
  const handle = await open(path, "w");
  try {
    const writable = new FileWritable(handle);
    const writer = new McapWriter({ writable, useChunks: true });
    await writer.start({ profile: "ros2", library: "syncbag eval-lidar --tracked" });
    const schema = async (type: string): Promise<number> => writer.registerSchema({ name: type.replace("/", "/msg/"), encoding: "ros2msg", data: new TextEncoder().encode(schemaText(type)) });
    const cloudChannel = await writer.registerChannel({ topic: LIDAR_TOPIC, messageEncoding: "cdr", schemaId: await schema("sensor_msgs/PointCloud2"), metadata: new Map() });
    const tfChannel = await writer.registerChannel({ topic: "/tf_static", messageEncoding: "cdr", schemaId: await schema("tf2_msgs/TFMessage"), metadata: new Map() });
    const m = sweep.mount, half = m.yaw / 2;
    const tf = { transforms: [{ header: { stamp: stamp(START_NS), frame_id: "base_link" }, child_frame_id: LIDAR_FRAME, transform: { translation: { x: m.x, y: m.y, z: m.z }, rotation: { x: 0, y: 0, z: Math.sin(half), w: Math.cos(half) } } }] };
    await writer.addMessage({ channelId: tfChannel, sequence: 0, logTime: START_NS, publishTime: START_NS, data: codec.encode("tf2_msgs/TFMessage", tf) });
    const v = sweep.view;
    const fields = [["x", v.offsetX], ["y", v.offsetY], ["z", v.offsetZ]].map(([name, offset]) => ({ name: name as string, offset: offset as number, datatype: 7, count: 1 }));
    for (let k = 0; k < repeats; k++) {
      const t = START_NS + PERIOD_NS * BigInt(k + 1);
      const cloud = { header: { stamp: stamp(t), frame_id: LIDAR_FRAME }, height: 1, width: v.count, fields, is_bigendian: !v.littleEndian, point_step: v.pointStep, row_step: v.pointStep * v.count, data: v.data, is_dense: true };
      // Received 2 ms after the stamp, as a driver's message arrives.
      await writer.addMessage({ channelId: cloudChannel, sequence: k, logTime: t + 2_000_000n, publishTime: t + 1_000_000n, data: codec.encode("sensor_msgs/PointCloud2", cloud) });
    }
    await writer.end();
    await writable.flush();
  } finally {
    await handle.close();
  }
}

/** The object suggestions of the last LabelSuggestionArray in a converted recording. */
async function lastSuggestions(path: string): Promise<Prediction[]> {
  const schemas = new Map<number, string>(), channels = new Set<number>();
  let last: Uint8Array | null = null;
  for await (const record of readMcapRecords(path)) {
    if (record.type === "Schema") schemas.set(record.id, normalizeTypeName(record.name));
    else if (record.type === "Channel" && schemas.get(record.schemaId) === LABEL_SUGGESTION_ARRAY) channels.add(record.id);
    else if (record.type === "Message" && channels.has(record.channelId)) last = record.data;
  }
  if (last === null) return [];
  const array = defaultCodec().decode<{ suggestions: DecodedLabel[] }>(LABEL_SUGGESTION_ARRAY, last);
  return array.suggestions.filter((s) => s.kind === 0).map((s) => objectFromLabel(s, 0n));
}

/** Converts and scores every sweep (one temporary folder each, removed after). */
export async function evaluateThroughPipeline(sweeps: readonly RealSweep[], options: TrackedOptions = {}): Promise<TrackedEvaluation> {
  const repeats = options.repeats ?? 10, convert = options.converter ?? pipelineConverter;
  const outcomes: SweepOutcome[] = [], times: number[] = [];
  for (const s of sweeps) {
    const started = performance.now();
    const dir = await mkdtemp(join(tmpdir(), "syncbag-eval-tracked-"));
    try {
      const input = join(dir, "sweep.mcap"), output = join(dir, "converted.mcap");
      await writeSweepRecording(s, input, repeats);
      const source = await openRecording(input);
      try {
        await convert(source, { mcapPath: output, reportPath: join(dir, "converted.report.json") }, { drive: `${s.dataset}-${s.frame}`, msgPaths: [] }, () => {});
      } finally {
        await source.close();
      }
      outcomes.push(scoreSweep(s, await lastSuggestions(output)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    times.push(performance.now() - started);
  }
  const datasets: Record<string, Figures> = {};
  for (const d of [...new Set(sweeps.map((s) => s.dataset)), "all"]) datasets[d] = summarise(outcomes.filter((o) => d === "all" || o.dataset === d));
  times.sort((a, b) => a - b);
  return { sweeps: sweeps.length, datasets, outcomes, medianMs: times[Math.floor(times.length / 2)] ?? NaN };
}

/** The table: per dataset and over all, what the pipeline published, beside the single-sweep proposer's figures. */
export function formatTracked(e: TrackedEvaluation, proposer: Record<string, Figures>): string {
  const lines = [
    `through the pipeline (each sweep as a 1 s recording: /tf_static and the sweep 10× at 10 Hz, converted as \`syncbag convert\` does, the last LabelSuggestionArray scored); median ${e.medianMs.toFixed(0)} ms per sweep`,
    "",
    "| set | scored | car recall | car precision | 4-class recall | 4-class precision | ped+cyc recall |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const [d, f] of Object.entries(e.datasets)) {
    lines.push(figuresRow(d, "published suggestions", f));
    const p = proposer[d];
    if (p !== undefined) lines.push(figuresRow(d, "one sweep's proposals", p));
  }
  return lines.join("\n");
}
