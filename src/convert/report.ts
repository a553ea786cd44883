/**
 * What one drive's conversion reports (`<drive>.report.json`), and what the batch index keeps of
 * it. The per-drive pipeline (src/pipeline) fills it; the batch validates it before writing, so a
 * malformed report is a failed drive, never a broken index or HTML page.
 * Times inside are seconds relative to `startTime` (float differences); absolute times are ns strings.
 */
import { z } from "zod";

export const SensorReport = z.object({
  /** Sensor name from the rig/aligner (the topic when the recording has no rig). */
  name: z.string().min(1),
  topic: z.string().min(1),
  type: z.string(),
  count: z.number().int().nonnegative(),
  rateHz: z.number().nonnegative(),
  /** Messages missing against the sensor's nominal period. */
  drops: z.number().int().nonnegative(),
});
export type SensorReport = z.infer<typeof SensorReport>;

export const ClockModelReport = z.object({
  sensor: z.string().min(1),
  /** Device clock − common clock at the drive's start (s). */
  offsetS: z.number(),
  driftPpm: z.number(),
  latencyS: z.number().optional(),
  /** Residual jitter of the model (s, RMS). */
  jitterS: z.number().nonnegative().optional(),
  steps: z.number().int().nonnegative().optional(),
  converged: z.boolean().optional(),
});
export type ClockModelReport = z.infer<typeof ClockModelReport>;

export const SyncErrorReport = z.object({
  p50: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  max: z.number().nonnegative(),
  /** [t (s since start), |sync error| (s)] samples, thinned for plotting. */
  series: z.array(z.tuple([z.number(), z.number()])),
});
export type SyncErrorReport = z.infer<typeof SyncErrorReport>;

export const DriveEvent = z.object({
  /** Seconds since start. */
  t: z.number(),
  kind: z.string().min(1),
  label: z.string().optional(),
  durationS: z.number().nonnegative().optional(),
});
export type DriveEvent = z.infer<typeof DriveEvent>;

const nsString = z.string().regex(/^-?\d+$/, "expected integer nanoseconds as a decimal string");

export const DriveReport = z.object({
  drive: z.string().min(1),
  input: z.string(),
  /** Recording format (mcap, rosbag2-mcap, rosbag2-sqlite3, ros1). */
  format: z.string(),
  startTime: nsString,
  endTime: nsString,
  durationS: z.number().nonnegative(),
  messageCount: z.number().int().nonnegative(),
  /** Aligned frames produced (0 when the converter does not align). */
  frames: z.number().int().nonnegative().default(0),
  sensors: z.array(SensorReport),
  clockModels: z.array(ClockModelReport),
  /** Per sensor name. */
  syncError: z.record(z.string(), SyncErrorReport),
  /** Suggestion counts per kind (e.g. lidar_box, camera_box, audio_event, driving_event). */
  suggestions: z.record(z.string(), z.number().int().nonnegative()),
  events: z.array(DriveEvent),
  warnings: z.array(z.string()),
  /** Wall seconds of the two-pass converter's first pass (stamp series and hindsight fit); kept out of the MCAP, whose bytes depend on the input only. */
  firstPassS: z.number().nonnegative().optional(),
});
export type DriveReport = z.infer<typeof DriveReport>;
export type DriveReportInput = z.input<typeof DriveReport>;

/** Validates a converter's report; the message names the key, the value and what was expected. */
export function parseDriveReport(value: unknown, where: string): DriveReport {
  const result = DriveReport.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.join(".");
  let got: unknown = value;
  for (const k of issue.path) got = (got as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey];
  throw new Error(`${where}: drive report key '${key}' = ${JSON.stringify(got)}: ${issue.message}`);
}

/** The quality figures the index keeps per drive. */
export function qualityOf(report: DriveReport): { syncErrorP99MaxS: number | null; dropRate: number; suggestions: number; warnings: number } {
  const p99s = Object.values(report.syncError).map((s) => s.p99);
  const count = report.sensors.reduce((n, s) => n + s.count, 0);
  const drops = report.sensors.reduce((n, s) => n + s.drops, 0);
  return {
    syncErrorP99MaxS: p99s.length > 0 ? Math.max(...p99s) : null,
    dropRate: count + drops > 0 ? drops / (count + drops) : 0,
    suggestions: Object.values(report.suggestions).reduce((a, b) => a + b, 0),
    warnings: report.warnings.length,
  };
}
