/**
 * Batch conversion throughput on the sample fleet (bags/sample, copied 4× into a temp folder so
 * each run has 12 drives): MB/s of input per worker and multiple of real time (drive seconds per
 * wall second), with 1 and 2 worker threads, and the speed-up from 1 to 2 workers.
 * Baseline, same run: a plain read of the same recordings (openRecording + every message, one
 * thread, no output) — what the readers cost before any conversion work.
 *
 * The converter is the copy-only test double unless SYNCBAG_BENCH_CONVERTER=<module-url>#<export>
 * names another (e.g. the src/pipeline converter), so the figures measure the batch machinery.
 */
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBatch } from "../src/convert/batch.js";
import type { ConverterModule } from "../src/convert/converter.js";
import { discoverInputs } from "../src/convert/discover.js";
import { openRecording } from "../src/convert/readers/open.js";
import { packageRoot } from "../src/messages/catalogue.js";
import { regenerateSamples } from "../src/cli/commands/sim.js";
import { report } from "./harness.js";

const COPIES = 4;

function converter(): ConverterModule {
  const spec = process.env.SYNCBAG_BENCH_CONVERTER;
  if (spec === undefined) return { module: new URL("../src/convert/copy-converter.js", import.meta.url).href, exportName: "copyOnlyConverter" };
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
    const perWorkerMBs = inputBytes / 1e6 / wall[0]!;
    report({
      name: `convert throughput per worker (${drives.length} drives, ${(inputBytes / 1e6).toFixed(0)} MB, copy-only converter unless overridden)`,
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
    report({
      name: "speed-up from 1 to 2 workers",
      value: speedup,
      unit: "×",
      baseline: { name: "1 worker", value: 1, unit: "×" },
      ratio: speedup,
      target: { text: "≥ 1.4 on a 2-core machine", met: speedup >= 1.4 },
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
