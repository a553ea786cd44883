/**
 * Content hashes for resumability: sha256 streamed over files (names included for folders).
 * Files are hashed on a thread of their own, so a conversion can run while its input is hashed
 * (see `runDriveTask`): on a 1.8 GB standard-rig drive the hash alone takes about 2 s here.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { sharedThread, ThreadJobs } from "../record/thread-jobs.js";

/**
 * The hashing thread's handler (see ThreadJobs): two 1 MiB buffers, one read while the other is
 * hashed, reused for the whole file (a fresh buffer per piece made one full GC per ~64 MB read;
 * 4 MiB pieces were slower: a piece should stay in the cache between read and hash).
 */
const HASH_HANDLER = `
const { createHash } = require("node:crypto");
const { open } = require("node:fs/promises");
const PIECE = 1 << 20;
const buffers = [Buffer.allocUnsafeSlow(PIECE), Buffer.allocUnsafeSlow(PIECE)];
async function handle(path) {
  const file = await open(path, "r");
  try {
    const hash = createHash("sha256");
    let position = 0;
    let which = 0;
    let pending = file.read(buffers[which], 0, PIECE, position);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      which ^= 1;
      pending = file.read(buffers[which], 0, PIECE, position);
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { result: hash.digest("hex") };
  } finally {
    await file.close();
  }
}
`;

const hashThread = sharedThread(() => new ThreadJobs<string, string>(HASH_HANDLER, undefined, "hashing"));

/** sha256 of one file, hex; the calling thread stays free meanwhile. */
export function sha256File(path: string): Promise<string> {
  return hashThread().run(path);
}

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const p = join(root, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

/** sha256 of a file, or of a folder's files (relative name, NUL, content hash, newline; sorted). */
export async function sha256Input(path: string): Promise<{ hash: string; bytes: number }> {
  const info = await stat(path);
  if (!info.isDirectory()) return { hash: await sha256File(path), bytes: info.size };
  const hash = createHash("sha256");
  let bytes = 0;
  for (const file of await filesUnder(path)) {
    bytes += (await stat(file)).size;
    hash.update(`${relative(path, file)}\0${await sha256File(file)}\n`);
  }
  return { hash: hash.digest("hex"), bytes };
}
