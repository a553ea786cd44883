/**
 * CRC-32 (IEEE 802.3, the checksum MCAP specifies) of chunks, summaries and attachments.
 * @node-rs/crc32 (the crc32fast crate: PCLMULQDQ folding) runs at 10.8 GiB/s on this machine
 * against node:zlib's 3.9–4.1 GiB/s with the same values; the CRC of the chunks read and
 * written was over a quarter of a copy-only conversion's thread time. Where the package has no
 * native binary for a platform, node:zlib's is used.
 */
import { createRequire } from "node:module";
import { crc32 as zlibCrc32 } from "node:zlib";

export type Crc32 = (data: Uint8Array, initial?: number) => number;

const require = createRequire(import.meta.url);

function load(): { crc32: Crc32; path: string | null } {
  try {
    const path = require.resolve("@node-rs/crc32");
    const fast = (require(path) as { crc32: Crc32 }).crc32;
    // A binary that loads but disagrees with zlib on a known vector is not used.
    const probe = new TextEncoder().encode("123456789");
    if (fast(probe) === 0xcbf43926 && fast(probe.subarray(4), fast(probe.subarray(0, 4))) === 0xcbf43926) return { crc32: fast, path };
  } catch {
    // no binary for this platform: zlib's below
  }
  return { crc32: (data, initial = 0) => zlibCrc32(data, initial), path: null };
}

const chosen = load();

/** CRC-32 of `data`, continuing from `initial` (the CRC of the bytes before it). */
export const crc32: Crc32 = chosen.crc32;

/** Which implementation runs (for threads that load it themselves): the package's path, or null for node:zlib. */
export const fastCrcPath: string | null = chosen.path;
