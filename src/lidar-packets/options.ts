/**
 * Lidar packet decoding given with a conversion rather than in a file beside each recording:
 *   --lidar-packets <file.yaml>                       the lidar_packets.yaml format (topic → entry)
 *   --lidar-packet <topic>=<model>,<calibration>[,<return mode>]   one topic, repeatable
 * Both become one map topic → entry with absolute calibration paths (workers may run elsewhere in
 * the tree); the shorthand wins over the file for the same topic. Every problem is one line
 * naming the option and what was wrong, found before any drive is read.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { HESAI_MODELS } from "./hesai.js";
import { LidarPacketConfig, SUPPORTED_MODELS, VELODYNE_MODELS } from "./index.js";

const isKnownModel = (m: string): boolean => (VELODYNE_MODELS as readonly string[]).includes(m) || Object.hasOwn(HESAI_MODELS, m) || /^OS-?(DOME|0|1|2)-(32|64|128)/.test(m);

export interface LidarPacketOptions {
  topics: Record<string, Record<string, unknown>>;
  problems: string[];
}

function check(option: string, topic: string, raw: unknown, baseDir: string, out: LidarPacketOptions): void {
  const parsed = LidarPacketConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    out.problems.push(`${option}: ${topic}: '${issue.path.join(".") || "entry"}' ${issue.message.toLowerCase()}`);
    return;
  }
  const entry = { ...(raw as Record<string, unknown>) };
  if (!isKnownModel(parsed.data.sensor_model)) {
    out.problems.push(`${option}: ${topic}: unknown lidar model '${parsed.data.sensor_model}' (supported: ${SUPPORTED_MODELS.join(", ")})`);
    return;
  }
  const calibration = isAbsolute(parsed.data.calibration_file) ? parsed.data.calibration_file : resolve(baseDir, parsed.data.calibration_file);
  if (!existsSync(calibration)) {
    out.problems.push(`${option}: ${topic}: calibration file ${calibration} not found`);
    return;
  }
  entry["calibration_file"] = calibration;
  out.topics[topic] = entry;
}

/** Reads the two convert options into topic → entry, collecting one line per problem. */
export function lidarPacketOptions(file: string | undefined, specs: readonly string[], cwd = process.cwd()): LidarPacketOptions {
  const out: LidarPacketOptions = { topics: {}, problems: [] };
  if (file !== undefined) {
    const option = `--lidar-packets ${file}`;
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(resolve(cwd, file), "utf8"));
    } catch (error) {
      const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
      out.problems.push(`${option}: ${(error as { code?: string }).code === "ENOENT" ? "no such file" : `cannot be read as YAML (${why})`}`);
      doc = undefined;
    }
    if (doc !== undefined) {
      if (typeof doc !== "object" || doc === null || Array.isArray(doc)) out.problems.push(`${option}: expected a map of packet topic → { sensor_model, calibration_file, … }`);
      else for (const [topic, raw] of Object.entries(doc)) check(option, topic, raw, dirname(resolve(cwd, file)), out);
    }
  }
  for (const spec of specs) {
    const option = `--lidar-packet ${spec}`;
    const m = /^(\/[^=]*)=([^,]+),([^,]+)(?:,([^,]+))?$/.exec(spec);
    if (m === null) {
      out.problems.push(`${option}: expected <topic>=<sensor_model>,<calibration_file>[,<return_mode>] (e.g. /velodyne_packets=VLP32C,VLP32C.yaml,Dual)`);
      continue;
    }
    check(option, m[1]!, { sensor_model: m[2]!, calibration_file: m[3]!, ...(m[4] !== undefined ? { return_mode: m[4] } : {}) }, cwd, out);
  }
  return out;
}
