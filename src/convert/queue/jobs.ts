/**
 * What producers put on the queue and workers give back: one job per drive. The job id is derived
 * from the input's content hash (and the output location and conversion settings), so enqueueing
 * the same drive twice is one job (BullMQ ignores an add whose id exists).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ConverterModule } from "../converter.js";

/**
 * The converter a worker runs: its own build of the pipeline (two passes, or the online single pass),
 * or an explicit module, which must then be importable at the same path on every worker.
 */
export const JobConverter = z.union([z.literal("pipeline"), z.literal("pipeline-online"), ConverterModule]);
export type JobConverter = z.infer<typeof JobConverter>;

export const ConvertJobData = z.object({
  drive: z.object({ name: z.string().min(1), path: z.string().min(1) }),
  /** sha256 of the input as the producer read it (the worker hashes again and records what it converted). */
  inputHash: z.string().regex(/^[0-9a-f]{64}$/),
  inputBytes: z.number().int().nonnegative(),
  /** The shared output location (same path on every worker). */
  outDir: z.string().min(1),
  msgPaths: z.array(z.string()),
  salvage: z.boolean(),
  converter: JobConverter,
  /**
   * Lidar packet topics to decode, given with the conversion (`--lidar-packet(s)`; DriveConvertOptions.lidarPackets):
   * calibration paths absolute, read by the worker at the same path (shared, like the inputs).
   */
  lidarPackets: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type ConvertJobData = z.infer<typeof ConvertJobData>;

/** What a running job reports as its progress (`job.progress`). */
export const JobProgress = z.object({
  state: z.enum(["hashing", "converting", "done", "failed"]),
  fraction: z.number(),
  messages: z.number(),
  worker: z.string(),
});
export type JobProgress = z.infer<typeof JobProgress>;

/** Job name on the queue (one kind of job today). */
export const JOB_NAME = "convert-drive";

/** `drive-<hex>`: BullMQ job ids must not be integers nor contain ':'. */
export function jobIdFor(data: ConvertJobData): string {
  // Packet settings only when given, so the ids of jobs without them stay what they were.
  const settings = JSON.stringify([data.inputHash, data.outDir, data.drive.name, data.converter, data.salvage, data.msgPaths, ...(data.lidarPackets !== undefined ? [data.lidarPackets] : [])]);
  return `drive-${createHash("sha256").update(settings).digest("hex").slice(0, 40)}`;
}

/**
 * Retries with exponential backoff (5 s, 10 s, …) for failures that may pass (I/O, a worker thread
 * dying); a damaged or unsupported input fails at once (the worker marks it unrecoverable).
 * Finished jobs are kept: a completed job makes a later enqueue of the same drive a no-op, and the
 * failed ones are the operators' failed list (`syncbag queue status|retry|clean`).
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 5000 },
  removeOnComplete: false,
  removeOnFail: false,
} as const;

/** Error kinds a retry cannot fix: the input itself is bad. */
export const PERMANENT_KINDS = new Set(["unknown", "corrupt", "truncated", "unsupported"]);

/** A failed job's reason is `<kind>: <reason>` (as in index.json); this splits it back. */
export function splitFailure(text: string): { kind: string; reason: string } {
  const m = /^([a-z-]+): ([\s\S]*)$/.exec(text);
  return m ? { kind: m[1]!, reason: m[2]! } : { kind: "worker", reason: text };
}
