/**
 * Chunk compressors. zstd via zstd-napi (native, builds from bundled source here); lz4 via
 * lz4-napi's frame format, which runs on libuv's thread pool and whose large frames
 * @foxglove/wasm-lz4 (what Foxglove and @mcap/support decode with) reads back — unlike lz4js's
 * (see DESIGN.md). A compressor is an async function so a worker-thread one can be injected.
 */
import { compressFrame, decompressFrameSync } from "lz4-napi";
import { Compressor, decompress as zstdDecompress } from "zstd-napi";
import type { Compression } from "./config.js";

export interface CompressedChunk {
  /** MCAP compression name: "zstd", "lz4" or "" (none). */
  compression: string;
  data: Uint8Array;
}

export type ChunkCompressor = (data: Uint8Array) => Promise<CompressedChunk> | CompressedChunk;

/** The compressor for a kind; null for "none" (uncompressed chunks are written without a copy). */
export function chunkCompressor(kind: Compression, zstdLevel = 1): ChunkCompressor | null {
  switch (kind) {
    case "none":
      return null;
    case "lz4":
      return async (data) => ({ compression: "lz4", data: await compressFrame(data) });
    case "zstd": {
      // One reusable context: a fresh one per chunk costs allocations at every close.
      const zstd = new Compressor();
      zstd.setParameters({ compressionLevel: zstdLevel });
      return (data) => ({ compression: "zstd", data: zstd.compress(data) });
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
  return out;
}
