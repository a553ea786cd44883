/**
 * McapRecorder: the node's MCAP recorder. `write()` is synchronous and cheap — it filters the
 * topic, counts, and enqueues a reference to the message in a bounded queue; one writer loop
 * drains the queue into chunks, compresses and writes them with async file I/O, so the
 * transport callback never waits on the disk.
 *
 * Backpressure policy: when the queue is full (bytes or messages), the NEWEST message is dropped
 * and counted per topic (`stats()`); what is already queued is never discarded, so a file never
 * has holes in the middle of a burst, only a gap where the disk could not keep up.
 *
 * Durability: the open chunk is closed and written at least every `flushIntervalMs` (and
 * fdatasync'ed when `fsync`), so a kill -9 loses at most that much; `recoverMcap` rebuilds the
 * file from its complete chunks. A failed write (e.g. ENOSPC) stops the recording: the file is cut
 * back to its last complete record and finalised if at all possible, and a `failure` event says
 * what happened and what was lost.
 *
 * Splits: nothing is lost or duplicated across a file boundary, except on purpose: the last message
 * of each `repeatLatchedTopics` topic (/tf_static by default) opens every new file again, as a
 * latched publisher would give it to a late subscriber.
 *
 * Message buffers are kept by reference until written: callers must not reuse them after write().
 */
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { OutboundMessage } from "../messages/outbound.js";
import { chunkCompressor } from "./compression.js";
import { parseRecorderConfig, RecorderConfigError, topicFilter, type RecorderConfig, type RecorderConfigInput } from "./config.js";
import { McapFileWriter, type SchemaInput } from "./mcap-writer.js";
import { defaultSchemaProvider, softwareVersion, type SchemaProvider } from "./schemas.js";
import type { RecordSink } from "./sink.js";
import { createFileSink } from "./direct-sink.js";

export interface McapRecorderOptions {
  /** Validated with RecorderConfigSchema. */
  config: RecorderConfigInput;
  /** Schema for a message type; default: the catalogue (ros2msg, foxglove_msgs overlays included). */
  schemaFor?: SchemaProvider;
  /** Metadata records written at the start of every file (rig, alignment parameters, clock models…). */
  metadata?: Record<string, Record<string, string>>;
  /** Channel metadata per topic (rosbag2 writes `offered_qos_profiles`). */
  channelMetadata?: (topic: string) => Record<string, string> | undefined;
  /** Opens the sink of one output file; default: a file (the folder is created). */
  openSink?: (path: string) => Promise<RecordSink>;
  /**
   * Close the open chunk every `flushIntervalMs` of wall time (default true). A live recording
   * needs it (a crash loses at most that much); an offline writer (conversion) turns it off, so
   * chunks close by size alone and the same input gives the same bytes however fast it ran.
   */
  timedFlush?: boolean;
}

export type RecorderState = "idle" | "recording" | "paused" | "failed" | "closed";

export interface TopicStats {
  received: number;
  dropped: number;
}

export interface RecorderStats {
  state: RecorderState;
  /** Messages passed to write() whose topic was selected. */
  received: number;
  /** Messages whose topic was not selected. */
  filtered: number;
  /** Selected messages skipped because the recorder was paused. */
  skippedPaused: number;
  /** Dropped because the queue was full (newest dropped). */
  droppedQueueFull: number;
  /** Dropped because the recorder had failed or was closed. */
  droppedStopped: number;
  /** Accepted messages that never reached a file because a write failed. */
  lostOnFailure: number;
  /** Messages in chunks that were written to a file. */
  recorded: number;
  /** Payload bytes of those messages. */
  recordedBytes: number;
  chunks: number;
  queueMessages: number;
  queueBytes: number;
  /** Highest queue byte level seen. */
  queuePeakBytes: number;
  /** Messages recorded with no schema (type unknown to the schema provider). */
  schemaless: number;
  files: string[];
  currentFile: string | null;
  lastError: string | null;
  topics: Record<string, TopicStats>;
}

export interface FileClosedEvent {
  path: string;
  messages: number;
  bytes: number;
  reason: "split" | "close" | "failure";
}

export interface RecorderFailure {
  /** One line: what failed, where, and what happened to the data. */
  message: string;
  cause: unknown;
  path: string | null;
  /** Whether the file could still be finalised (summary written); if not, `syncbag recover` it. */
  finalised: boolean;
}

export interface RecorderEvents {
  failure: [RecorderFailure];
  fileClosed: [FileClosedEvent];
}

type Control =
  | { op: "flush" }
  | { op: "split" }
  | { op: "close" }
  | { op: "barrier" }
  | { op: "metadata"; name: string; metadata: Map<string, string> }
  | { op: "attachment"; name: string; mediaType: string; data: Uint8Array; logTime: bigint };

type QueueItem = { message: OutboundMessage; control?: undefined } | { message?: undefined; control: Control; done: (error?: unknown) => void };

export class McapRecorder extends EventEmitter<RecorderEvents> {
  readonly config: RecorderConfig;
  readonly #schemaFor: SchemaProvider;
  readonly #metadata: Record<string, Record<string, string>>;
  readonly #channelMetadata: (topic: string) => Record<string, string> | undefined;
  readonly #openSink: (path: string) => Promise<RecordSink>;
  readonly #selected: (topic: string) => boolean;
  readonly #selectedCache = new Map<string, boolean>();
  readonly #schemaCache = new Map<string, SchemaInput | null>();
  readonly #latchedTopics: Set<string>;
  readonly #latched = new Map<string, OutboundMessage>();
  readonly #timedFlush: boolean;

  #state: RecorderState = "idle";
  /** close() was called: later writes are dropped, what was queued before is written. */
  #closing = false;
  #closePromise: Promise<void> | undefined;
  #queue: Array<QueueItem | undefined> = [];
  #head = 0;
  #queueBytes = 0;
  #draining = false;
  #flushQueued = false;
  #timer: NodeJS.Timeout | undefined;

  // The current file.
  #writer: McapFileWriter | undefined;
  #path: string | null = null;
  #fileIndex = -1;
  #fileStartLogTime: bigint | null = null;
  #channels = new Map<string, number>();
  #schemaIds = new Map<string, number>();
  #sequences: number[] = [];
  #inChunk = 0;
  #inChunkBytes = 0;
  #dirty = false;
  #syncing: Promise<void> | undefined;
  #syncError: unknown;
  #rotateAfterChunk = false;

  // Snapshot ring.
  #ring: OutboundMessage[] = [];
  #ringHead = 0;
  #ringBytes = 0;
  #snapshots = 0;

  readonly #stats: Omit<RecorderStats, "state" | "queueMessages" | "queueBytes" | "currentFile" | "files" | "topics"> = {
    received: 0,
    filtered: 0,
    skippedPaused: 0,
    droppedQueueFull: 0,
    droppedStopped: 0,
    lostOnFailure: 0,
    recorded: 0,
    recordedBytes: 0,
    chunks: 0,
    queuePeakBytes: 0,
    schemaless: 0,
    lastError: null,
  };
  readonly #files: string[] = [];
  readonly #topics = new Map<string, TopicStats>();

  constructor(options: McapRecorderOptions) {
    super();
    this.config = parseRecorderConfig(options.config);
    this.#schemaFor = options.schemaFor ?? defaultSchemaProvider();
    this.#metadata = options.metadata ?? {};
    this.#channelMetadata = options.channelMetadata ?? (() => undefined);
    this.#openSink =
      options.openSink ??
      (async (path) => {
        await mkdir(this.config.outputDir, { recursive: true });
        return createFileSink(path, { direct: this.config.directIo });
      });
    this.#selected = topicFilter(this.config);
    this.#latchedTopics = new Set(this.config.repeatLatchedTopics);
    this.#timedFlush = options.timedFlush ?? true;
  }

  get state(): RecorderState {
    return this.#state;
  }

  /** The path of file number `index` of this recording. */
  filePath(index: number): string {
    return join(this.config.outputDir, `${this.config.baseName}_${index}.mcap`);
  }

  /** Opens the first file and starts the flush timer. Refuses to overwrite an existing recording. */
  async start(): Promise<void> {
    if (this.#state !== "idle") throw new Error(`recorder already ${this.#state}`);
    if (existsSync(this.filePath(0)))
      throw new RecorderConfigError(`recorder.baseName: ${this.filePath(0)} already exists (choose another baseName or outputDir)`);
    await this.#openNext();
    this.#state = "recording";
    if (this.#timedFlush) {
      this.#timer = setInterval(() => this.#requestFlush(), this.config.flushIntervalMs);
      this.#timer.unref();
    }
    this.#kick();
  }

  /**
   * Records one message (synchronous, no I/O). Returns false if it was not queued
   * (topic not selected, paused, queue full, or recorder stopped).
   */
  write(message: OutboundMessage): boolean {
    let selected = this.#selectedCache.get(message.topic);
    if (selected === undefined) {
      selected = this.#selected(message.topic);
      this.#selectedCache.set(message.topic, selected);
    }
    if (!selected) {
      this.#stats.filtered++;
      return false;
    }
    let topic = this.#topics.get(message.topic);
    if (topic === undefined) {
      topic = { received: 0, dropped: 0 };
      this.#topics.set(message.topic, topic);
    }
    topic.received++;
    this.#stats.received++;
    if (this.config.snapshotSeconds > 0) this.#remember(message);
    if (this.#closing || this.#state === "failed" || this.#state === "closed") {
      this.#stats.droppedStopped++;
      topic.dropped++;
      return false;
    }
    if (this.#state === "paused") {
      this.#stats.skippedPaused++;
      return false;
    }
    const bytes = message.data.byteLength;
    const queued = this.#queue.length - this.#head;
    if (this.#queueBytes + bytes > this.config.queueMaxBytes || queued >= this.config.queueMaxMessages) {
      this.#stats.droppedQueueFull++;
      topic.dropped++;
      return false;
    }
    this.#queue.push({ message });
    this.#queueBytes += bytes;
    if (this.#queueBytes > this.#stats.queuePeakBytes) this.#stats.queuePeakBytes = this.#queueBytes;
    this.#kick();
    return true;
  }

  /** Stops recording (messages are counted as skipped) until resume(). */
  pause(): void {
    if (this.#state === "recording") this.#state = "paused";
  }

  resume(): void {
    if (this.#state === "paused") this.#state = "recording";
  }

  /** Closes the current file after everything queued so far and continues in the next one. */
  split(): Promise<void> {
    return this.#control({ op: "split" });
  }

  /** Forces the open chunk to disk now (after everything queued so far). */
  flush(): Promise<void> {
    return this.#control({ op: "flush" });
  }

  /** Messages (and their bytes) accepted by write() and not yet in a chunk. */
  backlog(): { messages: number; bytes: number } {
    return { messages: this.#queue.length - this.#head, bytes: this.#queueBytes };
  }

  /**
   * Resolves when everything queued so far is in the file's open chunk or written, closing no
   * chunk for it: backpressure for an offline producer, which (unlike a transport) can wait, and
   * must not lose messages to a full queue.
   */
  caughtUp(): Promise<void> {
    return this.#control({ op: "barrier" });
  }

  /** Adds a metadata record to the current file, after everything queued so far. */
  addMetadata(name: string, metadata: Record<string, string>): Promise<void> {
    return this.#control({ op: "metadata", name, metadata: new Map(Object.entries(metadata)) });
  }

  /** Adds an attachment (e.g. a calibration file) to the current file. */
  addAttachment(attachment: { name: string; mediaType: string; data: Uint8Array; logTime: bigint }): Promise<void> {
    return this.#control({ op: "attachment", ...attachment });
  }

  /**
   * Writes the snapshot ring (the last `snapshotSeconds` of selected messages, paused or not) to
   * its own file `<baseName>_snapshot_<n>.mcap` and returns its path.
   */
  async snapshot(): Promise<{ path: string; messages: number }> {
    if (this.config.snapshotSeconds <= 0) throw new Error("snapshot is off (recorder.snapshotSeconds = 0)");
    const messages = this.#ring.slice(this.#ringHead);
    const path = join(this.config.outputDir, `${this.config.baseName}_snapshot_${this.#snapshots++}.mcap`);
    const writer = await this.#startWriter(path);
    for (const [name, map] of Object.entries(this.#metadata)) await writer.addMetadata(name, new Map(Object.entries(map)));
    const channels = new Map<string, number>();
    const schemas = new Map<string, number>();
    const sequences: number[] = [];
    for (const message of messages) {
      const channelId = this.#channelFor(writer, channels, schemas, message);
      sequences[channelId] = (sequences[channelId] ?? 0) + 1;
      writer.addMessage(channelId, sequences[channelId]!, message.logTime, message.publishTime, message.data);
      if (writer.openChunkBytes >= this.config.chunkSize) await writer.flushChunk();
    }
    await writer.end();
    return { path, messages: messages.length };
  }

  /** Finalises the current file after everything queued; later writes are counted as dropped. */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    if (this.#state === "idle" || this.#state === "failed") {
      this.#stopTimer();
      this.#state = "closed";
      return;
    }
    await this.#control({ op: "close" });
  }

  stats(): RecorderStats {
    return {
      ...this.#stats,
      state: this.#state,
      queueMessages: this.#queue.length - this.#head,
      queueBytes: this.#queueBytes,
      files: [...this.#files],
      currentFile: this.#path,
      topics: Object.fromEntries([...this.#topics].map(([topic, s]) => [topic, { ...s }])),
    };
  }

  #control(control: Control): Promise<void> {
    if (this.#state === "failed" || this.#state === "closed")
      return Promise.reject(new Error(`recorder is ${this.#state}${this.#stats.lastError ? `: ${this.#stats.lastError}` : ""}`));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ control, done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.#kick();
    });
  }

  #requestFlush(): void {
    if (this.#flushQueued || this.#writer === undefined) return;
    if (this.#inChunk === 0 && this.#queue.length === this.#head) return;
    this.#flushQueued = true;
    this.#queue.push({ control: { op: "flush" }, done: () => undefined });
    this.#kick();
  }

  #kick(): void {
    if (this.#draining || this.#writer === undefined) return;
    this.#draining = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#head < this.#queue.length) {
        const item = this.#queue[this.#head]!;
        this.#queue[this.#head++] = undefined;
        if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        if (item.message !== undefined) {
          this.#queueBytes -= item.message.data.byteLength;
          const pending = this.#append(item.message);
          if (pending !== undefined) await pending;
        } else {
          try {
            await this.#run(item.control);
            item.done();
          } catch (error) {
            item.done(error);
            throw error;
          }
        }
      }
    } catch (error) {
      await this.#fail(error);
    } finally {
      this.#draining = false;
    }
  }

  /** Adds one message to the open chunk; returns a promise only when I/O is needed. */
  #append(message: OutboundMessage): Promise<void> | undefined {
    const writer = this.#writer!;
    const needsRotation =
      this.#rotateAfterChunk ||
      (this.config.splitDurationS > 0 &&
        this.#fileStartLogTime !== null &&
        message.logTime - this.#fileStartLogTime >= BigInt(Math.round(this.config.splitDurationS * 1e9)));
    if (needsRotation) return this.#rotate("split").then(() => this.#append(message));
    this.#fileStartLogTime ??= message.logTime;
    if (this.#latchedTopics.has(message.topic)) this.#latched.set(message.topic, message);
    return this.#addToFile(writer, message);
  }

  #addToFile(writer: McapFileWriter, message: OutboundMessage): Promise<void> | undefined {
    const channelId = this.#channelFor(writer, this.#channels, this.#schemaIds, message);
    const sequence = (this.#sequences[channelId] = (this.#sequences[channelId] ?? 0) + 1);
    writer.addMessage(channelId, sequence, message.logTime, message.publishTime, message.data);
    this.#inChunk++;
    this.#inChunkBytes += message.data.byteLength;
    if (writer.openChunkBytes >= this.config.chunkSize) return this.#flushChunk();
    return undefined;
  }

  async #flushChunk(): Promise<void> {
    const writer = this.#writer!;
    if (this.#inChunk === 0) return;
    await writer.flushChunk();
    this.#stats.recorded += this.#inChunk;
    this.#stats.recordedBytes += this.#inChunkBytes;
    this.#stats.chunks++;
    this.#inChunk = 0;
    this.#inChunkBytes = 0;
    this.#dirty = true;
    if (this.config.splitSizeBytes > 0 && writer.position >= this.config.splitSizeBytes) this.#rotateAfterChunk = true;
  }

  async #run(control: Control): Promise<void> {
    const writer = this.#writer!;
    switch (control.op) {
      case "flush":
        this.#flushQueued = false;
        await this.#flushChunk();
        if (this.#syncError !== undefined) throw this.#syncError;
        // fdatasync runs beside the writer loop (writes go on meanwhile); at most one at a time.
        if (this.config.fsync && this.#dirty && this.#syncing === undefined) {
          this.#dirty = false;
          this.#syncing = writer
            .sync()
            .catch((error: unknown) => {
              this.#syncError = error;
            })
            .finally(() => {
              this.#syncing = undefined;
            });
        }
        return;
      case "split":
        await this.#rotate("split");
        return;
      case "metadata":
        await writer.addMetadata(control.name, control.metadata);
        return;
      case "attachment":
        await writer.addAttachment({ ...control, createTime: control.logTime });
        return;
      case "barrier":
        return;
      case "close":
        this.#stopTimer();
        await this.#finishFile("close");
        this.#state = "closed";
        return;
    }
  }

  async #finishFile(reason: FileClosedEvent["reason"]): Promise<void> {
    await this.#flushChunk();
    await this.#syncing;
    if (this.#syncError !== undefined) throw this.#syncError;
    const writer = this.#writer!;
    await writer.end();
    this.emit("fileClosed", { path: this.#path!, messages: writer.statistics.messageCount, bytes: writer.position, reason });
  }

  async #rotate(reason: "split"): Promise<void> {
    await this.#finishFile(reason);
    await this.#openNext();
  }

  /** A started MCAP writer on a new sink at `path`, with this recorder's compression. */
  async #startWriter(path: string): Promise<McapFileWriter> {
    const writer = new McapFileWriter({
      sink: await this.#openSink(path),
      compressor: chunkCompressor(this.config.compression, this.config.zstdLevel, this.config.compressInWorker),
      profile: "ros2",
      library: `syncbag ${softwareVersion()}`,
    });
    await writer.start();
    return writer;
  }

  async #openNext(): Promise<void> {
    this.#fileIndex++;
    const path = this.filePath(this.#fileIndex);
    const writer = await this.#startWriter(path);
    await writer.addMetadata(
      "syncbag.recording",
      new Map([
        ["software_version", softwareVersion()],
        ["base_name", this.config.baseName],
        ["split_index", String(this.#fileIndex)],
        ["compression", this.config.compression],
        ["chunk_size", String(this.config.chunkSize)],
        ["flush_interval_ms", this.#timedFlush ? String(this.config.flushIntervalMs) : "0 (chunks closed by size only)"],
        ["log_time", "receive time on the common clock (ns)"],
        ["publish_time", "corrected capture time on the common clock (ns)"],
      ]),
    );
    for (const [name, map] of Object.entries(this.#metadata)) await writer.addMetadata(name, new Map(Object.entries(map)));
    this.#writer = writer;
    this.#path = path;
    this.#files.push(path);
    this.#fileStartLogTime = null;
    this.#channels = new Map();
    this.#schemaIds = new Map();
    this.#sequences = [];
    this.#rotateAfterChunk = false;
    // Latched topics (/tf_static…) are published once: each split file gets their last message again.
    for (const message of this.#latched.values()) {
      const pending = this.#addToFile(writer, message);
      if (pending !== undefined) await pending;
    }
  }

  #channelFor(writer: McapFileWriter, channels: Map<string, number>, schemaIds: Map<string, number>, message: OutboundMessage): number {
    const key = `${message.topic}\0${message.encoding}\0${message.schemaName}`;
    const existing = channels.get(key);
    if (existing !== undefined) return existing;
    const schemaKey = `${message.encoding}\0${message.schemaName}`;
    let schema = this.#schemaCache.get(schemaKey);
    if (schema === undefined) {
      schema = this.#schemaFor(message.schemaName, message.encoding) ?? null;
      this.#schemaCache.set(schemaKey, schema);
    }
    let schemaId = 0;
    if (schema !== null) {
      schemaId = schemaIds.get(schemaKey) ?? writer.addSchema(schema);
      schemaIds.set(schemaKey, schemaId);
    } else if (writer === this.#writer) {
      this.#stats.schemaless++;
    }
    const channelId = writer.addChannel({
      topic: message.topic,
      schemaId,
      messageEncoding: message.encoding,
      metadata: new Map(Object.entries(this.#channelMetadata(message.topic) ?? {})),
    });
    channels.set(key, channelId);
    return channelId;
  }

  #remember(message: OutboundMessage): void {
    this.#ring.push(message);
    this.#ringBytes += message.data.byteLength;
    const horizon = message.logTime - BigInt(Math.round(this.config.snapshotSeconds * 1e9));
    while (this.#ringHead < this.#ring.length) {
      const oldest = this.#ring[this.#ringHead]!;
      if (oldest.logTime >= horizon && this.#ringBytes <= this.config.snapshotMaxBytes) break;
      this.#ringBytes -= oldest.data.byteLength;
      this.#ringHead++;
    }
    if (this.#ringHead > 4096 && this.#ringHead * 2 > this.#ring.length) {
      this.#ring = this.#ring.slice(this.#ringHead);
      this.#ringHead = 0;
    }
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops recording after a failed write: finalise what can be, count the rest as lost. */
  async #fail(error: unknown): Promise<void> {
    this.#state = "failed";
    this.#stopTimer();
    await this.#syncing;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reason = code === "ENOSPC" ? "no space left on device (ENOSPC)" : error instanceof Error ? error.message : String(error);
    const writer = this.#writer;
    const at = writer?.position ?? 0;
    let lost = this.#inChunk;
    this.#inChunk = 0;
    this.#inChunkBytes = 0;
    // Everything still queued is lost too; pending control calls are rejected.
    for (let i = this.#head; i < this.#queue.length; i++) {
      const item = this.#queue[i]!;
      if (item.message !== undefined) lost++;
      else item.done(error);
    }
    this.#queue = [];
    this.#head = 0;
    this.#queueBytes = 0;
    let finalised = false;
    if (writer !== undefined) {
      try {
        await writer.end({ discardOpenChunk: true });
        finalised = true;
      } catch {
        finalised = false;
      }
    }
    this.#stats.lostOnFailure += lost;
    const message =
      `recording stopped: ${reason} while writing ${this.#path ?? "(no file)"} at byte ${at}; ` +
      `${this.#stats.recorded} messages are in the files, ${lost} queued or unwritten messages were lost; ` +
      (finalised ? "the file was finalised" : `the file could not be finalised — run \`syncbag recover ${this.#path ?? "<file>"}\``);
    this.#stats.lastError = message;
    if (writer !== undefined && this.#path !== null)
      this.emit("fileClosed", { path: this.#path, messages: writer.statistics.messageCount, bytes: writer.position, reason: "failure" });
    this.emit("failure", { message, cause: error, path: this.#path, finalised });
  }
}
