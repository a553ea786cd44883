/**
 * An open file as @mcap/core's IReadable (what McapIndexedReader reads the summary and chunks
 * through): positioned reads that fill the whole range or fail naming where the file ended, so a
 * truncated file is reported, never read as zeros.
 */
import type { FileHandle } from "node:fs/promises";
import type { McapTypes } from "@mcap/core";

export class FileReadable implements McapTypes.IReadable {
  constructor(
    readonly handle: FileHandle,
    readonly bytes: bigint,
  ) {}

  /** The readable of an open file, its size taken once. */
  static async of(handle: FileHandle): Promise<FileReadable> {
    return new FileReadable(handle, BigInt((await handle.stat()).size));
  }

  async size(): Promise<bigint> {
    return this.bytes;
  }

  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    if (offset + size > this.bytes) throw new Error(`read of ${size} bytes at ${offset} past the end (${this.bytes})`);
    // Not zero-filled: every byte is read over (or the read fails). Its own ArrayBuffer, not pooled.
    const buffer = new Uint8Array(Buffer.allocUnsafeSlow(Number(size)).buffer, 0, Number(size));
    let done = 0;
    while (done < buffer.byteLength) {
      const { bytesRead } = await this.handle.read(buffer, done, buffer.byteLength - done, Number(offset) + done);
      if (bytesRead === 0) throw new Error(`unexpected end of file at ${Number(offset) + done}`);
      done += bytesRead;
    }
    return buffer;
  }
}
