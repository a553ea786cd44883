/** `syncbag convert`: batch-convert fleet recordings into aligned MCAP per drive, with index.json and report.html. */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { runBatch, summaryTable, type BatchSummary } from "../../convert/batch.js";
import type { ConverterModule } from "../../convert/converter.js";
import { DEFAULT_QUEUE_NAME, QueueUrlError, redisOptions } from "../../convert/queue/connection.js";
import { runQueuedBatch } from "../../convert/queue/producer.js";
import { lidarPacketOptions } from "../../lidar-packets/options.js";
import { cliNumber, EXIT, outputFolderProblem, parseOptions, UsageError } from "../failure.js";

/** The per-drive converter the CLI runs: the live node's pipeline, replayed over each recording. */
export const CLI_CONVERTER: ConverterModule = {
  module: new URL("../../convert/pipeline-converter.js", import.meta.url).href,
  exportName: "pipelineConverter",
};

const CliOptions = z.object({
  out: z.string().min(1, "expected an output folder"),
  jobs: z.union([z.literal("auto"), cliNumber.int(1, 256, "auto or a number of worker threads")], { error: "expected auto or a number of worker threads from 1 to 256" }),
  msgPath: z.array(z.string()),
  dryRun: z.boolean(),
  json: z.boolean(),
  force: z.boolean(),
  salvage: z.boolean(),
  onlineTimes: z.boolean(),
  converter: z
    .string()
    .regex(/^.+#[A-Za-z_$][\w$]*$/, "expected <module>#<export>")
    .optional(),
  queue: z.string().min(1).optional(),
  queueName: z.string().regex(/^[^:]+$/, "a queue name without ':'"),
  lidarPackets: z.string().min(1).optional(),
  lidarPacket: z.array(z.string()),
});

/** Output-folder problems found before anything is written (each a `-o …` line). */
function outputProblems(out: string, inputs: readonly string[]): string[] {
  const problems: string[] = [];
  const problem = outputFolderProblem(out);
  if (problem !== null) problems.push(`--out ${out}: ${problem}`);
  const outDir = resolve(out);
  // Outputs written into an input folder would be read as input on the next run; a folder
  // inside an input folder is fine (discovery skips it).
  for (const input of inputs) {
    if (resolve(input) === outDir && statSync(outDir, { throwIfNoEntry: false })?.isDirectory() === true) {
      problems.push(`--out ${out}: is the input folder ${input}; write the outputs elsewhere (a new folder, or one inside it such as ${input.replace(/\/$/, "")}/out)`);
    }
  }
  return problems;
}

export function register(program: Command): void {
  program
    .command("convert")
    .description("Convert recordings (rosbag2 folders with mcap/sqlite3 storage, .mcap files, ROS 1 .bag files) into one aligned MCAP and report per drive, plus index.json and report.html")
    .argument("<inputs...>", "files, folders (searched for bags) or globs such as './fleet/**/'")
    .requiredOption("-o, --out <dir>", "output folder (receives <drive>.mcap, <drive>.report.json, index.json, report.html)")
    .option("-j, --jobs <n>", `drives converted in parallel (worker threads), 1 to 256, or auto: one per core (${availableParallelism()} here) but at most one per 512 MiB of input, since each thread first spends a few CPU-seconds compiling the pipeline`, "auto")
    .option("--msg-path <dir...>", "folders with ROS packages (<pkg>/msg/*.msg) for types the recordings do not define", [])
    .option("--dry-run", "list what would be converted or skipped; write nothing", false)
    .option("--json", "print the summary as JSON on stdout (progress stays on stderr)", false)
    .option("--force", "convert every drive even if its outputs are up to date", false)
    .option("--salvage", "convert what truncated/corrupt recordings still hold (with a warning) instead of failing them", false)
    .option(
      "--online-times",
      "one pass: every message keeps the time the node's online clock models would have given it on arrival (default: two passes, the clocks fitted over the whole drive first); with --force to redo converted drives",
      false,
    )
    .option("--lidar-packets <file.yaml>", "decode raw lidar packet topics: a map of packet topic → { sensor_model, calibration_file, return_mode, … } (the lidar_packets.yaml format; wins over a file beside the recording)")
    .option("--lidar-packet <topic=model,calibration>", "decode one raw lidar packet topic: <topic>=<sensor_model>,<calibration_file>[,<return_mode>], e.g. /velodyne_packets=VLP32C,VLP32C.yaml,Dual (repeatable; wins over --lidar-packets)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--queue <url>", "convert on a fleet: enqueue one job per drive on this Redis (redis://host:port) for `syncbag worker`s and follow them")
    .option("--queue-name <name>", "BullMQ queue name (with --queue)", DEFAULT_QUEUE_NAME)
    .option("--converter <module#export>", "advanced: a module (path or file URL) exporting a DriveConverter, e.g. ./my-converter.js#convert")
    .addHelpText(
      "after",
      `\nA drive is skipped when index.json records its outputs as complete and its input content hash (sha256) is unchanged.\nOutputs are written to .tmp files and renamed. Exit status: ${EXIT.ok} all converted or up to date, ${EXIT.failed} an input failed (see the table and index.json), ${EXIT.usage} a bad option (nothing done).`,
    )
    .action(async (inputs: string[], raw: Record<string, unknown>) => {
      let problems: string[] = [];
      let o: z.infer<typeof CliOptions> | undefined;
      try {
        o = parseOptions("convert", CliOptions, raw);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        problems = [...error.problems];
      }
      if (typeof raw.out === "string" && raw.out !== "") problems.push(...outputProblems(raw.out, inputs));
      if (typeof raw.queue === "string") {
        try {
          redisOptions(raw.queue);
        } catch (error) {
          if (!(error instanceof QueueUrlError)) throw error;
          problems.push(`--queue: ${error.message}`);
        }
      }
      const lidar = lidarPacketOptions(typeof raw.lidarPackets === "string" ? raw.lidarPackets : undefined, Array.isArray(raw.lidarPacket) ? (raw.lidarPacket as string[]) : []);
      problems.push(...lidar.problems);
      const lidarPackets = Object.keys(lidar.topics).length > 0 ? lidar.topics : undefined;
      if (problems.length > 0 || o === undefined) throw new UsageError("convert", problems);
      const converter =
        o.converter !== undefined
          ? { module: new URL(o.converter.split("#")[0]!, `file://${process.cwd()}/`).href, exportName: o.converter.split("#")[1]! }
          : o.onlineTimes
            ? { ...CLI_CONVERTER, exportName: "pipelineConverterOnline" }
            : CLI_CONVERTER;
      let summary: BatchSummary;
      if (o.queue !== undefined) {
        // Workers resolve the pipeline in their own installation; an explicit module must exist on each.
        const jobConverter = o.converter !== undefined ? converter : o.onlineTimes ? "pipeline-online" : "pipeline";
        summary = await runQueuedBatch({ inputs, outDir: o.out, url: o.queue, queueName: o.queueName, msgPaths: o.msgPath, dryRun: o.dryRun, force: o.force, salvage: o.salvage, converter: jobConverter, ...(lidarPackets ? { lidarPackets } : {}) }).catch((error: unknown) => {
          throw new Error(`--queue ${o!.queue}: ${error instanceof Error ? error.message : String(error)}`);
        });
      } else summary = await runBatch({ inputs, outDir: o.out, jobs: o.jobs, msgPaths: o.msgPath, dryRun: o.dryRun, force: o.force, salvage: o.salvage, converter, ...(lidarPackets ? { lidarPackets } : {}) });
      if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      else process.stdout.write("\n" + summaryTable(summary) + (summary.htmlPath ? `report: ${summary.htmlPath}\n` : ""));
      process.exitCode = summary.exitCode;
    });
}
