/**
 * Chunk compressors. zstd via zstd-napi (native, builds from bundled source here); lz4 via
 * lz4-napi's frame format, which runs on libuv's thread pool and whose large frames
 * @foxglove/wasm-lz4 (what Foxglove and @mcap/support decode with) reads back — unlike lz4js's
 * (see DESIGN.md). A compressor is an async function so a worker-thread one can be injected.
 */
import { createRequire } from "node:module";
import { compressFrame, decompressFrameSync } from "lz4-napi";
import { Compressor, decompress as zstdDecompress } from "zstd-napi";
import type { Compression } from "./config.js";
import { fastCrcPath } from "./crc.js";
import { sharedThread, ThreadJobs } from "./thread-jobs.js";

export interface CompressedChunk {
  /** MCAP compression name: "zstd", "lz4" or "" (none). */
  compression: string;
  data: Uint8Array;
  /** CRC-32 of the uncompressed input, when the compressor computed it (off the main thread). */
  uncompressedCrc?: number;
}

/**
 * Compresses one chunk; it owns `data` (a fresh buffer) and may transfer it to another thread.
 * `computesCrc`: it returns `uncompressedCrc` itself (the caller must not read `data` afterwards).
 * `borrows`: it is done with `data` when it returns (synchronous, keeps no reference), so the
 * caller may pass a scratch buffer it reuses.
 */
export type ChunkCompressor = ((data: Uint8Array) => Promise<CompressedChunk> | CompressedChunk) & { computesCrc?: boolean; borrows?: boolean };

/**
 * The compressor for a kind; null for "none" (uncompressed chunks are written without a copy).
 * lz4-napi's async call already runs on libuv's thread pool; zstd runs in a worker thread unless
 * `inWorker` is false. Either way the event loop does not stall on compression.
 */
export function chunkCompressor(kind: Compression, zstdLevel = 1, inWorker = true): ChunkCompressor | null {
  switch (kind) {
    case "none":
      return null;
    case "lz4":
      return async (data) => ({ compression: "lz4", data: await compressFrame(data) });
    case "zstd": {
      if (inWorker) {
        zstdWorker(); // started now, not on the first chunk: thread start-up would delay the first flush
        const inWorkerCompressor: ChunkCompressor = async (data) => ({ compression: "zstd", ...(await compressInWorker(data, zstdLevel)) });
        inWorkerCompressor.computesCrc = true;
        return inWorkerCompressor;
      }
      // One reusable context: a fresh one per chunk costs allocations at every close.
      const zstd = new Compressor();
      zstd.setParameters({ compressionLevel: zstdLevel });
      const inline: ChunkCompressor = (data) => ({ compression: "zstd", data: zstd.compress(data) });
      inline.borrows = true;
      return inline;
    }
  }
}

/** Decompresses one chunk's records with the native decoders; throws naming what went wrong. */
export function decompressChunk(compression: string, data: Uint8Array, uncompressedSize: number): Uint8Array {
  let out: Uint8Array;
  try {
    if (compression === "") out = data;
    else if (compression === "zstd") out = zstdDecompress(data);
    else if (compression === "lz4") out = decompressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else throw new Error(`unsupported chunk compression '${compression}'`);
  } catch (error) {
    throw new Error(`${compression || "uncompressed"} chunk does not decompress: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (out.byteLength !== uncompressedSize) throw new Error(`chunk holds ${out.byteLength} bytes, its header says ${uncompressedSize}`);
  // A plain Uint8Array view, not the decoder's Buffer: messages are handed out as views into it,
  // and a Buffer's slice() is a view where every other caller expects a copy.
  return Buffer.isBuffer(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : out;
}

/**
 * The zstd thread's job handler (see ThreadJobs): it loads the same zstd-napi the main thread
 * resolved. zstd-napi is synchronous and a 4–6 MiB lidar chunk takes 13–37 ms here: on the main
 * thread that would stall transport callbacks and add jitter to receive stamps.
 */
const ZSTD_HANDLER = `
const { Compressor } = require(workerData.zstdPath);
const { crc32 } = require(workerData.crcPath ?? "node:zlib");
const compressors = new Map();
function handle(job) {
  let zstd = compressors.get(job.level);
  if (zstd === undefined) {
    zstd = new Compressor();
    zstd.setParameters({ compressionLevel: job.level });
    compressors.set(job.level, zstd);
  }
  const crc = crc32(job.data);
  const out = zstd.compress(job.data);
  const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? new Uint8Array(out.buffer) : new Uint8Array(out);
  return { result: { data: owned, uncompressedCrc: crc }, transfer: [owned.buffer] };
}
`;

/** One zstd thread per process. */
const zstdWorker = sharedThread(() => new ThreadJobs<{ data: Uint8Array; level: number }, { data: Uint8Array; uncompressedCrc: number }>(ZSTD_HANDLER, { zstdPath: createRequire(import.meta.url).resolve("zstd-napi"), crcPath: fastCrcPath }, "zstd compression"));

/** Compresses `data` and computes its CRC, taking ownership of it: a whole-buffer view is transferred, anything else copied. */
function compressInWorker(data: Uint8Array, level: number): Promise<{ data: Uint8Array; uncompressedCrc: number }> {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
  const copy = whole ? data : new Uint8Array(data);
  return zstdWorker().run({ data: copy, level }, [copy.buffer as ArrayBuffer]);
}
