/**
 * Two-pass conversion soak (not a mocha test — minutes of CPU): long simulated drives with drift
 * and clock steps, written as rosbag2, converted by the pipeline converter in a child process of
 * its own (so its peak RSS is the conversion's alone), and scored over the whole drive (warm-up 0).
 *
 *   npx tsx test/align/hindsight-soak.ts [durationS …=120 600] [--seed N=71] [--rss]
 *
 * --rss: convert without the truth file (a fleet recording has none; the truth and its per-message
 * lookup grow with the drive and are not the converter's) and print the peak RSS only.
 *
 * The rig is sample-step's with two clock steps on every sensor (20–400 ms, either sign, at times
 * scaled to the drive: test/align/two-step-rig.ts) and drift on every clock.
 * Prints per drive: conversion time, first-pass time and its share, peak RSS, and per sensor the
 * whole-drive p50 / p99 / max; exits 1 when a sensor's p99 misses its bound.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluateRecording } from "../../src/cli/evaluate.js";
import { pipelineConverter } from "../../src/convert/pipeline-converter.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { writeRosbag2 } from "../../src/sim/rosbag2.js";
import { loadTruth } from "../../src/sim/truth.js";
import { twoStepRig } from "./two-step-rig.js";

async function convertChild(bag: string, truthPath: string, out: string): Promise<void> {
  const started = performance.now();
  const source = await openRecording(bag);
  const report = await pipelineConverter(source, { mcapPath: out, reportPath: `${out}.json` }, { drive: "soak", msgPaths: [], ...(truthPath === "-" ? {} : { truthPath }) }, () => undefined);
  await source.close();
  const seconds = (performance.now() - started) / 1000;
  const firstPassS = report.firstPassS ?? NaN; // in the report, not the MCAP (whose bytes depend on the input only)
  process.stdout.write(JSON.stringify({ seconds, firstPassS, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + "\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--convert") return convertChild(args[1]!, args[2]!, args[3]!);
  const seedAt = args.indexOf("--seed");
  const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 71;
  const rssOnly = args.includes("--rss");
  const durations = args.filter((a, i) => !a.startsWith("--") && (seedAt < 0 || i !== seedAt + 1)).map(Number);
  let failures = 0;
  for (const durationS of durations.length > 0 ? durations : [120, 600]) {
    const dir = mkdtempSync(join(tmpdir(), "syncbag-soak-"));
    try {
      const { rig, steps } = twoStepRig(durationS);
      const drive = simulateDrive({ rig, seed, durationS });
      const bag = await writeRosbag2(drive, { outDir: dir, name: "soak", compression: "zstd" });
      const truthPath = bag.truthPath;
      const out = join(dir, "converted.mcap");
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--convert", join(dir, "soak"), rssOnly ? "-" : truthPath, out], { encoding: "utf8", maxBuffer: 1 << 24 });
      if (child.status !== 0) throw new Error(`conversion failed: ${child.stderr}`);
      const figures = JSON.parse(child.stdout.trim().split("\n").pop()!) as { seconds: number; firstPassS: number; maxRssMB: number };
      if (rssOnly) {
        console.log(`${durationS} s drive (seed ${seed}, ${bag.messageCount} messages, ${(bag.bytes / 1e6).toFixed(0)} MB), no truth: conversion ${figures.seconds.toFixed(1)} s, first pass ${figures.firstPassS.toFixed(2)} s, peak RSS ${figures.maxRssMB.toFixed(0)} MB`);
        continue;
      }
      const evaluation = await evaluateRecording(out, await loadTruth(truthPath), { warmupS: 0 });
      console.log(`steps: ${[...steps].map(([name, list]) => `${name} ${list.map((st) => `${st.stepS >= 0 ? "+" : ""}${(st.stepS * 1000).toFixed(0)} ms at ${st.atS.toFixed(1)} s`).join(", ")}`).join("; ")}`);
      console.log(
        `${durationS} s drive (seed ${seed}, ${bag.messageCount} messages, ${(bag.bytes / 1e6).toFixed(0)} MB): conversion ${figures.seconds.toFixed(1)} s, first pass ${figures.firstPassS.toFixed(2)} s (${((100 * figures.firstPassS) / figures.seconds).toFixed(1)} %), peak RSS ${figures.maxRssMB.toFixed(0)} MB`,
      );
      for (const s of evaluation.alignment.sensors) {
        const ok = s.whole.p99Ms <= s.boundMs;
        if (!ok) failures++;
        console.log(`  ${s.sensor.padEnd(20)} n ${String(s.whole.compared).padStart(6)}  p50 ${s.whole.p50Ms.toFixed(3)}  p99 ${s.whole.p99Ms.toFixed(3)}  max ${s.whole.maxMs.toFixed(3)} ms  >bound ${s.whole.outsideBound}${ok ? "" : "  MISSED"}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.exitCode = failures > 0 ? 1 : 0;
}

await main();
