/** The readable report `npm start` writes beside its recording (Markdown, plus JSON for scripts). */
import { writeFile } from "node:fs/promises";
import { join, basename } from "node:path";
import type { SensorHealth } from "../align/stage.js";
import type { NodeStatus } from "../pipeline/node.js";
import type { RunLiveResult } from "../sim/live.js";
import type { EvalSectionResult } from "../align/eval.js";
import type { RecordingEvaluation } from "./evaluate.js";

export interface DriveReportInput {
  outDir: string;
  name: string;
  rig: string;
  seed: number;
  durationS: number;
  speed: number;
  live: RunLiveResult;
  status: NodeStatus;
  health: SensorHealth[];
  evaluation: RecordingEvaluation | null;
  /** The suggestions section of the evaluation (its table and JSON). */
  suggestions: EvalSectionResult | null;
  mcapPath: string;
  truthPath: string;
  layoutPath: string;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "–");

export async function writeDriveReport(input: DriveReportInput): Promise<{ markdown: string; json: string }> {
  const { status, health, evaluation } = input;
  const lines: string[] = [
    `# syncbag drive report: ${input.name}`,
    "",
    `Simulated rig \`${input.rig}\`, seed ${input.seed}, ${input.durationS} s of driving played at ${input.speed === Infinity ? "maximum" : `${input.speed}×`} speed on the ${status.transport} transport (wall time ${(input.live.wallMs / 1000).toFixed(1)} s, simulator at most ${input.live.maxLateMs.toFixed(1)} ms behind its pace).`,
    "",
    `- recording: \`${basename(input.mcapPath)}\` — open in Foxglove, then import the layout \`${basename(input.layoutPath)}\``,
    `- ground truth: \`${basename(input.truthPath)}\``,
    `- messages into the pipeline: ${status.pipeline.ingested}; aligned frames: ${status.pipeline.frames}; stage outputs: ${status.pipeline.outputs}; stage errors: ${status.pipeline.stageErrors}${status.pipeline.lastError === null ? "" : ` (last: ${status.pipeline.lastError})`}`,
  ];
  if (status.recorder !== null) {
    const r = status.recorder;
    lines.push(`- recorder: ${r.recorded} messages recorded, ${r.droppedQueueFull} dropped (queue full), state ${r.state}${r.lastError === null ? "" : `, error: ${r.lastError}`}`);
  }
  const drops = status.subscriptions.reduce((n, s) => n + s.dropped, 0);
  lines.push(`- transport: ${status.subscriptions.length} subscriptions, ${drops} messages dropped by full subscription queues`);
  lines.push("", "## Sensors and clock models", "");
  lines.push("| sensor | messages | rate Hz | drops | malformed | offset s | drift ppm | latency ms (source) | confidence | steps | out of tolerance |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
  for (const h of health) {
    const share = h.samples > 0 ? (100 * h.outOfTolerance) / h.samples : 0;
    lines.push(
      `| ${h.sensor} | ${h.messages} | ${fixed(h.rateHz, 2)} | ${h.drops} | ${h.malformed} | ${fixed(h.clock.offsetS, 4)} | ${fixed(h.clock.driftPpm, 1)} | ${fixed(h.clock.latencyS * 1000, 2)} (${h.clock.latencySource}) | ${fixed(h.clock.confidence, 2)} | ${h.clock.stepsDetected} | ${fixed(share, 1)} % |`,
    );
  }
  if (evaluation !== null) {
    const a = evaluation.alignment;
    lines.push("", `## Alignment accuracy against the truth (after ${a.warmupS} s warm-up)`, "");
    lines.push("|corrected − true capture time| per message. Bound: 2 ms for sensors with a known latency, 5 ms for one calibrated across modalities.", "");
    lines.push("| sensor | latency known | compared | p50 ms | p99 ms | max ms | bound ms | within bounds from | ok |");
    lines.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const s of a.sensors) {
      lines.push(
        `| ${s.sensor} | ${s.latencyKnown ? "yes" : "no"} | ${s.compared} | ${fixed(s.p50Ms, 3)} | ${fixed(s.p99Ms, 3)} | ${fixed(s.maxMs, 3)} | ${s.boundMs} | ${s.convergedAfterS === null ? "never" : `${s.convergedAfterS.toFixed(1)} s`} | ${s.withinBound ? "yes" : "**no**"} |`,
      );
    }
    const f = evaluation.frames;
    lines.push("", `Frames: ${f.frames}, samples ${f.samples}, flagged samples ${f.flaggedSamples} (out of tolerance, missing, stale or unconverged), largest |residual| ${f.maxAbsResidualMs.toFixed(1)} ms.`);
    for (const c of evaluation.calibrations) lines.push(`Cross-modal calibration: ${c.sensor} latency ${(c.latencyS * 1000).toFixed(2)} ± ${(c.uncertaintyS * 1000).toFixed(2)} ms (engine-tone pitch vs CAN engine RPM).`);
    // What the recording holds, not only the steady state: the whole drive, and what an unconverged online model stamped.
    lines.push("", `Whole drive (every message, warm-up 0), p99 / max ms and share beyond the bound: ${a.sensors.map((s) => `${s.sensor} ${fixed(s.whole.p99Ms, 3)} / ${fixed(s.whole.maxMs, 3)} (${fixed(100 * s.whole.outsideShare, 1)} %)`).join(", ")}.`);
    const unconverged = (evaluation.unconverged ?? []).filter((u) => u.messages > 0 && u.firstNs !== null && u.lastNs !== null);
    if (unconverged.length > 0)
      lines.push("", `Stamped before the clock model converged (online models; \`syncbag convert\` re-stamps them with hindsight models): ${unconverged.map((u) => `${u.sensor} ${u.messages} messages over ${fixed(Number(u.lastNs! - u.firstNs!) / 1e9, 2)} s`).join(", ")}.`);
  }
  if (input.suggestions !== null) {
    lines.push("", "## Label suggestions against the truth", "", "```", input.suggestions.text, "```");
  }
  lines.push("");
  const markdown = join(input.outDir, `${input.name}.report.md`);
  const json = join(input.outDir, `${input.name}.report.json`);
  await writeFile(markdown, lines.join("\n"));
  const data = { name: input.name, rig: input.rig, seed: input.seed, durationS: input.durationS, speed: input.speed, wallMs: input.live.wallMs, status, health, evaluation, suggestions: input.suggestions?.json ?? null };
  await writeFile(json, JSON.stringify(data, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value === Infinity ? "max" : value), 2));
  return { markdown, json };
}
