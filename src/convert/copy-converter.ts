/**
 * TEST DOUBLE of the DriveConverter: copies every message into an MCAP unchanged (no clock
 * models, no alignment, no suggestions) and reports per-topic counts, rates and gap-based drops.
 * It exists so the batch machinery (readers, workers, resume, reports) is testable and
 * benchmarkable on its own; the real converter comes from src/pipeline and replaces it in the CLI.
 */
import { open } from "node:fs/promises";
import { McapWriter } from "@mcap/core";
import { compress as zstdCompress } from "zstd-napi";
import type { DriveConverter } from "./converter.js";
import { FileWritable } from "./file-writable.js";
import type { DriveReportInput, SensorReport } from "./report.js";

/** Drops: gaps longer than 1.5 median periods, counted in missing periods. */
export function rateAndDrops(times: readonly bigint[]): { rateHz: number; drops: number } {
  if (times.length < 2) return { rateHz: 0, drops: 0 };
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(Number(times[i]! - times[i - 1]!) / 1e9);
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const span = Number(times[times.length - 1]! - times[0]!) / 1e9;
  let drops = 0;
  if (median > 0) for (const g of gaps) if (g > 1.5 * median) drops += Math.round(g / median) - 1;
  return { rateHz: span > 0 ? (times.length - 1) / span : 0, drops };
}

export const copyOnlyConverter: DriveConverter = async (source, output, options, progress) => {
  const handle = await open(output.mcapPath, "w");
  const times = new Map<string, bigint[]>();
  let count = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  try {
    const writable = new FileWritable(handle);
    const writer = new McapWriter({
      writable,
      chunkSize: 4 << 20,
      // Level 1: the double measures the batch machinery, not compression ratio.
      compressChunk: (data) => ({ compression: "zstd", compressedData: zstdCompress(data, { compressionLevel: 1 }) }),
    });
    await writer.start({ profile: "ros2", library: "syncbag convert (copy-only test double)" });
    const channels = new Map<string, number>();
    for (const t of source.topics) {
      const schemaId = t.schema.encoding === "" ? 0 : await writer.registerSchema({ name: t.schema.name, encoding: t.schema.encoding, data: t.schema.data });
      channels.set(t.topic, await writer.registerChannel({ topic: t.topic, schemaId, messageEncoding: t.encoding, metadata: new Map(t.qos !== undefined ? [["offered_qos_profiles", t.qos]] : []) }));
      times.set(t.topic, []);
    }
    for await (const m of source.messages()) {
      await writer.addMessage({ channelId: channels.get(m.topic)!, sequence: count, logTime: m.logTime, publishTime: m.publishTime ?? m.logTime, data: m.data });
      times.get(m.topic)!.push(m.logTime);
      first ??= m.logTime;
      last = m.logTime;
      if (++count % 1000 === 0) progress({ fraction: NaN, messages: count, stage: "copy" });
    }
    await writer.end();
    await writable.flush();
  } finally {
    await handle.close();
  }
  const sensors: SensorReport[] = source.topics.map((t) => ({ name: t.topic, topic: t.topic, type: t.type, count: times.get(t.topic)!.length, ...rateAndDrops(times.get(t.topic)!) }));
  const start = first ?? source.metadata.startTime ?? 0n;
  const end = last ?? start;
  const report: DriveReportInput = {
    drive: options.drive,
    input: source.path,
    format: source.metadata.format,
    startTime: start.toString(),
    endTime: end.toString(),
    durationS: Number(end - start) / 1e9,
    messageCount: count,
    sensors,
    clockModels: [],
    syncError: {},
    suggestions: {},
    events: [],
    warnings: [...source.warnings],
  };
  return report;
};
