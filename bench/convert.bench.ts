/**
 * Batch conversion throughput on the sample fleet (bags/sample, copied 8× into a temp folder so
 * each run has 24 drives and worker start-up is amortised): MB/s of input per worker and multiple of real time (drive seconds per
 * wall second), with 1 and 2 worker threads, and the speed-up from 1 to 2 workers — compared with what
 * two threads of pure CPU work gain on the same machine in the same run (the machine is shared).
 * Baseline, same run: a plain read of the same recordings (openRecording + every message, one
 * thread, no output) — what the readers cost before any conversion work.
 *
 * The converter is the one `syncbag convert` runs (the node's pipeline over each recording) unless
 * SYNCBAG_BENCH_CONVERTER=<module-url>#<export> names another (e.g. the copy-only test double,
 * to measure the batch machinery alone).
 */
import { CLI_CONVERTER } from "../src/cli/commands/convert.js";
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { runBatch } from "../src/convert/batch.js";
import type { ConverterModule } from "../src/convert/converter.js";
import { discoverInputs } from "../src/convert/discover.js";
import { openRecording } from "../src/convert/readers/open.js";
import { packageRoot } from "../src/messages/catalogue.js";
import { regenerateSamples } from "../src/cli/commands/sim.js";
import { readMcapRecords } from "../src/convert/readers/mcap.js";
import { report } from "./harness.js";

const COPIES = 8;

/** Wall seconds for `threads` threads each doing `work` units of pure CPU work. */
async function cpuWall(threads: number, work: number): Promise<number> {
  const code = `let x = 0; for (let i = 0; i < ${work}; i++) x += Math.sqrt(i); require("node:worker_threads").parentPort.postMessage(x);`;
  const t = performance.now();
  await Promise.all(Array.from({ length: threads }, () => new Promise((done, fail) => new Worker(code, { eval: true, execArgv: [] }).once("message", done).once("error", fail))));
  return (performance.now() - t) / 1000;
}

/** What 2 threads gain over 1 on this machine right now (other load included): the ceiling for the batch. */
async function machineSpeedup(): Promise<number> {
  const work = 300_000_000;
  return (await cpuWall(1, 2 * work)) / (await cpuWall(2, work));
}

function converter(): ConverterModule {
  const spec = process.env.SYNCBAG_BENCH_CONVERTER;
  if (spec === undefined) return CLI_CONVERTER;
  const [module, exportName] = spec.split("#");
  return { module: module!, exportName: exportName ?? "default" };
}

export default async function (): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "syncbag-bench-convert-"));
  try {
    let sample = join(packageRoot(), "bags", "sample");
    if (!existsSync(sample)) {
      sample = join(work, "generated");
      await regenerateSamples(sample);
    }
    const fleet = join(work, "fleet");
    for (let i = 0; i < COPIES; i++) await cp(sample, join(fleet, `copy${i}`), { recursive: true });
    const { drives } = await discoverInputs([fleet]);

    // Baseline: plain read, one thread.
    let inputBytes = 0;
    let driveSeconds = 0;
    const t0 = performance.now();
    for (const d of drives) {
      const source = await openRecording(d.path);
      let first: bigint | undefined;
      let last = 0n;
      for await (const m of source.messages()) {
        first ??= m.logTime;
        last = m.logTime;
      }
      inputBytes += source.metadata.bytes;
      driveSeconds += first === undefined ? 0 : Number(last - first) / 1e9;
      await source.close();
    }
    const readS = (performance.now() - t0) / 1000;
    const readMBs = inputBytes / 1e6 / readS;
    const readRT = driveSeconds / readS;

    const wall: number[] = [];
    for (const jobs of [1, 2]) {
      const out = join(work, `out-${jobs}`);
      const t = performance.now();
      const summary = await runBatch({ inputs: [fleet], outDir: out, jobs, converter: converter(), force: true }, { progress: null });
      wall.push((performance.now() - t) / 1000);
      if (summary.failed > 0) throw new Error(`bench batch failed: ${JSON.stringify(summary.drives.filter((d) => d.status === "failed"))}`);
    }
    // The two-pass converter's first pass (stamp series and hindsight fit), from each output's metadata, over the 1-worker run.
    let firstPassS = 0;
    let firstPasses = 0;
    for (const d of drives) {
      for await (const record of readMcapRecords(join(work, "out-1", `${d.name}.mcap`))) {
        if (record.type !== "Metadata" || record.name !== "syncbag.conversion") continue;
        const seconds = Number(record.metadata.get("first_pass_s"));
        if (Number.isFinite(seconds)) {
          firstPassS += seconds;
          firstPasses++;
        }
      }
    }
    if (firstPasses > 0) {
      report({
        name: `first pass (stamp series + hindsight clock fit) of ${firstPasses} drives, 1 worker`,
        value: firstPassS,
        unit: "s",
        baseline: { name: "the whole 1-worker conversion, same run", value: wall[0]!, unit: "s" },
        ratio: firstPassS / wall[0]!,
        target: { text: "ratio ≤ 0.15 of the conversion", met: firstPassS / wall[0]! <= 0.15 },
      });
    }
    const perWorkerMBs = inputBytes / 1e6 / wall[0]!;
    report({
      name: `convert throughput per worker (${drives.length} drives, ${(inputBytes / 1e6).toFixed(0)} MB, pipeline converter unless overridden)`,
      value: perWorkerMBs,
      unit: "MB/s",
      baseline: { name: "plain read of the same files", value: readMBs, unit: "MB/s" },
      ratio: perWorkerMBs / readMBs,
      target: { text: "ratio ≥ 0.3 (conversion costs at most ~3× a plain read)", met: perWorkerMBs / readMBs >= 0.3 },
    });
    report({
      name: "convert speed per worker as multiple of real time",
      value: driveSeconds / wall[0]!,
      unit: "× real time",
      baseline: { name: "plain read", value: readRT, unit: "× real time" },
      ratio: driveSeconds / wall[0]! / readRT,
      target: { text: "value ≥ 10× real time", met: driveSeconds / wall[0]! >= 10 },
    });
    const speedup = wall[0]! / wall[1]!;
    const ceiling = await machineSpeedup();
    report({
      name: "speed-up from 1 to 2 workers",
      value: speedup,
      unit: "×",
      baseline: { name: "2 threads vs 1 on pure CPU work, same machine, same run (the ceiling under current load)", value: ceiling, unit: "×" },
      ratio: speedup / ceiling,
      target: { text: "ratio ≥ 0.7 of the machine's own 2-thread speed-up", met: speedup / ceiling >= 0.7 },
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
