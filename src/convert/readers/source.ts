/**
 * The reader port of the converter: every recording format (MCAP, rosbag2, ROS 1 bag) is
 * opened as a RecordingSource that yields its messages in log-time order, with one schema per
 * topic, so the per-drive pipeline never knows which ROS or storage plugin wrote the file.
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import type { MessageCatalogue } from "../../messages/catalogue.js";

export interface SourceSchema {
  /** As the recording names it (`pkg/msg/Type` for ROS 2, `pkg/Type` for ROS 1); "" when schemaless. */
  name: string;
  /** MCAP schema encoding: `ros2msg`, `ros2idl`, `ros1msg`, `protobuf`, `jsonschema`, or "" (none). */
  encoding: string;
  data: Uint8Array;
}

export interface SourceTopic {
  topic: string;
  /** ROS 2 `pkg/Type` (normalised) for cdr; the original name for ROS 1 and other encodings. */
  type: string;
  /** Message encoding: `cdr`, `ros1`, `protobuf`, `json`, … */
  encoding: string;
  schema: SourceSchema;
  /** From the recording's index or metadata, when it has one. */
  messageCount?: number;
  /** Whether `definitions` can decode this topic's messages (cdr types present in the catalogue). */
  decodable: boolean;
  /** Offered QoS profiles as the recording stored them (rosbag2 YAML), if any. */
  qos?: string;
  /** ROS 1 only: the type as recorded, when the topic was converted to a ROS 2 type. */
  ros1Type?: string;
}

export interface SourceMessage {
  topic: string;
  type: string;
  data: Uint8Array;
  /** Receive/record time (ns): MCAP log_time, rosbag2 timestamp, ROS 1 record time. */
  logTime: bigint;
  /** MCAP publish_time when the recording has one. */
  publishTime?: bigint;
  encoding: string;
  schema: SourceSchema;
}

export type RecordingFormat = "mcap" | "rosbag2-mcap" | "rosbag2-sqlite3" | "ros1";

export interface RecordingMetadata {
  format: RecordingFormat;
  /** Every file the recording consists of, in read order. */
  files: string[];
  /** Bytes over all files. */
  bytes: number;
  startTime?: bigint;
  endTime?: bigint;
  messageCount?: number;
  rosDistro?: string;
  /** MCAP profile / library, rosbag2 storage identifier, ROS 1 bag version, … */
  details: Record<string, string>;
}

export interface RecordingSource {
  readonly path: string;
  readonly metadata: RecordingMetadata;
  readonly topics: readonly SourceTopic[];
  /** Definitions to decode cdr topics: the recording's own, then --msg-path folders, then the standard catalogue. */
  readonly definitions: MessageCatalogue;
  /** Problems that did not stop reading (grows while messages() runs). */
  readonly warnings: readonly string[];
  /** Messages in log-time order. Throws RecordingError when the file turns out corrupt or truncated (unless salvaging). */
  messages(): AsyncIterable<SourceMessage>;
  close(): Promise<void>;
}

export interface OpenRecordingOptions {
  /** Folders in ROS package layout (`<pkg>/msg/*.msg`), or a package folder itself. */
  msgPaths?: readonly string[];
  /** Keep what a truncated or partly corrupt file still yields, with a warning, instead of failing. */
  salvage?: boolean;
  /** Stream fallback (unindexed MCAP): bytes of messages held to restore log-time order. Default 64 MiB. */
  reorderBufferBytes?: number;
}

export type RecordingErrorKind = "unknown" | "unreadable" | "corrupt" | "truncated" | "unsupported";

/** Why a recording cannot be (fully) read; `path` and `reason` are what the batch summary shows. */
export class RecordingError extends Error {
  constructor(
    readonly kind: RecordingErrorKind,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${kind}: ${reason}`);
    this.name = "RecordingError";
  }
}

/** Opens a recording file for reading with its size, or throws RecordingError "unreadable". */
export async function openRecordingFile(path: string): Promise<{ handle: FileHandle; bytes: number }> {
  try {
    const bytes = (await stat(path)).size;
    return { handle: await open(path, "r"), bytes };
  } catch (error) {
    throw new RecordingError("unreadable", path, errorText(error));
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const EMPTY_SCHEMA: SourceSchema = { name: "", encoding: "", data: new Uint8Array(0) };
