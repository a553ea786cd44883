/**
 * Input discovery: files, folders and globs (`./fleet/**\/`, `runs/2024-*.bag`) → one entry per
 * drive. A folder with metadata.yaml is one rosbag2 drive; other folders are searched for bag
 * folders and loose .mcap/.bag/.db3 files. Explicitly named files are always taken (whatever their
 * name: opening decides if they are recordings); files found by searching are taken by extension.
 */
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve, sep } from "node:path";

export interface DiscoveredDrive {
  /** Unique, file-name-safe drive name (output stem). */
  name: string;
  /** Absolute path of the bag folder or recording file. */
  path: string;
}

export interface DiscoveryResult {
  drives: DiscoveredDrive[];
  /** Arguments that matched nothing or could not be listed. */
  problems: { path: string; reason: string }[];
}

const RECORDING_EXTENSIONS = new Set([".mcap", ".bag", ".db3"]);

function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function segmentRegex(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += `[${segment.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Expands a glob against the file system (`**` = any depth, hidden entries skipped). */
export async function expandGlob(pattern: string): Promise<string[]> {
  const absolute = resolve(pattern);
  const trailingSlash = /[/\\]$/.test(pattern);
  const parts = absolute.split(sep).filter((p, i) => p !== "" || i === 0);
  let firstGlob = parts.findIndex(hasGlob);
  if (firstGlob < 0) firstGlob = parts.length;
  const base = parts.slice(0, firstGlob).join(sep) || sep;
  const rest = parts.slice(firstGlob);
  const out = new Set<string>();
  const walk = async (dir: string, index: number): Promise<void> => {
    if (index === rest.length) {
      if (!trailingSlash || (await stat(dir).catch(() => undefined))?.isDirectory()) out.add(dir);
      return;
    }
    const segment = rest[index]!;
    if (segment === "**") {
      await walk(dir, index + 1);
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith(".")) await walk(join(dir, e.name), index);
      return;
    }
    if (!hasGlob(segment)) {
      const next = join(dir, segment);
      if (existsSync(next)) await walk(next, index + 1);
      return;
    }
    const re = segmentRegex(segment);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.name.startsWith(".") && re.test(e.name)) await walk(join(dir, e.name), index + 1);
    }
  };
  await walk(base, 0);
  return [...out].sort();
}

async function search(dir: string, exclude: readonly string[], into: string[]): Promise<void> {
  if (exclude.some((x) => dir === x || dir.startsWith(x + sep))) return;
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.isFile() && e.name === "metadata.yaml")) {
    into.push(dir);
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await search(p, exclude, into);
    else if (e.isFile() && RECORDING_EXTENSIONS.has(extname(e.name)) && !e.name.endsWith(".tmp")) into.push(p);
  }
}

function stem(path: string): string {
  const name = basename(path);
  const ext = extname(name);
  return (RECORDING_EXTENSIONS.has(ext) ? name.slice(0, -ext.length) : name).replace(/[^A-Za-z0-9_.-]+/g, "_") || "drive";
}

/** Resolves inputs to drives; `exclude` (e.g. the output folder) is never searched. */
export async function discoverInputs(inputs: readonly string[], exclude: readonly string[] = []): Promise<DiscoveryResult> {
  const problems: DiscoveryResult["problems"] = [];
  const found: string[] = [];
  const excluded = exclude.map((x) => resolve(x));
  for (const input of inputs) {
    const paths = existsSync(input) ? [resolve(input)] : hasGlob(input) ? await expandGlob(input) : [];
    if (paths.length === 0) {
      problems.push({ path: input, reason: hasGlob(input) ? "pattern matched nothing" : "no such file or folder" });
      continue;
    }
    for (const path of paths) {
      try {
        const info = await stat(path);
        if (!info.isDirectory()) found.push(basename(path) === "metadata.yaml" ? dirname(path) : path);
        else {
          const before = found.length;
          await search(path, excluded, found);
          if (found.length === before && !hasGlob(input)) problems.push({ path, reason: "no recordings found in this folder" });
        }
      } catch (error) {
        problems.push({ path, reason: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  // A .db3/.mcap inside a bag folder that was also found belongs to that bag.
  const unique = [...new Set(found)];
  const folders = new Set(unique.filter((p) => existsSync(join(p, "metadata.yaml"))));
  const paths = unique.filter((p) => !folders.has(dirname(p)) || folders.has(p)).sort();
  // Names: the stem, prefixed by parent folders only where stems collide.
  const drives: DiscoveredDrive[] = [];
  const byStem = new Map<string, string[]>();
  for (const p of paths) byStem.set(stem(p), [...(byStem.get(stem(p)) ?? []), p]);
  const used = new Set<string>();
  for (const p of paths) {
    let name = stem(p);
    if (byStem.get(name)!.length > 1) {
      const parent = basename(dirname(p)).replace(/[^A-Za-z0-9_.-]+/g, "_");
      name = `${parent}__${name}`;
    }
    let unique = name;
    for (let i = 2; used.has(unique); i++) unique = `${name}-${i}`;
    used.add(unique);
    drives.push({ name: unique, path: p });
  }
  return { drives, problems };
}
