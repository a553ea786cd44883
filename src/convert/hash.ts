/** Content hashes for resumability: sha256 streamed over files (names included for folders). */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hash.update(piece);
  return hash.digest("hex");
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
