/**
 * The records of one open chunk, kept as a list of pieces instead of one growing buffer:
 * message record headers and small payloads are packed into reusable blocks, large payloads
 * (point clouds, images) are referenced, not copied. An uncompressed chunk is then written
 * with writev and no copy at all; a compressed one is concatenated once for the compressor.
 *
 * Measured here (bench/record.bench.ts): @mcap/core's McapChunkBuilder copies every payload
 * twice (into its buffer, then out of it), which cost a third of the passthrough throughput.
 * Payloads are referenced until the chunk is flushed: callers must not mutate them.
 */
import { Opcode } from "@mcap/core";

const MESSAGE_HEADER = 1 + 8 + 2 + 4 + 8 + 8;
/** Payloads below this are copied into the block (fewer, larger pieces for writev). */
const COPY_BELOW = 32 * 1024;
const BLOCK = 1024 * 1024;

export class ChunkAssembler {
  #pieces: Uint8Array[] = [];
  #block = new Uint8Array(BLOCK);
  #view = new DataView(this.#block.buffer);
  #used = 0;
  /** Start of the block region not yet pushed to #pieces. */
  #pending = 0;
  #size = 0;
  #count = 0;
  #indexes = new Map<number, Array<[bigint, bigint]>>();
  startTime = 0n;
  endTime = 0n;

  /** Uncompressed bytes of the chunk's records. */
  get byteLength(): number {
    return this.#size;
  }

  get messageCount(): number {
    return this.#count;
  }

  /** Per channel: [logTime, offset of the record in the uncompressed chunk]. */
  get messageIndexes(): Map<number, Array<[bigint, bigint]>> {
    return this.#indexes;
  }

  addMessage(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    if (this.#count === 0 || logTime < this.startTime) this.startTime = logTime;
    if (this.#count === 0 || logTime > this.endTime) this.endTime = logTime;
    let index = this.#indexes.get(channelId);
    if (index === undefined) {
      index = [];
      this.#indexes.set(channelId, index);
    }
    index.push([logTime, BigInt(this.#size)]);
    this.#count++;

    const copy = data.byteLength < COPY_BELOW;
    this.#reserve(MESSAGE_HEADER + (copy ? data.byteLength : 0));
    const view = this.#view;
    let at = this.#used;
    view.setUint8(at, Opcode.MESSAGE);
    view.setBigUint64(at + 1, BigInt(2 + 4 + 8 + 8 + data.byteLength), true);
    view.setUint16(at + 9, channelId, true);
    view.setUint32(at + 11, sequence, true);
    view.setBigUint64(at + 15, logTime, true);
    view.setBigUint64(at + 23, publishTime, true);
    at += MESSAGE_HEADER;
    if (copy) {
      this.#block.set(data, at);
      at += data.byteLength;
      this.#used = at;
    } else {
      this.#used = at;
      this.#pushPending();
      this.#pieces.push(data);
    }
    this.#size += MESSAGE_HEADER + data.byteLength;
  }

  /** The chunk's records as pieces in order (valid until reset()). */
  pieces(): Uint8Array[] {
    this.#pushPending();
    return this.#pieces;
  }

  /** Empties the chunk; the current block is reused (its bytes must have been written or copied). */
  reset(): void {
    this.#pieces = [];
    this.#used = 0;
    this.#pending = 0;
    this.#size = 0;
    this.#count = 0;
    this.#indexes = new Map();
    this.startTime = 0n;
    this.endTime = 0n;
  }

  #pushPending(): void {
    if (this.#used > this.#pending) this.#pieces.push(this.#block.subarray(this.#pending, this.#used));
    this.#pending = this.#used;
  }

  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#block.byteLength) return;
    this.#pushPending();
    // Earlier pieces keep the old block alive; a fresh one takes the new records.
    this.#block = new Uint8Array(Math.max(BLOCK, bytes));
    this.#view = new DataView(this.#block.buffer);
    this.#used = 0;
    this.#pending = 0;
  }
}
