/** `syncbag recover`: rebuild a valid, indexed MCAP from one cut by a crash, truncated or damaged. */
import { resolve } from "node:path";
import { outputFileProblem, parseOptions, reportFailure, UsageError } from "../failure.js";
import type { Command } from "commander";
import { z } from "zod";
import { CompressionSchema } from "../../record/config.js";
import { formatRecoverReport, recoverMcap } from "../../record/recover.js";

const RecoverOptions = z.object({
  out: z.string().min(1).refine((out) => outputFileProblem(out) === null, { error: (issue) => outputFileProblem(String(issue.input)) ?? "not a usable file" }).optional(),
  compression: z.enum(CompressionSchema.options, { error: `expected ${CompressionSchema.options.join(", ")}` }).optional(),
  json: z.boolean().optional(),
});

/** `drive_0.mcap` → `drive_0.recovered.mcap`. */
export function defaultRecoveredPath(input: string): string {
  return input.endsWith(".mcap") ? `${input.slice(0, -5)}.recovered.mcap` : `${input}.recovered.mcap`;
}

export function register(program: Command): void {
  program
    .command("recover")
    .description(
      "Rewrite an MCAP file that was not finalised (kill -9, power loss, full disk) or is truncated/corrupt into a valid indexed file: every intact chunk is kept, and what was lost is reported with its byte offset",
    )
    .argument("<file>", "the damaged .mcap file (left untouched)")
    .option("-o, --out <file>", "output file (default: <file without .mcap>.recovered.mcap)")
    .option("-c, --compression <kind>", "output chunk compression: zstd, lz4 or none (default: as the input)")
    .option("--json", "print the report as JSON")
    .action(async (file: string, raw: Record<string, unknown>) => {
      try {
        const options = parseOptions("recover", RecoverOptions, raw);
        if (options.out !== undefined && resolve(options.out) === resolve(file)) throw new UsageError("recover", [`--out ${options.out}: is the input file; recover never overwrites it`]);
        const report = await recoverMcap(file, options.out ?? defaultRecoveredPath(file), { compression: options.compression });
        if (options.json === true) console.log(JSON.stringify(report, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
        else console.log(formatRecoverReport(report));
        if (report.messagesRecovered === 0) process.exitCode = 1;
      } catch (error) {
        reportFailure("recover", error);
      }
    });
}
