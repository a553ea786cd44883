/**
 * `syncbag eval-lidar <folder> [--json] [--detail]`: the lidar proposer on real labelled sweeps
 * (index.json + <dataset>/<frame>/{points.bin,labels.json,meta.json}), scored per dataset and over
 * all against a grid-clustering baseline in the same run (src/suggest/eval-lidar.ts).
 */
import type { Command } from "commander";
import { evaluateThroughPipeline, formatTracked } from "../../convert/eval-tracked.js";
import { evaluateRealSweeps, formatLodo, formatRealEvaluation, leaveOneDatasetOut, loadRealSweeps, realEvaluationJson } from "../../suggest/eval-lidar.js";
import { reportFailure } from "../failure.js";

export function register(program: Command): void {
  program
    .command("eval-lidar")
    .description(
      "Score the lidar proposer on real labelled sweeps: per dataset and overall, car recall/precision at BEV IoU ≥ 0.5, all four road-user classes (≥ 0.25 for pedestrians and cyclists), pedestrian+cyclist recall, over labelled boxes with ≥ 10 returns within 50 m (camera view only where the labels cover only it), against a grid-clustering baseline in the same run; and how well the published confidence is calibrated (reliability table, expected calibration error raw, published and leave-one-dataset-out)",
    )
    .argument("<folder>", "a folder with index.json and <dataset>/<frame>/{points.bin,labels.json,meta.json} (e.g. ../shared/real-labelled-lidar)")
    .option("--json", "print JSON (for scripts)")
    .option("--detail", "list every missed label and false box per sweep, with its size")
    .option("--lodo", "also check the threshold read off real data (suggest.lidar.carMaxTop) leave-one-dataset-out")
    .option("--tracked", "also score what the pipeline publishes: each sweep as a 1 s recording (the sweep 10× at 10 Hz, /tf_static) through the converter `syncbag convert` runs, its last LabelSuggestionArray (tracker included); ~1–3 s per sweep")
    .action(async (folder: string, options: { json?: boolean; detail?: boolean; lodo?: boolean; tracked?: boolean }) => {
      try {
        const sweeps = await loadRealSweeps(folder);
        const e = evaluateRealSweeps(sweeps);
        const lodo = options.lodo === true ? leaveOneDatasetOut(sweeps) : null;
        const tracked = options.tracked === true ? await evaluateThroughPipeline(sweeps) : null;
        const proposer = Object.fromEntries(Object.entries(e.datasets).map(([d, x]) => [d, x.proposer]));
        if (options.json === true)
          console.log(JSON.stringify({ ...(realEvaluationJson(e) as object), ...(lodo !== null ? { leaveOneDatasetOut: lodo } : {}), ...(tracked !== null ? { tracked: { sweeps: tracked.sweeps, medianMs: tracked.medianMs, datasets: tracked.datasets } } : {}) }, null, 1));
        else console.log(formatRealEvaluation(e, options.detail === true) + (lodo !== null ? `\n\n${formatLodo(lodo)}` : "") + (tracked !== null ? `\n\n${formatTracked(tracked, proposer)}` : ""));
      } catch (error) {
        reportFailure("eval-lidar", error);
      }
    });
}
