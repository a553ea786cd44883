/** @mcap/core IWritable over a file handle (writes are sequential: position = bytes written). */
import type { FileHandle } from "node:fs/promises";
import type { IWritable } from "@mcap/core";

export class FileWritable implements IWritable {
  #position = 0n;
  constructor(readonly handle: FileHandle) {}

  async write(buffer: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(buffer, offset, buffer.byteLength - offset);
      offset += bytesWritten;
    }
    this.#position += BigInt(buffer.byteLength);
  }

  position(): bigint {
    return this.#position;
  }
}
