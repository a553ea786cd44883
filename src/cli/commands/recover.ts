/** `syncbag recover`: rebuild a valid, indexed MCAP from one cut by a crash, truncated or damaged. */
import { reportFailure } from "../failure.js";
import type { Command } from "commander";
import { z } from "zod";
import { CompressionSchema } from "../../record/config.js";
import { formatRecoverReport, recoverMcap } from "../../record/recover.js";

const RecoverOptions = z.object({
  out: z.string().min(1).optional(),
  compression: CompressionSchema.optional(),
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
    .action(async (file: string, raw: unknown) => {
      const parsed = RecoverOptions.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        console.error(`syncbag recover: --${issue.path.join(".")}: ${issue.message}`);
        process.exitCode = 2;
        return;
      }
      const options = parsed.data;
      try {
        const report = await recoverMcap(file, options.out ?? defaultRecoveredPath(file), { compression: options.compression });
        if (options.json === true) console.log(JSON.stringify(report, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
        else console.log(formatRecoverReport(report));
        if (report.messagesRecovered === 0) process.exitCode = 1;
      } catch (error) {
        reportFailure("recover", error);
      }
    });
}
