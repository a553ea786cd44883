/**
 * `syncbag export <recording.mcap> -o <out> [--format jsonl|openlabel]`: the label suggestions a
 * recording carries on ~/suggestions, for annotation tools (JSON Lines, or ASAM OpenLABEL 1.0 JSON
 * to import as pre-annotations).
 */
import { z } from "zod";
import { EXIT, inputFileProblem, outputFileProblem, parseOptions, reportDamage, reportFailure } from "../failure.js";
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { SuggestionCollector, toJsonLines, toOpenLabel } from "../../suggest/export.js";
import { runEvalSections } from "../evaluate.js";

const ExportOptions = z.object({
  output: z.string().min(1).refine((out) => outputFileProblem(out) === null, { error: (issue) => outputFileProblem(String(issue.input)) ?? "not a usable file" }),
  format: z.enum(["jsonl", "openlabel"], { error: "expected jsonl or openlabel" }),
});

export function register(program: Command): void {
  program
    .command("export")
    .description("Export the label suggestions recorded in an MCAP (3D boxes with track ids, 2D boxes per camera, audio and driving events) as JSON Lines or ASAM OpenLABEL 1.0 JSON")
    .argument("<recording>", "an MCAP written by syncbag with the suggestion stage on")
    .requiredOption("-o, --output <file>", "output file")
    .option("--format <format>", "jsonl (one suggestion per line) or openlabel (ASAM OpenLABEL 1.0 JSON)", "openlabel")
    .action(async (recording: string, raw: Record<string, unknown>) => {
      try {
        const options = parseOptions("export", ExportOptions, raw);
        const problem = inputFileProblem(recording);
        if (problem !== null) throw new Error(`${recording}: ${problem}`);
        const collector = new SuggestionCollector();
        let damage: string | null = null;
        await runEvalSections(recording, [collector], { onDamage: (problem) => (damage = problem.message) });
        const text = options.format === "jsonl" ? toJsonLines(collector).join("\n") + "\n" : JSON.stringify(toOpenLabel(collector, { name: recording }), null, 1);
        await writeFile(options.output, text);
        console.log(`syncbag export: ${collector.frames.length} frames, ${collector.events.size} events → ${options.output}${collector.malformed ? ` (${collector.malformed} unreadable messages skipped)` : ""}`);
        if (collector.frames.length === 0 && collector.events.size === 0) process.exitCode = EXIT.shortOfTarget;
        if (damage !== null) reportDamage("export", damage, "exported the suggestions");
      } catch (error) {
        reportFailure("export", error);
      }
    });
}
