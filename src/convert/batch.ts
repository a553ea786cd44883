/**
 * Batch conversion: discover drives, convert them in parallel worker threads (piscina), resume
 * (skip drives whose outputs are complete and whose input hash matches), write index.json after
 * every drive and report.html at the end. One bad input never stops the batch: it is recorded as
 * failed with its path and reason, and the exit code says so.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { z } from "zod";
import { ConverterModule } from "./converter.js";
import { discoverInputs } from "./discover.js";
import { runDriveTask, type DriveProgress, type DriveTask } from "./drive-job.js";
import { PING } from "./worker.js";
import { renderBatchHtml } from "./html.js";
import { loadIndex, writeJsonAtomic, type BatchIndex, type IndexEntry } from "./index-file.js";
import { ProgressDisplay, type ProgressOutput } from "./progress.js";
import { DriveReport } from "./report.js";

/**
 * Input bytes a worker thread needs before it repays its start: each thread compiles the pipeline
 * for itself (V8's JIT, ~4–6 CPU-s, measured 2026-12-07: three 5 s default-rig drives cold cost
 * 8.1 CPU-s in one process, six 10.4), about what converting 250 MB costs. On six such drives
 * (194 MB) `-j 2` was no faster than `-j 1` (9.5 / 8.3 s against 9.2 / 7.4 s) for 1.3× the CPU.
 */
export const AUTO_BYTES_PER_THREAD = 512 * 1024 * 1024;

/** `--jobs auto`: one thread per core, but no more than one per AUTO_BYTES_PER_THREAD of input. */
export function autoThreads(inputBytes: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(inputBytes / AUTO_BYTES_PER_THREAD)));
}

export const BatchOptions = z.object({
  inputs: z.array(z.string().min(1)).min(1, "expected at least one input (file, folder or glob)"),
  outDir: z.string().min(1),
  /** Worker threads, or "auto" (autoThreads of the discovered input). */
  jobs: z.union([z.literal("auto"), z.number().int().min(1).max(256)]).default("auto"),
  msgPaths: z.array(z.string()).default([]),
  dryRun: z.boolean().default(false),
  force: z.boolean().default(false),
  /** Keep what truncated/corrupt recordings still yield (with a warning) instead of failing them. */
  salvage: z.boolean().default(false),
  converter: ConverterModule,
  /** Lidar packet topics to decode, given with the conversion (see DriveConvertOptions.lidarPackets). */
  lidarPackets: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  /** Run drives on the main thread, one at a time (tests, debugging). */
  inProcess: z.boolean().default(false),
  /** Advanced (tests): the worker thread module as a file URL; default ./worker.js beside this module. */
  workerModule: z.string().min(1).optional(),
});
export type BatchOptions = z.input<typeof BatchOptions>;

export interface BatchSummary {
  outDir: string;
  indexPath: string;
  htmlPath: string | null;
  drives: IndexEntry[];
  converted: number;
  skipped: number;
  failed: number;
  planned: number;
  elapsedS: number;
  /** Non-zero when any input failed. */
  exitCode: number;
}

export interface BatchIo {
  /** Progress display target (stderr by default); null for none. */
  progress?: ProgressOutput | null;
}

function parseOptions(options: BatchOptions): z.infer<typeof BatchOptions> {
  const result = BatchOptions.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new Error(`convert option '${issue.path.join(".")}': ${issue.message}`);
}

export async function runBatch(rawOptions: BatchOptions, io: BatchIo = {}): Promise<BatchSummary> {
  const options = parseOptions(rawOptions);
  const started = performance.now();
  const outDir = resolve(options.outDir);
  const indexPath = join(outDir, "index.json");
  const htmlPath = join(outDir, "report.html");
  const discovery = await discoverInputs(options.inputs, [outDir]);

  if (!options.dryRun) {
    await mkdir(outDir, { recursive: true });
    // Leftovers of an interrupted run: never valid outputs.
    for (const f of await readdir(outDir)) if (f.endsWith(".tmp")) await rm(join(outDir, f), { force: true });
  }
  const { index: previous, problem } = await loadIndex(indexPath);
  if (problem !== undefined) io.progress?.write(`warning: ${problem}\n`);
  const previousByInput = new Map(previous.drives.map((d) => [d.input, d]));

  const bytes = new Map<string, number>();
  for (const d of discovery.drives) bytes.set(d.name, await sizeOf(d.path));
  const display = io.progress === null ? undefined : new ProgressDisplay({ out: io.progress ?? process.stderr, bytes });
  const lastProgress = new Map<string, DriveProgress>();
  const onProgress = (p: DriveProgress): void => {
    lastProgress.set(p.drive, p);
    display?.update(p);
  };
  // A worker's last progress message can arrive after its result (another channel), or never
  // (closed port): the result itself ends the drive's line.
  const finished = (entry: IndexEntry): void => {
    const last = lastProgress.get(entry.drive);
    if (last?.state === "done" || last?.state === "failed") return;
    if (entry.status === "failed") onProgress({ drive: entry.drive, state: "failed", fraction: last?.fraction ?? 0, messages: last?.messages ?? 0 });
    else onProgress({ drive: entry.drive, state: "done", fraction: 1, messages: entry.messageCount ?? 0 });
  };

  const results = new Map<string, IndexEntry>();
  // Drives of earlier runs not part of this one stay in the index.
  const current = new Set(discovery.drives.map((d) => d.path));
  const currentNames = new Set(discovery.drives.map((d) => d.name));
  // (A drive of this run that takes over an old name overwrites its outputs: the old entry goes.)
  const kept = previous.drives.filter((d) => !current.has(d.input) && !currentNames.has(d.drive) && d.status !== "failed" && d.status !== "planned");
  let writing = Promise.resolve();
  const persist = (): Promise<void> => {
    if (options.dryRun) return Promise.resolve();
    const snapshot: BatchIndex = { version: 1, tool: "syncbag", updatedAt: new Date().toISOString(), drives: [...kept, ...results.values()].sort((a, b) => a.drive.localeCompare(b.drive)) };
    writing = writing.then(() => writeJsonAtomic(indexPath, snapshot));
    return writing;
  };

  const tasks: DriveTask[] = discovery.drives.map((drive) => {
    const prev = previousByInput.get(drive.path);
    return { drive, outDir, msgPaths: options.msgPaths, salvage: options.salvage, dryRun: options.dryRun, force: options.force, converter: options.converter, ...(options.lidarPackets ? { lidarPackets: options.lidarPackets } : {}), ...(prev ? { previous: prev } : {}) };
  });

  if (options.inProcess) {
    for (const task of tasks) {
      results.set(task.drive.name, await runDriveTask(task, onProgress));
      await persist();
    }
  } else if (tasks.length > 0) {
    const workerFile = options.workerModule ?? new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url).href;
    const threads = options.jobs === "auto" ? autoThreads([...bytes.values()].reduce((a, b) => a + b, 0)) : options.jobs;
    const pool = new Piscina({ filename: workerFile, maxThreads: Math.min(threads, tasks.length), minThreads: 1, idleTimeout: 1000 });
    // A worker that cannot load its module rejects the tasks it was given, but piscina keeps the
    // others queued for replacement workers that fail the same way, so the batch would never end:
    // one ping proves the module loads before any drive is queued, and a later pool error
    // (a replacement worker failing to start) fails every drive still waiting.
    let broken: (error: unknown) => void = () => undefined;
    const poolBroken = new Promise<never>((_resolve, reject) => (broken = reject));
    poolBroken.catch(() => undefined);
    pool.on("error", (error: unknown) => broken(error));
    const workerFailed = (task: DriveTask, error: unknown, prefix = ""): IndexEntry => ({
      drive: task.drive.name,
      input: task.drive.path,
      status: "failed",
      error: { kind: "worker", reason: `${prefix}${oneLine(error)}` },
      completedAt: new Date().toISOString(),
    });
    try {
      const loadError = await Promise.race([pool.run(PING), poolBroken]).then(
        (answer: unknown) => (answer === PING ? null : new Error(`${workerFile} is not a syncbag worker (answered ${JSON.stringify(answer)})`)),
        (error: unknown) => error,
      );
      if (loadError !== null) {
        for (const task of tasks) {
          const entry = workerFailed(task, loadError, "worker thread failed to load: ");
          results.set(task.drive.name, entry);
          finished(entry);
        }
      } else {
        await Promise.all(
          tasks.map(async (task) => {
            const { port1, port2 } = new MessageChannel();
            // Messages after the drive's result are stale (the result already ended its line).
            port1.on("message", (p: DriveProgress) => {
              if (!results.has(task.drive.name)) onProgress(p);
            });
            try {
              const run = pool.run({ ...task, port: port2 }, { transferList: [port2] }) as Promise<IndexEntry>;
              run.catch(() => undefined); // settled by the race below; destroy() may reject it later
              const entry = await Promise.race([run, poolBroken]);
              results.set(task.drive.name, entry);
              finished(entry);
            } catch (error) {
              // A worker crash (out of memory, native fault) fails this drive only.
              const entry = workerFailed(task, error);
              results.set(task.drive.name, entry);
              finished(entry);
            } finally {
              port1.close();
            }
            await persist();
          }),
        );
      }
    } finally {
      await pool.destroy();
    }
  }
  for (const p of discovery.problems) {
    results.set(`?${p.path}`, { drive: p.path, input: p.path, status: "failed", error: { kind: "input", reason: p.reason }, completedAt: new Date().toISOString() });
  }
  await persist();
  await writing;

  const drives = [...results.values()].sort((a, b) => Number(a.error?.kind === "input") - Number(b.error?.kind === "input") || a.drive.localeCompare(b.drive));
  let html: string | null = null;
  if (!options.dryRun) {
    const all = [...kept, ...drives].sort((a, b) => a.drive.localeCompare(b.drive));
    const reports: DriveReport[] = [];
    for (const e of all) {
      if (e.output === undefined || !existsSync(e.output.report)) continue;
      const parsed = DriveReport.safeParse(JSON.parse(await readFile(e.output.report, "utf8")));
      if (parsed.success) reports.push(parsed.data);
    }
    await writeTextAtomic(htmlPath, renderBatchHtml(all, reports, new Date().toISOString()));
    html = htmlPath;
  }
  return batchSummary(outDir, indexPath, html, drives, started);
}

/** The summary of a finished batch (one machine or a queue): counts by status and the exit code. */
export function batchSummary(outDir: string, indexPath: string, htmlPath: string | null, drives: IndexEntry[], startedMs: number): BatchSummary {
  const count = (s: IndexEntry["status"]): number => drives.filter((d) => d.status === s).length;
  return {
    outDir,
    indexPath,
    htmlPath,
    drives,
    converted: count("converted"),
    skipped: count("skipped"),
    failed: count("failed"),
    planned: count("planned"),
    elapsedS: (performance.now() - startedMs) / 1000,
    exitCode: count("failed") > 0 ? 1 : 0,
  };
}

/** An error as one line (a worker's load error may carry a multi-line stack or code frame). */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.trim();
}

async function writeTextAtomic(path: string, text: string): Promise<void> {
  const { writeFile, rename } = await import("node:fs/promises");
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const e of await readdir(path, { withFileTypes: true })) total += await sizeOf(join(path, e.name));
  return total;
}

/** The end-of-batch table (plain text, fixed columns). */
export function summaryTable(summary: BatchSummary): string {
  const header = ["drive", "status", "dur s", "msgs", "MB", "time s", "reason"];
  const rows = summary.drives.map((d) => [
    d.drive,
    d.status,
    d.durationS !== undefined ? d.durationS.toFixed(1) : "",
    d.messageCount !== undefined ? String(d.messageCount) : "",
    d.inputBytes !== undefined ? (d.inputBytes / 1e6).toFixed(1) : "",
    d.elapsedS !== undefined ? d.elapsedS.toFixed(2) : "",
    d.error ? `${d.error.kind}: ${d.error.reason}` : "",
  ]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  // Salvaged drives converted, but from a damaged input: said on the terminal, not only in the report.
  const notes = summary.drives.flatMap((d) => [...(d.salvaged ?? []).map((s) => `warning: ${d.drive}: salvaged: ${s}`), ...(d.clockWarnings ?? []).map((w) => `warning: ${d.drive}: ${w}`)]);
  const totals = `${summary.converted} converted, ${summary.skipped} skipped, ${summary.failed} failed${summary.planned ? `, ${summary.planned} planned (dry run)` : ""} in ${summary.elapsedS.toFixed(1)} s`;
  return [line(header), ...rows.map(line), ...notes, totals].join("\n") + "\n";
}
