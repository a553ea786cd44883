/**
 * A queue worker process (`syncbag worker`): takes drive jobs from BullMQ, converts each in a
 * worker thread (the same per-drive code as the single-machine batch) into a private staging
 * folder, then publishes the outputs atomically to the shared location.
 *
 * Why a thread: BullMQ keeps a job only while its worker renews the job's lock from the main event
 * loop; a conversion hogging that loop would lose the lock and the job would run twice. With the
 * drive in a thread the loop stays free, so a lost lock means a dead or frozen worker, whose job
 * BullMQ's stalled check gives to another worker (after lockDuration; maxStalledCount times).
 */
import { hostname } from "node:os";
import { basename } from "node:path";
import { MessageChannel } from "node:worker_threads";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { Piscina } from "piscina";
import type { ConverterModule } from "../converter.js";
import type { DriveProgress, DriveTask } from "../drive-job.js";
import type { Preload } from "../worker.js";
import type { IndexEntry } from "../index-file.js";
import { redisOptions } from "./connection.js";
import { ConvertJobData, PERMANENT_KINDS, type JobProgress } from "./jobs.js";
import { SharedFolderStore } from "./storage.js";

export interface QueueWorkerOptions {
  url: string;
  queueName: string;
  /** Drives converted at once (one worker thread each). */
  concurrency: number;
  /** How long a job stays ours without a lock renewal; also the stalled-check period (ms). */
  lockDurationMs: number;
  /** The converters behind the names "pipeline" and "pipeline-online" in this installation. */
  converters: { pipeline: ConverterModule; online: ConverterModule };
  /** One line per event (job taken, done, failed, draining). */
  log: (line: string) => void;
  /** Advanced (tests): the drive thread module; default ../worker.js beside this module. */
  workerModule?: string;
}

export interface QueueWorkerHandle {
  /** Resolves when the worker has stopped (after `drain()` and the running drives finishing). */
  readonly closed: Promise<{ converted: number; failed: number }>;
  /** Takes no more jobs; the running drives finish and are published. */
  drain(): Promise<void>;
  /** Stops at once; running jobs stall and go to another worker. */
  abort(): Promise<void>;
}

export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const name = workerName();
  const threadFile = options.workerModule ?? new URL(import.meta.url.endsWith(".ts") ? "../worker.ts" : "../worker.js", import.meta.url).href;
  const pool = new Piscina({ filename: threadFile, maxThreads: options.concurrency, minThreads: 1, idleTimeout: 60_000 });
  // Load the pipeline into a thread before taking jobs: a worker that cannot load it fails at start
  // with one line (not on every drive), and the first drive does not pay the module loading.
  await pool.run({ preload: options.converters.pipeline } satisfies Preload).catch((error: unknown) => {
    void pool.destroy();
    throw new Error(`cannot load the converter ${options.converters.pipeline.module}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
  });
  let converted = 0;
  let failed = 0;

  const processor = async (job: Job, token?: string): Promise<IndexEntry> => {
    const parsed = ConvertJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`input: job ${job.id} is not a syncbag drive job (${parsed.error.issues[0]?.message ?? "bad data"})`);
    const data = parsed.data;
    const store = new SharedFolderStore(data.outDir);
    const staging = await store.stage(job.id ?? data.drive.name);
    options.log(`${data.drive.name}: converting (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    const converter = data.converter === "pipeline" ? options.converters.pipeline : data.converter === "pipeline-online" ? options.converters.online : data.converter;
    const task: DriveTask = { drive: data.drive, outDir: staging, msgPaths: data.msgPaths, salvage: data.salvage, dryRun: false, force: true, converter, ...(data.lidarPackets ? { lidarPackets: data.lidarPackets } : {}) };
    const { port1, port2 } = new MessageChannel();
    let lastSent = 0;
    port1.on("message", (p: DriveProgress) => {
      const now = performance.now();
      if (p.state === "converting" && now - lastSent < 250) return;
      lastSent = now;
      const progress: JobProgress = { state: p.state, fraction: p.fraction, messages: p.messages, worker: name };
      job.updateProgress(progress).catch(() => undefined); // a lost progress update is harmless
    });
    try {
      const entry = (await pool.run({ ...task, port: port2 }, { transferList: [port2] })) as IndexEntry;
      if (entry.status !== "converted" || entry.output === undefined) {
        const error = entry.error ?? { kind: "conversion", reason: "no output" };
        const text = `${error.kind}: ${error.reason}`;
        throw PERMANENT_KINDS.has(error.kind) ? new UnrecoverableError(text) : new Error(text);
      }
      // The job stands for the input as it was hashed at enqueue (its id and the resume rule rest
      // on that hash); converted bytes of other content must not be published under it.
      if (entry.inputHash !== data.inputHash)
        throw new UnrecoverableError(`changed: ${data.drive.path} is not what was enqueued (sha256 ${entry.inputHash?.slice(0, 12) ?? "unknown"}…, enqueued as ${data.inputHash.slice(0, 12)}…); enqueue it again`);
      // Publish only while the job is still ours: a worker that lost its lock (frozen past
      // lockDuration) may find the drive already given to another; its copy is dropped.
      if (token !== undefined && (await job.extendLock(token, options.lockDurationMs)) !== 1) throw new Error(`worker: lost the job's lock before publishing (another worker has the drive)`);
      const mcapName = basename(entry.output.mcap);
      const reportName = basename(entry.output.report);
      const placed = await store.publish(staging, [mcapName, reportName]);
      converted++;
      options.log(`${data.drive.name}: done in ${(entry.elapsedS ?? 0).toFixed(1)} s`);
      return { ...entry, worker: name, output: { ...entry.output, mcap: placed[mcapName]!, report: placed[reportName]! } };
    } catch (error) {
      await store.discard(staging);
      failed++;
      const text = error instanceof Error ? error.message : String(error);
      options.log(`${data.drive.name}: failed: ${text.split("\n")[0]}`);
      // A piscina error (thread crash) is worth a retry; it carries no kind yet.
      if (error instanceof Error && !/^[a-z-]+: /.test(error.message) && !(error instanceof UnrecoverableError)) throw new Error(`worker: ${text.split("\n")[0]}`);
      throw error;
    } finally {
      port1.close();
    }
  };

  const worker = new Worker(options.queueName, processor, {
    connection: redisOptions(options.url),
    name,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.lockDurationMs,
    // A drive may meet more than one dying worker; a third stall fails it (listed with the reason).
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on("error", (error) => options.log(`queue error: ${error.message.split("\n")[0]}`));
  worker.on("stalled", (jobId) => options.log(`job ${jobId} stalled (its worker stopped renewing the lock); requeued`));
  const running = worker.run();
  await worker.waitUntilReady();
  const closed = running.then(async () => {
    await pool.destroy();
    return { converted, failed };
  });
  return {
    closed,
    drain: async () => {
      await worker.close();
    },
    abort: async () => {
      await worker.close(true);
    },
  };
}
