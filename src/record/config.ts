/**
 * Every recorder option in one schema, documented where it is declared (the role
 * rosbag2's RecordOptions plays). ROS parameters, YAML and CLI flags all go through it.
 */
import { z } from "zod";

export const CompressionSchema = z.enum(["zstd", "lz4", "none"]);
export type Compression = z.infer<typeof CompressionSchema>;

const regexString = z.string().refine(
  (text) => {
    try {
      new RegExp(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: "expected a valid JavaScript regular expression" },
);

const MiB = 1024 * 1024;

export const RecorderConfigSchema = z
  .object({
    outputDir: z.string().min(1).default("bags").describe("Folder the MCAP files are written to (created if missing)."),
    baseName: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "expected letters, digits, '.', '_' or '-'")
      .default("syncbag")
      .describe("File name stem: files are <baseName>_0.mcap, <baseName>_1.mcap, … (one per split)."),
    compression: CompressionSchema.default("zstd").describe("Chunk compression."),
    compressInWorker: z
      .boolean()
      .default(true)
      .describe("Run zstd in a worker thread, so compression never stalls the transport callbacks (lz4 always runs off the event loop)."),
    zstdLevel: z.int().min(1).max(19).default(1).describe("zstd level; 1 keeps up with lidar rates on one core."),
    chunkSize: z
      .int()
      .min(4096)
      .max(256 * MiB)
      .default(4 * MiB)
      .describe("A chunk is closed once its uncompressed records exceed this many bytes."),
    topics: z.array(z.string().min(1)).default([]).describe("Topics to record; empty = every topic (subject to the regexes)."),
    topicRegex: regexString.optional().describe("Also record topics matching this regular expression."),
    excludeRegex: regexString.optional().describe("Never record topics matching this regular expression (wins over topics and topicRegex)."),
    splitSizeBytes: z.int().min(0).default(0).describe("Start a new file once the current one reaches this size (0 = never)."),
    splitDurationS: z.number().min(0).default(0).describe("Start a new file after this many seconds of log time (0 = never)."),
    repeatLatchedTopics: z
      .array(z.string().min(1))
      .default(["/tf_static"])
      .describe("Topics published once (transient local): their last message is repeated at the start of every split file."),
    queueMaxBytes: z
      .int()
      .min(MiB)
      .default(512 * MiB)
      .describe("Bound of the write queue in bytes; beyond it new messages are dropped and counted."),
    queueMaxMessages: z.int().min(16).default(100_000).describe("Bound of the write queue in messages."),
    flushIntervalMs: z
      .number()
      .min(10)
      .max(1000)
      .default(500)
      .describe("The open chunk is closed and written at least this often (ms), so a crash loses at most this much."),
    fsync: z
      .boolean()
      .default(true)
      .describe("fdatasync after each timed flush, so what was written survives a power loss too."),
    directIo: z
      .boolean()
      .default(true)
      .describe("Write files with O_DIRECT where the file system takes it, past the page cache (about 2 ms less kernel CPU per MiB at lidar rates); false: buffered writes."),
    snapshotSeconds: z.number().min(0).default(0).describe("Keep the last N seconds of messages in memory for snapshot() (0 = off)."),
    snapshotMaxBytes: z.int().min(0).default(1024 * MiB).describe("Memory bound of the snapshot ring buffer."),
  })
  .strict();

export type RecorderConfig = z.infer<typeof RecorderConfigSchema>;
export type RecorderConfigInput = z.input<typeof RecorderConfigSchema>;

export class RecorderConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecorderConfigError";
  }
}

/** Parses recorder options; a bad value is refused naming the key, the value and what was expected. */
export function parseRecorderConfig(input: unknown): RecorderConfig {
  const result = RecorderConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    const key = issue.path.map(String).join(".") || "(root)";
    let value: unknown = input;
    for (const part of issue.path) value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[part] : undefined;
    const shown = value === undefined ? "missing" : JSON.stringify(value);
    return `recorder.${key}: ${issue.message} (got ${shown})`;
  });
  throw new RecorderConfigError(`invalid recorder options\n  ${lines.join("\n  ")}`);
}

/** The topic filter the options describe: exclude wins; then list or regex; neither = all. */
export function topicFilter(config: Pick<RecorderConfig, "topics" | "topicRegex" | "excludeRegex">): (topic: string) => boolean {
  const listed = new Set(config.topics);
  const include = config.topicRegex !== undefined ? new RegExp(config.topicRegex) : undefined;
  const exclude = config.excludeRegex !== undefined ? new RegExp(config.excludeRegex) : undefined;
  const all = listed.size === 0 && include === undefined;
  return (topic) => {
    if (exclude?.test(topic) === true) return false;
    return all || listed.has(topic) || include?.test(topic) === true;
  };
}
