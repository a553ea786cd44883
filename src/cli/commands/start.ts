/**
 * `syncbag start` (`npm start`): the main job on a fresh machine. The simulated drive publishes
 * on the in-process transport exactly as drivers would on ROS 2 (each sensor on its own drifting
 * clock, with latency and jitter); the node subscribes, aligns, suggests and records; then the
 * recording is evaluated against the simulator's truth and a report is written beside it.
 */
import { cliNumber, outputFolderProblem, parseOptions, reportFailure } from "../failure.js";
import { z } from "zod";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { simulateDrive } from "../../sim/drive.js";
import { runLive } from "../../sim/live.js";
import { rigOption } from "./rig-option.js";
import { InProcessTransport } from "../../transport/inprocess.js";
import { SimulatedClock } from "../../transport/clock.js";
import { parseNodeConfig } from "../../pipeline/config.js";
import { createSyncbagNode } from "../../pipeline/create.js";
import { cameraInfoTopic } from "../../transport/names.js";
import { alignmentConfigForRig } from "../../pipeline/rig-config.js";
import { foxgloveLayout } from "../../pipeline/layout.js";
import { evaluateAll } from "../evaluate.js";
import { formatAlignmentTable } from "../../align/eval.js";
import { writeDriveReport } from "../report.js";

export interface StartOptions {
  rig: string;
  seed: string;
  duration: string;
  speed: string;
  out: string;
  name?: string;
  compression: string;
  /** Print progress and results (the CLI); tests pass false. */
  quiet?: boolean;
}

/** The options as commander passes them (strings), checked at the boundary: every problem at once. */
const StartSchema = z.object({
  rig: z.string().min(1),
  seed: cliNumber.int(0, 0xffffffff, "a whole-number seed"),
  duration: cliNumber.atLeast(0, true, "seconds"),
  speed: z.union([z.literal("max").transform(() => Infinity), cliNumber.atLeast(0, true, "`max` or a speed factor")]),
  out: z.string().min(1).refine((out) => outputFolderProblem(out) === null, { error: (issue) => outputFolderProblem(String(issue.input)) ?? "not a usable folder" }),
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "expected letters, digits, '_', '.', '-'").optional(),
  compression: z.enum(["zstd", "lz4", "none"], { error: "expected zstd, lz4 or none" }),
});

export function register(program: Command): void {
  program
    .command("start")
    .description(
      "Run the node on the embedded (in-process) transport against a simulated drive: align, suggest and record into an MCAP, then evaluate it against the simulator's truth and write a report beside it",
    )
    .option("--rig <name|file>", "simulated rig: a built-in name (default, standard, sample-…) or a rig YAML file", "default")
    .option("--seed <n>", "scenario seed (same seed → same drive)", "1")
    .option("--duration <s>", "drive length in seconds", "30")
    .option("--speed <x>", "playback speed relative to real time, or `max`", "2")
    .option("--out <dir>", "output folder", "bags/out")
    .option("--name <name>", "recording name (default: <rig>-seed<seed>)")
    .option("--compression <zstd|lz4|none>", "MCAP chunk compression", "zstd")
    .action(async (options: StartOptions) => {
      try {
        await start(options);
      } catch (error) {
        reportFailure("start", error);
      }
    });
}

export async function start(options: StartOptions): Promise<{ mcapPath: string; reportPath: string; truthPath: string }> {
  const console = options.quiet === true ? { log: (_line: string): void => undefined } : globalThis.console;
  const o = parseOptions("start", StartSchema, { ...options });
  const { seed, duration: durationS, speed } = o;
  const rig = rigOption("start", options.rig);
  const name = options.name ?? `${rig.name}-seed${seed}`;
  const outDir = resolve(options.out);
  await mkdir(outDir, { recursive: true });
  // A rerun replaces its own earlier outputs (the recorder never overwrites by itself).
  for (const suffix of ["_0.mcap", ".truth.json", ".report.md", ".report.json", ".layout.json"]) await rm(join(outDir, `${name}${suffix}`), { force: true });

  const drive = simulateDrive({ rig, seed, durationS });
  const clock = new SimulatedClock({ startNs: drive.startNs - 1n });
  const transport = new InProcessTransport({ nodeName: "syncbag", clock });
  const config = parseNodeConfig({
    output_dir: outDir,
    align: alignmentConfigForRig(rig),
    record: { baseName: name, compression: o.compression },
    // Faster than real time the simulator publishes in bursts between event-loop turns; a deep
    // queue keeps the embedded run lossless (a live ROS graph paces drivers in real time).
    sensor_qos: { depth: 5000 },
  });
  const { node, alignment, recorder } = await createSyncbagNode({
    transport,
    config,
    metadata: { "syncbag.simulation": { rig: rig.name, seed: String(seed), duration_s: String(durationS) } },
  });
  node.start();
  const shutdown = (): void => void node.stop();
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);

  console.log(`syncbag: simulating ${durationS} s of the "${rig.name}" rig (seed ${seed}) at ${speed === Infinity ? "maximum" : `${speed}×`} speed on the in-process transport…`);
  const publishers = new Map(drive.topics.map((t) => [t.topic, transport.advertise(t.topic, t.type, t.qos)]));
  const live = await runLive({
    drive,
    clock,
    speed,
    publish: (topic, _type, data) => publishers.get(topic)?.publish(data),
  });
  await transport.flush();
  node.tick(clock.now());
  await node.stop();
  await transport.shutdown();
  process.removeListener("SIGINT", shutdown);
  process.removeListener("SIGTERM", shutdown);

  const truth = live.truth ?? drive.truth();
  const mcapPath = recorder?.filePath(0) ?? "";
  const truthPath = join(outDir, `${name}.truth.json`);
  await writeFile(truthPath, JSON.stringify(truth));
  const layoutPath = join(outDir, `${name}.layout.json`);
  const cameras = alignment.config.sensors.filter((s) => s.modality === "camera");
  await writeFile(
    layoutPath,
    JSON.stringify(
      foxgloveLayout({
        lidarTopics: alignment.config.sensors.filter((s) => s.modality === "lidar").map((s) => s.topic),
        cameras: cameras.map((c) => ({ name: c.name, imageTopic: c.topic, infoTopic: cameraInfoTopic(c.topic), annotationTopic: `/syncbag/suggestions/${c.name}/annotations` })),
        sceneTopic: "/syncbag/suggestions/scene",
        telemetryTopic: alignment.config.sensors.find((s) => s.modality === "telemetry")?.topic ?? null,
        clockStateTopic: alignment.outputTopics.clockState,
        clockSensors: alignment.config.sensors.map((s) => s.name),
        fixedFrame: "base_link",
      }),
      null,
      2,
    ),
  );
  const status = node.status();
  const evaluations = existsSync(mcapPath) ? await evaluateAll(mcapPath, truth) : null;
  const evaluation = evaluations?.alignment ?? null;
  const reportPaths = await writeDriveReport({ outDir, name, rig: rig.name, seed, durationS, speed, live, status, health: alignment.health(), evaluation, suggestions: evaluations?.suggestions ?? null, mcapPath, truthPath, layoutPath });

  const rel = (p: string): string => relative(process.cwd(), p) || p;
  if (evaluation !== null) console.log(`\n${formatAlignmentTable(evaluation.alignment)}\n`);
  if (evaluations !== null) console.log(`${evaluations.suggestions.text}\n`);
  console.log(`Recorded ${status.recorder?.recorded ?? 0} messages, ${status.pipeline.frames} aligned frames, ${status.recorder?.droppedQueueFull ?? 0} dropped by the recorder.`);
  console.log(`  recording: ${rel(mcapPath)}`);
  console.log(`  report:    ${rel(reportPaths.markdown)} (and ${rel(reportPaths.json)})`);
  console.log(`  truth:     ${rel(truthPath)}`);
  console.log(`Open it in Foxglove: File → Open local file → ${rel(mcapPath)}; then Layouts → Import from file → ${rel(layoutPath)}.`);
  // The installed command runs the built JavaScript; from a checkout's sources it is the npm script.
  const cli = import.meta.url.endsWith(".ts") ? "npm run syncbag --" : "syncbag";
  console.log(`Inspect it here: ${cli} inspect ${rel(mcapPath)}   ·   score it: ${cli} eval --truth ${rel(truthPath)} ${rel(mcapPath)}`);
  return { mcapPath, reportPath: reportPaths.json, truthPath };
}
