/**
 * @mcap/core IWritable over a file handle. McapWriter issues many small writes (a record at a
 * time: chunk, then one message index per channel…), so bytes are gathered into 1 MiB blocks
 * before each fs write. Call `flush()` after `McapWriter.end()` and before closing the handle.
 */
import type { FileHandle } from "node:fs/promises";
import type { IWritable } from "@mcap/core";

export class FileWritable implements IWritable {
  #position = 0n;
  readonly #block: Uint8Array;
  #used = 0;

  constructor(
    readonly handle: FileHandle,
    blockBytes = 1 << 20,
  ) {
    this.#block = new Uint8Array(blockBytes);
  }

  async write(buffer: Uint8Array): Promise<void> {
    this.#position += BigInt(buffer.byteLength);
    if (this.#used + buffer.byteLength <= this.#block.byteLength) {
      this.#block.set(buffer, this.#used);
      this.#used += buffer.byteLength;
      return;
    }
    await this.flush();
    if (buffer.byteLength >= this.#block.byteLength) await this.#writeAll(buffer);
    else {
      this.#block.set(buffer, 0);
      this.#used = buffer.byteLength;
    }
  }

  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    await this.#writeAll(this.#block.subarray(0, used));
  }

  async #writeAll(buffer: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(buffer, offset, buffer.byteLength - offset);
      offset += bytesWritten;
    }
  }

  position(): bigint {
    return this.#position;
  }
}
