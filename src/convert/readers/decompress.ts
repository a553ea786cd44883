/**
 * Decompressors for MCAP chunks and ROS 1 bag chunks. zstd and lz4 use the native addons
 * (zstd-napi, lz4-napi) rather than @mcap/support's WebAssembly set: faster, and
 * @foxglove/wasm-lz4 fails on some large frames and then on every later call (see DESIGN.md).
 * bz2 (ROS 1 only) uses @foxglove/wasm-bz2, the decoder @mcap/support itself ships.
 */
import { createRequire } from "node:module";
import { decompressFrameSync } from "lz4-napi";
import { decompress as zstdDecompress } from "zstd-napi";

type Decompress = (buffer: Uint8Array, size: number) => Uint8Array;

interface Bzip2 {
  decompress(src: Uint8Array, destSize: number, options?: { small?: boolean }): Uint8Array;
}
const require = createRequire(import.meta.url);
let bzip2: Promise<Bzip2> | undefined;
async function loadBzip2(): Promise<Bzip2> {
  // CommonJS `export =` class with a static async init().
  const Bzip2Class = require("@foxglove/wasm-bz2") as { init(): Promise<Bzip2> };
  bzip2 ??= Bzip2Class.init();
  return bzip2;
}

function checked(name: string, fn: (buffer: Uint8Array) => Uint8Array): Decompress {
  return (buffer, size) => {
    const out = fn(buffer);
    if (out.byteLength !== size) throw new Error(`${name} chunk decompressed to ${out.byteLength} bytes, expected ${size}`);
    return out;
  };
}

const zstd: Decompress = checked("zstd", (b) => zstdDecompress(b));
const lz4: Decompress = checked("lz4", (b) => decompressFrameSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength)));

/** Handlers in @mcap/core's shape (decompressed size as bigint). */
export function mcapDecompressHandlers(): Record<string, (buffer: Uint8Array, size: bigint) => Uint8Array> {
  return {
    zstd: (b, size) => zstd(b, Number(size)),
    lz4: (b, size) => lz4(b, Number(size)),
  };
}

/** Handlers in @foxglove/rosbag's shape (ROS 1 chunk compression names). */
export async function ros1DecompressHandlers(): Promise<Record<string, Decompress>> {
  const bz = await loadBzip2();
  return {
    lz4,
    bz2: (b, size) => bz.decompress(b, size, { small: false }),
  };
}
