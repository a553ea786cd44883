/** `syncbag inspect`: what an MCAP file holds, including the alignment summary. */
import { inputFileProblem, reportFailure } from "../failure.js";
import type { Command } from "commander";
import { formatInspectReport, inspectMcap, inspectReportJson } from "../../record/inspect.js";

export function register(program: Command): void {
  program
    .command("inspect")
    .description(
      "Show an MCAP file's topics, types, message counts, rates, duration, compression, chunk sizes, metadata and alignment summary (clock models from SensorClockState); a file without a summary is scanned record by record, with a warning",
    )
    .argument("<file>", "the .mcap file")
    .option("--json", "print the report as JSON (times in ns as strings)")
    .action(async (file: string, options: { json?: boolean }) => {
      try {
        const problem = inputFileProblem(file);
        if (problem !== null) throw new Error(`${file}: ${problem}`);
        const report = await inspectMcap(file);
        console.log(options.json === true ? inspectReportJson(report) : formatInspectReport(report));
      } catch (error) {
        // Corrupt or unreadable input: one clear line, never a stack trace.
        reportFailure("inspect", error);
      }
    });
}
