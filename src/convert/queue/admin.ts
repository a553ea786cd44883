/** Operator views and actions on the conversion queue (`syncbag queue status|retry|clean`). */
import { Queue } from "bullmq";
import { checkRedis, redisOptions } from "./connection.js";
import { ConvertJobData, JobProgress, splitFailure } from "./jobs.js";

export interface QueueStatus {
  queue: string;
  counts: { waiting: number; active: number; delayed: number; completed: number; failed: number };
  workers: string[];
  active: { jobId: string; drive: string; worker: string | null; fraction: number; attempt: number }[];
  failed: { jobId: string; drive: string; input: string; kind: string; reason: string; attempts: number; failedAt: string | null }[];
}

async function withQueue<T>(url: string, name: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  await checkRedis(url);
  const queue = new Queue(name, { connection: redisOptions(url) });
  queue.on("error", () => undefined);
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

function driveOf(data: unknown): { drive: string; input: string } {
  const parsed = ConvertJobData.safeParse(data);
  return parsed.success ? { drive: parsed.data.drive.name, input: parsed.data.drive.path } : { drive: "?", input: "?" };
}

export function queueStatus(url: string, name: string): Promise<QueueStatus> {
  return withQueue(url, name, async (queue) => {
    const c = await queue.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
    const workers = (await queue.getWorkers()).map((w) => w.name ?? w.id ?? "?").sort();
    const active = (await queue.getActive()).map((job) => {
      const p = JobProgress.safeParse(job.progress);
      return { jobId: job.id ?? "?", drive: driveOf(job.data).drive, worker: p.success ? p.data.worker : null, fraction: p.success ? p.data.fraction : 0, attempt: job.attemptsMade + 1 };
    });
    const failed = (await queue.getFailed()).map((job) => {
      const { kind, reason } = splitFailure(job.failedReason ?? "");
      return { jobId: job.id ?? "?", ...driveOf(job.data), kind, reason, attempts: job.attemptsMade, failedAt: job.finishedOn !== undefined ? new Date(job.finishedOn).toISOString() : null };
    });
    return {
      queue: name,
      counts: { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 },
      workers,
      active,
      failed,
    };
  });
}

/** Puts failed jobs back in the queue (all, or those of the named drives); returns the drives retried. */
export function retryFailed(url: string, name: string, drives: readonly string[] = []): Promise<string[]> {
  return withQueue(url, name, async (queue) => {
    const retried: string[] = [];
    for (const job of await queue.getFailed()) {
      const { drive } = driveOf(job.data);
      if (drives.length > 0 && !drives.includes(drive)) continue;
      await job.retry("failed");
      retried.push(drive);
    }
    return retried;
  });
}

/** Removes finished jobs older than `graceMs` (completed and/or failed); returns how many of each. */
export function cleanFinished(url: string, name: string, graceMs: number, which: readonly ("completed" | "failed")[]): Promise<{ completed: number; failed: number }> {
  return withQueue(url, name, async (queue) => {
    const out = { completed: 0, failed: 0 };
    for (const state of which) out[state] = (await queue.clean(graceMs, 0, state)).length;
    return out;
  });
}
