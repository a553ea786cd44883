/** The batch index (`index.json`): every drive with its hashes, outputs and quality figures. Written atomically. */
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { SensorReport } from "./report.js";

export const DriveStatus = z.enum(["converted", "skipped", "failed", "planned"]);
export type DriveStatus = z.infer<typeof DriveStatus>;

export const IndexEntry = z.object({
  drive: z.string(),
  input: z.string(),
  status: DriveStatus,
  format: z.string().optional(),
  inputHash: z.string().optional(),
  inputBytes: z.number().int().nonnegative().optional(),
  output: z
    .object({ mcap: z.string(), report: z.string(), mcapHash: z.string(), mcapBytes: z.number().int().nonnegative() })
    .optional(),
  durationS: z.number().optional(),
  messageCount: z.number().int().optional(),
  sensors: z.array(SensorReport).optional(),
  quality: z
    .object({ syncErrorP99MaxS: z.number().nullable(), dropRate: z.number(), suggestions: z.number().int(), warnings: z.number().int() })
    .optional(),
  error: z.object({ kind: z.string(), reason: z.string() }).optional(),
  /** What `--salvage` skipped in a damaged input (the drive converted from the rest). */
  salvaged: z.array(z.string()).optional(),
  /** Sensors whose header stamps were in another time domain (timed by arrival): `clock: …` lines. */
  clockWarnings: z.array(z.string()).optional(),
  /** The queue worker (host:pid) that converted the drive (`convert --queue`). */
  worker: z.string().optional(),
  /** Wall time of the conversion (s). */
  elapsedS: z.number().optional(),
  completedAt: z.string().optional(),
});
export type IndexEntry = z.infer<typeof IndexEntry>;

export const BatchIndex = z.object({
  version: z.literal(1),
  tool: z.literal("syncbag"),
  updatedAt: z.string(),
  drives: z.array(IndexEntry),
});
export type BatchIndex = z.infer<typeof BatchIndex>;

/** The previous index, or an empty one (with the reason) when missing or unreadable. */
export async function loadIndex(path: string): Promise<{ index: BatchIndex; problem?: string }> {
  const empty: BatchIndex = { version: 1, tool: "syncbag", updatedAt: new Date(0).toISOString(), drives: [] };
  if (!existsSync(path)) return { index: empty };
  try {
    return { index: BatchIndex.parse(JSON.parse(await readFile(path, "utf8"))) };
  } catch (error) {
    return { index: empty, problem: `${path} unreadable, every drive is converted again: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await rename(tmp, path);
}
