/**
 * A file sink that writes with O_DIRECT (open(2)): the bytes go from our buffer to the device
 * without passing through the page cache. At lidar rates a buffered write costs the kernel's copy
 * into freshly allocated cache pages plus its later writeback — measured on this machine's ext4,
 * 2.0–2.2 ms of system CPU per MiB written (4 MiB pwrite at 200 MiB/s, with or without fdatasync),
 * against 0.1–0.2 ms per MiB direct (bench/record.bench.ts prints both). High-rate loggers write
 * direct for that reason; a recorder then leaves the page cache to the rest of the machine.
 *
 * O_DIRECT wants the buffer's address, the file offset and the length aligned to the device's
 * block (ext4 refuses otherwise with EINVAL). MCAP records are a byte stream, so:
 * - the bytes are staged in a WebAssembly.Memory, whose backing store V8 maps page-aligned
 *   (a Node Buffer is not: malloc's alignment is 16 bytes);
 * - every write starts at the block holding the current position: the staging buffer keeps that
 *   block's bytes already written (the tail) in front of the new ones, so a block is rewritten
 *   whole;
 * - the last partial block goes out padded with zeros, so once `write` resolves every byte is in
 *   the file (a kill -9 loses nothing the buffered sink would have kept); the padding past
 *   `position()` is overwritten by the next write and cut off by `close()` (ftruncate to the
 *   logical length). A file left by a crash ends in at most BLOCK − 1 zero bytes after the last
 *   record, which readers and `recoverMcap` treat as a truncated record.
 *
 * Where the file system takes no O_DIRECT, or refuses the staging buffer's alignment, the
 * probe at creation fails and `createFileSink` returns the buffered FileSink instead; it writes
 * direct only on local block-device file systems (LOCAL_BLOCK_FS).
 */
import { constants } from "node:fs";
import { open, statfs, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { FileSink, type RecordSink } from "./sink.js";

/** WebAssembly.Memory, typed here: this project's @types/node does not declare the WebAssembly namespace. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
/** Absent under `node --jitless`, which turns WebAssembly off: then every file is written buffered. */
const WasmMemoryCtor = (globalThis as unknown as { WebAssembly?: { Memory?: new (descriptor: { initial: number }) => WasmMemory } }).WebAssembly?.Memory;

/** Alignment of offsets and lengths: 4 KiB covers 512-byte and 4K-sector devices and the page size. */
const BLOCK = 4096;
/** WebAssembly pages are 64 KiB. */
const WASM_PAGE = 65536;
/** Staging capacity to start with; it grows to the largest single write (a chunk and its indexes). */
const INITIAL_STAGING = 8 << 20;
/** Beyond this, one write goes out in several rounds rather than growing the staging further. */
const MAX_STAGING = 64 << 20;

export class DirectFileSink implements RecordSink {
  readonly #handle: FileHandle;
  readonly #memory: WasmMemory;
  #staging: Uint8Array;
  /** Logical length of the file (bytes written). */
  #position = 0;
  /** Bytes of the block holding #position that precede it, kept at the start of #staging. */
  #tail = 0;
  /** Set while the staged tail does not match the file (a cut-back whose read-back failed). */
  #broken: Error | null = null;
  readonly #path: string;

  private constructor(path: string, handle: FileHandle, memory: WasmMemory) {
    this.#path = path;
    this.#handle = handle;
    this.#memory = memory;
    this.#staging = new Uint8Array(memory.buffer);
  }

  /**
   * Creates (or truncates) `path` for direct writes, or returns null when this file system or
   * this process cannot write it direct (the caller then writes it buffered).
   */
  static async tryCreate(path: string, openFile: typeof open = open): Promise<DirectFileSink | null> {
    const staging = takeStaging();
    if (staging === null) return null;
    let handle: FileHandle;
    try {
      // 0o666 and the umask, as fs.open(path, "w") creates the buffered sink's files.
      handle = await openFile(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o666);
    } catch (error) {
      returnStaging(staging);
      if (isUnsupported(error)) return null;
      throw error;
    }
    const sink = new DirectFileSink(path, handle, staging);
    try {
      // One zero block at 0 and back to empty: EINVAL here means the alignment is refused.
      await handle.write(sink.#staging, 0, BLOCK, 0);
      await handle.truncate(0);
      return sink;
    } catch (error) {
      await handle.close().catch(() => undefined);
      returnStaging(sink.#memory);
      if (isUnsupported(error)) return null;
      throw error;
    }
  }

  position(): number {
    return this.#position;
  }

  async write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#broken !== null) throw this.#broken;
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    if (total === 0) return;
    this.#ensure(Math.min(MAX_STAGING, roundUp(this.#tail + total)));
    let used = this.#tail;
    for (const buffer of buffers) {
      let from = 0;
      while (from < buffer.byteLength) {
        const room = this.#staging.byteLength - used;
        if (room === 0) {
          // A write larger than the staging: out with the whole blocks, keep the partial one.
          used = await this.#emit(used, false);
          continue;
        }
        const n = Math.min(room, buffer.byteLength - from);
        this.#staging.set(buffer.subarray(from, from + n), used);
        used += n;
        from += n;
      }
    }
    await this.#emit(used, true);
  }

  /**
   * Writes staging[0, used) at the block holding the file's end and advances the position.
   * `final`: the partial last block goes out zero-padded and stays staged as the tail;
   * otherwise only whole blocks go out and the remainder moves to the front. Returns the bytes
   * left staged.
   */
  async #emit(used: number, final: boolean): Promise<number> {
    const base = this.#position - this.#tail;
    const whole = used - (used % BLOCK);
    const length = final ? roundUp(used) : whole;
    if (final) this.#staging.fill(0, used, length);
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.#handle.write(this.#staging, done, length - done, base + done);
      if (bytesWritten <= 0 || bytesWritten % BLOCK !== 0) throw new Error(`direct write of ${length - done} bytes at ${base + done} wrote ${bytesWritten}`);
      done += bytesWritten;
    }
    this.#position = base + used;
    const keep = used - whole;
    this.#staging.copyWithin(0, whole, used);
    this.#tail = keep;
    return keep;
  }

  #ensure(bytes: number): void {
    if (this.#staging.byteLength >= bytes) return;
    this.#memory.grow(Math.ceil((bytes - this.#staging.byteLength) / WASM_PAGE));
    this.#staging = new Uint8Array(this.#memory.buffer);
  }

  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  async truncate(position: number): Promise<void> {
    // Until the block holding the new end is read back, a write would rewrite it from stale bytes.
    this.#broken = new Error(`${this.#path}: cut back to byte ${position}, and the block before it could not be read back`);
    await this.#handle.truncate(position);
    this.#position = position;
    // The block holding the new end: read back what precedes it (direct reads want alignment too).
    const base = position - (position % BLOCK);
    const tail = position - base;
    if (tail > 0) {
      const { bytesRead } = await this.#handle.read(this.#staging, 0, BLOCK, base);
      if (bytesRead < tail) throw new Error(`${this.#path}: reading back the block at ${base} gave ${bytesRead} of ${tail} bytes`);
    }
    this.#tail = tail;
    this.#broken = null;
  }

  async close(): Promise<void> {
    try {
      // The zero padding of the last block goes, and the length is made durable: the file ends
      // at its last record (the footer's magic, where readers look for it).
      await this.#handle.truncate(this.#position);
      await this.#handle.datasync();
    } finally {
      await this.#handle.close();
      returnStaging(this.#memory);
    }
  }
}

/**
 * File systems on a local block device (statfs(2) f_type), where O_DIRECT skips the page cache's
 * copy and write-back: ext4 (also ext2/3), XFS, Btrfs, F2FS. Elsewhere direct buys nothing or
 * costs: tmpfs keeps the bytes in memory either way, and on NFS, CIFS or FUSE every direct write
 * is a synchronous round trip to the server.
 */
const LOCAL_BLOCK_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0xf2f52010]);

/**
 * The sink recordings write to: direct on a local block-device file system that takes it (see
 * DirectFileSink), buffered otherwise or when `direct` is false.
 */
export async function createFileSink(path: string, options: { direct: boolean }): Promise<RecordSink> {
  if (options.direct && (await onLocalBlockFs(dirname(path)))) {
    const sink = await DirectFileSink.tryCreate(path);
    if (sink !== null) return sink;
  }
  return FileSink.create(path);
}

/**
 * Staging memories of closed sinks, reused: V8 reserves each WebAssembly.Memory's address space
 * with guard regions (~10 GiB of virtual space on x64), so a process that opens thousands of files
 * (split recordings, a fleet worker) must not leave one per file to the garbage collector.
 */
const freeStaging: WasmMemory[] = [];
const KEEP_STAGING = 4;

/** A staging memory, or null where none can be had (no WebAssembly, or V8 refuses the reservation). */
function takeStaging(): WasmMemory | null {
  const free = freeStaging.pop();
  if (free !== undefined) return free;
  if (WasmMemoryCtor === undefined) return null;
  try {
    return new WasmMemoryCtor({ initial: INITIAL_STAGING / WASM_PAGE });
  } catch {
    return null;
  }
}

function returnStaging(memory: WasmMemory): void {
  if (freeStaging.length < KEEP_STAGING && !freeStaging.includes(memory)) freeStaging.push(memory);
}

/** Whether files in `dir` are written direct when asked (a local block-device file system). */
export async function onLocalBlockFs(dir: string): Promise<boolean> {
  try {
    return LOCAL_BLOCK_FS.has((await statfs(dir)).type);
  } catch {
    return false;
  }
}

const roundUp = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/** EINVAL: no O_DIRECT here, or the alignment is refused; EOPNOTSUPP likewise on some file systems. */
function isUnsupported(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "EINVAL" || code === "EOPNOTSUPP" || code === "ENOTSUP";
}
