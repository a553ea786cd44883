/**
 * `syncbag eval --truth <drive>.truth.json <recording.mcap> [--json]`: how well a recording's
 * alignment (and any further evaluation section) matches the simulator's truth.
 */
import { open } from "node:fs/promises";
import { z } from "zod";
import { cliNumber, EXIT, inputFileProblem, parseOptions, reportDamage, reportFailure } from "../failure.js";
import type { Command } from "commander";
import type { EvalSection } from "../../align/eval.js";
import { loadTruth } from "../../sim/truth.js";
import { SuggestionEvalSection } from "../../suggest/eval-section.js";
import { alignmentSection, runEvalSections } from "../evaluate.js";

const MCAP_MAGIC = Buffer.from([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);

async function firstBytes(path: string, n: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const EvalOptions = z.object({
  truth: z.string().min(1),
  warmup: cliNumber.atLeast(0, false, "seconds"),
  json: z.boolean().optional(),
  judgeAfterWarmup: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command("eval")
    .description(
      "Score a recording against the simulator's ground truth: per sensor p50 / p99 / max of |corrected − true capture time| over the whole drive (every message, and the share beyond the bound) beside the same after the warm-up, the time after which each sensor stayed within its bound (2 ms with a known latency, 5 ms calibrated), the messages stamped before their clock model converged (from the SensorClockState channel), flagged frame samples and calibrated latencies; then the label-suggestion section (recall, precision, IoU, events). The alignment verdict is every sensor's whole-drive p99 within its bound (--judge-after-warmup: the after-warm-up p99, the online models' steady state). Exit code 2 when any section misses its bounds (a sensor beyond its alignment bound, or suggestions below their targets; each table says which), 1 on an unreadable input or on a damaged one (truncated, corrupt), whose messages before the damage are still scored.",
    )
    .argument("<recording>", "an MCAP written by syncbag (node, start or convert): publish_time = corrected capture time")
    .requiredOption("--truth <file>", "the drive's <drive>.truth.json (written by the simulator beside the recording)")
    .option("--warmup <s>", "seconds of drive not scored (clock models converging)", "10")
    .option("--judge-after-warmup", "judge the alignment on the p99 after --warmup instead of the whole drive (the earlier verdict: what the online models reach once converged, not what the recording holds)")
    .option("--json", "print JSON (for scripts): one key per section")
    .action(async (recording: string, raw: Record<string, unknown>) => {
      try {
        const options = parseOptions("eval", EvalOptions, raw);
        const warmupS = options.warmup;
        for (const [what, path] of [["--truth", options.truth], ["recording", recording]] as const) {
          const problem = inputFileProblem(path);
          if (problem !== null) throw new Error(`${what} ${path}: ${problem}`);
        }
        // A recording given as the truth (arguments swapped) would be read whole as text and
        // its parse error would print binary: its magic says what it is.
        const head = await firstBytes(options.truth, 8);
        if (head.subarray(0, MCAP_MAGIC.length).equals(MCAP_MAGIC)) throw new Error(`--truth ${options.truth}: is an MCAP recording, not a truth file (<drive>.truth.json); the recording goes last: syncbag eval --truth <drive>.truth.json <recording.mcap>`);
        const firstChar = head.toString("latin1").trimStart()[0];
        if (firstChar !== undefined && firstChar !== "{") throw new Error(`--truth ${options.truth}: not a truth file (a JSON object written by the simulator as <drive>.truth.json)`);
        const truth = await loadTruth(options.truth);
        // Evaluation sections, one pass over the file; add a concern with one line here.
        const alignment = alignmentSection(truth, { warmupS, judge: options.judgeAfterWarmup === true ? "after-warmup" : "whole" });
        const sections: EvalSection[] = [alignment, new SuggestionEvalSection(truth, { warmupS })];
        let damage: string | null = null;
        const results = await runEvalSections(recording, sections, { onDamage: (problem) => (damage = problem.message) });
        // A truth of another drive matches none of the recording's messages (same topics, other
        // stamps): every figure would be NaN, so say so instead of printing the tables.
        const sensors = alignment.result().alignment.sensors;
        const matched = sensors.reduce((n, s) => n + s.matched, 0);
        const unmatched = sensors.reduce((n, s) => n + s.unmatched, 0);
        if (matched === 0) {
          throw new Error(
            unmatched > 0
              ? `--truth ${options.truth} does not belong to this recording: none of its ${unmatched} sensor messages has a capture in that truth (rig ${truth.rig}, seed ${truth.seed}); use the <drive>.truth.json written beside this drive's input`
              : `--truth ${options.truth} does not belong to this recording: the recording has no message on the truth's sensor topics (rig ${truth.rig}, seed ${truth.seed})`,
          );
        }
        // A damaged file: said first, and the verdicts say they cover only the part before it.
        if (damage !== null) reportDamage("eval", damage, "scored the messages");
        if (options.json === true) {
          const json = Object.fromEntries(results.map((r) => [r.name, r.json]));
          console.log(JSON.stringify(damage === null ? json : { damage, ...json }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
        } else {
          const text = results.map((r) => r.text).join("\n\n");
          console.log(damage === null ? text : `${text.replace(/targets: all met/g, "targets: all met before the damage (the rest of the drive was not scored)")}\n\npartial: scored up to the damage (${damage})`);
        }
        if (results.some((r) => !r.ok)) process.exitCode = EXIT.shortOfTarget;
        if (damage !== null) process.exitCode = EXIT.failed;
      } catch (error) {
        reportFailure("eval", error);
      }
    });
}
