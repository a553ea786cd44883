/**
 * Conversion throughput on the sample fleet (bags/sample copied COPIES× (3) into a temp folder, so a
 * run has many drives and start-up is amortised), every figure against a baseline measured in the
 * same run (the machine is shared: absolute figures move with its load, ratios much less):
 *
 * - plain file copy of the inputs (cp): the disk/page-cache ceiling;
 * - copy-only conversion (readers + MCAP writer, no pipeline), one worker thread, against that copy;
 * - the real converter (the node's pipeline, two passes, suggestions), one worker thread: MB/s and
 *   × real time, against copy-only; the first pass's share of it;
 * - through a real Redis (a redis-server started here on a free loopback port, stopped after):
 *   one and then two `syncbag worker` processes (the built bin, as a fleet runs it, warmed on the
 *   sample drives first) fed by the producer; the 1 → 2 process speed-up against what two threads
 *   of pure CPU work gain on this machine in the same run (the ceiling under the current load), and
 *   the workers' CPU seconds for the same fleet (2 processes vs 1: independent of the other load).
 *
 * Every run is the built command (dist/, rebuilt first), as users and fleet workers run it. The
 * converter of the 1-thread figures is the one `syncbag convert` runs unless
 * SYNCBAG_BENCH_CONVERTER=<module-url>#<export> names another. About a minute on 2 quiet cores.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { CLI_CONVERTER } from "../src/cli/commands/convert.js";
import { regenerateSamples } from "../src/cli/commands/sim.js";
import type { BatchSummary } from "../src/convert/batch.js";
import type { ConverterModule } from "../src/convert/converter.js";
import { discoverInputs } from "../src/convert/discover.js";
import { runQueuedBatch } from "../src/convert/queue/producer.js";
import { DriveReport } from "../src/convert/report.js";
import { packageRoot } from "../src/messages/catalogue.js";
import { convertPeakRss, writeImageDb3Bag } from "../test/convert/fixtures.js";
import { hasRedis, startRedis } from "../test/helpers/redis.js";
import { report } from "./harness.js";

const COPIES = 3;
const ISSUE_MB_S = 80; // #18: ≥ 1× real time per core of an 80 MB/s rig
/** Seconds of the standard-rig drive the per-worker figures are measured on (~610 MB/s of input). */
const STANDARD_DRIVE_S = 3;

/** Wall seconds for `threads` threads each doing `work` units of pure CPU work. */
async function cpuWall(threads: number, work: number): Promise<number> {
  const code = `let x = 0; for (let i = 0; i < ${work}; i++) x += Math.sqrt(i); require("node:worker_threads").parentPort.postMessage(x);`;
  const t = performance.now();
  await Promise.all(Array.from({ length: threads }, () => new Promise((done, fail) => new Worker(code, { eval: true, execArgv: [] }).once("message", done).once("error", fail))));
  return (performance.now() - t) / 1000;
}

/** What 2 threads gain over 1 on this machine right now (other load included): the ceiling for 2 workers. */
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

/**
 * `syncbag convert <fleet> -o <out> -j 1 --force --json` as a user runs it (the built bin, so the
 * figures are not tsx's on-the-fly transpiling); the batch's own elapsed time (hashing, thread
 * start-up and every drive; not node's start-up).
 */
function cliBatch(fleet: string, outDir: string, extra: string[] = [], jobs = 1): { seconds: number; summary: BatchSummary } {
  const stdout = execFileSync(process.execPath, [join(packageRoot(), "bin", "syncbag.js"), "convert", fleet, "-o", outDir, "-j", String(jobs), "--force", "--json", ...extra], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
  const summary = JSON.parse(stdout) as BatchSummary;
  if (summary.failed > 0) throw new Error(`bench batch failed: ${JSON.stringify(summary.drives.filter((d) => d.status === "failed").map((d) => d.error))}`);
  return { seconds: summary.elapsedS, summary };
}

/** MiB of the rosbag2 sqlite3 bag whose conversion's peak memory is measured (#18: ≥ 2 GB), and of the baseline bag. */
const BIG_DB3_MIB = 2100;
const SMALL_DB3_MIB = 256;
const DB3_RSS_TARGET_MB = 500;
/** The fleet the 1 → 2 process speed-up is measured on. */
const LONG_DRIVES = 6;
const LONG_DRIVE_S = 5;

/** A `syncbag worker` process (the built bin), resolved once it says it is ready. */
async function startWorker(url: string, queueName: string): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [join(packageRoot(), "bin", "syncbag.js"), "worker", "--queue", url, "--queue-name", queueName, "--jobs", "1"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  await new Promise<void>((done, fail) => {
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("ready on")) done();
    });
    child.once("exit", (code) => fail(new Error(`worker exited ${code} before it was ready:\n${log}`)));
  });
  return { child, log: () => log };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/**
 * Converts the fleet through Redis with `processes` worker processes: wall seconds from the first
 * enqueue to the last result, and the CPU seconds the workers spent on it (load-independent).
 */
async function queuedRun(url: string, fleet: string, warmUp: string, outDir: string, processes: number): Promise<{ seconds: number; cpuS: number }> {
  const queueName = `bench-${processes}`;
  const workers = await Promise.all(Array.from({ length: processes }, () => startWorker(url, queueName)));
  try {
    // Untimed: warm-up drives until every process has converted some, so each has compiled the
    // pipeline (a thread's first drives cost ~3 s more CPU than later ones; long-lived fleet workers
    // pay that once). The queue hands a drive to whichever worker asks first, so one pass over a
    // single drive warmed one process of two, and the "second process" figures measured the other's
    // JIT warm-up (two processes then spent 1.6× the CPU of one on the same drives).
    const warmed = new Map<string, number>();
    for (let pass = 0; pass < 5 && (warmed.size < processes || Math.min(...warmed.values()) < 2); pass++) {
      const warm = await runQueuedBatch({ inputs: [warmUp], outDir: `${outDir}-warm`, url, queueName, msgPaths: [], force: true, salvage: false, dryRun: false, converter: "pipeline" }, { progress: null });
      for (const d of warm.drives) if (d.worker !== undefined) warmed.set(d.worker, (warmed.get(d.worker) ?? 0) + 1);
    }
    if (warmed.size < processes) throw new Error(`bench: warm-up reached ${warmed.size} of ${processes} worker processes`);
    const cpu0 = workers.reduce((a, w) => a + cpuSeconds(w.child.pid), 0);
    const t = performance.now();
    const summary = await runQueuedBatch({ inputs: [fleet], outDir, url, queueName, msgPaths: [], force: true, salvage: false, dryRun: false, converter: "pipeline" }, { progress: null });
    const seconds = (performance.now() - t) / 1000;
    const cpuS = workers.reduce((a, w) => a + cpuSeconds(w.child.pid), 0) - cpu0;
    if (summary.failed > 0) throw new Error(`bench queue run failed: ${JSON.stringify(summary.drives.filter((d) => d.status === "failed").map((d) => d.error))}`);
    return { seconds, cpuS };
  } finally {
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once("exit", r)))));
  }
}

interface ThroughputRun {
  bytes: number;
  driveS: number;
  plainS: number;
  copyS: number;
  pipeline: { seconds: number; summary: BatchSummary };
}

/** A plain copy of `input` (the ceiling), its copy-only conversion and its real conversion, each timed. */
async function copyAndConvert(input: string, scratch: string, copyConverter: string[], converterArgs: string[]): Promise<ThroughputRun> {
  const t = performance.now();
  await cp(input, `${scratch}-plain`, { recursive: true });
  const plainS = (performance.now() - t) / 1000;
  await rm(`${scratch}-plain`, { recursive: true, force: true });
  const copy = cliBatch(input, `${scratch}-copy`, copyConverter);
  await rm(`${scratch}-copy`, { recursive: true, force: true });
  const pipeline = cliBatch(input, `${scratch}-pipeline`, converterArgs); // kept: its reports are read afterwards
  const bytes = copy.summary.drives.reduce((a, d) => a + (d.inputBytes ?? 0), 0);
  const driveS = copy.summary.drives.reduce((a, d) => a + (d.durationS ?? 0), 0);
  return { bytes, driveS, plainS, copyS: copy.seconds, pipeline };
}

/** Copy-only against the plain copy, the converter against copy-only, and the converter's × real time. */
function reportThroughput(run: ThroughputRun, names: { copyOnly: string; pipeline: string; realTime: string; targets: boolean }): void {
  const copyMBs = run.bytes / 1e6 / run.copyS;
  const mbs = run.bytes / 1e6 / run.pipeline.seconds;
  report({
    name: names.copyOnly,
    value: copyMBs,
    unit: "MB/s",
    baseline: { name: "plain file copy of the same files", value: run.bytes / 1e6 / run.plainS, unit: "MB/s" },
    ratio: run.plainS / run.copyS,
    ...(names.targets ? { target: { text: "value ≥ 500 MB/s (#18)", met: copyMBs >= 500 } } : {}),
  });
  report({
    name: names.pipeline,
    value: mbs,
    unit: "MB/s",
    baseline: { name: "copy-only conversion of the same input, same run", value: copyMBs, unit: "MB/s" },
    ratio: mbs / copyMBs,
    ...(names.targets ? { target: { text: `value ≥ ${ISSUE_MB_S} MB/s (1× real time per core of an ${ISSUE_MB_S} MB/s rig, #18)`, met: mbs >= ISSUE_MB_S } } : {}),
  });
  report({
    name: names.realTime,
    value: run.driveS / run.pipeline.seconds,
    unit: "× real time",
    baseline: { name: "copy-only conversion of the same input", value: run.driveS / run.copyS, unit: "× real time" },
    ratio: run.copyS / run.pipeline.seconds,
  });
}

export default async function (): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "syncbag-bench-convert-"));
  let redis: ChildProcess | undefined;
  try {
    let sample = join(packageRoot(), "bags", "sample");
    if (!existsSync(sample)) {
      sample = join(work, "generated");
      await regenerateSamples(sample);
    }
    const fleet = join(work, "fleet");
    for (let i = 0; i < COPIES; i++) await cp(sample, join(fleet, `copy${i}`), { recursive: true });
    const { drives } = await discoverInputs([fleet]);

    execFileSync(process.execPath, [join(packageRoot(), "scripts", "build.mjs")], { stdio: "ignore" }); // the runs below use dist/
    const bin = [join(packageRoot(), "bin", "syncbag.js")];
    const copyConverter = ["--converter", `${join(packageRoot(), "dist", "src", "convert", "copy-converter.js")}#copyOnlyConverter`];
    const override = converter();
    const overrideArgs = override === CLI_CONVERTER ? [] : ["--converter", `${override.module}#${override.exportName}`];

    // Per worker, on a standard-rig drive (#18): 128×2048 lidar, three raw 1080p cameras at 30 Hz,
    // audio, CAN, IMU, GNSS, odometry: about 610 MB per second of drive.
    const standard = join(work, "standard");
    execFileSync(process.execPath, [...bin, "sim", "-r", "standard", "-d", String(STANDARD_DRIVE_S), "-s", "1", "-o", standard], { stdio: "ignore" });
    const std = await copyAndConvert(standard, join(work, "std"), copyConverter, overrideArgs);
    const stdPeak = await convertPeakRss(bin, standard, join(work, "out-std")); // its own run, polled from /proc
    await rm(join(work, "out-std"), { recursive: true, force: true });
    reportThroughput(std, {
      copyOnly: `copy-only conversion, 1 worker thread, a ${STANDARD_DRIVE_S} s standard-rig drive (${(std.bytes / 1e6).toFixed(0)} MB: hashing, readers, MCAP writer with zstd, no pipeline)`,
      pipeline: "convert throughput per worker, standard-rig drive with suggestions (the pipeline converter unless overridden, 1 worker thread)",
      realTime: `convert speed per worker as multiple of real time (standard rig: ${(std.bytes / 1e6 / std.driveS).toFixed(0)} MB per second of drive)`,
      targets: true,
    });
    report({
      name: "peak RSS converting the standard-rig drive (`syncbag convert -j 1`, the built bin)",
      value: stdPeak / 1e6,
      unit: "MB",
      baseline: { name: "input bytes per second of drive", value: std.bytes / 1e6 / std.driveS, unit: "MB" },
      ratio: stdPeak / 1e6 / (std.bytes / 1e6 / std.driveS),
      target: { text: `value ≤ ${DB3_RSS_TARGET_MB * 2} MB (bounded: history is what a frame can still choose, not seconds of every camera)`, met: stdPeak / 1e6 <= DB3_RSS_TARGET_MB * 2 },
    });
    await rm(standard, { recursive: true, force: true });

    // The sample fleet (0.5 s drives: per-drive start-up dominates): the same three figures.
    const fleetRun = await copyAndConvert(fleet, join(work, "fleet-out"), copyConverter, overrideArgs);
    const { bytes: inputBytes } = fleetRun;
    const pipeline = fleetRun.pipeline;
    const perWorkerMBs = inputBytes / 1e6 / pipeline.seconds;
    reportThroughput(fleetRun, {
      copyOnly: `copy-only conversion, 1 worker thread (sample fleet: ${drives.length} drives, ${(inputBytes / 1e6).toFixed(0)} MB)`,
      pipeline: "convert throughput per worker (sample fleet, 1 worker thread)",
      realTime: "convert speed per worker as multiple of real time (sample drives)",
      targets: false,
    });
    // The two-pass converter's first pass (stamp series and hindsight fit), from each drive's report.
    let firstPassS = 0;
    let firstPasses = 0;
    for (const d of pipeline.summary.drives) {
      if (d.output === undefined) continue;
      const parsed = DriveReport.safeParse(JSON.parse(await readFile(d.output.report, "utf8")));
      if (parsed.success && parsed.data.firstPassS !== undefined) {
        firstPassS += parsed.data.firstPassS;
        firstPasses++;
      }
    }
    if (firstPasses > 0) {
      report({
        name: `first pass (stamp series + hindsight clock fit) of ${firstPasses} drives, 1 worker`,
        value: firstPassS,
        unit: "s",
        baseline: { name: "the whole 1-worker conversion, same run", value: pipeline.seconds, unit: "s" },
        ratio: firstPassS / pipeline.seconds,
        target: { text: "ratio ≤ 0.15 of the conversion", met: firstPassS / pipeline.seconds <= 0.15 },
      });
    }

    // Memory: a rosbag2 sqlite3 bag over 2 GB, against one of 256 MB in the same run (bounded: the same).
    const bigBag = join(work, "db3-big"), smallBag = join(work, "db3-small");
    if ((await writeImageDb3Bag(bigBag, BIG_DB3_MIB)) && (await writeImageDb3Bag(smallBag, SMALL_DB3_MIB))) {
      const small = await convertPeakRss(bin, smallBag, join(work, "out-db3-small"));
      await rm(join(work, "out-db3-small"), { recursive: true, force: true });
      const big = await convertPeakRss(bin, bigBag, join(work, "out-db3-big"));
      await rm(join(work, "out-db3-big"), { recursive: true, force: true });
      report({
        name: `peak RSS converting a ${((BIG_DB3_MIB * 1.048576) / 1000).toFixed(1)} GB rosbag2 sqlite3 bag (\`syncbag convert -j 1\`, the built bin; 1 MiB images)`,
        value: big / 1e6,
        unit: "MB",
        baseline: { name: `the same for a ${SMALL_DB3_MIB} MiB bag`, value: small / 1e6, unit: "MB" },
        ratio: big / small,
        target: { text: `value ≤ ${DB3_RSS_TARGET_MB} MB (#18)`, met: big / 1e6 <= DB3_RSS_TARGET_MB },
      });
    } else console.log("peak RSS converting a rosbag2 sqlite3 bag: skipped (better-sqlite3's binding is not built)");
    await rm(bigBag, { recursive: true, force: true });
    await rm(smallBag, { recursive: true, force: true });

    // Through a real Redis: worker processes, as a fleet runs them (the built bin).
    if (!hasRedis()) {
      console.log("1 → 2 worker processes through Redis: skipped (redis-server is not installed; apt-get install redis-server)");
      return;
    }
    const { checkRedis } = await import("../src/convert/queue/connection.js");
    const started = await startRedis((u) => checkRedis(u, 500).then(() => true));
    redis = started.process;
    const url = started.url;
    const one = await queuedRun(url, fleet, sample, join(work, "out-q1"), 1);
    const two = await queuedRun(url, fleet, sample, join(work, "out-q2"), 2);
    // The speed-up is measured on drives long enough that a job's own overheads (queue round trips,
    // opening and closing files) are small against its conversion, as on a fleet's real drives:
    // LONG_DRIVES default-rig drives of LONG_DRIVE_S s (the sample drives are 0.5 s each).
    // Each process is first warmed on a drive of the same rig (its code paths compiled: cameras,
    // lidar, the tracker), as a fleet's long-lived workers are after their first drive.
    const long = join(work, "long-fleet"), longWarm = join(work, "long-warm");
    const simDrive = (seed: number, out: string): void => void execFileSync(process.execPath, [join(packageRoot(), "bin", "syncbag.js"), "sim", "-r", "default", "-d", String(LONG_DRIVE_S), "-s", String(seed), "-o", out], { stdio: "ignore" });
    for (let i = 1; i <= LONG_DRIVES; i++) simDrive(i, long);
    for (let i = 1; i <= 4; i++) simDrive(LONG_DRIVES + i, longWarm); // enough for both processes to take two
    const longOne = await queuedRun(url, long, longWarm, join(work, "out-l1"), 1);
    const longTwo = await queuedRun(url, long, longWarm, join(work, "out-l2"), 2);
    // The same 1 → 2 step without a queue: two worker threads of one `syncbag convert -j 2`.
    const threads2 = cliBatch(fleet, join(work, "out-2"), [], 2).seconds;
    const oneMBs = inputBytes / 1e6 / one.seconds;
    report({
      name: "convert throughput, 1 warm worker process through Redis (producer, queue, publish included)",
      value: oneMBs,
      unit: "MB/s",
      baseline: { name: "1 worker thread of `convert -j 1` (start-up and first drives included), same run", value: perWorkerMBs, unit: "MB/s" },
      ratio: oneMBs / perWorkerMBs,
    });
    const speedup = longOne.seconds / longTwo.seconds;
    const ceiling = await machineSpeedup();
    report({
      name: "speed-up from 1 to 2 worker threads, one machine, no queue (`convert -j 2`)",
      value: pipeline.seconds / threads2,
      unit: "×",
      baseline: { name: "2 threads vs 1 on pure CPU work, same run", value: ceiling, unit: "×" },
      ratio: pipeline.seconds / threads2 / ceiling,
    });
    report({
      name: "speed-up from 1 to 2 warm worker processes through Redis, sample drives (0.5 s each)",
      value: one.seconds / two.seconds,
      unit: "×",
      baseline: { name: "2 threads vs 1 on pure CPU work, same run", value: ceiling, unit: "×" },
      ratio: one.seconds / two.seconds / ceiling,
    });
    report({
      name: `speed-up from 1 to 2 warm worker processes through Redis, ${LONG_DRIVES} default-rig drives of ${LONG_DRIVE_S} s`,
      value: speedup,
      unit: "×",
      baseline: { name: "2 threads vs 1 on pure CPU work, same machine, same run (the ceiling under current load)", value: ceiling, unit: "×" },
      ratio: speedup / ceiling,
      target: { text: "value ≥ 1.7× on 2 cores (#18)", met: speedup >= 1.7 },
    });
    // Why two processes cannot double one here: one worker process already keeps more than one
    // core busy (reading and decompressing on its main thread, converting on its pool thread, chunk
    // compression and hashing on libuv's pool, V8's compiler and GC threads), so 2 cores hold less
    // than two of them. And with both cores busy each stage runs slower per unit of work: CPU
    // profiles of warm workers (2026-12-07) show the proposer's passes, zstd and GC alike 35–55 %
    // slower in two processes than in one, while the proposer alone on cached sweeps and the
    // arithmetic loop of the ceiling lose nothing: what the two share (caches, memory) is the limit.
    if (Number.isFinite(longOne.cpuS)) {
      report({
        name: `cores one warm worker process keeps busy converting the ${LONG_DRIVES} drives (its CPU seconds over the wall time)`,
        value: longOne.cpuS / longOne.seconds,
        unit: "cores",
        baseline: { name: "a single-threaded worker", value: 1, unit: "cores" },
        ratio: longOne.cpuS / longOne.seconds,
      });
    }
    // Wall time on a shared machine measures the other jobs as much as ours; the workers' own CPU
    // seconds for the same fleet say whether a second process wastes work (start-up, contention).
    if (Number.isFinite(longOne.cpuS) && Number.isFinite(longTwo.cpuS)) {
      report({
        name: `warm workers' CPU for the ${LONG_DRIVES} drives, 2 processes through Redis`,
        value: longTwo.cpuS,
        unit: "CPU s",
        baseline: { name: "1 process, same drives, same run", value: longOne.cpuS, unit: "CPU s" },
        ratio: longOne.cpuS / longTwo.cpuS,
        target: { text: "ratio ≥ 0.85 (a second process adds ≤ 15 % CPU)", met: longOne.cpuS / longTwo.cpuS >= 0.85 },
      });
    }
  } finally {
    redis?.kill("SIGTERM");
    await rm(work, { recursive: true, force: true });
  }
}
