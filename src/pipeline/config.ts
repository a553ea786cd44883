/**
 * The node's whole configuration: one zod schema per component, composed. ROS parameters
 * (dotted names), the params YAML files in launch/params and CLI flags all go through it, and
 * the README's parameter table is generated from it.
 */
import { z } from "zod";
import { AlignmentConfigSchema } from "../align/config.js";
import { RecorderConfigSchema } from "../record/config.js";
import { SuggestConfigSchema } from "../suggest/config.js";
import { describeConfigIssues } from "./config-issues.js";

export const QosOverrideSchema = z
  .object({
    depth: z.int().min(1).max(100_000).default(100).describe("Subscription queue depth for sensor topics (keep_last)."),
    reliability: z
      .enum(["best_effort", "reliable", "auto"])
      .default("best_effort")
      .describe(
        "Sensor subscriptions: best_effort matches every publisher; reliable refuses best-effort publishers (reported on the log and /diagnostics); auto requests what the publishers offer (rosbag2's rule: reliable only if all are), re-subscribing when one that does not match appears.",
      ),
  })
  .strict();

export const NodeConfigSchema = z
  .object({
    use_sim_time: z.boolean().default(false).describe("Use ROS time from /clock (the ROS 2 standard parameter)."),
    output_dir: z.string().min(1).default("bags/out").describe("Folder the recording, its report and layout are written to."),
    record_enabled: z.boolean().default(true).describe("Record an MCAP (false: align and suggest only)."),
    suggest_enabled: z.boolean().default(true).describe("Run the label suggesters."),
    sensor_qos: QosOverrideSchema.prefault({}).describe("QoS of the sensor subscriptions."),
    lidar_packets: z
      .string()
      .default("")
      .describe(
        "Raw lidar packet topics decoded live into `<topic>/points` (name that topic as the lidar sensor): `<topic>=<sensor_model>,<calibration_file>[,<return_mode>]` entries separated by `;`, e.g. `/velodyne_packets=VLP32C,/cal/VLP32C.yaml,Dual` (src/lidar-packets/README.md). Empty: none.",
      ),
    align: AlignmentConfigSchema.prefault({}),
    record: RecorderConfigSchema.omit({ outputDir: true }).prefault({}),
    suggest: SuggestConfigSchema.omit({ nodeBase: true }).prefault({}),
  })
  .strict();
export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type NodeConfigInput = z.input<typeof NodeConfigSchema>;

export class NodeConfigError extends Error {
  override name = "NodeConfigError";
  /** Every problem found, one line each (`key: what was wrong (got value)`). */
  readonly problems: readonly string[];
  constructor(problems: readonly string[] | string) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(list.join("; "));
    this.problems = list;
  }
}

/**
 * ROS parameters cannot hold a list of maps, so params files give the sensors as a map from
 * sensor name to settings (`align.sensors.<name>.topic`); the schema's list form is built here.
 */
export function normalizeNodeConfigInput(input: unknown): unknown {
  if (input === null || typeof input !== "object") return input;
  const align = (input as { align?: unknown }).align;
  if (align === null || typeof align !== "object") return input;
  const sensors = (align as { sensors?: unknown }).sensors;
  if (sensors === null || typeof sensors !== "object" || Array.isArray(sensors)) return input;
  const list = Object.entries(sensors as Record<string, unknown>).map(([name, value]) => ({ name, ...(value as Record<string, unknown>) }));
  return { ...input, align: { ...align, sensors: list } };
}

/** Validates a whole configuration; the error names the key, the value and what was expected. */
export function parseNodeConfig(raw: unknown): NodeConfig {
  const input = normalizeNodeConfigInput(raw);
  const result = NodeConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new NodeConfigError(describeConfigIssues(NodeConfigSchema, input, result.error.issues));
}
