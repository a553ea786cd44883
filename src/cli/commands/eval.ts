/**
 * `syncbag eval --truth <drive>.truth.json <recording.mcap> [--json]`: how well a recording's
 * alignment (and any further evaluation section) matches the simulator's truth.
 */
import { z } from "zod";
import { cliNumber, EXIT, inputFileProblem, parseOptions, reportDamage, reportFailure } from "../failure.js";
import type { Command } from "commander";
import type { EvalSection } from "../../align/eval.js";
import { loadTruth } from "../../sim/truth.js";
import { SuggestionEvalSection } from "../../suggest/eval-section.js";
import { alignmentSection, runEvalSections } from "../evaluate.js";

const EvalOptions = z.object({
  truth: z.string().min(1),
  warmup: cliNumber.atLeast(0, false, "seconds"),
  json: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "Score a recording against the simulator's ground truth: per sensor p50 / p99 / max of |corrected − true capture time| after the warm-up, the time after which each sensor stayed within its bound (2 ms with a known latency, 5 ms calibrated), flagged frame samples and calibrated latencies; then the label-suggestion section (recall, precision, IoU, events). Exit code 2 when any section misses its bounds (a sensor beyond its alignment bound, or suggestions below their targets; each table says which), 1 on an unreadable input or on a damaged one (truncated, corrupt), whose messages before the damage are still scored.",
    )
    .argument("<recording>", "an MCAP written by syncbag (node, start or convert): publish_time = corrected capture time")
    .requiredOption("--truth <file>", "the drive's <drive>.truth.json (written by the simulator beside the recording)")
    .option("--warmup <s>", "seconds of drive not scored (clock models converging)", "10")
    .option("--json", "print JSON (for scripts): one key per section")
    .action(async (recording: string, raw: Record<string, unknown>) => {
      try {
        const options = parseOptions("eval", EvalOptions, raw);
        const warmupS = options.warmup;
        for (const [what, path] of [["--truth", options.truth], ["recording", recording]] as const) {
          const problem = inputFileProblem(path);
          if (problem !== null) throw new Error(`${what} ${path}: ${problem}`);
        }
        const truth = await loadTruth(options.truth);
        // Evaluation sections, one pass over the file; add a concern with one line here.
        const sections: EvalSection[] = [alignmentSection(truth, { warmupS }), new SuggestionEvalSection(truth, { warmupS })];
        let damage: string | null = null;
        const results = await runEvalSections(recording, sections, { onDamage: (problem) => (damage = problem.message) });
        if (options.json === true) {
          const json = Object.fromEntries(results.map((r) => [r.name, r.json]));
          console.log(JSON.stringify(json, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
        } else {
          console.log(results.map((r) => r.text).join("\n\n"));
        }
        if (results.some((r) => !r.ok)) process.exitCode = EXIT.shortOfTarget;
        if (damage !== null) reportDamage("eval", damage, "scored the messages");
      } catch (error) {
        reportFailure("eval", error);
      }
    });
}
