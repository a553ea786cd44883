/**
 * One drive of a batch, run in a worker thread (or in-process): hash the input, skip it when
 * the previous run's outputs are complete and the hash matches, else open the recording, run the
 * converter into `.tmp` files, validate its report, hash the MCAP, and rename into place.
 * Never throws for a bad input: the result says failed, with the kind and the reason.
 */
import { existsSync } from "node:fs";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConvertProgress, ConverterModule, DriveConverter } from "./converter.js";
import type { DiscoveredDrive } from "./discover.js";
import { sha256File, sha256Input } from "./hash.js";
import type { IndexEntry } from "./index-file.js";
import { detectRecording, openRecording } from "./readers/open.js";
import { errorText, RecordingError, type RecordingSource, type SourceMessage } from "./readers/source.js";
import { parseDriveReport, qualityOf } from "./report.js";

export interface DriveTask {
  drive: DiscoveredDrive;
  outDir: string;
  msgPaths: string[];
  salvage: boolean;
  dryRun: boolean;
  force: boolean;
  previous?: IndexEntry;
  converter: ConverterModule;
  /** Lidar packet topics to decode (DriveConvertOptions.lidarPackets). */
  lidarPackets?: Record<string, Record<string, unknown>>;
}

export interface DriveProgress extends ConvertProgress {
  drive: string;
  /** "failed" ends a drive that failed (its fraction is how far it got, never shown as 100 %). */
  state: "hashing" | "converting" | "done" | "failed";
}

export function outputPaths(outDir: string, drive: string): { mcap: string; report: string } {
  return { mcap: join(outDir, `${drive}.mcap`), report: join(outDir, `${drive}.report.json`) };
}

/**
 * Under tsx (sources run as .ts, e.g. mocha or `npx tsx`), worker threads get tsx's require hook but
 * not its ESM hooks, so a .ts converter is required there; built code (dist/*.js) uses import().
 */
async function importModule(specifier: string): Promise<Record<string, unknown>> {
  if (!import.meta.url.endsWith(".ts")) return (await import(specifier)) as Record<string, unknown>;
  const path = specifier.startsWith("file:") ? fileURLToPath(specifier) : specifier;
  return createRequire(import.meta.url)(path) as Record<string, unknown>;
}

const converterCache = new Map<string, Promise<DriveConverter>>();
/** The converter function behind a module spec, imported once per thread. */
export async function loadConverter(spec: ConverterModule): Promise<DriveConverter> {
  const key = `${spec.module}#${spec.exportName}`;
  let loaded = converterCache.get(key);
  if (loaded === undefined) {
    loaded = importModule(spec.module).then((mod: Record<string, unknown>) => {
      const fn = mod[spec.exportName];
      if (typeof fn !== "function") throw new Error(`converter module ${spec.module} has no function export '${spec.exportName}'`);
      return fn as DriveConverter;
    });
    converterCache.set(key, loaded);
  }
  return loaded;
}

/** Reports progress by log time as the converter pulls messages. */
function withProgress(source: RecordingSource, report: (p: ConvertProgress) => void): RecordingSource {
  const start = source.metadata.startTime;
  const end = source.metadata.endTime;
  const span = start !== undefined && end !== undefined && end > start ? Number(end - start) : 0;
  let lastReport = 0;
  return {
    path: source.path,
    metadata: source.metadata,
    topics: source.topics,
    definitions: source.definitions,
    get warnings() {
      return source.warnings;
    },
    close: () => source.close(),
    messages: async function* (): AsyncIterable<SourceMessage> {
      let n = 0;
      for await (const m of source.messages()) {
        n++;
        const now = performance.now();
        if (now - lastReport > 100) {
          lastReport = now;
          report({ fraction: span > 0 ? Math.min(1, Math.max(0, Number(m.logTime - start!) / span)) : 0, messages: n });
        }
        yield m;
      }
    },
  };
}

export async function runDriveTask(task: DriveTask, onProgress: (p: DriveProgress) => void): Promise<IndexEntry> {
  const started = performance.now();
  const { drive } = task;
  const paths = outputPaths(task.outDir, drive.name);
  const base = { drive: drive.name, input: drive.path };
  let reached: DriveProgress = { drive: drive.name, state: "hashing", fraction: 0, messages: 0 };
  const progress = (p: DriveProgress): void => {
    reached = p;
    onProgress(p);
  };
  const failed = (kind: string, reason: string, extra: Partial<IndexEntry> = {}): IndexEntry => {
    onProgress({ ...reached, state: "failed" });
    return {
      ...base,
      ...extra,
      status: "failed",
      error: { kind, reason },
      elapsedS: (performance.now() - started) / 1000,
      completedAt: new Date().toISOString(),
    };
  };
  progress({ drive: drive.name, state: "hashing", fraction: 0, messages: 0 });
  // The input hash decides a skip only when a previous output exists: then it comes first.
  // Otherwise it only goes into the index, so the hashing thread computes it while the conversion
  // reads the same files (on two cores that hides ~2 s per 1.8 GB drive).
  const prev = task.previous;
  const mayResume = !task.force && prev !== undefined && (prev.status === "converted" || prev.status === "skipped") && prev.output !== undefined;
  const first = mayResume || task.dryRun;
  const hashing = sha256Input(drive.path);
  hashing.catch(() => undefined); // awaited below; a failure is reported there
  const hashed = (): Promise<Partial<IndexEntry>> => hashing.then((i) => ({ inputHash: i.hash, inputBytes: i.bytes }), () => ({}));
  if (first) {
    let input: { hash: string; bytes: number };
    try {
      input = await hashing;
    } catch (error) {
      return failed("unreadable", errorText(error));
    }
    if (mayResume && prev.inputHash === input.hash) {
      const mcap = await stat(prev.output!.mcap).catch(() => undefined);
      if (mcap?.size === prev.output!.mcapBytes && existsSync(prev.output!.report)) {
        onProgress({ drive: drive.name, state: "done", fraction: 1, messages: prev.messageCount ?? 0 });
        return { ...prev, status: "skipped", elapsedS: (performance.now() - started) / 1000 };
      }
    }
    if (task.dryRun) {
      // Recognise the format (magic bytes) without reading the recording through.
      try {
        await detectRecording(drive.path);
      } catch (error) {
        if (error instanceof RecordingError) return failed(error.kind, error.reason, await hashed());
        throw error;
      }
      return { ...base, status: "planned", ...(await hashed()) };
    }
  }

  const tmp = { mcapPath: `${paths.mcap}.tmp`, reportPath: `${paths.report}.tmp` };
  let source: RecordingSource | undefined;
  try {
    source = await openRecording(drive.path, { msgPaths: task.msgPaths, salvage: task.salvage });
    const converter = await loadConverter(task.converter);
    progress({ drive: drive.name, state: "converting", fraction: 0, messages: 0 });
    const truth = `${drive.path.replace(/\/$/, "").replace(/\.(mcap|bag|db3)$/, "")}.truth.json`;
    const tracked = withProgress(source, (p) => progress({ drive: drive.name, state: "converting", ...p }));
    const raw = await converter(tracked, tmp, { drive: drive.name, msgPaths: task.msgPaths, ...(existsSync(truth) ? { truthPath: truth } : {}), ...(task.lidarPackets ? { lidarPackets: task.lidarPackets } : {}) }, (p) => {
      if (Number.isFinite(p.fraction)) progress({ drive: drive.name, state: "converting", ...p });
    });
    const salvaged = source.warnings.filter((w) => w.startsWith("salvaged: ")).map((w) => w.slice("salvaged: ".length));
    // Nothing intact at all: a drive of zero messages would be a report of nonsense times.
    if (raw.messageCount === 0 && salvaged.length > 0) throw new RecordingError("corrupt", drive.path, `nothing intact to salvage (${salvaged.join("; ")})`);
    const report = parseDriveReport(raw, drive.name);
    for (const w of source.warnings) if (!report.warnings.includes(w)) report.warnings.push(w);
    const clockWarnings = report.warnings.filter((w) => w.startsWith("clock: "));
    await writeFile(tmp.reportPath, JSON.stringify(report, null, 2) + "\n");
    const input = await hashing.catch((error: unknown) => {
      throw new RecordingError("unreadable", drive.path, errorText(error));
    });
    const mcapHash = await sha256File(tmp.mcapPath);
    const mcapBytes = (await stat(tmp.mcapPath)).size;
    await rename(tmp.mcapPath, paths.mcap);
    await rename(tmp.reportPath, paths.report);
    onProgress({ drive: drive.name, state: "done", fraction: 1, messages: report.messageCount });
    return {
      ...base,
      status: "converted",
      format: report.format,
      inputHash: input.hash,
      inputBytes: input.bytes,
      output: { mcap: paths.mcap, report: paths.report, mcapHash, mcapBytes },
      durationS: report.durationS,
      messageCount: report.messageCount,
      sensors: report.sensors,
      quality: qualityOf(report),
      ...(salvaged.length > 0 ? { salvaged } : {}),
      ...(clockWarnings.length > 0 ? { clockWarnings } : {}),
      elapsedS: (performance.now() - started) / 1000,
      completedAt: new Date().toISOString(),
    };
  } catch (error) {
    await rm(tmp.mcapPath, { force: true });
    await rm(tmp.reportPath, { force: true });
    const kind = error instanceof RecordingError ? error.kind : "conversion";
    let reason = error instanceof RecordingError ? (error.path === drive.path ? error.reason : `${error.path}: ${error.reason}`) : errorText(error);
    // A damaged input: say what can still be done with it.
    if (!task.salvage && (kind === "truncated" || kind === "corrupt")) reason += "; `convert --salvage` keeps every intact part, `syncbag recover` rebuilds an MCAP";
    return failed(kind, reason, await hashed());
  } finally {
    await source?.close().catch(() => undefined);
  }
}
