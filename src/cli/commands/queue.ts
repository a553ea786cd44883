/** `syncbag queue status|retry|clean`: the operator's view of a conversion fleet's queue. */
import type { Command } from "commander";
import { z } from "zod";
import { cleanFinished, queueStatus, retryFailed, type QueueStatus } from "../../convert/queue/admin.js";
import { DEFAULT_QUEUE_NAME, QueueUrlError, redisOptions } from "../../convert/queue/connection.js";
import { cliNumber, parseOptions, reportFailure, UsageError } from "../failure.js";

const Common = z.object({
  queue: z.string().min(1, "expected redis://host:port"),
  queueName: z.string().min(1).regex(/^[^:]+$/, "a queue name without ':'"),
});

function common(command: string, raw: Record<string, unknown>): z.infer<typeof Common> {
  const o = parseOptions(command, Common, { queue: raw.queue, queueName: raw.queueName });
  try {
    redisOptions(o.queue);
  } catch (error) {
    if (error instanceof QueueUrlError) throw new UsageError(command, [`--queue: ${error.message}`]);
    throw error;
  }
  return o;
}

function statusText(s: QueueStatus): string {
  const lines = [
    `queue ${s.queue}: ${s.counts.waiting} waiting, ${s.counts.active} active, ${s.counts.delayed} delayed (retry backoff), ${s.counts.completed} completed, ${s.counts.failed} failed`,
    `workers: ${s.workers.length === 0 ? "none connected" : s.workers.join(", ")}`,
  ];
  for (const a of s.active) lines.push(`  active  ${a.drive}  ${(a.fraction * 100).toFixed(0)}%  on ${a.worker ?? "?"}  attempt ${a.attempt}`);
  for (const f of s.failed) lines.push(`  failed  ${f.drive}  ${f.kind}: ${f.reason}  (${f.attempts} attempt${f.attempts === 1 ? "" : "s"}; ${f.input})`);
  return lines.join("\n") + "\n";
}

export function register(program: Command): void {
  const queue = program.command("queue").description("Inspect and manage the conversion queue of a fleet (`convert --queue`, `worker`)");
  const withCommon = (c: Command): Command => c.requiredOption("--queue <url>", "the fleet's Redis, redis://host:port[/db]").option("--queue-name <name>", "BullMQ queue name", DEFAULT_QUEUE_NAME);

  withCommon(queue.command("status").description("Counts, connected workers, running drives and the failed list with reasons"))
    .option("--json", "print as JSON", false)
    .action(async (raw: Record<string, unknown>) => {
      try {
        const o = common("queue status", raw);
        const s = await queueStatus(o.queue, o.queueName);
        process.stdout.write(raw.json === true ? JSON.stringify(s, null, 2) + "\n" : statusText(s));
      } catch (error) {
        reportFailure("queue status", error);
      }
    });

  withCommon(queue.command("retry").description("Put failed drives back in the queue (all, or the named ones)"))
    .argument("[drives...]", "drive names (default: every failed drive)")
    .action(async (drives: string[], raw: Record<string, unknown>) => {
      try {
        const o = common("queue retry", raw);
        const retried = await retryFailed(o.queue, o.queueName, drives);
        process.stdout.write(retried.length === 0 ? "nothing to retry\n" : `retried ${retried.length}: ${retried.join(", ")}\n`);
      } catch (error) {
        reportFailure("queue retry", error);
      }
    });

  withCommon(queue.command("clean").description("Remove finished jobs from Redis (index.json keeps the results; a cleaned drive is enqueued again only if its outputs are gone)"))
    .option("--older-than <s>", "only jobs finished at least this many seconds ago", "0")
    .option("--failed-only", "remove failed jobs only", false)
    .action(async (raw: Record<string, unknown>) => {
      try {
        const o = common("queue clean", raw);
        const age = parseOptions("queue clean", z.object({ olderThan: cliNumber.atLeast(0, false, "seconds") }), { olderThan: raw.olderThan });
        const removed = await cleanFinished(o.queue, o.queueName, age.olderThan * 1000, raw.failedOnly === true ? ["failed"] : ["completed", "failed"]);
        process.stdout.write(`removed ${removed.completed} completed, ${removed.failed} failed\n`);
      } catch (error) {
        reportFailure("queue clean", error);
      }
    });
}
