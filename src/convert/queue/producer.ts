/**
 * `syncbag convert --queue`: the producer. Same discovery, hashing and resume-by-hash rule as the
 * single-machine batch; each drive still to convert becomes one job (id from its input hash), and
 * the producer follows the jobs until each is completed or failed, then writes index.json and
 * report.html as the batch does. Interrupting the producer loses nothing: the jobs stay queued and
 * a rerun follows them (or takes their results).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Queue, type Job } from "bullmq";
import { batchSummary, type BatchIo, type BatchSummary } from "../batch.js";
import { discoverInputs, type DiscoveredDrive } from "../discover.js";
import { sha256Input } from "../hash.js";
import { renderBatchHtml } from "../html.js";
import { IndexEntry, loadIndex, writeJsonAtomic, type BatchIndex } from "../index-file.js";
import { ProgressDisplay } from "../progress.js";
import { DriveReport } from "../report.js";
import { checkRedis, redisOptions } from "./connection.js";
import { JobFollower, readJob } from "./follow.js";
import { ConvertJobData, DEFAULT_JOB_OPTIONS, JOB_NAME, jobIdFor, JobProgress, splitFailure, type JobConverter } from "./jobs.js";
import { SharedFolderStore } from "./storage.js";

export interface QueuedBatchOptions {
  inputs: string[];
  outDir: string;
  url: string;
  queueName: string;
  msgPaths: string[];
  force: boolean;
  salvage: boolean;
  dryRun: boolean;
  converter: JobConverter;
  /** Lidar packet topics to decode (ConvertJobData.lidarPackets). */
  lidarPackets?: Record<string, Record<string, unknown>>;
  /** Period of the full pass over the followed jobs' states (ms); between passes, the workers' events say which job changed. */
  pollMs?: number;
}

const FINAL = new Set(["completed", "failed"]);
/** Default period of the full pass (ms): what the event stream may have missed waits this long at most. */
const FULL_PASS_MS = 5000;

export async function runQueuedBatch(options: QueuedBatchOptions, io: BatchIo = {}): Promise<BatchSummary> {
  const started = performance.now();
  await checkRedis(options.url);
  const store = new SharedFolderStore(options.outDir);
  const outDir = resolve(options.outDir);
  const indexPath = join(outDir, "index.json");
  const htmlPath = join(outDir, "report.html");
  const discovery = await discoverInputs(options.inputs, [outDir]);
  if (!options.dryRun) await mkdir(outDir, { recursive: true });
  const { index: previous, problem } = await loadIndex(indexPath);
  if (problem !== undefined) io.progress?.write(`warning: ${problem}\n`);
  const previousByInput = new Map(previous.drives.map((d) => [d.input, d]));

  const bytes = new Map<string, number>();
  const display = io.progress === null ? undefined : new ProgressDisplay({ out: io.progress ?? process.stderr, bytes });
  const results = new Map<string, IndexEntry>();
  const followed = new Map<string, { drive: DiscoveredDrive; data: ConvertJobData }>();
  const queue = new Queue(options.queueName, { connection: redisOptions(options.url) });
  queue.on("error", () => undefined); // reachability was checked; a later outage shows as no progress
  // Listening before the first job is added, so a drive converted at once is announced too.
  const follower = new JobFollower(queue, redisOptions(options.url));
  try {
    await follower.ready();
    for (const drive of discovery.drives) {
      display?.update({ drive: drive.name, state: "hashing", fraction: 0, messages: 0 });
      let input: { hash: string; bytes: number };
      try {
        input = await sha256Input(drive.path);
      } catch (error) {
        bytes.set(drive.name, 0);
        finish(failedEntry(drive, "unreadable", error instanceof Error ? error.message : String(error)));
        continue;
      }
      bytes.set(drive.name, input.bytes);
      const prev = previousByInput.get(drive.path);
      if (!options.force && prev !== undefined && (prev.status === "converted" || prev.status === "skipped") && prev.inputHash === input.hash && (await complete(prev))) {
        finish({ ...prev, status: "skipped", elapsedS: 0 });
        continue;
      }
      const data: ConvertJobData = { drive, inputHash: input.hash, inputBytes: input.bytes, outDir, msgPaths: options.msgPaths, salvage: options.salvage, converter: options.converter, ...(options.lidarPackets ? { lidarPackets: options.lidarPackets } : {}) };
      const jobId = jobIdFor(data);
      const read = await readJob(queue, jobId);
      const existing = read.job;
      const state = existing === undefined ? "absent" : read.state;
      if (existing !== undefined && state === "completed" && !options.force) {
        // Converted by an earlier (interrupted) producer run: take its result if its outputs are intact.
        const entry = IndexEntry.safeParse(existing.returnvalue);
        if (entry.success && (await complete(entry.data))) {
          finish({ ...entry.data, status: "skipped" });
          continue;
        }
      }
      if (options.dryRun) {
        finish({ drive: drive.name, input: drive.path, status: "planned", inputHash: input.hash, inputBytes: input.bytes });
        continue;
      }
      if (existing !== undefined && FINAL.has(state)) await existing.remove(); // redo: failed before, outputs gone, or --force
      // An id already waiting or running is not added again (BullMQ ignores the duplicate): we follow it.
      if (existing === undefined || FINAL.has(state)) await queue.add(JOB_NAME, data, { ...DEFAULT_JOB_OPTIONS, jobId });
      followed.set(jobId, { drive, data });
      display?.update({ drive: drive.name, state: "hashing", fraction: 0, messages: 0 });
    }

    // Follow the jobs until each is completed or failed (failed = attempts used up, or a permanent
    // error): read when the workers' events name them, and in a full pass every `pollMs`.
    const since = performance.now();
    let hinted = false;
    await follower.follow(
      followed.keys(),
      {
        final: (jobId, job, state) => {
          const { drive, data } = followed.get(jobId)!;
          if (state === "completed") finish(completedEntry(job, drive, data));
          else {
            const { kind, reason } = splitFailure(job.failedReason ?? "failed");
            finish(failedEntry(drive, kind, reason, data, job));
          }
        },
        gone: (jobId) => {
          const { drive, data } = followed.get(jobId)!;
          finish(failedEntry(drive, "queue", `job ${jobId} was removed from the queue before it finished (syncbag queue clean?)`, data));
        },
        progress: (jobId, raw) => {
          const p = JobProgress.safeParse(raw);
          const drive = followed.get(jobId)?.drive;
          if (drive !== undefined && p.success && (p.data.state === "hashing" || p.data.state === "converting")) display?.update({ drive: drive.name, state: p.data.state, fraction: p.data.fraction, messages: p.data.messages });
        },
        afterFullPass: async () => {
          if (!hinted && performance.now() - since > 5000 && (await queue.getWorkersCount()) === 0) {
            hinted = true;
            io.progress?.write(`waiting for workers: start \`syncbag worker --queue ${options.url}\` on a machine that sees ${outDir}\n`);
          }
        },
      },
      { fullPassMs: options.pollMs ?? FULL_PASS_MS },
    );
  } finally {
    await follower.close();
    await queue.close();
  }

  for (const p of discovery.problems) {
    results.set(`?${p.path}`, { drive: p.path, input: p.path, status: "failed", error: { kind: "input", reason: p.reason }, completedAt: new Date().toISOString() });
  }
  const drives = [...results.values()].sort((a, b) => Number(a.error?.kind === "input") - Number(b.error?.kind === "input") || a.drive.localeCompare(b.drive));
  let html: string | null = null;
  if (!options.dryRun) {
    const current = new Set(discovery.drives.map((d) => d.path));
    const names = new Set(discovery.drives.map((d) => d.name));
    const kept = previous.drives.filter((d) => !current.has(d.input) && !names.has(d.drive) && d.status !== "failed" && d.status !== "planned");
    const all = [...kept, ...drives].sort((a, b) => a.drive.localeCompare(b.drive));
    const snapshot: BatchIndex = { version: 1, tool: "syncbag", updatedAt: new Date().toISOString(), drives: all };
    await writeJsonAtomic(indexPath, snapshot);
    const reports: DriveReport[] = [];
    for (const e of all) {
      if (e.output === undefined || !existsSync(e.output.report)) continue;
      const parsed = DriveReport.safeParse(JSON.parse(await readFile(e.output.report, "utf8")));
      if (parsed.success) reports.push(parsed.data);
    }
    await writeFile(`${htmlPath}.tmp`, renderBatchHtml(all, reports, new Date().toISOString()));
    await rename(`${htmlPath}.tmp`, htmlPath);
    html = htmlPath;
  }
  return batchSummary(outDir, indexPath, html, drives, started);

  function finish(entry: IndexEntry): void {
    results.set(entry.drive, entry);
    if (entry.status === "failed") display?.update({ drive: entry.drive, state: "failed", fraction: 0, messages: 0 });
    else display?.update({ drive: entry.drive, state: "done", fraction: 1, messages: entry.messageCount ?? 0 });
  }

  /** Outputs as recorded are still there, the MCAP at its recorded size. */
  async function complete(entry: IndexEntry): Promise<boolean> {
    if (entry.output === undefined) return false;
    return (await store.size(entry.output.mcap)) === entry.output.mcapBytes && existsSync(entry.output.report);
  }
}

function completedEntry(job: Job, drive: DiscoveredDrive, data: ConvertJobData): IndexEntry {
  const parsed = IndexEntry.safeParse(job.returnvalue);
  if (parsed.success) return parsed.data;
  return failedEntry(drive, "queue", `job ${job.id} completed without a drive result (not a syncbag worker?)`, data);
}

function failedEntry(drive: DiscoveredDrive, kind: string, reason: string, data?: ConvertJobData, job?: Job): IndexEntry {
  return {
    drive: drive.name,
    input: drive.path,
    status: "failed",
    ...(data ? { inputHash: data.inputHash, inputBytes: data.inputBytes } : {}),
    error: { kind, reason: job !== undefined && job.attemptsMade > 1 ? `${reason} (after ${job.attemptsMade} attempts)` : reason },
    completedAt: new Date().toISOString(),
  };
}

