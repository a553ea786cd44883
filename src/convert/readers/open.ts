/**
 * openRecording: one entry point for every input the converter accepts. The format is decided
 * by content (magic bytes), not by file name: a rosbag2 folder (metadata.yaml, or .db3/.mcap files),
 * an MCAP file, a ROS 1 bag v2.0, or a lone rosbag2 .db3. Anything else is a RecordingError "unknown".
 */
import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { CombinedSource } from "./combined.js";
import { catalogueWith } from "./definitions.js";
import { MCAP_MAGIC, McapFileReader } from "./mcap.js";
import { openRosbag2 } from "./rosbag2.js";
import { Ros1BagSource, ROS1_MAGIC } from "./ros1.js";
import { errorText, RecordingError, type OpenRecordingOptions, type RecordingSource } from "./source.js";

export type DetectedKind = "rosbag2" | "mcap" | "ros1" | "sqlite3";

const SQLITE_MAGIC = "SQLite format 3\0";

/** What a path holds, by content. Throws RecordingError (unreadable, truncated when empty, unknown). */
export async function detectRecording(path: string): Promise<DetectedKind> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new RecordingError("unreadable", path, errorText(error));
  }
  if (info.isDirectory()) {
    const entries = await readdir(path).catch((error: unknown) => {
      throw new RecordingError("unreadable", path, errorText(error));
    });
    if (entries.includes("metadata.yaml") || entries.some((e) => /\.(db3|mcap)(\.zstd)?$/.test(e))) return "rosbag2";
    throw new RecordingError("unknown", path, "folder is not a rosbag2 bag (no metadata.yaml, .db3 or .mcap)");
  }
  if (basename(path) === "metadata.yaml") return "rosbag2";
  if (info.size === 0) throw new RecordingError("truncated", path, "empty file");
  const head = new Uint8Array(16);
  try {
    const handle = await open(path, "r");
    try {
      await handle.read(head, 0, 16, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new RecordingError("unreadable", path, errorText(error));
  }
  if (MCAP_MAGIC.every((b, i) => head[i] === b)) return "mcap";
  const text = new TextDecoder("latin1").decode(head);
  if (text.startsWith(ROS1_MAGIC)) return "ros1";
  if (text.startsWith("#ROSBAG V")) throw new RecordingError("unsupported", path, `ROS 1 bag format ${text.slice(1, 12).trim()} (only V2.0 is supported)`);
  if (text === SQLITE_MAGIC) return "sqlite3";
  const shown = [...head.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new RecordingError("unknown", path, `not a recording (first bytes ${shown}): expected MCAP, ROS 1 bag v2.0, or a rosbag2 folder`);
}

/** Opens any supported recording. Throws RecordingError with the path and the reason. */
export async function openRecording(path: string, options: OpenRecordingOptions = {}): Promise<RecordingSource> {
  const kind = await detectRecording(path);
  switch (kind) {
    case "rosbag2":
      return openRosbag2(basename(path) === "metadata.yaml" ? dirname(path) : path, options);
    case "ros1":
      return Ros1BagSource.open(path, options);
    case "sqlite3": {
      // A .db3 inside a bag folder belongs to that bag; a lone one is read as a one-file bag.
      const parent = dirname(path);
      if ((await readdir(parent)).includes("metadata.yaml")) return openRosbag2(parent, options);
      const { Sqlite3FileReader } = await import("./rosbag2.js");
      const catalogue = catalogueWith(options.msgPaths);
      const file = await Sqlite3FileReader.open(path, catalogue);
      return new CombinedSource({ path, format: "rosbag2-sqlite3", files: [file], catalogue, warnings: ["lone .db3 without metadata.yaml"] });
    }
    case "mcap": {
      const file = await McapFileReader.open(path, options);
      const details: Record<string, string> = {};
      for (const m of file.metadataRecords) if (m.name === "rosbag2") details.rosbag2 = "serialized_metadata present";
      // A syncbag recording carries the node's alignment configuration: conversion re-aligns with it.
      const alignment = file.metadataRecords.find((m) => m.name === "syncbag.alignment")?.metadata.get("config");
      if (alignment !== undefined) details["syncbag.alignment"] = alignment;
      return new CombinedSource({
        path,
        format: "mcap",
        files: [file],
        catalogue: catalogueWith(options.msgPaths),
        details,
        ...(options.salvage !== undefined ? { salvage: options.salvage } : {}),
      });
    }
  }
}

