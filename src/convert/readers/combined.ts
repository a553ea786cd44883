/**
 * A RecordingSource over storage files read one after another (one .mcap, or the split files of a
 * rosbag2 bag in relative_file_paths order). Topics are merged by name; a message older than the
 * previous one (split files overlapping in time) is passed on and counted in a warning.
 */
import type { MessageCatalogue } from "../../messages/catalogue.js";
import { resolveTopics, type TopicDescription } from "./definitions.js";
import type { StorageFileReader } from "./file-reader.js";
import { RecordingError, type RecordingFormat, type RecordingMetadata, type RecordingSource, type SourceMessage, type SourceTopic } from "./source.js";

export interface CombinedSourceInit {
  path: string;
  format: RecordingFormat;
  files: readonly StorageFileReader[];
  catalogue: MessageCatalogue;
  /** Topic descriptions from outside the files (rosbag2 metadata.yaml), used where the files have none. */
  extraTopics?: readonly TopicDescription[];
  details?: Record<string, string>;
  rosDistro?: string;
  warnings?: string[];
  salvage?: boolean;
}

export class CombinedSource implements RecordingSource {
  readonly path: string;
  readonly metadata: RecordingMetadata;
  readonly topics: readonly SourceTopic[];
  readonly definitions: MessageCatalogue;
  readonly #warnings: string[];
  readonly #files: readonly StorageFileReader[];
  readonly #byTopic = new Map<string, SourceTopic>();
  readonly #salvage: boolean;

  constructor(init: CombinedSourceInit) {
    this.path = init.path;
    this.#files = init.files;
    this.#warnings = init.warnings ?? [];
    this.#salvage = init.salvage ?? false;
    this.definitions = init.catalogue;
    const merged = new Map<string, TopicDescription>();
    for (const file of init.files) {
      for (const t of file.topics) {
        const known = merged.get(t.topic);
        if (known === undefined) merged.set(t.topic, { ...t });
        else {
          if (known.type !== t.type && t.type !== "") this.#warnings.push(`topic ${t.topic} changes type from ${known.type} to ${t.type} in ${file.path}; kept as ${known.type}`);
          if (t.messageCount !== undefined) known.messageCount = (known.messageCount ?? 0) + t.messageCount;
          if (known.schema === undefined && t.schema !== undefined) known.schema = t.schema;
        }
      }
    }
    for (const extra of init.extraTopics ?? []) {
      const known = merged.get(extra.topic);
      if (known === undefined) merged.set(extra.topic, { ...extra });
      else {
        if (known.type === "") known.type = extra.type;
        if (known.qos === undefined && extra.qos !== undefined) known.qos = extra.qos;
        if (known.messageCount === undefined && extra.messageCount !== undefined) known.messageCount = extra.messageCount;
      }
    }
    this.topics = resolveTopics(init.catalogue, [...merged.values()], this.#warnings);
    for (const t of this.topics) this.#byTopic.set(t.topic, t);
    const starts = init.files.map((f) => f.startTime).filter((t): t is bigint => t !== undefined);
    const ends = init.files.map((f) => f.endTime).filter((t): t is bigint => t !== undefined);
    const counts = init.files.map((f) => f.messageCount);
    this.metadata = {
      format: init.format,
      files: init.files.map((f) => f.path),
      bytes: init.files.reduce((sum, f) => sum + f.bytes, 0),
      ...(starts.length > 0 ? { startTime: starts.reduce((a, b) => (b < a ? b : a)) } : {}),
      ...(ends.length > 0 ? { endTime: ends.reduce((a, b) => (b > a ? b : a)) } : {}),
      ...(counts.every((c) => c !== undefined) ? { messageCount: counts.reduce((a, b) => a + b, 0) } : {}),
      ...(init.rosDistro !== undefined ? { rosDistro: init.rosDistro } : {}),
      details: { ...(init.files[0]?.details ?? {}), ...(init.details ?? {}) },
    };
  }

  get warnings(): readonly string[] {
    return this.#warnings;
  }

  async *messages(): AsyncIterable<SourceMessage> {
    let last: bigint | undefined;
    let regressions = 0;
    for (const file of this.#files) {
      try {
        for await (const m of file.messages(this.#warnings)) {
          const topic = this.#byTopic.get(m.topic);
          if (topic === undefined) throw new RecordingError("corrupt", file.path, `message on topic ${m.topic}, which the file never declared`);
          if (last !== undefined && m.logTime < last) regressions++;
          else last = m.logTime;
          yield {
            topic: m.topic,
            type: topic.type,
            data: m.data,
            logTime: m.logTime,
            ...(m.publishTime !== undefined ? { publishTime: m.publishTime } : {}),
            encoding: topic.encoding,
            schema: topic.schema,
          };
        }
      } catch (error) {
        if (!this.#salvage || !(error instanceof RecordingError)) throw error;
        this.#warnings.push(`salvaged: ${error.message}`);
      }
    }
    if (regressions > 0) this.#warnings.push(`${regressions} messages earlier than their predecessor (split files overlap in time); passed on in file order`);
  }

  async close(): Promise<void> {
    for (const file of this.#files) await file.close();
  }
}
