/**
 * `syncbag eval --truth <drive>.truth.json <recording.mcap> [--json]`: how well a recording's
 * alignment (and, where recorded, its label suggestions) matches the simulator's truth.
 */
import type { Command } from "commander";
import { formatAlignmentTable } from "../../align/eval.js";
import { loadTruth } from "../../sim/truth.js";
import { evaluateRecording } from "../evaluate.js";

export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "Score a recording against the simulator's ground truth: per sensor p50 / p99 / max of |corrected − true capture time| after the warm-up, the time after which each sensor stayed within its bound, and flagged frame samples",
    )
    .argument("<recording>", "an MCAP written by syncbag (node, start or convert)")
    .requiredOption("--truth <file>", "the drive's <drive>.truth.json")
    .option("--warmup <s>", "seconds of drive not scored (clock models converging)", "10")
    .option("--json", "print JSON (for scripts)")
    .action(async (recording: string, options: { truth: string; warmup: string; json?: boolean }) => {
      try {
        const warmupS = Number(options.warmup);
        if (!(warmupS >= 0)) throw new Error(`--warmup: expected seconds ≥ 0, got "${options.warmup}"`);
        const truth = await loadTruth(options.truth);
        const result = await evaluateRecording(recording, truth, { warmupS });
        if (options.json === true) {
          console.log(JSON.stringify(result, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
        } else {
          console.log(formatAlignmentTable(result.alignment));
          const f = result.frames;
          console.log(`\nframes ${f.frames}, samples ${f.samples}, flagged samples ${f.flaggedSamples}, largest |residual| ${f.maxAbsResidualMs.toFixed(1)} ms`);
          for (const c of result.calibrations) console.log(`calibrated latency: ${c.sensor} ${(c.latencyS * 1000).toFixed(2)} ± ${(c.uncertaintyS * 1000).toFixed(2)} ms`);
        }
        if (result.alignment.sensors.some((s) => s.compared > 0 && !s.withinBound)) process.exitCode = 2;
      } catch (error) {
        console.error(`syncbag eval: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    });
}
