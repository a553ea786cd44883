/**
 * One storage file of a recording (an .mcap, a rosbag2 .db3): its topics and a log-time-ordered
 * message stream. A RecordingSource is one or more of these read one after another (split bags).
 */
import type { TopicDescription } from "./definitions.js";

export interface FileMessage {
  topic: string;
  logTime: bigint;
  publishTime?: bigint;
  data: Uint8Array;
}

export interface StorageFileReader {
  readonly path: string;
  readonly bytes: number;
  readonly topics: readonly TopicDescription[];
  readonly startTime?: bigint;
  readonly endTime?: bigint;
  readonly messageCount?: number;
  readonly details: Record<string, string>;
  /** Messages in log-time order; problems that do not stop reading are pushed to `warnings`. */
  messages(warnings: string[]): AsyncGenerator<FileMessage>;
  close(): Promise<void>;
}
