/** `syncbag sim`: write a simulated drive as a rosbag2 MCAP folder with its ground truth, or regenerate bags/sample. */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { packageRoot } from "../../messages/catalogue.js";
import { simulateDrive } from "../../sim/drive.js";
import { builtinRigNames, loadRig } from "../../sim/rig.js";
import { cliNumber, outputFolderProblem, parseOptions, reportFailure } from "../failure.js";
import { rigOption } from "./rig-option.js";
import { writeRosbag2 } from "../../sim/rosbag2.js";

const SimOptions = z.object({
  rig: z.string().min(1),
  seed: cliNumber.int(0, 0xffffffff, "a whole-number seed"),
  duration: cliNumber.atLeast(0, true, "seconds").pipe(z.number().max(3600, "expected at most 3600 s")).optional(),
  out: z.string().min(1).refine((out) => outputFolderProblem(out) === null, { error: (issue) => outputFolderProblem(String(issue.input)) ?? "not a usable folder" }),
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "expected letters, digits, '_', '.', '-'").optional(),
  compression: z.enum(["none", "zstd", "zstd_small"], { error: "expected none, zstd or zstd_small" }),
  regenerateSamples: z.boolean().optional(),
  listRigs: z.boolean().optional(),
});

/** The committed sample fleet: three short drives on different rigs and clock faults (one with a clock step). */
export const SAMPLE_DRIVES = [
  { name: "drive-compact-s7", rig: "sample-compact", seed: 7, durationS: 4 },
  { name: "drive-faulty-s11", rig: "sample-faulty", seed: 11, durationS: 4 },
  { name: "drive-step-s23", rig: "sample-step", seed: 23, durationS: 4 },
] as const;
const SAMPLE_BUDGET_BYTES = 15_000_000;

async function folderBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? await folderBytes(p) : (await stat(p)).size;
  }
  return total;
}

export async function regenerateSamples(outDir = join(packageRoot(), "bags", "sample")): Promise<number> {
  await rm(outDir, { recursive: true, force: true });
  for (const spec of SAMPLE_DRIVES) {
    const drive = simulateDrive({ rig: loadRig(spec.rig), seed: spec.seed, durationS: spec.durationS, name: spec.name });
    const result = await writeRosbag2(drive, { outDir, name: spec.name, compression: "zstd_small" });
    console.log(`${spec.name}: rig ${spec.rig}, seed ${spec.seed}, ${spec.durationS} s, ${result.messageCount} messages, ${(result.bytes / 1e6).toFixed(2)} MB mcap`);
  }
  const total = await folderBytes(outDir);
  console.log(`bags/sample: ${(total / 1e6).toFixed(2)} MB in total (budget ${SAMPLE_BUDGET_BYTES / 1e6} MB)`);
  if (total > SAMPLE_BUDGET_BYTES) throw new Error(`sample fleet is ${total} bytes, over the ${SAMPLE_BUDGET_BYTES}-byte budget`);
  return total;
}

export function register(program: Command): void {
  program
    .command("sim")
    .description("Simulate a drive with known ground truth and write it as `ros2 bag record -s mcap` would (rosbag2 folder + <name>.truth.json)")
    .option("-r, --rig <name|file>", `built-in rig (${builtinRigNames().join(", ")}) or a rig YAML file`, "default")
    .option("-s, --seed <n>", "scenario seed: same seed, byte-identical recording", "1")
    .option("-d, --duration <seconds>", "drive length (default: the rig's durationS)")
    .option("-o, --out <dir>", "output folder (receives <name>/ and <name>.truth.json)", "bags/out")
    .option("-n, --name <name>", "bag name (default: sim-<rig>-s<seed>)")
    .option("-c, --compression <mode>", "MCAP chunk compression: none (rosbag2 default), zstd (zstd_fast preset), zstd_small (zstd_small preset)", "none")
    .option("--regenerate-samples", "regenerate the committed sample fleet in bags/sample (three short drives)")
    .option("--list-rigs", "list the built-in rigs")
    .action(async (raw: Record<string, unknown>) => {
      try {
        await run(raw);
      } catch (error) {
        // Bad input is reported in one line, not as a stack trace.
        reportFailure("sim", error);
      }
    });
}

async function run(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions("sim", SimOptions, raw);
  if (o.listRigs) {
    for (const name of builtinRigNames()) console.log(`${name}: ${loadRig(name).description}`);
    return;
  }
  if (o.regenerateSamples) {
    await regenerateSamples();
    return;
  }
  const rig = rigOption("sim", o.rig);
  const name = o.name ?? `sim-${rig.name}-s${o.seed}`;
  const drive = simulateDrive({ rig, seed: o.seed, durationS: o.duration, name });
  const t0 = performance.now();
  const result = await writeRosbag2(drive, { outDir: o.out, name, compression: o.compression });
  const wall = (performance.now() - t0) / 1000;
  console.log(`${result.bagDir}: ${result.messageCount} messages, ${(result.bytes / 1e6).toFixed(1)} MB, ${drive.durationS} s simulated in ${wall.toFixed(1)} s (${(drive.durationS / wall).toFixed(2)}x real time)`);
  console.log(`truth: ${result.truthPath}`);
}
