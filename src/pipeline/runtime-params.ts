/**
 * Which node parameters `ros2 param set` may change while the node runs, and how a change is
 * applied. A parameter is listed only where the running component reads that field at each use
 * (recorder: per message or chunk; aligner: per period; suggester: per sweep), so setting the
 * field on the live config takes effect at the next use and nothing built from the old value
 * lingers. Everything else is refused with the reason, as rclcpp nodes refuse read-only ones.
 */
import type { ParameterValue } from "../transport/port.js";
import type { NodeConfig } from "./config.js";

type Section = "record" | "align" | "suggest";

/** Runtime-settable keys (flat ROS names) → the section and field path they set. */
const RUNTIME: Record<string, { section: Section; path: readonly string[]; effect: string }> = {
  "record.splitSizeBytes": { section: "record", path: ["splitSizeBytes"], effect: "checked after every chunk" },
  "record.splitDurationS": { section: "record", path: ["splitDurationS"], effect: "checked at every message" },
  "record.chunkSize": { section: "record", path: ["chunkSize"], effect: "from the open chunk on" },
  "record.queueMaxBytes": { section: "record", path: ["queueMaxBytes"], effect: "at the next message" },
  "record.queueMaxMessages": { section: "record", path: ["queueMaxMessages"], effect: "at the next message" },
  "record.fsync": { section: "record", path: ["fsync"], effect: "at the next timed flush" },
  "record.snapshotSeconds": { section: "record", path: ["snapshotSeconds"], effect: "the ring keeps this much from now on" },
  "record.snapshotMaxBytes": { section: "record", path: ["snapshotMaxBytes"], effect: "at the next message" },
  "align.clockStatePeriodS": { section: "align", path: ["clockStatePeriodS"], effect: "from the next ~/clock_state and /diagnostics period" },
  "align.minConfidence": { section: "align", path: ["minConfidence"], effect: "for the next samples and diagnostics" },
  "suggest.egoWaitS": { section: "suggest", path: ["egoWaitS"], effect: "for the next sweeps" },
  "suggest.publishTentative": { section: "suggest", path: ["publishTentative"], effect: "for the next sweeps" },
  "suggest.camera.minSidePx": { section: "suggest", path: ["camera", "minSidePx"], effect: "for the next projections" },
  "suggest.camera.nearPlane": { section: "suggest", path: ["camera", "nearPlane"], effect: "for the next projections" },
  "suggest.camera.maxDepth": { section: "suggest", path: ["camera", "maxDepth"], effect: "for the next projections" },
};

/** Why a parameter not in RUNTIME cannot change while running (first matching prefix). */
const FIXED: readonly [prefix: string, reason: string][] = [
  ["output_dir", "the recording's folder is opened at start"],
  ["record.outputDir", "the recording's folder is opened at start"],
  ["record.baseName", "the recording's file names are fixed at start"],
  ["record.topics", "the topic filter is built at start"],
  ["record.topicRegex", "the topic filter is built at start"],
  ["record.excludeRegex", "the topic filter is built at start"],
  ["record.compression", "a file's compressor is made when it is opened"],
  ["record.zstdLevel", "a file's compressor is made when it is opened"],
  ["record.compressInWorker", "a file's compressor is made when it is opened"],
  ["record.flushIntervalMs", "the flush timer is started with the recording"],
  ["record.repeatLatchedTopics", "the latched topics are chosen at start"],
  ["record_enabled", "the recorder is created (or not) at start"],
  ["suggest_enabled", "the suggesters are created (or not) at start"],
  ["sensor_qos", "the subscriptions are made at start"],
  ["lidar_packets", "the packet decoders and their subscriptions are made at start"],
  ["align.sensors", "the topics and clock models are set up at start"],
  ["align.", "the aligner builds its state from it at start"],
  ["suggest.", "the suggesters build their models from it at start"],
  ["record.", "the recorder is set up with it at start"],
];

/** The parameters `ros2 param set` may change while the node runs. */
export const RUNTIME_PARAMETERS: readonly string[] = Object.keys(RUNTIME);

export function isRuntimeParameter(name: string): boolean {
  return name in RUNTIME;
}

/**
 * Null when every changed parameter may change while running, else one line per refused one:
 * `<name> cannot change while the node runs: <why>; restart the node with the new value`.
 */
export function runtimeRefusal(changed: readonly string[]): string | null {
  const refused = changed
    .filter((name) => !isRuntimeParameter(name))
    .map((name) => {
      const reason = FIXED.find(([prefix]) => name === prefix || name.startsWith(prefix.endsWith(".") ? prefix : `${prefix}.`))?.[1] ?? "it is read once at start";
      return `${name} cannot change while the node runs: ${reason}; restart the node with the new value (run-time: ${RUNTIME_PARAMETERS.join(", ")})`;
    });
  return refused.length === 0 ? null : refused.join("; ");
}

/** The live configuration objects a change is applied to (absent when the role has none). */
export interface LiveConfigs {
  record?: object;
  align?: object;
  suggest?: object;
}

/**
 * Sets each changed runtime parameter on the live component configs from the validated full
 * configuration (`config`: the schema's typed, defaulted values). Returns one line per change.
 */
export function applyRuntimeParameters(changed: Record<string, ParameterValue>, config: NodeConfig, live: LiveConfigs): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(changed)) {
    const entry = RUNTIME[name];
    if (entry === undefined) continue;
    const target = live[entry.section];
    if (target === undefined) {
      lines.push(`${name} set; this node runs no ${entry.section} stage (role), nothing to apply`);
      continue;
    }
    let from: unknown = config[entry.section];
    let into: Record<string, unknown> = target as Record<string, unknown>;
    for (const key of entry.path.slice(0, -1)) {
      from = (from as Record<string, unknown>)[key];
      into = into[key] as Record<string, unknown>;
    }
    const field = entry.path[entry.path.length - 1]!;
    const value = (from as Record<string, unknown>)[field];
    const before = into[field];
    into[field] = value;
    lines.push(`${name} = ${JSON.stringify(value)} (was ${JSON.stringify(before)}), applied ${entry.effect}`);
  }
  return lines;
}
