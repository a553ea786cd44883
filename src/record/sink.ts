/**
 * Where MCAP bytes go: an append-only sink with explicit durability. A narrow interface so
 * tests inject failing sinks (ENOSPC) and benches compare against plain file writes.
 */
import { open, type FileHandle } from "node:fs/promises";

export interface RecordSink {
  /** Appends the buffers in order; resolves once all are handed to the OS. */
  write(buffers: readonly Uint8Array[]): Promise<void>;
  /** Bytes appended so far (the next write's offset). */
  position(): number;
  /** Flushes written data to stable storage. */
  sync(): Promise<void>;
  /** Cuts the file back to `position` (used to drop a partially written record after a failed write). */
  truncate(position: number): Promise<void>;
  close(): Promise<void>;
}

/** A file sink on one FileHandle: positional writev, so a failed write can be cut back cleanly. */
export class FileSink implements RecordSink {
  readonly #handle: FileHandle;
  #position = 0;

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Creates (or truncates) `path`. */
  static async create(path: string): Promise<FileSink> {
    return new FileSink(await open(path, "w"));
  }

  position(): number {
    return this.#position;
  }

  async write(buffers: readonly Uint8Array[]): Promise<void> {
    let pending = buffers.filter((b) => b.byteLength > 0);
    while (pending.length > 0) {
      const { bytesWritten } = await this.#handle.writev(pending as Uint8Array[], this.#position);
      this.#position += bytesWritten;
      // A short write (rare on regular files) resumes where it stopped.
      let skip = bytesWritten;
      const rest: Uint8Array[] = [];
      for (const buffer of pending) {
        if (skip >= buffer.byteLength) {
          skip -= buffer.byteLength;
          continue;
        }
        rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
      if (rest.length > 0 && bytesWritten === 0) throw new Error("write made no progress");
      pending = rest;
    }
  }

  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  async truncate(position: number): Promise<void> {
    await this.#handle.truncate(position);
    this.#position = position;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** A sink in memory (tests, snapshots of small size). */
export class MemorySink implements RecordSink {
  #parts: Uint8Array[] = [];
  #position = 0;

  position(): number {
    return this.#position;
  }

  async write(buffers: readonly Uint8Array[]): Promise<void> {
    for (const buffer of buffers) {
      this.#parts.push(buffer.slice());
      this.#position += buffer.byteLength;
    }
  }

  async sync(): Promise<void> {}

  async truncate(position: number): Promise<void> {
    const all = this.bytes().subarray(0, position);
    this.#parts = [all.slice()];
    this.#position = position;
  }

  async close(): Promise<void> {}

  bytes(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}
