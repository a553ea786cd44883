/** `syncbag worker`: a conversion worker of a fleet (BullMQ on Redis); see src/convert/queue/README.md. */
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { QueueUrlError, redisOptions, DEFAULT_QUEUE_NAME } from "../../convert/queue/connection.js";
import { startQueueWorker } from "../../convert/queue/worker.js";
import { cliNumber, parseOptions, reportFailure, UsageError } from "../failure.js";
import { CLI_CONVERTER } from "./convert.js";

const WorkerOptions = z.object({
  queue: z.string().min(1, "expected redis://host:port"),
  queueName: z.string().min(1).regex(/^[^:]+$/, "a queue name without ':'"),
  jobs: cliNumber.int(1, 256, "a number of drives at once"),
  lockMs: cliNumber.int(1000, 3_600_000, "milliseconds"),
});

export function register(program: Command): void {
  program
    .command("worker")
    .description("Take drive conversion jobs from a Redis queue (enqueued by `syncbag convert --queue`), convert them and publish the outputs to the shared output folder")
    .requiredOption("--queue <url>", "the fleet's Redis, redis://host:port[/db]")
    .option("-j, --jobs <n>", "drives converted at once (one thread each)", String(Math.max(1, availableParallelism())))
    .option("--queue-name <name>", "BullMQ queue name", DEFAULT_QUEUE_NAME)
    .option("--lock-ms <ms>", "a drive whose worker stops renewing its lock this long is given to another worker", "30000")
    .addHelpText("after", "\nSIGTERM or Ctrl-C: take no more drives, finish the running ones, exit 0 (a second signal stops at once; the running drives go back to the queue).\nkill -9: the running drives go back to the queue after --lock-ms; a killed drive never leaves a partial output.")
    .action(async (raw: Record<string, unknown>) => {
      try {
        const o = parseOptions("worker", WorkerOptions, raw);
        try {
          redisOptions(o.queue);
        } catch (error) {
          if (error instanceof QueueUrlError) throw new UsageError("worker", [`--queue: ${error.message}`]);
          throw error;
        }
        const log = (line: string): void => void process.stderr.write(`syncbag worker: ${line}\n`);
        const handle = await startQueueWorker({
          url: o.queue,
          queueName: o.queueName,
          concurrency: o.jobs,
          lockDurationMs: o.lockMs,
          converters: { pipeline: CLI_CONVERTER, online: { ...CLI_CONVERTER, exportName: "pipelineConverterOnline" } },
          log,
        });
        log(`ready on ${o.queue} queue ${o.queueName}, ${o.jobs} at a time`);
        let signals = 0;
        const stop = (signal: string): void => {
          signals++;
          if (signals === 1) {
            log(`${signal}: draining (finishing the running drives, taking no more)`);
            void handle.drain();
          } else {
            log(`${signal} again: stopping now; running drives go back to the queue`);
            void handle.abort().finally(() => process.exit(1));
          }
        };
        process.on("SIGTERM", () => stop("SIGTERM"));
        process.on("SIGINT", () => stop("SIGINT"));
        const { converted, failed } = await handle.closed;
        log(`stopped: ${converted} converted, ${failed} failed`);
      } catch (error) {
        reportFailure("worker", error);
      }
    });
}
