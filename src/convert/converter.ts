/**
 * The per-drive contract between the batch and the pipeline. The batch opens the recording,
 * hands the converter temporary output paths, validates the report it returns, and renames the
 * outputs into place only when everything succeeded. The real converter is the lead's
 * (src/pipeline: clock models → aligner → suggesters → recorder); converters are loaded by module
 * path so that worker threads can import them.
 */
import { z } from "zod";
import type { RecordingSource } from "./readers/source.js";
import type { DriveReportInput } from "./report.js";

export interface DriveOutput {
  /** Where to write the aligned, labelled MCAP (a `.tmp` path the batch renames on success). */
  mcapPath: string;
  /** Where the batch writes the returned report; a converter need not write it. */
  reportPath: string;
}

export const DriveConvertOptions = z.object({
  drive: z.string().min(1),
  /** --msg-path folders (already applied to source.definitions; passed on for stages that decode). */
  msgPaths: z.array(z.string()),
  /** The simulator's ground truth beside the recording (`<bag>.truth.json`), when present. */
  truthPath: z.string().optional(),
  /**
   * Lidar packet decoding given with the conversion (`syncbag convert --lidar-packets/--lidar-packet`):
   * packet topic → its entry (src/lidar-packets LidarPacketConfig, calibration paths absolute).
   * Overrides a lidar_packets.yaml beside the recording topic by topic.
   */
  lidarPackets: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type DriveConvertOptions = z.infer<typeof DriveConvertOptions>;

export interface ConvertProgress {
  /** 0…1 through the drive (by log time). */
  fraction: number;
  messages: number;
  stage?: string;
}
export type ProgressFn = (progress: ConvertProgress) => void;

/**
 * Converts one recording. Reads `source.messages()` in order, once or more (each call starts over: the pipeline converter reads the stamps first); must write only to
 * `output.mcapPath`; throws on failure (the batch reports the message and discards the outputs).
 */
export type DriveConverter = (source: RecordingSource, output: DriveOutput, options: DriveConvertOptions, progress: ProgressFn) => Promise<DriveReportInput>;

/** How a worker finds the converter: an importable module (file URL or path) and its export. */
export const ConverterModule = z.object({
  module: z.string().min(1),
  exportName: z.string().min(1),
});
export type ConverterModule = z.infer<typeof ConverterModule>;
