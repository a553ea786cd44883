/**
 * rosbag2 bags: a folder with metadata.yaml and one or more storage files (sqlite3 .db3 or
 * .mcap), read in relative_file_paths order. An empty or missing storage_identifier (or a
 * missing metadata.yaml) is inferred from the file extensions. zstd compression is handled in
 * both rosbag2 modes: FILE (each storage file is `<file>.zstd`, decompressed to a temp file)
 * and MESSAGE (each message's bytes are zstd frames).
 *
 * The sqlite3 schema differs by rosbag2 release: no `schema` table (Foxy and older, version 1),
 * offered_qos_profiles added (schema 2), `metadata` table (3, Humble), type_description_hash
 * and a `message_definitions` table (4, Iron and newer). Columns are discovered, not assumed.
 */
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdtemp, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, extname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { decompress as zstdDecompress, DecompressStream } from "zstd-napi";
import type { MessageCatalogue } from "../../messages/catalogue.js";
import { CombinedSource } from "./combined.js";
import { addRos2MsgSchema, catalogueWith, type TopicDescription } from "./definitions.js";
import type { FileMessage, StorageFileReader } from "./file-reader.js";
import { McapFileReader } from "./mcap.js";
import { errorText, RecordingError, type OpenRecordingOptions, type RecordingSource } from "./source.js";

const int = z.union([z.bigint(), z.number().int()]).transform((v) => BigInt(v));

const TopicMetadata = z.object({
  name: z.string(),
  type: z.string(),
  // rosbag2 records the rmw's serialization, CDR on every ROS 2 middleware; some writers leave it empty.
  serialization_format: z.string().default("cdr").transform((f) => (f === "" ? "cdr" : f)),
  offered_qos_profiles: z.unknown().optional(),
  type_description_hash: z.string().optional(),
});

/** The parts of rosbag2_bagfile_information syncbag uses (versions 1–9); other keys are ignored. */
export const Rosbag2Metadata = z.object({
  rosbag2_bagfile_information: z.object({
    version: z.union([z.bigint(), z.number().int()]).transform((v) => Number(v)),
    storage_identifier: z.string().nullish(),
    relative_file_paths: z.array(z.string()).nullish(),
    duration: z.object({ nanoseconds: int }).partial().nullish(),
    starting_time: z.object({ nanoseconds_since_epoch: int }).partial().nullish(),
    message_count: int.nullish(),
    topics_with_message_count: z.array(z.object({ topic_metadata: TopicMetadata, message_count: int.nullish() })).nullish(),
    compression_format: z.string().nullish(),
    compression_mode: z.string().nullish(),
    ros_distro: z.string().nullish(),
  }),
});
export type Rosbag2Metadata = z.infer<typeof Rosbag2Metadata>;

export function parseRosbag2Metadata(text: string, path: string): Rosbag2Metadata {
  let raw: unknown;
  try {
    raw = parseYaml(text, { intAsBigInt: true });
  } catch (error) {
    throw new RecordingError("corrupt", path, `metadata.yaml is not YAML: ${errorText(error)}`);
  }
  const result = Rosbag2Metadata.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new RecordingError("corrupt", path, `metadata.yaml: key '${issue.path.join(".")}': ${issue.message}`);
  }
  return result.data;
}

// ---- sqlite3: better-sqlite3 (native, streaming), sql.js (WebAssembly, whole file) as fallback ----

type SqlValue = number | bigint | string | Uint8Array | null;
type SqlRow = SqlValue[];

/** What the reader needs of a database: rows as arrays, integers as BigInt where it matters. */
interface SqliteDb {
  /** Every row of a small query (schema, topics, counts). */
  all(sql: string): SqlRow[];
  /** Rows one at a time, integers as BigInt; each call may run alongside another. */
  iterate(sql: string): Iterable<SqlRow>;
  close(): void;
}

// better-sqlite3: reads pages on demand, so memory stays bounded by SQLite's page cache and the
// current row whatever the file size (the ≥ 2 GB bags a car writes in a few minutes).
interface BetterStatement {
  raw(on: boolean): BetterStatement;
  safeIntegers(on: boolean): BetterStatement;
  all(): SqlRow[];
  iterate(): IterableIterator<SqlRow>;
}
interface BetterDatabase {
  prepare(sql: string): BetterStatement;
  pragma(sql: string): unknown;
  close(): void;
}
type BetterSqlite = new (path: string, options: { readonly: boolean; fileMustExist: boolean }) => BetterDatabase;

const require = createRequire(import.meta.url);
let betterSqlite: BetterSqlite | null | undefined;
/** The native binding, or null when it is not built (install scripts not allowed): sql.js then. */
function loadBetterSqlite(): BetterSqlite | null {
  if (betterSqlite !== undefined) return betterSqlite;
  try {
    const Database = require("better-sqlite3") as BetterSqlite;
    new Database(":memory:", { readonly: false, fileMustExist: false }).close(); // loads the .node file
    betterSqlite = Database;
  } catch {
    betterSqlite = null;
  }
  return betterSqlite;
}

function openBetter(Database: BetterSqlite, path: string): SqliteDb {
  const open = (): BetterDatabase => {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    // An unindexed ORDER BY spills its sort to temporary files, not memory.
    db.pragma("temp_store = FILE");
    return db;
  };
  const main = open();
  return {
    all: (sql) => main.prepare(sql).raw(true).safeIntegers(true).all(),
    iterate: function* (sql) {
      // Its own connection: a connection iterating cannot run other statements, and the
      // converter may read the messages again while an earlier pass is still open.
      const db = open();
      try {
        yield* db.prepare(sql).raw(true).safeIntegers(true).iterate();
      } finally {
        db.close();
      }
    },
    close: () => main.close(),
  };
}

interface SqlJsStatement {
  step(): boolean;
  get(params?: null, config?: { useBigInt?: boolean }): SqlRow;
  free(): void;
}
interface SqlJsDatabase {
  prepare(sql: string): SqlJsStatement;
  close(): void;
}
type SqlJs = { Database: new (data?: Uint8Array) => SqlJsDatabase };
let sqlJs: Promise<SqlJs> | undefined;
function loadSqlJs(): Promise<SqlJs> {
  sqlJs ??= (require("sql.js") as () => Promise<SqlJs>)();
  return sqlJs;
}

async function openSqlJs(path: string): Promise<SqliteDb> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(await readFile(path));
  const iterate = function* (sql: string): Iterable<SqlRow> {
    const statement = db.prepare(sql);
    try {
      while (statement.step()) yield statement.get(null, { useBigInt: true });
    } finally {
      statement.free();
    }
  };
  return { all: (sql) => [...iterate(sql)], iterate, close: () => db.close() };
}

/** Which SQLite the reader uses (reported in the recording's details). */
export function sqliteEngine(): "better-sqlite3" | "sql.js" {
  return loadBetterSqlite() !== null ? "better-sqlite3" : "sql.js";
}

const SQLITE_MAGIC = "SQLite format 3\0";

export class Sqlite3FileReader implements StorageFileReader {
  readonly topics: TopicDescription[];
  /** Topics whose serialization_format was empty (read as CDR). */
  readonly emptyFormats: string[] = [];
  readonly startTime?: bigint;
  readonly endTime?: bigint;
  readonly messageCount: number;
  readonly details: Record<string, string>;
  readonly #db: SqliteDb;
  readonly #topicNames: Map<number, string>;
  readonly #messageCompression: boolean;

  private constructor(
    readonly path: string,
    readonly bytes: number,
    db: SqliteDb,
    catalogue: MessageCatalogue,
    messageCompression: boolean,
  ) {
    this.#db = db;
    this.#messageCompression = messageCompression;
    const tables = new Set(db.all("SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => String(r[0])));
    if (!tables.has("topics") || !tables.has("messages")) throw new RecordingError("corrupt", path, "not a rosbag2 database (no topics/messages tables)");
    const schemaRow = tables.has("schema") ? db.all("SELECT schema_version, ros_distro FROM schema ORDER BY schema_version DESC LIMIT 1")[0] : undefined;
    this.details = { storage: "sqlite3", schemaVersion: String(schemaRow?.[0] ?? 1), ...(schemaRow?.[1] ? { rosDistro: String(schemaRow[1]) } : {}) };
    const columns = new Set(db.all("PRAGMA table_info(topics)").map((r) => String(r[1])));
    const select = ["id", "name", "type", "serialization_format", columns.has("offered_qos_profiles") ? "offered_qos_profiles" : "''"].join(", ");
    const counts = new Map<number, number>();
    for (const row of db.all("SELECT topic_id, COUNT(*) FROM messages GROUP BY topic_id")) counts.set(Number(row[0]), Number(row[1]));
    this.#topicNames = new Map();
    this.topics = [];
    for (const row of db.all(`SELECT ${select} FROM topics ORDER BY id`)) {
      const id = Number(row[0]);
      this.#topicNames.set(id, String(row[1]));
      // An empty serialization_format (some drivers' bags, e.g. nebula's) is rosbag2's default: CDR.
      const format = String(row[3] ?? "");
      if (format === "") this.emptyFormats.push(String(row[1]));
      this.topics.push({ topic: String(row[1]), type: String(row[2]), encoding: format === "" ? "cdr" : format, messageCount: counts.get(id) ?? 0, ...(row[4] ? { qos: String(row[4]) } : {}) });
    }
    // Iron+ stores the definitions the publishers offered; older bags have none (catalogue/--msg-path then).
    if (tables.has("message_definitions")) {
      for (const row of db.all("SELECT topic_type, encoding, encoded_message_definition FROM message_definitions")) {
        if (row[1] !== "ros2msg" || !row[2]) continue;
        try {
          addRos2MsgSchema(catalogue, String(row[0]), String(row[2]));
        } catch {
          // An unparsable offered definition falls back to the catalogue; resolveTopics warns if none.
        }
      }
    }
    const [min, max, count] = db.all("SELECT MIN(timestamp), MAX(timestamp), COUNT(*) FROM messages")[0] ?? [];
    this.messageCount = Number(count ?? 0);
    if (typeof min === "bigint") this.startTime = min;
    if (typeof max === "bigint") this.endTime = max;
  }

  /** With salvage, a message whose zstd frame is damaged is skipped (counted and named) instead of failing the file. */
  salvage = false;

  static async open(path: string, catalogue: MessageCatalogue, messageCompression = false): Promise<Sqlite3FileReader> {
    const header = Buffer.alloc(100);
    let size: number;
    let got: number;
    try {
      size = (await stat(path)).size;
      const handle = await open(path, "r");
      try {
        got = (await handle.read(header, 0, 100, 0)).bytesRead;
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw new RecordingError("unreadable", path, errorText(error));
    }
    if (got < 100 || header.subarray(0, 16).toString("latin1") !== SQLITE_MAGIC) {
      throw new RecordingError("corrupt", path, got < 100 ? `only ${size} bytes: not a SQLite database` : "not a SQLite database (bad header)");
    }
    let db: SqliteDb | undefined;
    try {
      const better = loadBetterSqlite();
      db = better !== null ? openBetter(better, path) : await openSqlJs(path);
      return new Sqlite3FileReader(path, size, db, catalogue, messageCompression);
    } catch (error) {
      db?.close();
      throw error instanceof RecordingError ? error : new RecordingError("corrupt", path, errorText(error));
    }
  }

  async *messages(warnings: string[]): AsyncGenerator<FileMessage> {
    let rows: Iterator<SqlRow>;
    const damaged: string[] = [];
    try {
      rows = this.#db.iterate("SELECT topic_id, timestamp, data, id FROM messages ORDER BY timestamp, id")[Symbol.iterator]();
    } catch (error) {
      throw new RecordingError("corrupt", this.path, errorText(error));
    }
    try {
      for (;;) {
        let next: IteratorResult<SqlRow>;
        try {
          next = rows.next();
        } catch (error) {
          throw new RecordingError("corrupt", this.path, errorText(error));
        }
        if (next.done === true) break;
        const row = next.value;
        const topic = this.#topicNames.get(Number(row[0]));
        if (topic === undefined) throw new RecordingError("corrupt", this.path, `message with unknown topic_id ${String(row[0])}`);
        // better-sqlite3 gives Buffers; consumers get plain Uint8Array views (as from every reader).
        let data = row[2] instanceof Uint8Array ? new Uint8Array(row[2].buffer, row[2].byteOffset, row[2].byteLength) : new Uint8Array(0);
        if (this.#messageCompression) {
          let raw: Buffer;
          try {
            raw = zstdDecompress(data);
          } catch (error) {
            // Each message is its own zstd frame: the damage is this row, named by id, topic and time.
            const where = `message id ${String(row[3])} (${topic}, log time ${String(row[1])}): zstd message compression: ${errorText(error)}`;
            if (!this.salvage) throw new RecordingError("corrupt", this.path, where);
            damaged.push(where);
            continue;
          }
          data = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
        }
        yield { topic, logTime: BigInt(row[1] as bigint | number), data };
      }
    } finally {
      rows.return?.();
    }
    if (damaged.length > 0) warnings.push(`salvaged: ${this.path}: ${damaged.length} damaged message${damaged.length === 1 ? "" : "s"} skipped (${damaged.slice(0, 3).join("; ")}${damaged.length > 3 ? "; …" : ""}); every other message is kept`);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

// ---- the bag folder ----

function storageOf(file: string): "sqlite3" | "mcap" | undefined {
  const name = file.endsWith(".zstd") ? file.slice(0, -5) : file;
  return extname(name) === ".db3" ? "sqlite3" : extname(name) === ".mcap" ? "mcap" : undefined;
}

/** `name_12.db3` sorts after `name_2.db3`: rosbag2 numbers split files without padding. */
function splitIndex(file: string): number {
  const m = /_(\d+)\.(db3|mcap)(\.zstd)?$/.exec(file);
  return m ? Number(m[1]) : -1;
}

export function isRosbag2Folder(path: string): boolean {
  return existsSync(join(path, "metadata.yaml"));
}

async function decompressFileTo(source: string, dir: string): Promise<string> {
  const target = join(dir, basename(source).slice(0, -".zstd".length));
  await pipeline(createReadStream(source), new DecompressStream(), createWriteStream(target));
  return target;
}

/** Opens a rosbag2 bag folder. Throws RecordingError. */
export async function openRosbag2(folder: string, options: OpenRecordingOptions = {}): Promise<RecordingSource> {
  const warnings: string[] = [];
  const catalogue = catalogueWith(options.msgPaths);
  let meta: Rosbag2Metadata["rosbag2_bagfile_information"] | undefined;
  const metadataPath = join(folder, "metadata.yaml");
  if (existsSync(metadataPath)) {
    let text: string;
    try {
      text = await readFile(metadataPath, "utf8");
    } catch (error) {
      throw new RecordingError("unreadable", metadataPath, errorText(error));
    }
    meta = parseRosbag2Metadata(text, metadataPath).rosbag2_bagfile_information;
  } else {
    warnings.push("no metadata.yaml: storage files found in the folder are read in name order");
  }
  let files = meta?.relative_file_paths ?? [];
  if (files.length === 0) {
    const entries = (await readdir(folder)).filter((f) => storageOf(f) !== undefined);
    files = entries.sort((a, b) => splitIndex(a) - splitIndex(b) || a.localeCompare(b));
  }
  if (files.length === 0) throw new RecordingError("corrupt", folder, "rosbag2 folder without any .db3 or .mcap storage file");

  let storage = meta?.storage_identifier ?? "";
  if (storage === "") {
    const inferred = new Set(files.map(storageOf));
    if (inferred.size !== 1 || inferred.has(undefined)) throw new RecordingError("unknown", folder, `cannot infer the storage plugin from files ${files.join(", ")}`);
    storage = [...inferred][0]!;
    warnings.push(`storage_identifier ${meta === undefined ? "missing" : "empty"}: inferred '${storage}' from the file extensions`);
  }
  if (storage !== "sqlite3" && storage !== "mcap") throw new RecordingError("unsupported", folder, `storage plugin '${storage}' (supported: sqlite3, mcap)`);
  const compression = meta?.compression_format ?? "";
  const mode = (meta?.compression_mode ?? "").toUpperCase();
  if (compression !== "" && compression !== "zstd") throw new RecordingError("unsupported", folder, `compression_format '${compression}' (supported: zstd)`);

  let tempDir: string | undefined;
  const readers: StorageFileReader[] = [];
  try {
    for (const relative of files) {
      let path = join(folder, relative);
      if (!existsSync(path) && existsSync(`${path}.zstd`)) path = `${path}.zstd`;
      if (!existsSync(path)) throw new RecordingError("unreadable", path, "storage file listed in metadata.yaml is missing");
      const originalBytes = (await stat(path)).size;
      if (path.endsWith(".zstd")) {
        tempDir ??= await mkdtemp(join(tmpdir(), "syncbag-rosbag2-"));
        try {
          path = await decompressFileTo(path, tempDir);
        } catch (error) {
          throw new RecordingError("corrupt", join(folder, relative), `zstd file compression: ${errorText(error)}`);
        }
      }
      const reader =
        storage === "sqlite3"
          ? Object.assign(await Sqlite3FileReader.open(path, catalogue, compression === "zstd" && mode === "MESSAGE"), { salvage: options.salvage ?? false })
          : await McapFileReader.open(path, { ...(options.salvage !== undefined ? { salvage: options.salvage } : {}), ...(options.reorderBufferBytes !== undefined ? { reorderBufferBytes: options.reorderBufferBytes } : {}) });
      if (reader instanceof Sqlite3FileReader && reader.emptyFormats.length > 0) warnings.push(`${relative}: empty serialization_format for ${reader.emptyFormats.join(", ")}: read as CDR (rosbag2's default)`);
      readers.push(Object.assign(reader, { bytes: originalBytes }) as StorageFileReader);
    }
  } catch (error) {
    for (const r of readers) await r.close();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    throw error;
  }

  const extraTopics: TopicDescription[] = (meta?.topics_with_message_count ?? []).map(({ topic_metadata: t, message_count }) => ({
    topic: t.name,
    type: t.type,
    encoding: t.serialization_format,
    ...(message_count != null ? { messageCount: Number(message_count) } : {}),
    ...(t.offered_qos_profiles !== undefined && t.offered_qos_profiles !== "" ? { qos: typeof t.offered_qos_profiles === "string" ? t.offered_qos_profiles : stringifyYaml(t.offered_qos_profiles) } : {}),
  }));
  const expected = meta?.message_count != null ? Number(meta.message_count) : undefined;
  const found = readers.reduce((n, r) => n + (r.messageCount ?? 0), 0);
  if (expected !== undefined && readers.every((r) => r.messageCount !== undefined) && expected !== found) {
    warnings.push(`metadata.yaml says ${expected} messages, the storage files hold ${found}`);
  }
  const source = new CombinedSource({
    path: folder,
    format: storage === "sqlite3" ? "rosbag2-sqlite3" : "rosbag2-mcap",
    files: readers,
    catalogue,
    extraTopics,
    details: { storageIdentifier: storage, metadataVersion: String(meta?.version ?? "none"), ...(compression ? { compression: `${compression}/${mode}` } : {}) },
    ...(meta?.ros_distro ? { rosDistro: meta.ros_distro } : readers[0]?.details.rosDistro ? { rosDistro: readers[0].details.rosDistro } : {}),
    warnings,
    ...(options.salvage !== undefined ? { salvage: options.salvage } : {}),
  });
  if (tempDir === undefined) return source;
  const dir = tempDir;
  const close = source.close.bind(source);
  return Object.assign(source, { close: async () => { await close(); await rm(dir, { recursive: true, force: true }); } });
}
